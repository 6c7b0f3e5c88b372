/*
 * apply.h - running one step (a revision up or down) against a database:
 * its statements, verify.sql and registry rows in one transaction sent as
 * one pipelined batch, or, for steps that cannot run in a transaction,
 * statement by statement with per-statement progress in the registry so
 * that a rerun resumes at the statement that failed.
 */
#ifndef SCH_APPLY_H
#define SCH_APPLY_H

#include <stdio.h>

#include "schema/buf.h"
#include "schema/object.h"
#include "schema/pg.h"
#include "schema/registry.h"
#include "schema/revision.h"

struct sch_step {
	struct sch_id id;
	const struct sch_rev *rev;
	const char *name;  /* migration directory, or the short id */
	const char *up, *down, *verify; /* verify NULL when none */
	int is_up;
};

/*
 * Runs a step. detail: the JSON of its audit event. *notx (may be NULL) is
 * set when it ran statement by statement. Returns 0; SCH_EDB with
 * "revision <id> (<name>): up.sql:<line>: <server message>"; SCH_EPARSE
 * (a script does not parse, file and line named); SCH_EREFUSED (a notx
 * statement that already ran was edited since).
 */
int sch_apply_step(struct sch_pg *pg, struct sch_reg *reg,
		   const struct sch_step *st, const char *actor,
		   const char *detail, int *notx);

/* Appends the SQL of a step (its transaction, registry rows included) as
 * a psql-ready script. Returns 0 or SCH_EPARSE. */
int sch_apply_step_sql(struct sch_buf *out, const struct sch_reg *reg,
		       const struct sch_step *st, const char *actor,
		       const char *detail, int server_major);

struct sch_gnode;
/* A step of a plan with its scripts loaded. */
struct sch_loaded_step {
	struct sch_step st;	/* points into the fields below */
	struct sch_buf up, down, verify;
	char *name;
	char sh[SCH_SHORT_LEN + 1];
};
/*
 * Loads the scripts of a graph node's revision, from the store or, when
 * the store lacks it, the registry's copy in applied, and fills out->st
 * (named name, or its short id when name is NULL; name is copied).
 * Release with sch_step_release() whatever it returns. Returns 0,
 * SCH_ENOTFOUND, a store error.
 */
int sch_step_load(struct sch_loaded_step *out, struct sch_txn *t,
		  const struct sch_gnode *nd,
		  const struct sch_applied_set *applied, int is_up,
		  const char *name);
void sch_step_release(struct sch_loaded_step *s);

#endif
