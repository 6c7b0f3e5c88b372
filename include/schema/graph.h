/*
 * graph.h - the revision DAG in memory: loading the closure of some
 * revisions, ancestors, merge bases, heads and deterministic topological
 * orders.
 */
#ifndef SCH_GRAPH_H
#define SCH_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "schema/env.h"
#include "schema/object.h"
#include "schema/revision.h"

struct sch_gnode {
	struct sch_id id;
	struct sch_rev rev;
	uint32_t *parents;   /* indices of rev.parents, same order */
	uint32_t *depends;   /* indices of rev.depends */
	int linked;
};

struct sch_graph {
	struct sch_txn *txn;
	struct sch_gnode *nodes;
	size_t n, cap;
	uint32_t *table; /* open addressing: node index + 1, 0 = empty */
	size_t tcap;
};

void sch_graph_init(struct sch_graph *g, struct sch_txn *t);
void sch_graph_release(struct sch_graph *g);

/*
 * Loads revision `id` and everything it reaches through parent and
 * depends, verifying each object. *out receives its node index.
 * Returns 0, SCH_ENOTFOUND (a missing revision, named), SCH_ECORRUPT.
 */
int sch_graph_add(uint32_t *out, struct sch_graph *g, const struct sch_id *id);
/*
 * Loads every revision of the store in one sequential pass over the
 * objects database (much faster than following parents one lookup at a
 * time when most of a long history is wanted). Each object is verified.
 * Returns 0, SCH_ECORRUPT, SCH_ENOTFOUND (a parent missing).
 */
int sch_graph_add_all(struct sch_graph *g);
/*
 * Adds a revision known from elsewhere (the registry of a database)
 * without loading anything: rev is copied. Call sch_graph_relink() once
 * all such revisions are in. Returns 0.
 */
int sch_graph_add_rev(uint32_t *out, struct sch_graph *g,
		      const struct sch_id *id, const struct sch_rev *rev);
/* Recomputes every node's parent indices; SCH_ENOTFOUND names a revision
 * whose parent or depends is in neither the store nor the graph. */
int sch_graph_relink(struct sch_graph *g);
/* Children (through parents and depends) of each node: kids[i] lists
 * nkids[i] nodes. Both arrays and each list malloc'd; free with
 * sch_graph_free_children(). */
void sch_graph_children(const struct sch_graph *g, uint32_t ***kids,
			size_t **nkids);
void sch_graph_free_children(const struct sch_graph *g, uint32_t **kids,
			     size_t *nkids);

/* Node index of id, or -1 when not loaded. */
long sch_graph_find(const struct sch_graph *g, const struct sch_id *id);

/* Bitmaps over node indices (one byte a node, malloc'd, caller frees). */
/* Marks roots and all their ancestors (through depends too when asked). */
uint8_t *sch_graph_ancestors(const struct sch_graph *g, const uint32_t *roots,
			     size_t nroots, int with_depends);

/*
 * Best common ancestors of a and b (those not ancestors of another common
 * ancestor), sorted by id. *out is malloc'd. Returns the count.
 */
size_t sch_graph_merge_bases(const struct sch_graph *g, uint32_t a, uint32_t b,
			     uint32_t **out);

/*
 * Topological order of the nodes in `subset` (NULL: all loaded nodes).
 * children_first: each revision before its parents (log order); otherwise
 * parents and depends before children (apply order). Ties: newer author
 * time first for children_first, older first otherwise, then by id.
 * *out is malloc'd; returns the count.
 */
size_t sch_graph_topo(const struct sch_graph *g, const uint8_t *subset,
		      int children_first, uint32_t **out);

/*
 * Records a newly stored revision in the `heads` database: it becomes a
 * head, and its parents and the revisions it supersedes stop being heads.
 * Returns 0 or an LMDB error.
 */
int sch_graph_note_stored(struct sch_txn *t, const struct sch_id *id,
			  const struct sch_rev *r);
/* Every head (revisions no other revision names as parent or
 * supersedes), id order. *out malloc'd. Returns 0 or an error. */
int sch_graph_heads(struct sch_txn *t, struct sch_id **out, size_t *n);
/* Recomputes the heads database from all stored revisions (fsck). */
int sch_graph_rebuild_heads(struct sch_txn *t, int *changed);

#endif
