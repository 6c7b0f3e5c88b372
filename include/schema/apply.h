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
/*
 * The scripts of a graph node's revision: from the store, or the
 * registry's copy in applied when the store lacks it (verify appended
 * only when *has_verify). Returns 0, SCH_ENOTFOUND, a store error.
 */
int sch_step_scripts(struct sch_txn *t, const struct sch_gnode *nd,
		     const struct sch_applied_set *applied, struct sch_buf *up,
		     struct sch_buf *down, struct sch_buf *verify,
		     int *has_verify);

#endif
