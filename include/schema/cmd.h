/*
 * cmd.h - what main.c hands to each command (src/cmd/<verb>.c).
 *
 * A command returns 0 (success), 1 (a check found a problem; the command
 * printed what), or a negative SCH_E* code whose message main.c prints as
 * "schema: error: ..." with the code's exit status. For commands marked
 * SCH_CMD_WRITES, main.c commits ctx->txn after a 0 and aborts it
 * otherwise, so a failing command changes nothing in the store.
 */
#ifndef SCH_CMD_H
#define SCH_CMD_H

#include "schema/config.h"
#include "schema/env.h"

enum {
	SCH_CMD_REPO = 1,   /* needs an existing repository, opened */
	SCH_CMD_WRITES = 2, /* runs in one write transaction */
	SCH_CMD_NOTXN = 4,  /* opens its own transactions (long work) */
};

struct sch_ctx {
	const char *verb;
	char *root;	  /* directory holding .schema/ and migrations/ */
	char *repo;	  /* the .schema directory */
	char *migrations; /* root/migrations */
	struct sch_store *store;
	struct sch_txn *txn;
	struct sch_config config;
	const char *repo_opt; /* --repo or SCHEMA_DIR, NULL when not given */
};

typedef int (*sch_cmd_fn)(int argc, char **argv, struct sch_ctx *ctx);

#define SCH_CMD(name) int cmd_##name(int argc, char **argv, struct sch_ctx *ctx)

SCH_CMD(init);
SCH_CMD(new);
SCH_CMD(commit);
SCH_CMD(log);
SCH_CMD(show);
SCH_CMD(branch);
SCH_CMD(switch);
SCH_CMD(tag);
SCH_CMD(heads);
SCH_CMD(merge);
SCH_CMD(fsck);
SCH_CMD(key);

/* Shared by commands: the current branch name ("main") into out; returns
 * 0 or SCH_ENOTFOUND when HEAD is detached or missing. */
struct sch_buf;
int sch_cmd_current_branch(struct sch_buf *out, struct sch_txn *t);

/* Finds the repository for commands that need none yet (init). */
int sch_ctx_locate(struct sch_ctx *ctx, int must_exist);


/* For getopt_long's '?' or ':' (main sets opterr = 0): a one-line usage
 * error naming the option, with the nearest of opts (the table given to
 * getopt_long; may be NULL) for an unknown one. Returns SCH_EUSAGE. */
struct option;
int sch_cmd_optfail(int c, char **argv, const char *verb,
		    const struct option *opts);
/* The usage error of an unknown subcommand of verb, naming the nearest
 * of names (NULL-terminated) and listing them all. Returns SCH_EUSAGE. */
int sch_cmd_unknown_sub(const char *verb, const char *sub,
			const char *const *names);
/* Parses a non-negative count for option `opt`. Returns 0 or SCH_EUSAGE. */
int sch_cmd_count(long *out, const char *s, const char *opt);

struct sch_id;
struct sch_rev;
/*
 * The decoration of a revision as git prints it ("HEAD -> main, tag: v1"),
 * into out (replacing). Empty when no ref names it.
 */
void sch_cmd_decoration(struct sch_buf *out, struct sch_txn *t,
			const struct sch_id *id);

/*
 * Stores new and changed directories of migrations/ and advances the
 * current branch (commit's work, shared with merge). With check, each new
 * revision is applied up and down on the scratch database (scratch.h):
 * its state is recorded, a merge's sides must reach one state in either
 * order (unless mergecheck is 0), and a revision whose down does not
 * bring back its parents' state is refused unless its meta flags it
 * irreversible; with irreversible set, the names of such directories go
 * to *irrev and SCH_ECHECK is returned so that the caller can flag them
 * and run again. Prints what it stored unless quiet.
 * Returns 0, SCH_EREFUSED (an edited directory), SCH_ECHECK (a check
 * failed), SCH_ECONFLICT (a merge that does not resolve its sides), or a
 * load, store or scratch database error.
 */
struct sch_key;
struct sch_strlist;
struct sch_commit_opts {
	int new_revision;
	int quiet;
	int check;
	int mergecheck;
	int irreversible;
	const struct sch_key *sign;
};
int sch_commit_worktree(struct sch_ctx *ctx, const struct sch_commit_opts *o,
			struct sch_strlist *irrev);

/* The key named by --key, else the default one (sign.h); SCH_ENOTFOUND
 * with a hint when there is none. */
int sch_cmd_signing_key(struct sch_key *out, const char *name,
			const struct sch_ctx *ctx);

SCH_CMD(checkout);
SCH_CMD(migrate);
SCH_CMD(rollback);
SCH_CMD(status);
SCH_CMD(current);
SCH_CMD(stamp);
SCH_CMD(audit);
SCH_CMD(validate);
SCH_CMD(task);
SCH_CMD(diff);
SCH_CMD(state);
SCH_CMD(dev);

/* States (src/cmd/diff.c). */
struct sch_catalog_opts;
struct sch_reg;
struct sch_idlist;
struct sch_applied_set;
/* The heads of an applied set. Returns 0 or a load error. */
int sch_cmd_applied_heads(struct sch_idlist *out, struct sch_ctx *ctx,
			  const struct sch_applied_set *applied);
/*
 * The state recorded for the applied heads: the registry's applied.state
 * when all heads share one, else (one head) the state recorded in the
 * store for it on this server's major. Returns 1 when found, 0 when
 * none is recorded, or SCH_EDB/SCH_EIO.
 */
int sch_cmd_applied_state(struct sch_id *out, struct sch_ctx *ctx,
			  struct sch_reg *reg, const struct sch_idlist *heads);
/*
 * Drift: the live state of reg's database (*live) against the one recorded
 * for heads (*rec). Returns 1 when a state is recorded (they differ when
 * the ids do; changed then gets the header lines of the objects that
 * differ, empty when the recorded text is not in the store), 0 when none
 * is, or a capture error.
 */
struct sch_strlist;
int sch_cmd_drift(struct sch_strlist *changed, struct sch_id *rec,
		  struct sch_id *live, struct sch_ctx *ctx, struct sch_reg *reg,
		  const struct sch_idlist *heads);
SCH_CMD(backup);
SCH_CMD(snapshots);
SCH_CMD(restore);
SCH_CMD(gc);

struct sch_envpol;
struct sch_snap_progress;
/* The progress line of backup and restore on stderr, when it is a
 * terminal (a sch_snap_progress_fn). */
void sch_cmd_progress(void *arg, const struct sch_snap_progress *p);
/* Parses a size such as 65536, 256K or 1M. Returns 0 or SCH_EUSAGE. */
int sch_cmd_size(size_t *out, const char *s, const char *opt);
/*
 * Backs up pol's database into the store (its own write transaction) and
 * prints a summary on stderr unless quiet; *out (may be NULL) receives the
 * snapshot id. level -1 and chunk 0 mean the defaults. encrypt: 1 seals
 * the snapshot (a key is required), 0 seals it when pol's environment
 * names a backup-key-file. Returns 0, SCH_EUSAGE / SCH_EINVAL (no key or
 * a bad key file), or the error of sch_snapshot_backup().
 */
int sch_cmd_backup(struct sch_ctx *ctx, const struct sch_envpol *pol,
		   const char *note, int level, size_t chunk, int quiet,
		   int encrypt, struct sch_id *out);

struct sch_seal_key;
/*
 * The backup key: the file SCHEMA_BACKUP_KEY_FILE names, else pol's
 * backup-key-file (relative to the project root). Returns 1 with the key
 * loaded, 0 when neither is set, or SCH_EINVAL (a bad key file).
 */
int sch_cmd_backup_key(struct sch_seal_key *out, const struct sch_ctx *ctx,
		       const struct sch_envpol *pol);

/* What checkout, migrate and rollback share. */
struct sch_run_opts {
	int mode;		/* enum sch_plan_mode */
	const char *url, *env;
	int dry_run, json, sql, yes, quiet;
	int allow_dirty;	/* run although migrations/ is not committed */
	long lock_timeout_ms;
	const char *from;	/* --sql: what the database has (spec) */
	char **specs;
	int nspecs;
	long last_n;		/* rollback -N: revert the last N applied */
};
int sch_checkout_run(struct sch_ctx *ctx, struct sch_run_opts *o);
/* Parses the options common to checkout, migrate and rollback; a "-N"
 * argument is taken as a relative spec, not an option. */
int sch_run_parse(struct sch_run_opts *o, int argc, char **argv,
		  const char *verb);

struct sch_envpol;
struct sch_pg;
struct sch_reg;
struct sch_applied_set;

struct json_t;

/*
 * The options of commands that read one database: [<env>] [--url URL]
 * [--env NAME] [--json] and, with SCH_ARGS_FULL, [--full]. Returns 0 or
 * SCH_EUSAGE.
 */
#define SCH_ARGS_FULL 1
#define SCH_ARGS_NOSTATES 2 /* [--no-states] */
#define SCH_ARGS_STRICTCOLS 4 /* [--strict-column-order] */
struct sch_target_args {
	const char *url, *env;
	int json, full, no_states, strict_column_order;
};
int sch_cmd_target_args(struct sch_target_args *a, int argc, char **argv,
			const char *verb, unsigned flags);

/*
 * Prints a line `<prefix>signed by <name> (<fingerprint>): good|BAD|
 * untrusted` for each signature of revision id (or of tag `tag`) to
 * stdout. Returns how many were BAD, or a negative store error.
 */
/* Loads the operator's default key for signing audit events; 1 when one
 * was loaded, 0 when there is none (or it cannot be read: a warning). */
int sch_cmd_operator_key(struct sch_key *out, const struct sch_ctx *ctx);

struct sch_trusted;
int sch_cmd_print_sigs(const char *prefix, struct sch_txn *t,
		       const struct sch_trusted *tr, const struct sch_id *id,
		       const char *tag);

/*
 * Adds the signatures of revision id to the JSON object o, as log --json
 * and show --json print them: "signatures" (an array of {"signer",
 * "key" (fingerprint), "status": "good"|"untrusted"|"bad"}) and
 * "signature" (the best of them, or null when unsigned). Returns 0 or a
 * store error.
 */
int sch_cmd_sigs_json(struct json_t *o, struct sch_txn *t,
		      const struct sch_trusted *tr, const struct sch_id *id);


/* The warning and hint of a check skipped because the scratch cluster has
 * no server programs (the last error says why): "schema: warning: WHAT:
 * ...". */
void sch_cmd_unchecked_warning(const char *what);


/*
 * Asks for confirmation when the policy wants it: yes given -> 0; a
 * terminal -> asks; no terminal -> SCH_EUSAGE ("... pass --yes").
 * SCH_EREFUSED when the user says no.
 */
struct sch_envpol;
int sch_cmd_confirm(const struct sch_envpol *pol, int yes, const char *what);

#endif
