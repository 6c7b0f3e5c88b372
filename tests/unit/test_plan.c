/* test_plan.c - the planner: down and up steps between an applied set and
 * targets, over DAGs built in a temporary store (no database). */
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
#include "schema/plan.h"
#include "schema/registry.h"
#include "schema/revision.h"
#include "schema/revspec.h"
#include "unit/testutil.h"


#define MAXREV 32

static char tmpdir[64];
static struct sch_store *store;
static struct sch_txn *txn;

/* Every revision a test made, by name: its id and its rev body (also for
 * registry-only revisions, which are hashed but never stored). */
static char *rname[MAXREV];
static struct sch_id rid[MAXREV];
static char *rbody[MAXREV];
static size_t nrev;

static void setup(void)
{
	char *dir;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-plan.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	dir = xasprintf("%s/store", tmpdir);
	cr_assert_eq(sch_store_open(&store, dir, 1), 0, "%s", sch_error_msg());
	free(dir);
	cr_assert_eq(sch_txn_begin(&txn, store, 1), 0);
}

static void teardown(void)
{
	for (size_t i = 0; i < nrev; i++) {
		free(rname[i]);
		free(rbody[i]);
	}
	nrev = 0;
	sch_txn_abort(txn);
	txn = NULL;
	sch_store_close(store);
	store = NULL;
	rm_tree(tmpdir);
	leak_check();
}

TestSuite(plan, .init = setup, .fini = teardown);

static int lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < nrev; i++)
		if (strlen(rname[i]) == len && !memcmp(rname[i], name, len))
			return (int)i;
	cr_assert_fail("unknown revision '%.*s'", (int)len, name);
	return -1;
}

/* Calls fn for each name of a space-separated list ("A B C"). */
#define EACH_NAME(list, k)                                                \
	for (const char *p_ = (list), *e_; p_ && *p_; p_ = *e_ ? e_ + 1 : e_) \
		for (int once_ = 1; once_ && (e_ = strchr(p_, ' '),          \
					     e_ = e_ ? e_ : p_ + strlen(p_), \
					     k = lookup(p_, (size_t)(e_ - p_)), 1); \
		     once_ = 0)

/*
 * Makes revision `name` at author time `time` with the parents and
 * depends named in the lists. stored: put it (and its scripts) in the
 * store and the heads index, as commit does; otherwise only hash it (a
 * revision known from a database's registry alone).
 */
static const char *next_supersedes; /* for the next mkrev_in */

static void mkrev_in(const char *name, int64_t time, const char *parents,
		     const char *depends, int stored)
{
	struct sch_rev r;
	struct sch_buf body = SCH_BUF_INIT;
	char *up = xasprintf("CREATE TABLE %s (id int);\n", name);
	char *down = xasprintf("DROP TABLE %s;\n", name);
	int k;

	cr_assert_lt(nrev, MAXREV);
	sch_rev_init(&r);
	EACH_NAME(parents, k)
		sch_rev_add_parent(&r, &rid[k]);
	EACH_NAME(depends, k)
		sch_rev_add_depends(&r, &rid[k]);
	EACH_NAME(next_supersedes, k)
		sch_rev_add_supersedes(&r, &rid[k]);
	next_supersedes = NULL;
	if (stored) {
		cr_assert_eq(sch_object_put(&r.up, txn, SCH_OBJ_BLOB, up,
					    strlen(up), -1), 0);
		cr_assert_eq(sch_object_put(&r.down, txn, SCH_OBJ_BLOB, down,
					    strlen(down), -1), 0);
	} else {
		sch_object_hash(&r.up, SCH_OBJ_BLOB, up, strlen(up));
		sch_object_hash(&r.down, SCH_OBJ_BLOB, down, strlen(down));
	}
	cr_assert_eq(sch_rev_parse_author(&r, "T <t@t> 0 +0000", 15), 0);
	r.time = time;
	free(r.message);
	r.message = xasprintf("%s\n", name);
	sch_rev_format(&body, &r);
	if (stored) {
		cr_assert_eq(sch_object_put(&rid[nrev], txn, SCH_OBJ_REV,
					    body.ptr, body.len, -1), 0);
		cr_assert_eq(sch_graph_note_stored(txn, &rid[nrev], &r), 0);
	} else {
		sch_object_hash(&rid[nrev], SCH_OBJ_REV, body.ptr, body.len);
	}
	rname[nrev] = xstrdup(name);
	rbody[nrev] = sch_buf_detach(&body, NULL);
	nrev++;
	sch_rev_release(&r);
	free(up);
	free(down);
}

static void mkrev(const char *name, int64_t time, const char *parents,
		  const char *depends)
{
	mkrev_in(name, time, parents, depends, 1);
}

/* The applied set, in application order, as sch_reg_load() would give it
 * for a registry whose rows are intact. */
static void mkapplied(struct sch_applied_set *out, const char *names)
{
	int k;

	memset(out, 0, sizeof(*out));
	out->v = xcalloc(MAXREV, sizeof(*out->v));
	EACH_NAME(names, k) {
		struct sch_applied *a = &out->v[out->n++];
		a->id = rid[k];
		cr_assert_eq(sch_rev_parse(&a->rev, rbody[k], strlen(rbody[k])),
			     0);
		a->seq = (long)out->n;
		a->body_ok = 1;
	}
}

static void mktargets(struct sch_idlist *out, const char *names)
{
	int k;

	memset(out, 0, sizeof(*out));
	EACH_NAME(names, k)
		sch_idlist_push(out, &rid[k]);
}

static const char *name_of(const struct sch_graph *g, uint32_t idx)
{
	cr_assert_lt(idx, g->n);
	for (size_t i = 0; i < nrev; i++)
		if (!sch_id_cmp(&g->nodes[idx].id, &rid[i]))
			return rname[i];
	cr_assert_fail("node %u is no revision of the test", idx);
	return NULL;
}

static void names_of(struct sch_buf *out, const struct sch_graph *g,
		     const uint32_t *v, size_t n)
{
	sch_buf_reset(out);
	for (size_t i = 0; i < n; i++)
		sch_buf_addf(out, "%s%s", i ? " " : "", name_of(g, v[i]));
}

struct result {
	struct sch_buf down, up;
	int rc;
};

static void result_release(struct result *r)
{
	sch_buf_release(&r->down);
	sch_buf_release(&r->up);
}

/*
 * Plans `mode` from the applied revisions to the targets (space-separated
 * names) as the commands do: sch_plan_graph, then sch_plan_make. The
 * steps come back as names in execution order.
 */
static struct result plan(enum sch_plan_mode mode, const char *applied,
			  const char *targets)
{
	struct result res = { SCH_BUF_INIT, SCH_BUF_INIT, 0 };
	struct sch_applied_set a;
	struct sch_idlist t;
	struct sch_graph g;
	struct sch_plan p = { 0 };

	mkapplied(&a, applied);
	mktargets(&t, targets);
	sch_graph_init(&g, txn);
	res.rc = sch_plan_graph(&g, txn, &a, &t);
	if (!res.rc)
		res.rc = sch_plan_make(&p, &g, &a, &t, mode);
	if (!res.rc) {
		names_of(&res.down, &g, p.down, p.ndown);
		names_of(&res.up, &g, p.up, p.nup);
	}
	sch_plan_release(&p);
	sch_graph_release(&g);
	sch_idlist_release(&t);
	sch_applied_set_release(&a);
	return res;
}

static struct result plan_last(const char *applied, size_t n)
{
	struct result res = { SCH_BUF_INIT, SCH_BUF_INIT, 0 };
	struct sch_applied_set a;
	struct sch_idlist none = { 0 };
	struct sch_graph g;
	struct sch_plan p = { 0 };

	mkapplied(&a, applied);
	sch_graph_init(&g, txn);
	res.rc = sch_plan_graph(&g, txn, &a, &none);
	if (!res.rc)
		res.rc = sch_plan_last(&p, &g, &a, n);
	if (!res.rc) {
		names_of(&res.down, &g, p.down, p.ndown);
		names_of(&res.up, &g, p.up, p.nup);
	}
	sch_plan_release(&p);
	sch_graph_release(&g);
	sch_applied_set_release(&a);
	return res;
}

/* Asserts a plan's down and up steps, in order. */
#define expect_plan(call, want_down, want_up)                               \
	do {                                                                \
		struct result r_ = call;                                    \
		cr_assert_eq(r_.rc, 0, "%s: %s", #call, sch_error_msg());   \
		cr_assert_str_eq(r_.down.ptr, want_down, "%s: down", #call); \
		cr_assert_str_eq(r_.up.ptr, want_up, "%s: up", #call);      \
		result_release(&r_);                                        \
	} while (0)

#define expect_rc(call, want_rc)                                            \
	do {                                                                \
		struct result r_ = call;                                    \
		cr_assert_eq(r_.rc, want_rc, "%s: %s", #call,               \
			     sch_error_msg());                              \
		result_release(&r_);                                        \
	} while (0)

#define CHECKOUT SCH_PLAN_CHECKOUT
#define MIGRATE SCH_PLAN_MIGRATE
#define ROLLBACK SCH_PLAN_ROLLBACK

/* A - B - C - D */
static void linear(void)
{
	mkrev("A", 1, "", "");
	mkrev("B", 2, "A", "");
	mkrev("C", 3, "B", "");
	mkrev("D", 4, "C", "");
}

/*
 *        A1 - A2
 *       /
 *   R --
 *       \
 *        B1 - B2       times: R 1, A1 2, B1 3, A2 4, B2 5
 */
static void two_branches(void)
{
	mkrev("R", 1, "", "");
	mkrev("A1", 2, "R", "");
	mkrev("B1", 3, "R", "");
	mkrev("A2", 4, "A1", "");
	mkrev("B2", 5, "B1", "");
}

/* ---- checkout ---- */

Test(plan, linear_checkout_goes_up_parents_first_from_what_is_applied)
{
	linear();
	expect_plan(plan(CHECKOUT, "", "D"), "", "A B C D");
	expect_plan(plan(CHECKOUT, "", "B"), "", "A B");
	expect_plan(plan(CHECKOUT, "A B", "D"), "", "C D");
	expect_plan(plan(CHECKOUT, "A B C D", "D"), "", "");
	expect_plan(plan(CHECKOUT, "", ""), "", "");
}

Test(plan, checkout_to_an_ancestor_goes_down_children_first)
{
	linear();
	expect_plan(plan(CHECKOUT, "A B C D", "B"), "D C", "");
	expect_plan(plan(CHECKOUT, "A B C D", "A"), "D C B", "");
	/* No target: base. */
	expect_plan(plan(CHECKOUT, "A B C D", ""), "D C B A", "");
}

Test(plan, several_targets_check_out_the_union_of_their_closures)
{
	two_branches();
	/* Interleaved branches go up by author time, whatever the order of
	 * the targets. */
	expect_plan(plan(CHECKOUT, "", "A2 B2"), "", "R A1 B1 A2 B2");
	expect_plan(plan(CHECKOUT, "", "B2 A2"), "", "R A1 B1 A2 B2");
	expect_plan(plan(CHECKOUT, "R A1", "A2 B1"), "", "B1 A2");
	expect_plan(plan(CHECKOUT, "R A1 A2 B1 B2", "A1 B2"), "A2", "");
	expect_plan(plan(CHECKOUT, "R A1 A2", "A1 B1"), "A2", "B1");
}

Test(plan, checkout_of_one_head_reverts_the_other_branch_only)
{
	two_branches();
	expect_plan(plan(CHECKOUT, "R A1 B1 A2 B2", "A2"), "B2 B1", "");
	expect_plan(plan(CHECKOUT, "R A1 B1 A2 B2", "B2"), "A2 A1", "");
	/* Switching branches: down the old one, then up the new one. */
	expect_plan(plan(CHECKOUT, "R A1 A2", "B2"), "A2 A1", "B1 B2");
}

/*
 *        A -------.
 *       /          M1 --.
 *   R -- B -------'      M2 - X
 *       \               /
 *        C ------------'
 *
 * times: R 1, A 2, B 3, C 4, M1 5, M2 6, X 7
 */
static void merges_of_merges(void)
{
	mkrev("R", 1, "", "");
	mkrev("A", 2, "R", "");
	mkrev("B", 3, "R", "");
	mkrev("C", 4, "R", "");
	mkrev("M1", 5, "A B", "");
	mkrev("M2", 6, "M1 C", "");
	mkrev("X", 7, "M2", "");
}

Test(plan, merges_of_merges_go_up_after_every_side)
{
	merges_of_merges();
	expect_plan(plan(CHECKOUT, "", "X"), "", "R A B C M1 M2 X");
	expect_plan(plan(CHECKOUT, "R C", "M2"), "", "A B M1 M2");
	expect_plan(plan(CHECKOUT, "R A B M1", "X"), "", "C M2 X");
}

Test(plan, merges_of_merges_come_down_to_one_side)
{
	merges_of_merges();
	expect_plan(plan(CHECKOUT, "R A B C M1 M2 X", "M1"), "X M2 C", "");
	expect_plan(plan(CHECKOUT, "R A B C M1 M2 X", "A"), "X M2 M1 C B",
		    "");
	expect_plan(plan(CHECKOUT, "R A B C M1 M2 X", "C"), "X M2 M1 B A",
		    "");
	/* From M1 to the other outer side: M1's sides go, C comes. */
	expect_plan(plan(CHECKOUT, "R A B M1", "C"), "M1 B A", "C");
}

/*
 *        A1 - A2 -.
 *   R --           M - N      times: R 1, A1 2, B1 3, A2 4, B2 5, M 6, N 7
 *        B1 - B2 -'
 */
Test(plan, downgrade_across_a_merge_keeps_the_base_and_the_chosen_side)
{
	two_branches();
	mkrev("M", 6, "A2 B2", "");
	mkrev("N", 7, "M", "");
	expect_plan(plan(CHECKOUT, "R A1 B1 A2 B2 M N", "A2"), "N M B2 B1",
		    "");
	expect_plan(plan(CHECKOUT, "R A1 B1 A2 B2 M N", "B1"),
		    "N M B2 A2 A1", "");
	expect_plan(plan(CHECKOUT, "R A1 B1 A2 B2 M N", "M"), "N", "");
	/* And back up from one side over the merge. */
	expect_plan(plan(CHECKOUT, "R A1 A2", "N"), "", "B1 B2 M N");
}

/*
 * depends across branches:
 *
 *   R - P - Y1 - Y2          (branch y)
 *    \       :
 *     X1 - X2                (branch x; X2 depends on Y1)
 *
 * times: R 1, P 2, X1 3, X2 5, Y1 7, Y2 8. Y1 is newer than X2, so only
 * the depends edge can put it first on the way up and last on the way
 * down.
 */
static void depends_dag(void)
{
	mkrev("R", 1, "", "");
	mkrev("P", 2, "R", "");
	mkrev("X1", 3, "R", "");
	mkrev("Y1", 7, "P", "");
	mkrev("Y2", 8, "Y1", "");
	mkrev("X2", 5, "X1", "Y1");
}

Test(plan, checkout_of_a_revision_applies_what_it_depends_on_first)
{
	depends_dag();
	expect_plan(plan(CHECKOUT, "R X1", "X2"), "", "P Y1 X2");
	expect_plan(plan(CHECKOUT, "", "X2"), "", "R P X1 Y1 X2");
	/* Y2 is on the other branch and not needed. */
	expect_plan(plan(CHECKOUT, "R P Y1 Y2 X1", "X2"), "Y2", "X2");
	expect_plan(plan(MIGRATE, "R X1", "X2"), "", "P Y1 X2");
}

Test(plan, reverting_a_depended_on_revision_reverts_its_dependents_first)
{
	depends_dag();
	/* Checking out the x branch without Y: X2 must go too, before Y1. */
	expect_plan(plan(CHECKOUT, "R P X1 Y1 X2", "X1"), "X2 Y1 P", "");
	/* Rolling back branch y below Y1 takes X2 along, and keeps X1. */
	expect_plan(plan(ROLLBACK, "R P X1 Y1 Y2 X2", "P"), "Y2 X2 Y1", "");
	expect_plan(plan(ROLLBACK, "R P X1 Y1 X2", "P"), "X2 Y1", "");
	/* Checking out Y2 alone keeps Y1 and reverts the x branch. */
	expect_plan(plan(CHECKOUT, "R P X1 Y1 X2", "Y2"), "X2 X1", "Y2");
}

/* ---- migrate ---- */

Test(plan, migrate_applies_the_targets_and_keeps_extra_revisions)
{
	two_branches();
	expect_plan(plan(MIGRATE, "R A1 A2", "B2"), "", "B1 B2");
	expect_plan(plan(CHECKOUT, "R A1 A2", "B2"), "A2 A1", "B1 B2");
	expect_plan(plan(MIGRATE, "R A1 A2 B1 B2", "A1"), "", "");
	expect_plan(plan(MIGRATE, "", "A2 B2"), "", "R A1 B1 A2 B2");
}

/* ---- rollback ---- */

Test(plan, rollback_to_a_target_reverts_only_its_descendants)
{
	two_branches();
	expect_plan(plan(ROLLBACK, "R A1 B1 A2 B2", "A1"), "A2", "");
	expect_plan(plan(ROLLBACK, "R A1 B1 A2 B2", "B1"), "B2", "");
	expect_plan(plan(ROLLBACK, "R A1 B1 A2 B2", "A2"), "", "");
	expect_plan(plan(ROLLBACK, "R A1 B1 A2 B2", "R"), "B2 A2 B1 A1", "");
	/* Never up: B1 is applied, B2 is not: only what builds on A1 is applied. */
	expect_plan(plan(ROLLBACK, "R A1 B1 A2", "A1"), "A2", "");
	expect_plan(plan(ROLLBACK, "R A1 B1", "R"), "B1 A1", "");
}

Test(plan, rollback_to_base_reverts_everything)
{
	two_branches();
	expect_plan(plan(ROLLBACK, "R A1 B1 A2 B2", ""), "B2 A2 B1 A1 R", "");
	expect_plan(plan(ROLLBACK, "", ""), "", "");
}

Test(plan, rollback_takes_one_applied_target)
{
	two_branches();
	expect_rc(plan(ROLLBACK, "R A1", "B1"), SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "must be applied"), "%s",
		  sch_error_msg());
	expect_rc(plan(ROLLBACK, "R A1 B1", "A1 B1"), SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "one target"), "%s",
		  sch_error_msg());
}

/* ---- sch_plan_last ---- */

Test(plan, last_n_reverts_the_latest_applied_revisions)
{
	two_branches();
	/* Applied in this order (not by author time). */
	expect_plan(plan_last("R B1 A1 A2 B2", 1), "B2", "");
	expect_plan(plan_last("R B1 A1 A2 B2", 2), "B2 A2", "");
	expect_plan(plan_last("R A1 A2 B1 B2", 2), "B2 B1", "");
	expect_plan(plan_last("R A1 B1 A2 B2", 4), "B2 A2 B1 A1", "");
	expect_plan(plan_last("R A1 B1 A2 B2", 0), "", "");
	expect_plan(plan_last("R A1", 9), "A1 R", "");
	expect_plan(plan_last("", 1), "", "");
}

Test(plan, last_n_also_reverts_what_builds_on_them)
{
	depends_dag();
	/* A hand-ordered set where dependents came first: reverting Y1
	 * must take X2 (depends) and Y2 (parent) along, children first. */
	expect_plan(plan_last("R P X1 X2 Y2 Y1", 1), "Y2 X2 Y1", "");
	expect_plan(plan_last("R X1 P Y1 X2", 2), "X2 Y1", "");
}

/* ---- determinism ---- */

/*
 *      .- S1..S4 (time 20)
 *   Q -+
 *      `- O (time 15)
 */
static void siblings(void)
{
	mkrev("Q", 10, "", "");
	mkrev("S1", 20, "Q", "");
	mkrev("S2", 20, "Q", "");
	mkrev("S3", 20, "Q", "");
	mkrev("S4", 20, "Q", "");
	mkrev("O", 15, "Q", "");
}

/* The names of S1..S4 sorted by id (ascending, or descending). */
static void siblings_by_id(struct sch_buf *out, int descending)
{
	int k[4] = { lookup("S1", 2), lookup("S2", 2), lookup("S3", 2),
		     lookup("S4", 2) };

	for (int i = 1; i < 4; i++)
		for (int j = i; j > 0; j--) {
			int c = sch_id_cmp(&rid[k[j - 1]], &rid[k[j]]);
			if (descending ? c < 0 : c > 0) {
				int t = k[j];
				k[j] = k[j - 1];
				k[j - 1] = t;
			}
		}
	sch_buf_reset(out);
	for (int i = 0; i < 4; i++)
		sch_buf_addf(out, "%s%s", i ? " " : "", rname[k[i]]);
}

Test(plan, siblings_are_ordered_by_author_time_then_id)
{
	struct sch_buf want = SCH_BUF_INIT, tmp = SCH_BUF_INIT;
	struct result r;

	siblings();
	siblings_by_id(&tmp, 0);
	sch_buf_addf(&want, "Q O %s", tmp.ptr);
	r = plan(CHECKOUT, "", "S1 S2 S3 S4 O");
	cr_assert_eq(r.rc, 0, "%s", sch_error_msg());
	cr_assert_str_eq(r.up.ptr, want.ptr, "up: older first, then by id");
	result_release(&r);

	siblings_by_id(&tmp, 1);
	sch_buf_reset(&want);
	sch_buf_addf(&want, "%s O", tmp.ptr);
	r = plan(ROLLBACK, "Q O S4 S3 S2 S1", "Q");
	cr_assert_eq(r.rc, 0, "%s", sch_error_msg());
	cr_assert_str_eq(r.down.ptr, want.ptr,
			 "down: newer first, then by id descending");
	result_release(&r);
	sch_buf_release(&want);
	sch_buf_release(&tmp);
}

Test(plan, same_input_in_any_order_gives_the_same_plan)
{
	struct result a, b, c;

	siblings();
	a = plan(CHECKOUT, "", "S1 S2 S3 S4 O");
	b = plan(CHECKOUT, "", "S1 S2 S3 S4 O");
	c = plan(CHECKOUT, "", "O S4 S3 S2 S1");
	cr_assert_eq(a.rc | b.rc | c.rc, 0);
	cr_assert_str_eq(a.up.ptr, b.up.ptr, "same input twice");
	cr_assert_str_eq(a.up.ptr, c.up.ptr, "targets in another order");
	result_release(&a);
	result_release(&b);
	result_release(&c);

	a = plan(CHECKOUT, "Q S1 S2 S3 S4 O", "O");
	b = plan(CHECKOUT, "Q O S4 S3 S2 S1", "O");
	c = plan(CHECKOUT, "Q S3 O S1 S4 S2", "O");
	cr_assert_eq(a.rc | b.rc | c.rc, 0);
	cr_assert_str_eq(a.down.ptr, b.down.ptr, "applied in another order");
	cr_assert_str_eq(a.down.ptr, c.down.ptr, "applied in another order");
	cr_assert_eq(a.down.len, strlen("S1 S2 S3 S4"), "%s", a.down.ptr);
	result_release(&a);
	result_release(&b);
	result_release(&c);
}

/* ---- revisions known from the registry only ---- */

Test(plan, registry_only_revisions_can_be_planned_down)
{
	struct sch_applied_set a;
	struct sch_idlist none = { 0 };
	struct sch_graph g;

	linear();
	/* Applied from another repository: E and F are not in the store. */
	mkrev_in("E", 5, "D", "", 0);
	mkrev_in("F", 6, "E", "", 0);
	cr_assert_eq(sch_object_exists(txn, &rid[lookup("E", 1)]), 0);

	mkapplied(&a, "A B C D E F");
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_plan_graph(&g, txn, &a, &none), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(g.n, 6, "E and F added from the applied set");
	cr_assert_geq(sch_graph_find(&g, &rid[lookup("F", 1)]), 0);
	cr_assert_str_eq(g.nodes[sch_graph_find(&g, &rid[lookup("F", 1)])]
				 .rev.message, "F\n");
	sch_graph_release(&g);
	sch_applied_set_release(&a);

	expect_plan(plan(CHECKOUT, "A B C D E F", "D"), "F E", "");
	expect_plan(plan(CHECKOUT, "A B C D E F", "B"), "F E D C", "");
	expect_plan(plan(ROLLBACK, "A B C D E F", "C"), "F E D", "");
	expect_plan(plan(ROLLBACK, "A B C D E F", "E"), "F", "");
	expect_plan(plan_last("A B C D E F", 1), "F", "");
	/* Another branch of the store goes up after the foreign ones go. */
	mkrev("G", 7, "B", "");
	expect_plan(plan(CHECKOUT, "A B C D E F", "G"), "F E D C", "G");
}

Test(plan, registry_only_revision_whose_row_does_not_verify_is_refused)
{
	struct sch_applied_set a;
	struct sch_idlist none = { 0 };
	struct sch_graph g;
	char hex[SCH_HEX_LEN + 1];

	linear();
	mkrev_in("E", 5, "D", "", 0);
	mkapplied(&a, "A B C D E");
	a.v[4].body_ok = 0;
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_plan_graph(&g, txn, &a, &none), SCH_ECORRUPT);
	sch_id_hex(hex, &rid[lookup("E", 1)]);
	hex[12] = '\0';
	cr_assert(strstr(sch_error_msg(), hex), "names the revision: %s",
		  sch_error_msg());
	sch_graph_release(&g);

	/* A stored revision is read from the store: its row does not matter. */
	a.v[4].body_ok = 1;
	a.v[3].body_ok = 0;
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_plan_graph(&g, txn, &a, &none), 0, "%s",
		     sch_error_msg());
	sch_graph_release(&g);
	sch_applied_set_release(&a);
}

/*
 * BUG: the same leak as graph::missing_parent_is_named_and_graph_stays_usable:
 * sch_rev_load() leaves the empty message sch_rev_init() allocated in *out
 * when the revision is missing, and sch_graph_add() (here through
 * sch_plan_graph() for a target that is not stored) does not release it.
 * The error code is right; the test fails under ASan only (1 byte leaked).
 */
Test(plan, unknown_target_is_not_found)
{
	struct sch_applied_set a;
	struct sch_idlist t = { 0 };
	struct sch_graph g;
	struct sch_id ghost;

	linear();
	sch_object_hash(&ghost, SCH_OBJ_REV, "never stored", 12);
	sch_idlist_push(&t, &ghost);
	mkapplied(&a, "A B");
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_plan_graph(&g, txn, &a, &t), SCH_ENOTFOUND);
	sch_graph_release(&g);
	sch_idlist_release(&t);
	sch_applied_set_release(&a);
}

Test(plan, set_heads_names_the_tips_of_a_set)
{
	struct sch_applied_set a;
	struct sch_idlist none = { 0 }, heads = { 0 };
	struct sch_graph g;
	uint8_t *set;

	depends_dag();
	mkapplied(&a, "R P X1 Y1 X2");
	sch_graph_init(&g, txn);
	cr_assert_eq(sch_plan_graph(&g, txn, &a, &none), 0);
	set = xcalloc(g.n + 1, 1);
	for (size_t i = 0; i < a.n; i++)
		set[sch_graph_find(&g, &a.v[i].id)] = 1;
	sch_plan_set_heads(&heads, &g, set);
	cr_assert_eq(heads.n, 1, "Y1 is named by X2's depends");
	cr_assert_eq(sch_id_cmp(&heads.v[0], &rid[lookup("X2", 2)]), 0);
	free(set);
	sch_idlist_release(&heads);
	sch_graph_release(&g);
	sch_applied_set_release(&a);
}

/* ---- supersession ----
 *
 *   A - B - C        B2 supersedes B, C2 supersedes C (commit
 *     \              --new-revision after an edit of B's directory)
 *      B2 - C2
 */
static void reworked(void)
{
	mkrev("A", 1, "", "");
	mkrev("B", 2, "A", "");
	mkrev("C", 3, "B", "");
	next_supersedes = "B";
	mkrev("B2", 4, "A", "");
	next_supersedes = "C";
	mkrev("C2", 5, "B2", "");
}

Test(plan, migrate_reverts_what_a_target_supersedes_then_goes_up)
{
	reworked();
	expect_plan(plan(MIGRATE, "A B C", "C2"), "C B", "B2 C2");
	expect_plan(plan(MIGRATE, "A B", "C2"), "B", "B2 C2");
	expect_plan(plan(MIGRATE, "A", "C2"), "", "B2 C2");
	expect_plan(plan(MIGRATE, "A B2 C2", "C2"), "", "");
	/* a target that supersedes nothing applied keeps migrate up only */
	expect_plan(plan(MIGRATE, "A B C", "A"), "", "");
}

Test(plan, checkout_reverts_the_superseded_revisions_as_any_other)
{
	reworked();
	expect_plan(plan(CHECKOUT, "A B C", "C2"), "C B", "B2 C2");
	/* naming the old revision is still allowed */
	expect_plan(plan(CHECKOUT, "A B2 C2", "C"), "C2 B2", "B C");
}

Test(plan, migrate_reverts_what_builds_on_a_superseded_revision)
{
	reworked();
	mkrev("D", 6, "B", "");
	expect_plan(plan(MIGRATE, "A B D", "B2"), "D B", "B2");
}

Test(plan, superseded_revisions_are_no_heads)
{
	struct sch_id *h = NULL;
	size_t n = 0;

	reworked();
	cr_assert_eq(sch_graph_heads(txn, &h, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(sch_id_cmp(&h[0], &rid[lookup("C2", 2)]), 0);
	free(h);
}
