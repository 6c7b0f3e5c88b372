/*
 * plan.h - the planner of DESIGN.md: from the applied set A and targets,
 * the down steps (children before parents) and up steps (parents and
 * depends before children).
 *
 *   checkout  makes the database exactly T, the closure of the targets
 *             under parent and depends: down A \ T, up T \ A
 *   migrate   up only: T \ A, keeping whatever else is applied; except
 *             that an applied revision that a member of T supersedes
 *             goes down first, with its applied descendants
 *   rollback  down only: the applied descendants of the target (through
 *             parent and depends), nothing on other branches
 */
#ifndef SCH_PLAN_H
#define SCH_PLAN_H

#include <stddef.h>

#include "schema/env.h"
#include "schema/graph.h"
#include "schema/registry.h"
#include "schema/revspec.h"

enum sch_plan_mode {
	SCH_PLAN_CHECKOUT,
	SCH_PLAN_MIGRATE,
	SCH_PLAN_ROLLBACK,
};

struct sch_plan {
	uint32_t *down; /* graph node indices, in execution order */
	size_t ndown;
	uint32_t *up;
	size_t nup;
};

/*
 * Builds a graph holding the closure of every applied revision (taken
 * from the store, or rebuilt from the registry when the store lacks it)
 * and of `targets`. Returns 0, SCH_ENOTFOUND, SCH_ECORRUPT (a registry
 * row whose body does not hash to its id).
 */
int sch_plan_graph(struct sch_graph *g, struct sch_txn *t,
		   const struct sch_applied_set *applied,
		   const struct sch_idlist *targets);

/*
 * Computes the plan. For rollback, targets holds zero (base: revert
 * everything) or one revision. Returns 0 or SCH_EINVAL.
 */
int sch_plan_make(struct sch_plan *out, const struct sch_graph *g,
		  const struct sch_applied_set *applied,
		  const struct sch_idlist *targets, enum sch_plan_mode mode);

/* Down steps that revert the last n applied revisions (application
 * order), plus anything applied that builds on them. */
int sch_plan_last(struct sch_plan *out, const struct sch_graph *g,
		  const struct sch_applied_set *applied, size_t n);

void sch_plan_release(struct sch_plan *p);

/* A bitmap over g's nodes marking the applied revisions (malloc'd). */
uint8_t *sch_plan_applied_mark(const struct sch_graph *g,
			       const struct sch_applied_set *applied);

/* The heads of a set of nodes (members no other member names as parent or
 * depends), appended to out. */
void sch_plan_set_heads(struct sch_idlist *out, const struct sch_graph *g,
			const uint8_t *set);

#endif
