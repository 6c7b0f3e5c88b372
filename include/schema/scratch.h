/*
 * scratch.h - checks that apply revisions to a scratch database: the
 * private cluster of .schema/dev (devcluster.h), or the server named by
 * SCHEMA_DEV_URL.
 *
 * On the private cluster the check database `schema_check` persists
 * between runs and stays at the revisions last checked, so checking a new
 * revision on top of the branch tip applies only that revision. On a
 * SCHEMA_DEV_URL server each run creates its own database
 * `schema_check_<pid>_<random>` (from template0) and drops it when closed.
 * Revisions reach the scratch database through the apply engine and its
 * registry, exactly as they would reach a real one.
 */
#ifndef SCH_SCRATCH_H
#define SCH_SCRATCH_H

#include "schema/buf.h"
#include "schema/catalog.h"
#include "schema/devcluster.h"
#include "schema/graph.h"
#include "schema/object.h"
#include "schema/registry.h"
#include "schema/worktree.h"

struct sch_config;

struct sch_scratch {
	const struct sch_config *cfg; /* the repository's, not owned */
	const char *repo;	/* the .schema directory, not owned */
	struct sch_pg *pg;	/* the check database */
	struct sch_reg reg;
	struct sch_catalog_opts co;
	char *server;		/* conninfo of the server's own database */
	char *db;		/* the check database's name */
	int throwaway;		/* dropped at close */
	int dirty;		/* its contents are not what its registry says */
	int persistent;		/* the private cluster's schema_check */
	struct sch_dev_use use;	/* the private cluster, held while open */
	int nclones;
};

/*
 * Connects to the scratch database, starting the private cluster (and
 * saying so on stderr) when it is not running. Returns 0, SCH_ENOTFOUND
 * (no server programs: nothing to check on), SCH_EDB, SCH_ELOCKED
 * (another check holds it), SCH_EPARSE (a bad dev.idle-stop).
 */
int sch_scratch_open(struct sch_scratch *s, const struct sch_config *cfg,
		     const char *repo);
/* Disconnects; drops a throwaway database, resets a dirty one. */
void sch_scratch_close(struct sch_scratch *s);

/*
 * Makes the scratch database hold exactly the closure of targets (mode
 * SCH_PLAN_CHECKOUT) or adds it (SCH_PLAN_MIGRATE), reading revisions
 * through t. Returns 0, SCH_EDB (a step failed: revision, file, line and
 * the server's message), or a store error.
 */
int sch_scratch_apply(struct sch_scratch *s, struct sch_txn *t,
		      const struct sch_idlist *targets, int mode);

/* The state of the scratch database: id into out, text into text (may
 * be NULL); stored when t is a write transaction (may be NULL). */
int sch_scratch_state(struct sch_scratch *s, struct sch_id *out,
		      struct sch_buf *text, struct sch_txn *t);

/* What applying one revision up and down again showed. */
struct sch_revcheck {
	struct sch_id before;	/* state at its parents */
	struct sch_id after;	/* state after up */
	struct sch_id back;	/* state after down */
	int reversible;		/* back == before */
	int column_order;	/* not reversible, but only the order of
				   some table's columns differs */
	struct sch_strlist differ; /* entries of before that back lacks or
				      changed, and entries back added */
	struct sch_buf diff;	/* unified text of before -> back */
	struct sch_buf orders;	/* with column_order: each table and both
				   orders (sch_statediff_column_orders) */
};
void sch_revcheck_release(struct sch_revcheck *c);

/*
 * Brings the scratch database to the parents and depends of rev, then
 * applies rev up (with verify.sql) and down again, capturing the states
 * (stored when t is a write transaction). Returns 0 with out filled
 * (reversible or not), SCH_ECHECK when up or down failed (message names
 * the revision, file and line), or an error of the scratch database.
 */
int sch_scratch_revcheck(struct sch_revcheck *out, struct sch_scratch *s,
			 struct sch_txn *t, const struct sch_id *rev);

/* The two orders of a merge check. */
struct sch_mergecheck {
	int failed;		   /* an order failed; message in `why` */
	int differ;		   /* both orders ran, different states */
	int column_order;	   /* ... that differ only in the order of
				      columns: reported, not a conflict */
	struct sch_buf column_orders; /* then: each table, both orders */
	struct sch_buf why;	   /* one line */
	struct sch_strlist both;   /* objects both sides changed */
	struct sch_strlist orders; /* objects whose end states differ */
	struct sch_id state;	   /* the state both orders reached */
	struct sch_id pre[2];	   /* with a merge: each order's state before
				      it (a then b, b then a) */
};
void sch_mergecheck_release(struct sch_mergecheck *c);

/*
 * Applies the sides a and b on top of their merge bases in both orders
 * (a then b, b then a) on two copies of the scratch database, then merge
 * (when not NULL, a revision with parents a and b) on each. Returns 0
 * with out filled (conflict when out->failed or out->differ), or an error
 * of the scratch database.
 */
int sch_scratch_mergecheck(struct sch_mergecheck *out, struct sch_scratch *s,
			   struct sch_txn *t, const struct sch_id *a,
			   const struct sch_id *b, const struct sch_id *merge);

#define SCH_CHECK_REQUIRE 2

/* *on = whether the checks are turned on: SCHEMA_CHECK else config
 * commit.check (default true): 0 off, 1 on (without server programs the
 * revisions are stored unchecked, with a warning), SCH_CHECK_REQUIRE
 * ("require": without them, an error). Returns 0, SCH_EINVAL (a bad
 * SCHEMA_CHECK), SCH_EPARSE (a bad commit.check). */
int sch_scratch_enabled(int *on, const struct sch_config *cfg);

#endif
