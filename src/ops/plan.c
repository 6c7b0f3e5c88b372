/* plan.c - down and up steps between an applied set and targets. */
#include <stdlib.h>
#include <string.h>

#include "schema/error.h"
#include "schema/plan.h"

int sch_plan_graph(struct sch_graph *g, struct sch_txn *t,
		   const struct sch_applied_set *applied,
		   const struct sch_idlist *targets)
{
	uint32_t idx;
	int rc;

	/* Registry-only revisions first, so the store loader stops there. */
	for (size_t i = 0; i < applied->n; i++) {
		const struct sch_applied *a = &applied->v[i];
		if (sch_object_exists(t, &a->id))
			continue;
		if (!a->body_ok) {
			char hex[SCH_HEX_LEN + 1];
			sch_id_hex(hex, &a->id);
			return sch_error_set(SCH_ECORRUPT,
					     "registry row of revision %.12s does "
					     "not match its id (edited by hand?)",
					     hex);
		}
		sch_graph_add_rev(&idx, g, &a->id, &a->rev);
	}
	for (size_t i = 0; i < applied->n; i++) {
		if (!sch_object_exists(t, &applied->v[i].id))
			continue;
		rc = sch_graph_add(&idx, g, &applied->v[i].id);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < targets->n; i++) {
		rc = sch_graph_add(&idx, g, &targets->v[i]);
		if (rc)
			return rc;
	}
	return sch_graph_relink(g);
}

uint8_t *sch_plan_applied_mark(const struct sch_graph *g,
			       const struct sch_applied_set *applied)
{
	uint8_t *a = xcalloc(g->n + 1, 1);

	for (size_t i = 0; i < applied->n; i++) {
		long k = sch_graph_find(g, &applied->v[i].id);
		if (k >= 0)
			a[k] = 1;
	}
	return a;
}

static void fill(uint32_t **out, size_t *n, const struct sch_graph *g,
		 const uint8_t *set, int children_first)
{
	*n = sch_graph_topo(g, set, children_first, out);
}

static uint8_t *descendants(const struct sch_graph *g, uint32_t from)
{
	uint32_t **kids;
	size_t *nkids;
	uint8_t *mark = xcalloc(g->n + 1, 1);
	uint32_t *stack = xmalloc((g->n + 1) * sizeof(uint32_t));
	size_t depth = 0;

	sch_graph_children(g, &kids, &nkids);
	stack[depth++] = from;
	mark[from] = 1;
	while (depth) {
		uint32_t i = stack[--depth];
		for (size_t k = 0; k < nkids[i]; k++)
			if (!mark[kids[i][k]]) {
				mark[kids[i][k]] = 1;
				stack[depth++] = kids[i][k];
			}
	}
	sch_graph_free_children(g, kids, nkids);
	free(stack);
	return mark;
}

int sch_plan_make(struct sch_plan *out, const struct sch_graph *g,
		  const struct sch_applied_set *applied,
		  const struct sch_idlist *targets, enum sch_plan_mode mode)
{
	uint32_t *t = xmalloc((targets->n + 1) * sizeof(uint32_t));
	uint8_t *A = sch_plan_applied_mark(g, applied), *T = NULL;
	uint8_t *down = xcalloc(g->n + 1, 1), *up = xcalloc(g->n + 1, 1);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < targets->n; i++) {
		long k = sch_graph_find(g, &targets->v[i]);
		if (k < 0) {
			rc = sch_error_set(SCH_EINVAL, "target not in the graph");
			goto out;
		}
		t[i] = (uint32_t)k;
	}
	if (mode == SCH_PLAN_ROLLBACK) {
		if (targets->n > 1) {
			rc = sch_error_set(SCH_EINVAL,
					   "rollback takes one target revision");
			goto out;
		}
		if (targets->n == 0) {
			memcpy(down, A, g->n);
		} else {
			uint8_t *d = descendants(g, t[0]);
			if (!A[t[0]]) {
				free(d);
				rc = sch_error_set(SCH_EINVAL,
						   "the target of a rollback must "
						   "be applied");
				goto out;
			}
			for (size_t i = 0; i < g->n; i++)
				down[i] = A[i] && d[i] && i != t[0];
			free(d);
		}
	} else {
		T = sch_graph_ancestors(g, t, targets->n, 1);
		for (size_t i = 0; i < g->n; i++) {
			up[i] = T[i] && !A[i];
			if (mode == SCH_PLAN_CHECKOUT)
				down[i] = A[i] && !T[i];
		}
		/* migrate goes up only, except that an applied revision a
		 * target supersedes goes down first, with what builds on it
		 * (checkout reverts it anyway: it is not in T) */
		for (size_t i = 0; i < g->n; i++)
			for (size_t k = 0; T[i] && k < g->nodes[i].rev.nsupersedes;
			     k++) {
				long old = sch_graph_find(g,
					&g->nodes[i].rev.supersedes[k]);
				uint8_t *d;
				if (old < 0 || !A[old] || T[old])
					continue;
				d = descendants(g, (uint32_t)old);
				for (size_t j = 0; j < g->n; j++)
					if (d[j] && A[j])
						down[j] = 1;
				free(d);
			}
	}
	fill(&out->down, &out->ndown, g, down, 1);
	fill(&out->up, &out->nup, g, up, 0);
out:
	free(t);
	free(A);
	free(T);
	free(down);
	free(up);
	if (rc)
		sch_plan_release(out);
	return rc;
}

int sch_plan_last(struct sch_plan *out, const struct sch_graph *g,
		  const struct sch_applied_set *applied, size_t n)
{
	uint8_t *A = sch_plan_applied_mark(g, applied);
	uint8_t *down = xcalloc(g->n + 1, 1);

	memset(out, 0, sizeof(*out));
	if (n > applied->n)
		n = applied->n;
	for (size_t i = applied->n - n; i < applied->n; i++) {
		long k = sch_graph_find(g, &applied->v[i].id);
		if (k >= 0) {
			uint8_t *d = descendants(g, (uint32_t)k);
			for (size_t j = 0; j < g->n; j++)
				if (d[j] && A[j])
					down[j] = 1;
			free(d);
		}
	}
	fill(&out->down, &out->ndown, g, down, 1);
	out->up = xmalloc(sizeof(uint32_t));
	free(A);
	free(down);
	return 0;
}

void sch_plan_release(struct sch_plan *p)
{
	free(p->down);
	free(p->up);
	memset(p, 0, sizeof(*p));
}

void sch_plan_set_heads(struct sch_idlist *out, const struct sch_graph *g,
			const uint8_t *set)
{
	uint8_t *named = xcalloc(g->n + 1, 1);

	for (size_t i = 0; i < g->n; i++) {
		const struct sch_gnode *nd = &g->nodes[i];
		size_t np = nd->rev.nparents, nt = np + nd->rev.ndepends;
		if (!set[i])
			continue;
		for (size_t k = 0; k < nt; k++) {
			uint32_t p = k < np ? nd->parents[k] : nd->depends[k - np];
			if (p != UINT32_MAX)
				named[p] = 1;
		}
	}
	for (size_t i = 0; i < g->n; i++)
		if (set[i] && !named[i])
			sch_idlist_add(out, &g->nodes[i].id);
	free(named);
}
