/* graph.c - the revision DAG. */
#include <stdlib.h>
#include <string.h>

#include "schema/error.h"
#include "schema/graph.h"

void sch_graph_init(struct sch_graph *g, struct sch_txn *t)
{
	memset(g, 0, sizeof(*g));
	g->txn = t;
}

void sch_graph_release(struct sch_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		sch_rev_release(&g->nodes[i].rev);
		free(g->nodes[i].parents);
		free(g->nodes[i].depends);
	}
	free(g->nodes);
	free(g->table);
	memset(g, 0, sizeof(*g));
}

static size_t id_hash(const struct sch_id *id)
{
	size_t h;

	memcpy(&h, id->b, sizeof(h));
	return h;
}

long sch_graph_find(const struct sch_graph *g, const struct sch_id *id)
{
	size_t mask, i;

	if (!g->tcap)
		return -1;
	mask = g->tcap - 1;
	for (i = id_hash(id) & mask; g->table[i]; i = (i + 1) & mask)
		if (!sch_id_cmp(&g->nodes[g->table[i] - 1].id, id))
			return (long)g->table[i] - 1;
	return -1;
}

static void table_insert(struct sch_graph *g, uint32_t idx)
{
	size_t mask = g->tcap - 1, i;

	for (i = id_hash(&g->nodes[idx].id) & mask; g->table[i];
	     i = (i + 1) & mask)
		;
	g->table[i] = idx + 1;
}

static uint32_t new_node(struct sch_graph *g, const struct sch_id *id)
{
	uint32_t idx;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->nodes = xrealloc(g->nodes, g->cap * sizeof(*g->nodes));
	}
	if ((g->n + 1) * 2 > g->tcap) {
		size_t old = g->tcap;
		g->tcap = old ? old * 2 : 512;
		free(g->table);
		g->table = xcalloc(g->tcap, sizeof(*g->table));
		for (uint32_t i = 0; i < g->n; i++)
			table_insert(g, i);
	}
	idx = (uint32_t)g->n++;
	memset(&g->nodes[idx], 0, sizeof(g->nodes[idx]));
	g->nodes[idx].id = *id;
	table_insert(g, idx);
	return idx;
}

static int link_node(struct sch_graph *g, uint32_t i)
{
	struct sch_gnode *nd = &g->nodes[i];

	nd->parents = xmalloc((nd->rev.nparents + 1) * sizeof(uint32_t));
	nd->depends = xmalloc((nd->rev.ndepends + 1) * sizeof(uint32_t));
	for (size_t k = 0; k < nd->rev.nparents; k++)
		nd->parents[k] = (uint32_t)sch_graph_find(g, &nd->rev.parents[k]);
	for (size_t k = 0; k < nd->rev.ndepends; k++)
		nd->depends[k] = (uint32_t)sch_graph_find(g, &nd->rev.depends[k]);
	nd->linked = 1;
	return 0;
}

int sch_graph_add(uint32_t *out, struct sch_graph *g, const struct sch_id *id)
{
	size_t first = g->n, scan;
	long found = sch_graph_find(g, id);
	int rc = 0;

	if (found >= 0) {
		*out = (uint32_t)found;
		return 0;
	}
	*out = new_node(g, id);
	/* Breadth-first: nodes [first, n) still need their revision. */
	for (scan = first; scan < g->n; scan++) {
		struct sch_gnode *nd = &g->nodes[scan];
		struct sch_rev rev;
		rc = sch_rev_load(&rev, g->txn, &nd->id);
		if (rc) {
			char hex[SCH_HEX_LEN + 1];
			sch_id_hex(hex, &g->nodes[scan].id);
			if (rc == SCH_ENOTFOUND)
				rc = sch_error_set(SCH_ENOTFOUND,
						   "revision %s is missing", hex);
			break;
		}
		g->nodes[scan].rev = rev;
		for (size_t k = 0; k < rev.nparents + rev.ndepends; k++) {
			const struct sch_id *p = k < rev.nparents
				? &rev.parents[k] : &rev.depends[k - rev.nparents];
			if (sch_graph_find(g, p) < 0)
				new_node(g, p);
		}
	}
	if (rc) {
		/* Drop what this call added, keeping the graph consistent. */
		for (size_t i = first; i < g->n; i++)
			sch_rev_release(&g->nodes[i].rev);
		g->n = first;
		memset(g->table, 0, g->tcap * sizeof(*g->table));
		for (uint32_t i = 0; i < g->n; i++)
			table_insert(g, i);
		return rc;
	}
	for (size_t i = first; i < g->n; i++)
		link_node(g, (uint32_t)i);
	return 0;
}

int sch_graph_add_all(struct sch_graph *g)
{
	struct sch_cursor *c = NULL;
	struct sch_buf scratch = SCH_BUF_INIT;
	const void *k, *v, *body;
	size_t kl, vl, blen, nobj = 0, first = g->n;
	enum sch_otype type;
	int rc;

	sch_kv_count(g->txn, SCH_DB_OBJECTS, &nobj);
	if (g->cap < nobj / 3 + 16) {
		g->cap = nobj / 3 + 16;
		g->nodes = xrealloc(g->nodes, g->cap * sizeof(*g->nodes));
	}
	if (g->tcap < 2 * (nobj / 3 + 16)) {
		size_t want = 512;
		while (want < 2 * (nobj / 3 + 16))
			want *= 2;
		free(g->table);
		g->tcap = want;
		g->table = xcalloc(g->tcap, sizeof(*g->table));
		for (uint32_t i = 0; i < g->n; i++)
			table_insert(g, i);
	}
	rc = sch_cursor_open(&c, g->txn, SCH_DB_OBJECTS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		struct sch_id id;
		uint32_t idx;
		if (kl != SCH_ID_LEN || sch_object_peek_type(v, vl) != SCH_OBJ_REV)
			continue;
		memcpy(id.b, k, SCH_ID_LEN);
		if (sch_graph_find(g, &id) >= 0)
			continue;
		rc = sch_object_read_value(&type, &body, &blen, &scratch, &id,
					   v, vl);
		if (!rc && type != SCH_OBJ_REV)
			rc = sch_error_set(SCH_ECORRUPT, "not a revision");
		idx = new_node(g, &id);
		if (!rc)
			rc = sch_rev_parse(&g->nodes[idx].rev, body, blen);
		if (rc) {
			char hex[SCH_HEX_LEN + 1];
			sch_id_hex(hex, &id);
			rc = sch_error_wrap(SCH_ECORRUPT, "revision %s", hex);
			break;
		}
	}
	sch_cursor_close(c);
	sch_buf_release(&scratch);
	if (rc < 0)
		return rc;
	for (size_t i = first; i < g->n; i++) {
		struct sch_gnode *nd = &g->nodes[i];
		link_node(g, (uint32_t)i);
		for (size_t k2 = 0; k2 < nd->rev.nparents + nd->rev.ndepends; k2++) {
			uint32_t p = k2 < nd->rev.nparents
				? nd->parents[k2] : nd->depends[k2 - nd->rev.nparents];
			if (p == UINT32_MAX) {
				char hex[SCH_HEX_LEN + 1];
				sch_id_hex(hex, &nd->id);
				return sch_error_set(SCH_ENOTFOUND,
						     "a parent of revision %s is "
						     "missing", hex);
			}
		}
	}
	return 0;
}

int sch_graph_add_rev(uint32_t *out, struct sch_graph *g,
		      const struct sch_id *id, const struct sch_rev *rev)
{
	struct sch_buf body = SCH_BUF_INIT;
	long found = sch_graph_find(g, id);
	uint32_t idx;

	if (found >= 0) {
		*out = (uint32_t)found;
		return 0;
	}
	idx = new_node(g, id);
	sch_rev_format(&body, rev);
	sch_rev_parse(&g->nodes[idx].rev, body.ptr, body.len);
	sch_buf_release(&body);
	*out = idx;
	return 0;
}

int sch_graph_relink(struct sch_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct sch_gnode *nd = &g->nodes[i];
		free(nd->parents);
		free(nd->depends);
		link_node(g, (uint32_t)i);
		for (size_t k = 0; k < nd->rev.nparents + nd->rev.ndepends; k++) {
			uint32_t p = k < nd->rev.nparents
				? nd->parents[k] : nd->depends[k - nd->rev.nparents];
			if (p == UINT32_MAX) {
				char hex[SCH_HEX_LEN + 1];
				sch_id_hex(hex, &nd->id);
				return sch_error_set(SCH_ENOTFOUND,
						     "a parent of revision %.12s "
						     "is unknown", hex);
			}
		}
	}
	return 0;
}

void sch_graph_children(const struct sch_graph *g, uint32_t ***kidsp,
			size_t **nkidsp)
{
	uint32_t **kids = xcalloc(g->n + 1, sizeof(*kids));
	size_t *nkids = xcalloc(g->n + 1, sizeof(*nkids));

	for (uint32_t i = 0; i < g->n; i++) {
		const struct sch_gnode *nd = &g->nodes[i];
		size_t np = nd->rev.nparents, nt = np + nd->rev.ndepends;
		for (size_t k = 0; k < nt; k++) {
			uint32_t p = k < np ? nd->parents[k] : nd->depends[k - np];
			if (p == UINT32_MAX)
				continue;
			kids[p] = xrealloc(kids[p], (nkids[p] + 1) * sizeof(uint32_t));
			kids[p][nkids[p]++] = i;
		}
	}
	*kidsp = kids;
	*nkidsp = nkids;
}

void sch_graph_free_children(const struct sch_graph *g, uint32_t **kids,
			     size_t *nkids)
{
	for (size_t i = 0; i < g->n; i++)
		free(kids[i]);
	free(kids);
	free(nkids);
}

uint8_t *sch_graph_ancestors(const struct sch_graph *g, const uint32_t *roots,
			     size_t nroots, int with_depends)
{
	uint8_t *mark = xcalloc(g->n + 1, 1);
	uint32_t *stack = xmalloc((g->n + 1) * sizeof(uint32_t));
	size_t depth = 0;

	for (size_t i = 0; i < nroots; i++)
		if (!mark[roots[i]]) {
			mark[roots[i]] = 1;
			stack[depth++] = roots[i];
		}
	while (depth) {
		const struct sch_gnode *nd = &g->nodes[stack[--depth]];
		size_t np = nd->rev.nparents;
		size_t nt = np + (with_depends ? nd->rev.ndepends : 0);
		for (size_t k = 0; k < nt; k++) {
			uint32_t p = k < np ? nd->parents[k] : nd->depends[k - np];
			if (!mark[p]) {
				mark[p] = 1;
				stack[depth++] = p;
			}
		}
	}
	free(stack);
	return mark;
}

static int idx_cmp_id(const void *a, const void *b, void *gp)
{
	const struct sch_graph *g = gp;

	return sch_id_cmp(&g->nodes[*(const uint32_t *)a].id,
			  &g->nodes[*(const uint32_t *)b].id);
}

size_t sch_graph_merge_bases(const struct sch_graph *g, uint32_t a, uint32_t b,
			     uint32_t **out)
{
	uint8_t *ma = sch_graph_ancestors(g, &a, 1, 0);
	uint8_t *mb = sch_graph_ancestors(g, &b, 1, 0);
	uint32_t *common = xmalloc((g->n + 1) * sizeof(uint32_t));
	size_t nc = 0, nb = 0;
	uint8_t *covered;

	for (uint32_t i = 0; i < g->n; i++)
		if (ma[i] && mb[i])
			common[nc++] = i;
	/* A common ancestor that is a proper ancestor of another is not best. */
	covered = xcalloc(g->n + 1, 1);
	for (size_t i = 0; i < nc; i++) {
		const struct sch_gnode *nd = &g->nodes[common[i]];
		for (size_t k = 0; k < nd->rev.nparents; k++) {
			uint32_t p = nd->parents[k];
			uint8_t *anc = sch_graph_ancestors(g, &p, 1, 0);
			for (uint32_t j = 0; j < g->n; j++)
				if (anc[j])
					covered[j] = 1;
			free(anc);
		}
	}
	for (size_t i = 0; i < nc; i++)
		if (!covered[common[i]])
			common[nb++] = common[i];
	qsort_r(common, nb, sizeof(uint32_t), idx_cmp_id, (void *)g);
	free(ma);
	free(mb);
	free(covered);
	*out = common;
	return nb;
}

/* A binary heap of node indices ordered by (time, id). */
struct heap {
	uint32_t *v;
	size_t n;
	const struct sch_graph *g;
	int newest_first;
};

static int heap_before(const struct heap *h, uint32_t a, uint32_t b)
{
	const struct sch_gnode *x = &h->g->nodes[a], *y = &h->g->nodes[b];
	int c;

	if (x->rev.time != y->rev.time)
		return h->newest_first ? x->rev.time > y->rev.time
				       : x->rev.time < y->rev.time;
	c = sch_id_cmp(&x->id, &y->id);
	return h->newest_first ? c > 0 : c < 0;
}

static void heap_push(struct heap *h, uint32_t x)
{
	size_t i = h->n++;

	while (i) {
		size_t p = (i - 1) / 2;
		if (!heap_before(h, x, h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = x;
}

static uint32_t heap_pop(struct heap *h)
{
	uint32_t top = h->v[0], x = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && heap_before(h, h->v[c + 1], h->v[c]))
			c++;
		if (!heap_before(h, h->v[c], x))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = x;
	return top;
}

size_t sch_graph_topo(const struct sch_graph *g, const uint8_t *subset,
		      int children_first, uint32_t **out)
{
	uint32_t *deg = xcalloc(g->n + 1, sizeof(uint32_t));
	uint32_t *res = xmalloc((g->n + 1) * sizeof(uint32_t));
	struct heap h = { xmalloc((g->n + 1) * sizeof(uint32_t)), 0, g,
			  children_first };
	size_t nres = 0;
	/* Edges: child -> parent (and depends). children_first counts, for
	 * each node, its children in the subset; otherwise its parents. */
	uint32_t **kids = NULL;
	size_t *nkids = NULL;

#define IN(i) (!subset || subset[i])
	if (!children_first) {
		kids = xcalloc(g->n + 1, sizeof(*kids));
		nkids = xcalloc(g->n + 1, sizeof(*nkids));
	}
	for (uint32_t i = 0; i < g->n; i++) {
		const struct sch_gnode *nd = &g->nodes[i];
		size_t np = nd->rev.nparents, nt = np + nd->rev.ndepends;
		if (!IN(i))
			continue;
		for (size_t k = 0; k < nt; k++) {
			uint32_t p = k < np ? nd->parents[k] : nd->depends[k - np];
			if (!IN(p))
				continue;
			if (children_first) {
				deg[p]++;
			} else {
				deg[i]++;
				kids[p] = xrealloc(kids[p], (nkids[p] + 1) *
							sizeof(uint32_t));
				kids[p][nkids[p]++] = i;
			}
		}
	}
	for (uint32_t i = 0; i < g->n; i++)
		if (IN(i) && !deg[i])
			heap_push(&h, i);
	while (h.n) {
		uint32_t i = heap_pop(&h);
		const struct sch_gnode *nd = &g->nodes[i];
		res[nres++] = i;
		if (children_first) {
			size_t np = nd->rev.nparents, nt = np + nd->rev.ndepends;
			for (size_t k = 0; k < nt; k++) {
				uint32_t p = k < np ? nd->parents[k]
						    : nd->depends[k - np];
				if (IN(p) && --deg[p] == 0)
					heap_push(&h, p);
			}
		} else {
			for (size_t k = 0; k < nkids[i]; k++)
				if (--deg[kids[i][k]] == 0)
					heap_push(&h, kids[i][k]);
		}
	}
#undef IN
	if (kids) {
		for (uint32_t i = 0; i < g->n; i++)
			free(kids[i]);
		free(kids);
		free(nkids);
	}
	free(h.v);
	free(deg);
	*out = res;
	return nres;
}

int sch_graph_note_stored(struct sch_txn *t, const struct sch_id *id,
			  const struct sch_rev *r)
{
	int rc;

	/* a parent, and a revision this one supersedes, is no head */
	for (size_t i = 0; i < r->nparents + r->nsupersedes; i++) {
		const struct sch_id *p = i < r->nparents
			? &r->parents[i] : &r->supersedes[i - r->nparents];
		rc = sch_kv_del(t, SCH_DB_HEADS, p->b, SCH_ID_LEN);
		if (rc && rc != SCH_ENOTFOUND)
			return rc;
	}
	return sch_kv_put(t, SCH_DB_HEADS, id->b, SCH_ID_LEN, "", 0);
}

int sch_graph_heads(struct sch_txn *t, struct sch_id **out, size_t *n)
{
	struct sch_cursor *c = NULL;
	const void *k;
	size_t kl, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sch_cursor_open(&c, t, SCH_DB_HEADS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, NULL, NULL)) {
		if (kl != SCH_ID_LEN)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		memcpy((*out)[(*n)++].b, k, SCH_ID_LEN);
	}
	sch_cursor_close(c);
	return rc < 0 ? rc : 0;
}

int sch_graph_rebuild_heads(struct sch_txn *t, int *changed)
{
	struct sch_cursor *c = NULL;
	struct sch_buf body = SCH_BUF_INIT;
	struct sch_id *revs = NULL, *old = NULL;
	size_t nrevs = 0, cap = 0, nold = 0;
	uint8_t *child;
	const void *k;
	size_t kl;
	int rc;

	*changed = 0;
	rc = sch_cursor_open(&c, t, SCH_DB_OBJECTS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, NULL, NULL)) {
		if (nrevs == cap) {
			cap = cap ? cap * 2 : 256;
			revs = xrealloc(revs, cap * sizeof(*revs));
		}
		memcpy(revs[nrevs++].b, k, SCH_ID_LEN);
	}
	sch_cursor_close(c);
	if (rc < 0)
		goto out;
	/* Keep revisions only; mark those named as parent or superseded. */
	child = xcalloc(nrevs + 1, 1);
	{
		struct sch_graph g;
		sch_graph_init(&g, t);
		for (size_t i = 0; i < nrevs; i++) {
			enum sch_otype type;
			if (sch_object_get(&body, &type, t, &revs[i]) ||
			    type != SCH_OBJ_REV) {
				child[i] = 2; /* not a readable revision */
				continue;
			}
			struct sch_rev r;
			if (sch_rev_parse(&r, body.ptr, body.len)) {
				child[i] = 2;
				continue;
			}
			for (size_t p = 0; p < r.nparents + r.nsupersedes; p++) {
				const struct sch_id *named = p < r.nparents
					? &r.parents[p]
					: &r.supersedes[p - r.nparents];
				struct sch_id *hit = bsearch(named, revs,
							     nrevs, sizeof(*revs),
							     (int (*)(const void *,
								      const void *))sch_id_cmp);
				if (hit && !child[hit - revs])
					child[hit - revs] = 1;
			}
			sch_rev_release(&r);
		}
		sch_graph_release(&g);
	}
	rc = sch_graph_heads(t, &old, &nold);
	if (rc)
		goto out2;
	{
		size_t nnew = 0;
		for (size_t i = 0; i < nrevs; i++)
			if (!child[i])
				nnew++;
		if (nnew != nold)
			*changed = 1;
		for (size_t i = 0, j = 0; i < nrevs && !*changed; i++) {
			if (child[i])
				continue;
			if (j >= nold || sch_id_cmp(&revs[i], &old[j]))
				*changed = 1;
			j++;
		}
	}
	if (*changed && sch_txn_is_write(t)) {
		for (size_t i = 0; i < nold && !rc; i++)
			rc = sch_kv_del(t, SCH_DB_HEADS, old[i].b, SCH_ID_LEN);
		for (size_t i = 0; i < nrevs && !rc; i++)
			if (!child[i])
				rc = sch_kv_put(t, SCH_DB_HEADS, revs[i].b,
						SCH_ID_LEN, "", 0);
	}
out2:
	free(child);
out:
	free(revs);
	free(old);
	sch_buf_release(&body);
	return rc;
}
