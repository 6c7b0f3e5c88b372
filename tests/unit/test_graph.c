/* test_graph.c - the revision DAG: ancestors, merge bases, topological
 * orders, the heads index. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/object.h"
#include "schema/revision.h"
#include "unit/testutil.h"


static char tmpdir[64];
static struct sch_store *store;
static struct sch_txn *txn;

static void setup(void)
{
	char *dir;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-graph.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	dir = xasprintf("%s/store", tmpdir);
	cr_assert_eq(sch_store_open(&store, dir, 1), 0, "%s", sch_error_msg());
	free(dir);
	cr_assert_eq(sch_txn_begin(&txn, store, 1), 0);
}

static void teardown(void)
{
	sch_txn_abort(txn);
	txn = NULL;
	sch_store_close(store);
	store = NULL;
	rm_tree(tmpdir);
	leak_check();
}

TestSuite(graph, .init = setup, .fini = teardown);

/* Stores a revision (with its up and down blobs) and records it in the
 * heads index, as commit does. */
static struct sch_id mkrev(const char *msg, int64_t time,
			   const struct sch_id *parents, size_t np,
			   const struct sch_id *depends, size_t nd)
{
	struct sch_rev r;
	struct sch_buf body = SCH_BUF_INIT;
	char *up = xasprintf("-- up %s\n", msg);
	struct sch_id id;

	sch_rev_init(&r);
	for (size_t i = 0; i < np; i++)
		sch_rev_add_parent(&r, &parents[i]);
	for (size_t i = 0; i < nd; i++)
		sch_rev_add_depends(&r, &depends[i]);
	cr_assert_eq(sch_object_put(&r.up, txn, SCH_OBJ_BLOB, up, strlen(up),
				    -1), 0);
	cr_assert_eq(sch_object_put(&r.down, txn, SCH_OBJ_BLOB, "", 0, -1), 0);
	cr_assert_eq(sch_rev_parse_author(&r, "T <t@t> 0 +0000", 15), 0);
	r.time = time;
	free(r.message);
	r.message = xasprintf("%s\n", msg);
	sch_rev_format(&body, &r);
	cr_assert_eq(sch_object_put(&id, txn, SCH_OBJ_REV, body.ptr, body.len,
				    -1), 0);
	cr_assert_eq(sch_graph_note_stored(txn, &id, &r), 0);
	sch_rev_release(&r);
	sch_buf_release(&body);
	free(up);
	return id;
}

/*
 *   Z (t0)  R (t1)
 *   |       /  \
 *   |      A    B        A t2, B t3
 *   |      | \/ |
 *   |      | /\ |
 *   |     M1    M2       M1 = merge(A, B) t4, M2 = merge(B, A) t5
 *   |      |    |
 *   |      X    Y        X t6, Y t7
 *    `- - - D            D t8: parent R, depends Z
 */
enum { Z, R, A, B, M1, M2, X, Y, D, NREV };
static const char *const names[NREV] = { "Z", "R", "A", "B", "M1", "M2",
					  "X", "Y", "D" };
static struct sch_id ids[NREV];

static void build_dag(void)
{
	struct sch_id p[2];

	ids[Z] = mkrev("Z", 0, NULL, 0, NULL, 0);
	ids[R] = mkrev("R", 1, NULL, 0, NULL, 0);
	ids[A] = mkrev("A", 2, &ids[R], 1, NULL, 0);
	ids[B] = mkrev("B", 3, &ids[R], 1, NULL, 0);
	p[0] = ids[A];
	p[1] = ids[B];
	ids[M1] = mkrev("M1", 4, p, 2, NULL, 0);
	p[0] = ids[B];
	p[1] = ids[A];
	ids[M2] = mkrev("M2", 5, p, 2, NULL, 0);
	ids[X] = mkrev("X", 6, &ids[M1], 1, NULL, 0);
	ids[Y] = mkrev("Y", 7, &ids[M2], 1, NULL, 0);
	ids[D] = mkrev("D", 8, &ids[R], 1, &ids[Z], 1);
}

/* Node index of revision k in g (it must be loaded). */
static uint32_t node(const struct sch_graph *g, int k)
{
	long i = sch_graph_find(g, &ids[k]);

	cr_assert_geq(i, 0, "%s is loaded", names[k]);
	return (uint32_t)i;
}

static int name_of(const struct sch_graph *g, uint32_t idx)
{
	for (int k = 0; k < NREV; k++)
		if (!sch_id_cmp(&g->nodes[idx].id, &ids[k]))
			return k;
	cr_assert_fail("unknown node");
	return -1;
}

/* "A B C" from a list of node indices. */
static void names_of(struct sch_buf *out, const struct sch_graph *g,
		     const uint32_t *v, size_t n)
{
	sch_buf_reset(out);
	for (size_t i = 0; i < n; i++)
		sch_buf_addf(out, "%s%s", i ? " " : "", names[name_of(g, v[i])]);
}

static void marked(struct sch_buf *out, const struct sch_graph *g,
		   const uint8_t *mark)
{
	sch_buf_reset(out);
	for (int k = 0; k < NREV; k++) {
		long i = sch_graph_find(g, &ids[k]);
		if (i >= 0 && mark[i])
			sch_buf_addf(out, "%s%s", out->len ? " " : "",
				     names[k]);
	}
}

Test(graph, add_loads_the_closure_through_parents_and_depends)
{
	struct sch_graph g;
	uint32_t x, again;

	build_dag();
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add(&x, &g, &ids[X]), 0, "%s", sch_error_msg());
	cr_assert_eq(g.n, 5, "X M1 A B R");
	cr_assert_eq(sch_graph_find(&g, &ids[Y]), -1);
	cr_assert_eq(sch_graph_add(&again, &g, &ids[X]), 0);
	cr_assert_eq(again, x);
	cr_assert_eq(g.n, 5);
	cr_assert_eq(sch_graph_add(&again, &g, &ids[D]), 0);
	cr_assert_eq(g.n, 7, "D and Z added");
	cr_assert_eq(g.nodes[node(&g, D)].depends[0], node(&g, Z));
	cr_assert_eq(g.nodes[node(&g, M1)].parents[0], node(&g, A));
	cr_assert_eq(g.nodes[node(&g, M1)].parents[1], node(&g, B));
	cr_assert_str_eq(g.nodes[x].rev.message, "X\n");
	sch_graph_release(&g);
}

Test(graph, add_all_loads_every_revision)
{
	struct sch_graph g;

	build_dag();
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add_all(&g), 0, "%s", sch_error_msg());
	cr_assert_eq(g.n, NREV, "blobs are not nodes");
	for (int k = 0; k < NREV; k++)
		node(&g, k);
	cr_assert_eq(g.nodes[node(&g, M2)].parents[0], node(&g, B));
	sch_graph_release(&g);
}

/*
 * BUG: sch_rev_load() (and sch_rev_parse()) leave an allocated empty
 * message in *out when they fail, but sch_graph_add() and every other
 * caller treat a failure as "nothing to release": each failed load leaks.
 * The error itself is right; this test only fails under ASan.
 */
Test(graph, missing_parent_is_named_and_graph_stays_usable)
{
	struct sch_graph g;
	struct sch_id ghost, child;
	char hex[SCH_HEX_LEN + 1];
	uint32_t idx;

	build_dag();
	sch_object_hash(&ghost, SCH_OBJ_REV, "never stored", 12);
	child = mkrev("orphan", 9, &ghost, 1, NULL, 0);
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add(&idx, &g, &ids[A]), 0);
	cr_assert_eq(sch_graph_add(&idx, &g, &child), SCH_ENOTFOUND);
	sch_id_hex(hex, &ghost);
	cr_assert(strstr(sch_error_msg(), hex), "%s", sch_error_msg());
	cr_assert_eq(g.n, 2, "what the failed call added is dropped");
	cr_assert_eq(sch_graph_find(&g, &child), -1);
	cr_assert_eq(sch_graph_add(&idx, &g, &ids[X]), 0);
	sch_graph_release(&g);
}

Test(graph, ancestors_follow_parents_and_optionally_depends)
{
	struct sch_graph g;
	struct sch_buf s = SCH_BUF_INIT;
	uint8_t *m;
	uint32_t roots[2];

	build_dag();
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add_all(&g), 0);
	roots[0] = node(&g, X);
	m = sch_graph_ancestors(&g, roots, 1, 0);
	marked(&s, &g, m);
	cr_assert_str_eq(s.ptr, "R A B M1 X");
	free(m);
	roots[0] = node(&g, D);
	m = sch_graph_ancestors(&g, roots, 1, 0);
	marked(&s, &g, m);
	cr_assert_str_eq(s.ptr, "R D");
	free(m);
	m = sch_graph_ancestors(&g, roots, 1, 1);
	marked(&s, &g, m);
	cr_assert_str_eq(s.ptr, "Z R D");
	free(m);
	roots[0] = node(&g, A);
	roots[1] = node(&g, Y);
	m = sch_graph_ancestors(&g, roots, 2, 0);
	marked(&s, &g, m);
	cr_assert_str_eq(s.ptr, "R A B M2 Y");
	free(m);
	sch_graph_release(&g);
	sch_buf_release(&s);
}

static void bases(struct sch_buf *out, const struct sch_graph *g, int a,
		  int b)
{
	uint32_t *v = NULL;
	size_t n = sch_graph_merge_bases(g, node(g, a), node(g, b), &v);

	names_of(out, g, v, n);
	for (size_t i = 1; i < n; i++)
		cr_assert_lt(sch_id_cmp(&g->nodes[v[i - 1]].id,
					&g->nodes[v[i]].id), 0,
			     "bases are sorted by id");
	free(v);
}

Test(graph, merge_base_of_two_branches_is_their_fork_point)
{
	struct sch_graph g;
	struct sch_buf s = SCH_BUF_INIT;

	build_dag();
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add_all(&g), 0);
	bases(&s, &g, A, B);
	cr_assert_str_eq(s.ptr, "R");
	bases(&s, &g, X, A);
	cr_assert_str_eq(s.ptr, "A", "an ancestor is its own base");
	bases(&s, &g, X, X);
	cr_assert_str_eq(s.ptr, "X");
	bases(&s, &g, D, X);
	cr_assert_str_eq(s.ptr, "R");
	bases(&s, &g, Z, R);
	cr_assert_str_eq(s.ptr, "", "unrelated roots share nothing");
	sch_graph_release(&g);
	sch_buf_release(&s);
}

Test(graph, criss_cross_merge_gives_two_bases)
{
	struct sch_graph g;
	struct sch_buf s = SCH_BUF_INIT, want = SCH_BUF_INIT;

	build_dag();
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add_all(&g), 0);
	bases(&s, &g, X, Y);
	if (sch_id_cmp(&ids[A], &ids[B]) < 0)
		sch_buf_addstr(&want, "A B");
	else
		sch_buf_addstr(&want, "B A");
	cr_assert_str_eq(s.ptr, want.ptr);
	bases(&s, &g, M1, M2);
	cr_assert_str_eq(s.ptr, want.ptr);
	sch_graph_release(&g);
	sch_buf_release(&s);
	sch_buf_release(&want);
}

/* Every node of the order comes after (apply) or before (log) all of its
 * parents and depends that are in the order. */
static void check_topo(const struct sch_graph *g, const uint32_t *v, size_t n,
		       int children_first)
{
	long *pos = xmalloc((g->n + 1) * sizeof(long));

	for (size_t i = 0; i < g->n; i++)
		pos[i] = -1;
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(pos[v[i]], -1, "each node once");
		pos[v[i]] = (long)i;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sch_gnode *nd = &g->nodes[v[i]];
		size_t np = nd->rev.nparents, nt = np + nd->rev.ndepends;
		for (size_t k = 0; k < nt; k++) {
			uint32_t p = k < np ? nd->parents[k] : nd->depends[k - np];
			if (pos[p] < 0)
				continue;
			if (children_first)
				cr_assert_gt(pos[p], (long)i);
			else
				cr_assert_lt(pos[p], (long)i);
		}
	}
	free(pos);
}

Test(graph, topo_orders_are_valid_and_follow_time)
{
	struct sch_graph g;
	struct sch_buf s = SCH_BUF_INIT;
	uint32_t *v = NULL;
	size_t n;

	build_dag();
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add_all(&g), 0);
	n = sch_graph_topo(&g, NULL, 0, &v);
	cr_assert_eq(n, NREV);
	check_topo(&g, v, n, 0);
	names_of(&s, &g, v, n);
	cr_assert_str_eq(s.ptr, "Z R A B M1 M2 X Y D");
	free(v);
	n = sch_graph_topo(&g, NULL, 1, &v);
	cr_assert_eq(n, NREV);
	check_topo(&g, v, n, 1);
	names_of(&s, &g, v, n);
	cr_assert_str_eq(s.ptr, "D Y X M2 M1 B A R Z");
	free(v);
	sch_graph_release(&g);
	sch_buf_release(&s);
}

Test(graph, topo_of_a_subset_keeps_only_the_subset)
{
	struct sch_graph g;
	struct sch_buf s = SCH_BUF_INIT;
	uint32_t *v = NULL, root;
	uint8_t *sub;
	size_t n;

	build_dag();
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_graph_add_all(&g), 0);
	root = node(&g, Y);
	sub = sch_graph_ancestors(&g, &root, 1, 0);
	n = sch_graph_topo(&g, sub, 0, &v);
	names_of(&s, &g, v, n);
	cr_assert_str_eq(s.ptr, "R A B M2 Y");
	free(v);
	n = sch_graph_topo(&g, sub, 1, &v);
	names_of(&s, &g, v, n);
	cr_assert_str_eq(s.ptr, "Y M2 B A R");
	free(v);
	free(sub);
	sch_graph_release(&g);
	sch_buf_release(&s);
}

/* With equal times only ids break ties: the order must not depend on the
 * order in which the graph was loaded. */
Test(graph, topo_order_is_deterministic_with_equal_times)
{
	struct sch_id root, kids[6], merge;
	struct sch_graph g1, g2;
	uint32_t *v1 = NULL, *v2 = NULL, idx;
	size_t n1, n2;

	root = mkrev("root", 100, NULL, 0, NULL, 0);
	for (int i = 0; i < 6; i++) {
		char m[8];
		snprintf(m, sizeof(m), "k%d", i);
		kids[i] = mkrev(m, 100, &root, 1, NULL, 0);
	}
	merge = mkrev("merge", 100, kids, 6, NULL, 0);
	for (int dir = 0; dir < 2; dir++) {
		sch_graph_init(&g1, txn);
		sch_graph_init(&g2, txn);
		cr_assert_eq(sch_graph_add(&idx, &g1, &merge), 0);
		for (int i = 5; i >= 0; i--)
			cr_assert_eq(sch_graph_add(&idx, &g2, &kids[i]), 0);
		cr_assert_eq(sch_graph_add(&idx, &g2, &merge), 0);
		n1 = sch_graph_topo(&g1, NULL, dir, &v1);
		n2 = sch_graph_topo(&g2, NULL, dir, &v2);
		cr_assert_eq(n1, 8);
		cr_assert_eq(n2, 8);
		check_topo(&g1, v1, n1, dir);
		for (size_t i = 0; i < n1; i++)
			cr_assert_eq(sch_id_cmp(&g1.nodes[v1[i]].id,
						&g2.nodes[v2[i]].id), 0,
				     "position %zu, children_first %d", i, dir);
		/* The six siblings come in id order (reversed for log). */
		for (size_t i = 2; i < 7; i++) {
			int c = sch_id_cmp(&g1.nodes[v1[i - 1]].id,
					   &g1.nodes[v1[i]].id);
			cr_assert(dir ? c > 0 : c < 0, "siblings by id");
		}
		free(v1);
		free(v2);
		sch_graph_release(&g1);
		sch_graph_release(&g2);
	}
}

static void heads_of(struct sch_buf *out)
{
	struct sch_id *h = NULL;
	size_t n = 0;

	cr_assert_eq(sch_graph_heads(txn, &h, &n), 0);
	sch_buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		int k;
		if (i)
			cr_assert_lt(sch_id_cmp(&h[i - 1], &h[i]), 0, "id order");
		for (k = 0; k < NREV; k++)
			if (!sch_id_cmp(&h[i], &ids[k]))
				break;
		cr_assert_lt(k, NREV);
		sch_buf_addf(out, "%s,", names[k]);
	}
	free(h);
}

/* The expected heads in id order, as heads_of() prints them. */
static void expect_heads(struct sch_buf *out, const int *k, size_t n)
{
	int sorted[NREV];

	memcpy(sorted, k, n * sizeof(int));
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 &&
				   sch_id_cmp(&ids[sorted[j - 1]],
					      &ids[sorted[j]]) > 0; j--) {
			int tmp = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = tmp;
		}
	sch_buf_reset(out);
	for (size_t i = 0; i < n; i++)
		sch_buf_addf(out, "%s,", names[sorted[i]]);
}

Test(graph, heads_are_revisions_no_other_names_as_parent)
{
	struct sch_buf got = SCH_BUF_INIT, want = SCH_BUF_INIT;
	static const int h[] = { Z, X, Y, D };

	build_dag();
	heads_of(&got);
	expect_heads(&want, h, 4);
	cr_assert_str_eq(got.ptr, want.ptr, "Z is only depended on");
	sch_buf_release(&got);
	sch_buf_release(&want);
}

Test(graph, rebuild_heads_repairs_the_index)
{
	struct sch_buf got = SCH_BUF_INIT, want = SCH_BUF_INIT;
	static const int h[] = { Z, X, Y, D };
	int changed = -1;

	build_dag();
	cr_assert_eq(sch_graph_rebuild_heads(txn, &changed), 0);
	cr_assert_eq(changed, 0, "the index was right");

	/* Damage it: drop a head, add a revision that has children. */
	cr_assert_eq(sch_kv_del(txn, SCH_DB_HEADS, ids[Y].b, SCH_ID_LEN), 0);
	cr_assert_eq(sch_kv_put(txn, SCH_DB_HEADS, ids[A].b, SCH_ID_LEN, "", 0),
		     0);
	cr_assert_eq(sch_graph_rebuild_heads(txn, &changed), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(changed, 1);
	heads_of(&got);
	expect_heads(&want, h, 4);
	cr_assert_str_eq(got.ptr, want.ptr);
	cr_assert_eq(sch_graph_rebuild_heads(txn, &changed), 0);
	cr_assert_eq(changed, 0);
	sch_buf_release(&got);
	sch_buf_release(&want);
}

Test(graph, rebuild_heads_in_a_read_transaction_only_reports)
{
	struct sch_txn *rd = NULL;
	int changed = -1;

	build_dag();
	cr_assert_eq(sch_kv_del(txn, SCH_DB_HEADS, ids[Y].b, SCH_ID_LEN), 0);
	cr_assert_eq(sch_txn_commit(txn), 0);
	txn = NULL;
	cr_assert_eq(sch_txn_begin(&rd, store, 0), 0);
	cr_assert_eq(sch_graph_rebuild_heads(rd, &changed), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(changed, 1);
	sch_txn_abort(rd);
}
