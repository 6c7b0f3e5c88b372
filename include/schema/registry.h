/*
 * registry.h - the registry in a target database (schema
 * `schema_registry` unless core.registry says otherwise):
 *
 *   meta(key, value)              format version
 *   applied(revision, rev_body, parents, up_sql, down_sql, verify_sql,
 *           applied_at, applied_by, state, duration_ms, seq)
 *   events(seq, at_us, actor, action, revision, detail, prev_hash, hash,
 *          sig)  sig: "<pubkey hex>:<signature hex>" or NULL (format 3)
 *   progress(revision, direction, stmt_index, stmt_hash, name)  notx
 *           resumption; name is the step's migration directory
 *
 * `rev_body` is the revision object's body, so a revision the local
 * repository lacks can be rebuilt (and verified: its id is the hash of
 * "rev <len>\0<rev_body>") from the registry alone. Each event's hash is
 * sha256 hex of prev_hash|at_us|actor|action|revision|detail, chaining
 * every row to the one before (the first to 64 zeros). With a signer, an
 * event also carries the operator's Ed25519 signature of
 * "schema-event-sig-v1\0" + the 32 bytes of its hash.
 */
#ifndef SCH_REGISTRY_H
#define SCH_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/object.h"
#include "schema/pg.h"
#include "schema/revision.h"

#define SCH_REG_FORMAT 3 /* 2: progress.name, 3: events.sig */
#define SCH_REG_DEFAULT "schema_registry"

struct sch_reg_signer;

struct sch_reg {
	struct sch_pg *pg;
	char *schema;	/* unquoted name */
	char *q;	/* quoted identifier */
	int locked;
	struct sch_reg_signer *signer; /* NULL: events go unsigned */
};

struct sch_key;
/*
 * Signs the events written from now on with k (copied; the caller may
 * wipe its own). The chain head is read at sch_reg_ensure(); events
 * whose predicted head turns out wrong are written unsigned.
 */
void sch_reg_set_signer(struct sch_reg *r, const struct sch_key *k);
/* The bytes an event signature covers, into out (appending). */
void sch_reg_event_sigmsg(struct sch_buf *out, const unsigned char *hash32);

struct sch_applied {
	struct sch_id id;
	struct sch_rev rev;
	char *up, *down, *verify; /* verify NULL when none; NULL when not loaded */
	long seq;		  /* application order */
	char *applied_at;	  /* text as the server prints it */
	char *applied_by;
	int body_ok;		  /* rev_body hashes to id, scripts to blob ids */
};

struct sch_applied_set {
	struct sch_applied *v;
	size_t n;
};

void sch_reg_init(struct sch_reg *r, struct sch_pg *pg, const char *schema);
void sch_reg_release(struct sch_reg *r);

/* *out = 1 when the registry tables exist. Returns 0 or SCH_EDB. */
int sch_reg_exists(struct sch_reg *r, int *out);
/* Creates or upgrades the registry (in one transaction). Returns 0,
 * SCH_EDB, SCH_EREFUSED (a newer format than this program knows). */
int sch_reg_ensure(struct sch_reg *r);
/* The DDL of sch_reg_ensure(), for --sql scripts. */
void sch_reg_ddl(struct sch_buf *out, const char *schema);

/*
 * Takes the registry's advisory lock (session level), waiting up to
 * timeout_ms. Returns 0, SCH_ELOCKED ("... held by pid N"), SCH_EDB.
 */
int sch_reg_lock(struct sch_reg *r, long timeout_ms);
void sch_reg_unlock(struct sch_reg *r);

/*
 * Reads the applied revisions in application order (scripts too when
 * with_scripts). A registry that does not exist reads as empty.
 * Returns 0 or SCH_EDB.
 */
int sch_reg_load(struct sch_reg *r, struct sch_applied_set *out,
		 int with_scripts);
void sch_applied_set_release(struct sch_applied_set *s);
struct sch_applied *sch_applied_find(const struct sch_applied_set *s,
				     const struct sch_id *id);

/*
 * SQL of the registry rows of one step, for a pipelined batch: the
 * statement text goes to sql (replacing), the parameters to params
 * (n_params set; strings owned by the caller's arena `keep`).
 */
struct sch_reg_stmt {
	struct sch_buf sql;
	const char *params[8];
	int nparams;
	char *owned[8];
};
void sch_reg_stmt_release(struct sch_reg_stmt *s);
/* INSERT of an applied row. */
void sch_reg_stmt_applied(struct sch_reg_stmt *s, const struct sch_reg *r,
			  const struct sch_id *id, const char *rev_body,
			  const char *up, const char *down, const char *verify,
			  const char *parents_array);
/* DELETE of an applied row. */
void sch_reg_stmt_unapplied(struct sch_reg_stmt *s, const struct sch_reg *r,
			    const struct sch_id *id);
/* INSERT of an event chained to the last one. revision may be NULL. */
void sch_reg_stmt_event(struct sch_reg_stmt *s, const struct sch_reg *r,
			const char *actor, const char *action,
			const char *revision, const char *detail);

/*
 * Records state (64 hex digits) in the `state` column of the applied rows
 * of the n revisions ids. Returns 0 or SCH_EDB.
 */
int sch_reg_set_state(struct sch_reg *r, const struct sch_id *ids, size_t n,
		      const char *state);
/*
 * The state recorded for the n revisions ids when every one of them has
 * the same (64 hex digits into out, replacing): returns 1 then, 0 when
 * one has none or they differ, or SCH_EDB.
 */
int sch_reg_get_state(struct sch_buf *out, struct sch_reg *r,
		      const struct sch_id *ids, size_t n);

/* Runs one event insert on its own. Returns 0 or SCH_EDB. */
int sch_reg_event(struct sch_reg *r, const char *actor, const char *action,
		  const char *revision, const char *detail);

/* The actor recorded in events: "osuser@host as dbuser". */
char *sch_reg_actor(struct sch_reg *r);

struct sch_event {
	long seq;
	int64_t at_us;
	char *at, *actor, *action, *revision, *detail, *prev_hash, *hash;
	int hash_ok, link_ok;
	char *sig;		/* NULL when unsigned */
	int sig_state;		/* 0 unsigned, 1 verifies, -1 BAD */
	unsigned char sig_pk[32]; /* the signer, when sig_state != 0 */
};
struct sch_event_list {
	struct sch_event *v;
	size_t n;
	size_t broken; /* rows whose hash or link does not verify */
};
/* Reads every event and verifies the chain in this process (libsodium
 * sha256). Returns 0 or SCH_EDB. */
int sch_reg_events(struct sch_reg *r, struct sch_event_list *out);
void sch_event_list_release(struct sch_event_list *l);

/* Progress of a notx step: statements already run, with their hashes. */
int sch_reg_progress(struct sch_reg *r, const struct sch_id *id,
		     const char *direction, char ***hashes, size_t *n);
int sch_reg_progress_add(struct sch_reg *r, const struct sch_id *id,
			 const char *direction, size_t index,
			 const char *hash, const char *name);
/* The unfinished notx step of directory `name` in `direction` (another
 * revision of the same directory): its hex id into rev, 1 when found. */
int sch_reg_progress_named(struct sch_reg *r, const char *direction,
			   const char *name, struct sch_buf *rev);
/* Any unfinished notx step: fills revision hex, direction and the step's
 * name (its migration directory; name may be NULL), 1 when one exists. */
int sch_reg_progress_any(struct sch_reg *r, struct sch_buf *rev,
			 struct sch_buf *direction, struct sch_buf *name);

#endif
