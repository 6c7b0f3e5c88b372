/* test_refs.c - ref names, direct and symbolic refs, the reflog. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/refs.h"
#include "unit/testutil.h"


static char tmpdir[64];
static struct sch_store *store;

static void setup(void)
{
	char *dir;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-refs.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	dir = xasprintf("%s/store", tmpdir);
	cr_assert_eq(sch_store_open(&store, dir, 1), 0, "%s", sch_error_msg());
	free(dir);
}

static void teardown(void)
{
	sch_store_close(store);
	store = NULL;
	rm_tree(tmpdir);
	leak_check();
}

TestSuite(refs, .init = setup, .fini = teardown);

static struct sch_txn *begin(int write)
{
	struct sch_txn *t = NULL;

	cr_assert_eq(sch_txn_begin(&t, store, write), 0, "%s", sch_error_msg());
	return t;
}

static struct sch_id id_of(const char *s)
{
	struct sch_id id;

	sch_object_hash(&id, SCH_OBJ_REV, s, strlen(s));
	return id;
}

/* ---- names ---- */

Test(refs, ordinary_names_are_valid)
{
	static const char *const ok[] = {
		"main", "feature/x", "release-1.2", "v1.0.0", "a", "a.b",
		"user@host", "x_y", "UPPER", "a/b/c", "head2", "bases",
		"caf\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(sch_ref_check_name(ok[i]), 0, "%s: %s", ok[i],
			     sch_error_msg());
}

Test(refs, empty_and_overlong_names_are_invalid)
{
	char name[202];

	cr_assert_eq(sch_ref_check_name(""), SCH_EINVAL);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert_eq(sch_ref_check_name(name), SCH_EINVAL, "201 bytes");
	name[200] = '\0';
	cr_assert_eq(sch_ref_check_name(name), 0, "200 bytes");
}

Test(refs, spec_keywords_are_reserved)
{
	static const char *const bad[] = { "head", "heads", "base", "HEAD",
					   "@" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(sch_ref_check_name(bad[i]), SCH_EINVAL, "%s",
			     bad[i]);
		cr_assert(strstr(sch_error_msg(), "reserved"), "%s",
			  sch_error_msg());
	}
}

Test(refs, names_starting_or_ending_badly_are_invalid)
{
	static const char *const bad[] = { "-x", ".x", "/x", "x/", "x.",
					   "x.lock", "a/b.lock" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sch_ref_check_name(bad[i]), SCH_EINVAL, "%s",
			     bad[i]);
	cr_assert_eq(sch_ref_check_name("x.locks"), 0);
}

Test(refs, forbidden_characters_are_invalid)
{
	static const char *const bad[] = {
		"a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b",
		"a\tb", "a\nb", "a\x7f" "b", "a\x01",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sch_ref_check_name(bad[i]), SCH_EINVAL, "%zu", i);
	cr_assert(strstr(sch_error_msg(), "not allowed"), "%s",
		  sch_error_msg());
}

Test(refs, forbidden_sequences_are_invalid)
{
	static const char *const bad[] = { "a..b", "a//b", "a@{b", "a/.b" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sch_ref_check_name(bad[i]), SCH_EINVAL, "%s",
			     bad[i]);
	cr_assert_eq(sch_ref_check_name("a.b/c"), 0);
	cr_assert_eq(sch_ref_check_name("a@b{"), 0);
}

/* ---- direct refs ---- */

Test(refs, write_read_overwrite_delete)
{
	struct sch_txn *t = begin(1);
	struct sch_id a = id_of("a"), b = id_of("b"), got;

	cr_assert_eq(sch_ref_write(t, "heads/main", &a, "create"), 0);
	cr_assert_eq(sch_ref_read(&got, t, "heads/main"), 0);
	cr_assert_eq(sch_id_cmp(&got, &a), 0);
	cr_assert_eq(sch_ref_write(t, "heads/main", &b, "move"), 0);
	cr_assert_eq(sch_ref_read(&got, t, "heads/main"), 0);
	cr_assert_eq(sch_id_cmp(&got, &b), 0);
	cr_assert_eq(sch_txn_commit(t), 0);

	t = begin(1);
	cr_assert_eq(sch_ref_read(&got, t, "heads/main"), 0, "committed");
	cr_assert_eq(sch_id_cmp(&got, &b), 0);
	cr_assert_eq(sch_ref_delete(t, "heads/main", "gone"), 0);
	cr_assert_eq(sch_ref_read(&got, t, "heads/main"), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "heads/main"), "%s",
		  sch_error_msg());
	cr_assert_eq(sch_ref_delete(t, "heads/main", "again"), SCH_ENOTFOUND);
	sch_txn_abort(t);
}

Test(refs, missing_ref_is_not_found)
{
	struct sch_txn *t = begin(0);
	struct sch_buf target = SCH_BUF_INIT;
	struct sch_id got;

	cr_assert_eq(sch_ref_read(&got, t, "tags/none"), SCH_ENOTFOUND);
	cr_assert_eq(sch_ref_read_symbolic(&target, t, "HEAD"), SCH_ENOTFOUND);
	sch_txn_abort(t);
	sch_buf_release(&target);
}

Test(refs, damaged_ref_value_is_corrupt)
{
	struct sch_txn *t = begin(1);
	struct sch_id got;

	cr_assert_eq(sch_kv_put(t, SCH_DB_REFS, "heads/bad", 9, "xyz", 3), 0);
	cr_assert_eq(sch_ref_read(&got, t, "heads/bad"), SCH_ECORRUPT);
	sch_txn_abort(t);
}

static int collect(const char *name, const struct sch_id *id, void *arg)
{
	struct sch_buf *b = arg;

	(void)id;
	sch_buf_addf(b, "%s;", name);
	return 0;
}

static int stop_at_second(const char *name, const struct sch_id *id,
			  void *arg)
{
	int *n = arg;

	(void)name;
	(void)id;
	return ++*n == 2 ? 42 : 0;
}

Test(refs, each_lists_direct_refs_under_prefix_in_order)
{
	struct sch_txn *t = begin(1);
	struct sch_buf b = SCH_BUF_INIT;
	struct sch_id a = id_of("a");
	int n = 0;

	sch_ref_write(t, "heads/zeta", &a, NULL);
	sch_ref_write(t, "heads/alpha", &a, NULL);
	sch_ref_write(t, "heads/mid/x", &a, NULL);
	sch_ref_write(t, "tags/v1", &a, NULL);
	sch_ref_write(t, "headsup", &a, NULL);
	sch_ref_write_symbolic(t, "HEAD", "heads/alpha", NULL);
	cr_assert_eq(sch_ref_each(t, "heads/", collect, &b), 0);
	cr_assert_str_eq(b.ptr, "heads/alpha;heads/mid/x;heads/zeta;");
	sch_buf_reset(&b);
	cr_assert_eq(sch_ref_each(t, "", collect, &b), 0);
	cr_assert_str_eq(b.ptr, "heads/alpha;heads/mid/x;heads/zeta;headsup;"
				"tags/v1;", "symbolic HEAD is skipped");
	cr_assert_eq(sch_ref_each(t, "heads/", stop_at_second, &n), 42);
	cr_assert_eq(n, 2);
	sch_txn_abort(t);
	sch_buf_release(&b);
}

/* ---- symbolic HEAD ---- */

Test(refs, symbolic_head_follows_its_branch)
{
	struct sch_txn *t = begin(1);
	struct sch_buf target = SCH_BUF_INIT;
	struct sch_id a = id_of("a"), b = id_of("b"), got;

	cr_assert_eq(sch_ref_write_symbolic(t, "HEAD", "heads/main", "init"),
		     0);
	cr_assert_eq(sch_ref_write(t, "heads/main", &a, NULL), 0);
	cr_assert_eq(sch_ref_read(&got, t, "HEAD"), 0);
	cr_assert_eq(sch_id_cmp(&got, &a), 0);
	cr_assert_eq(sch_ref_read_symbolic(&target, t, "HEAD"), 1);
	cr_assert_str_eq(target.ptr, "heads/main");
	cr_assert_eq(sch_ref_read_symbolic(&target, t, "heads/main"), 0,
		     "a direct ref is not symbolic");

	cr_assert_eq(sch_ref_write(t, "heads/main", &b, NULL), 0);
	cr_assert_eq(sch_ref_read(&got, t, "HEAD"), 0);
	cr_assert_eq(sch_id_cmp(&got, &b), 0, "HEAD moves with the branch");

	cr_assert_eq(sch_ref_write(t, "heads/other", &a, NULL), 0);
	cr_assert_eq(sch_ref_write_symbolic(t, "HEAD", "heads/other", NULL), 0);
	cr_assert_eq(sch_ref_read(&got, t, "HEAD"), 0);
	cr_assert_eq(sch_id_cmp(&got, &a), 0, "switched");
	sch_txn_abort(t);
	sch_buf_release(&target);
}

Test(refs, head_on_unborn_branch_is_not_found)
{
	struct sch_txn *t = begin(1);
	struct sch_id got;

	cr_assert_eq(sch_ref_write_symbolic(t, "HEAD", "heads/main", NULL), 0);
	cr_assert_eq(sch_ref_read(&got, t, "HEAD"), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "heads/main"), "%s",
		  sch_error_msg());
	cr_assert(strstr(sch_error_msg(), "no revision yet"), "%s",
		  sch_error_msg());
	sch_txn_abort(t);
}

Test(refs, symbolic_loop_is_an_error_not_a_hang)
{
	struct sch_txn *t = begin(1);
	struct sch_id got;

	sch_ref_write_symbolic(t, "HEAD", "HEAD", NULL);
	cr_assert_neq(sch_ref_read(&got, t, "HEAD"), 0);
	sch_ref_write_symbolic(t, "heads/a", "heads/b", NULL);
	sch_ref_write_symbolic(t, "heads/b", "heads/a", NULL);
	cr_assert_neq(sch_ref_read(&got, t, "heads/a"), 0);
	sch_txn_abort(t);
}

/* ---- reflog ---- */

struct logged {
	struct sch_buf text;
	uint64_t last_seq;
	int n;
};

static int log_cb(const struct sch_reflog_entry *e, void *arg)
{
	struct logged *l = arg;
	char o[SCH_SHORT_LEN + 1], n[SCH_SHORT_LEN + 1];

	cr_assert_gt(e->seq, l->last_seq, "sequence increases");
	l->last_seq = e->seq;
	sch_id_short(o, &e->old_id);
	sch_id_short(n, &e->new_id);
	sch_buf_addf(&l->text, "%s %s %s %s\n", e->name,
		     sch_id_is_zero(&e->old_id) ? "-" : o,
		     sch_id_is_zero(&e->new_id) ? "-" : n, e->msg);
	cr_assert_gt(e->time, 1600000000);
	l->n++;
	return 0;
}

Test(refs, reflog_records_every_update_oldest_first)
{
	struct sch_txn *t = begin(1);
	struct sch_id a = id_of("a"), b = id_of("b");
	struct logged l = { SCH_BUF_INIT, 0, 0 };
	struct sch_buf want = SCH_BUF_INIT;
	char ha[SCH_SHORT_LEN + 1], hb[SCH_SHORT_LEN + 1];

	sch_id_short(ha, &a);
	sch_id_short(hb, &b);
	sch_ref_write(t, "heads/main", &a, "commit: first");
	sch_ref_write(t, "heads/main", &b, "commit: second");
	sch_ref_write(t, "heads/main", &b, "no change, no entry");
	sch_ref_write(t, "tags/v1", &a, "tag v1");
	sch_ref_delete(t, "heads/main", "branch -d main");
	cr_assert_eq(sch_txn_commit(t), 0);

	t = begin(0);
	cr_assert_eq(sch_reflog_each(t, log_cb, &l), 0);
	sch_txn_abort(t);
	sch_buf_addf(&want, "heads/main - %s commit: first\n", ha);
	sch_buf_addf(&want, "heads/main %s %s commit: second\n", ha, hb);
	sch_buf_addf(&want, "tags/v1 - %s tag v1\n", ha);
	sch_buf_addf(&want, "heads/main %s - branch -d main\n", hb);
	cr_assert_str_eq(l.text.ptr, want.ptr);
	cr_assert_eq(l.n, 4);
	sch_buf_release(&l.text);
	sch_buf_release(&want);
}

Test(refs, reflog_continues_sequence_across_transactions)
{
	struct sch_txn *t = begin(1);
	struct sch_id a = id_of("a"), b = id_of("b");
	struct logged l = { SCH_BUF_INIT, 0, 0 };

	sch_ref_write(t, "heads/x", &a, "one");
	cr_assert_eq(sch_txn_commit(t), 0);
	t = begin(1);
	sch_ref_write(t, "heads/x", &b, "two");
	cr_assert_eq(sch_txn_commit(t), 0);
	t = begin(0);
	cr_assert_eq(sch_reflog_each(t, log_cb, &l), 0);
	sch_txn_abort(t);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.last_seq, 2);
	sch_buf_release(&l.text);
}

Test(refs, aborted_updates_leave_no_ref_and_no_reflog)
{
	struct sch_txn *t = begin(1);
	struct sch_id a = id_of("a"), got;
	size_t n = 99;

	sch_ref_write(t, "heads/main", &a, "x");
	sch_ref_write_symbolic(t, "HEAD", "heads/main", "x");
	sch_ref_write(t, "tags/v1", &a, "x");
	sch_txn_abort(t);

	t = begin(0);
	cr_assert_eq(sch_ref_read(&got, t, "heads/main"), SCH_ENOTFOUND);
	cr_assert_eq(sch_ref_read(&got, t, "HEAD"), SCH_ENOTFOUND);
	cr_assert_eq(sch_kv_count(t, SCH_DB_REFS, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(sch_kv_count(t, SCH_DB_REFLOG, &n), 0);
	cr_assert_eq(n, 0);
	sch_txn_abort(t);
}

Test(refs, damaged_reflog_entry_is_corrupt)
{
	struct sch_txn *t = begin(1);
	struct logged l = { SCH_BUF_INIT, 0, 0 };
	static const unsigned char key[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };

	cr_assert_eq(sch_kv_put(t, SCH_DB_REFLOG, key, 8, "heads/x\0short", 13),
		     0);
	cr_assert_eq(sch_reflog_each(t, log_cb, &l), SCH_ECORRUPT);
	sch_txn_abort(t);
	sch_buf_release(&l.text);
}
