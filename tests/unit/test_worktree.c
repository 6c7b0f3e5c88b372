/* test_worktree.c - meta files and the migrations/ directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/revision.h"
#include "schema/worktree.h"
#include "unit/testutil.h"


static char tmpdir[64];
static char *mig;

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-worktree.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	mig = xasprintf("%s/migrations", tmpdir);
}

static void teardown(void)
{
	rm_tree(tmpdir);
	free(mig);
	mig = NULL;
	leak_check();
}

TestSuite(worktree, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static void put_file(const char *dir, const char *name, const char *file,
		     const char *text)
{
	char *d = xasprintf("%s/%s", dir, name);
	char *p = xasprintf("%s/%s", d, file);
	FILE *f;

	mkdir(dir, 0755);
	mkdir(d, 0755);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
	free(p);
	free(d);
}

/* A complete migration directory. */
static void put_migration(const char *dir, const char *name, const char *meta,
			  const char *up, const char *down)
{
	put_file(dir, name, "meta", meta);
	put_file(dir, name, "up.sql", up);
	put_file(dir, name, "down.sql", down);
}

static int parse(struct sch_meta *m, const char *text)
{
	return sch_meta_parse(m, text, strlen(text), "m/meta");
}

static int parse_fails(const char *text)
{
	struct sch_meta m;
	int rc = parse(&m, text);

	sch_meta_release(&m);
	return rc;
}

static struct sch_store *open_store(void)
{
	struct sch_store *s = NULL;
	char *dir = xasprintf("%s/store", tmpdir);

	cr_assert_eq(sch_store_open(&s, dir, 1), 0, "%s", sch_error_msg());
	free(dir);
	return s;
}

/* ---- meta ---- */

Test(worktree, meta_with_every_header_parses)
{
	struct sch_meta m;
	const char *text = "parent 0001_init\n"
			   "parent 0002_side\n"
			   "depends abcd1234\n"
			   "label billing\n"
			   "flag notx\n"
			   "flag irreversible\n"
			   "author Ada Lovelace <ada@example.org> 1700000000 +0100\n"
			   "\n"
			   "Add invoices\n"
			   "\n"
			   "Longer explanation.\n";

	cr_assert_eq(parse(&m, text), 0, "%s", sch_error_msg());
	cr_assert_eq(m.nparents, 2);
	cr_assert_str_eq(m.parents[0], "0001_init");
	cr_assert_str_eq(m.parents[1], "0002_side");
	cr_assert_eq(m.ndepends, 1);
	cr_assert_str_eq(m.depends[0], "abcd1234");
	cr_assert_eq(m.nlabels, 1);
	cr_assert_str_eq(m.labels[0], "billing");
	cr_assert_eq(m.nflags, 2);
	cr_assert_str_eq(m.flags[1], "irreversible");
	cr_assert_str_eq(m.author, "Ada Lovelace <ada@example.org>");
	cr_assert_eq(m.time, 1700000000);
	cr_assert_str_eq(m.tz, "+0100");
	cr_assert_str_eq(m.message, "Add invoices\n\nLonger explanation.\n");
	sch_meta_release(&m);
}

Test(worktree, meta_format_round_trips)
{
	struct sch_meta m, back;
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;
	const char *text = "parent 0001_init\n"
			   "depends 0002_x\n"
			   "label l\n"
			   "flag notx\n"
			   "author A <a@b> 5 -0800\n"
			   "\n"
			   "Subject\n";

	cr_assert_eq(parse(&m, text), 0, "%s", sch_error_msg());
	sch_meta_format(&a, &m);
	cr_assert_str_eq(a.ptr, text);
	cr_assert_eq(sch_meta_parse(&back, a.ptr, a.len, "x"), 0);
	sch_meta_format(&b, &back);
	cr_assert_str_eq(a.ptr, b.ptr);
	sch_meta_release(&m);
	sch_meta_release(&back);
	sch_buf_release(&a);
	sch_buf_release(&b);
}

Test(worktree, message_only_meta_is_a_root)
{
	struct sch_meta m;

	cr_assert_eq(parse(&m, "\nCreate users\n\n\n"), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(m.nparents, 0);
	cr_assert_null(m.author);
	cr_assert_str_eq(m.message, "Create users\n",
			 "trailing blank lines dropped, one newline kept");
	sch_meta_release(&m);
}

Test(worktree, unknown_header_names_file_and_line)
{
	struct sch_meta m;

	cr_assert_eq(parse(&m, "parent 0001_a\nrequires 0002_b\n\nm\n"),
		     SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(), "m/meta:2: unknown header 'requires'");
	cr_assert_eq(m.nparents, 0, "nothing is kept after an error");
	sch_meta_release(&m);
	cr_assert_eq(parse_fails("Parent 0001_a\n\nm\n"), SCH_EPARSE,
		     "headers are case-sensitive");
	cr_assert_eq(parse_fails("parent\t0001_a\n\nm\n"), SCH_EPARSE,
		     "tab is no separator");
}

Test(worktree, missing_message_is_an_error)
{
	static const char *const bad[] = {
		"",
		"parent 0001_a\n",
		"parent 0001_a",
		"parent 0001_a\n\n",
		"parent 0001_a\n\n\n\n",
		"parent 0001_a\n\n   \n",
		"parent 0001_a\n\n\nSubject after a blank line\n",
		"parent 0001_a\n\n Indented subject\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse_fails(bad[i]), SCH_EPARSE, "%zu", i);
		cr_assert(strstr(sch_error_msg(), "m/meta:"), "%s",
			  sch_error_msg());
	}
	parse_fails("parent 0001_a\n");
	cr_assert(strstr(sch_error_msg(), "m/meta:2: a blank line and a message"),
		  "%s", sch_error_msg());
}

Test(worktree, bad_author_is_an_error)
{
	static const char *const bad[] = {
		"author nobody\n\nm\n",
		"author A <a@b>\n\nm\n",
		"author A <a@b> 1 0000\n\nm\n",
		"author A <a@b> 1 +0000\nauthor A <a@b> 1 +0000\n\nm\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse_fails(bad[i]), SCH_EPARSE, "%s", bad[i]);
	parse_fails("label x\nauthor nobody\n\nm\n");
	cr_assert(strstr(sch_error_msg(), "m/meta:2: author must be"), "%s",
		  sch_error_msg());
	parse_fails(bad[3]);
	cr_assert(strstr(sch_error_msg(), "m/meta:2: a second author"), "%s",
		  sch_error_msg());
}

Test(worktree, bad_values_are_errors)
{
	cr_assert_eq(parse_fails("parent\n\nm\n"), SCH_EPARSE, "no value");
	cr_assert(strstr(sch_error_msg(), "needs a value"), "%s",
		  sch_error_msg());
	cr_assert_eq(parse_fails("parent   \n\nm\n"), SCH_EPARSE, "blank value");
	cr_assert_eq(parse_fails("parent a b\n\nm\n"), SCH_EPARSE, "two words");
	cr_assert(strstr(sch_error_msg(), "takes one word"), "%s",
		  sch_error_msg());
	cr_assert_eq(parse_fails("flag fast\n\nm\n"), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "m/meta:1: unknown flag 'fast'"), "%s",
		  sch_error_msg());
	cr_assert_eq(parse_fails("label head\n\nm\n"), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "m/meta:1: bad label"), "%s",
		  sch_error_msg());
	cr_assert_eq(parse_fails("label a..b\n\nm\n"), SCH_EPARSE);
	{
		struct sch_meta m;
		cr_assert_eq(sch_meta_parse(&m, "\nm\0x\n", 5, "m/meta"),
			     SCH_EPARSE, "NUL byte");
		cr_assert(strstr(sch_error_msg(), "NUL"), "%s",
			  sch_error_msg());
		sch_meta_release(&m);
	}
}

Test(worktree, too_many_parents_is_an_error)
{
	struct sch_buf b = SCH_BUF_INIT;

	for (int i = 0; i <= SCH_REV_MAX_PARENTS; i++)
		sch_buf_addf(&b, "parent %04d_x\n", i);
	sch_buf_addstr(&b, "\nm\n");
	cr_assert_eq(parse_fails(b.ptr), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "too many parents"), "%s",
		  sch_error_msg());
	sch_buf_release(&b);
}

Test(worktree, crlf_line_ends_are_accepted)
{
	struct sch_meta m;

	cr_assert_eq(parse(&m, "parent 0001_a\r\nlabel x\r\n\r\n"
			       "Subject\r\n\r\nBody\r\n"), 0, "%s",
		     sch_error_msg());
	cr_assert_str_eq(m.parents[0], "0001_a");
	cr_assert_str_eq(m.labels[0], "x");
	cr_assert_str_eq(m.message, "Subject\n\nBody\n");
	sch_meta_release(&m);
}

/*
 * BUG: only one '\r' is stripped from a header line, so "parent x\r\r\n"
 * gives the parent "x\r"; sch_meta_format() writes "parent x\r\n", which
 * parses back as "x": format and parse disagree (and the parent can never
 * match a directory). Found by tests/fuzz/fuzz_meta. Expected: no '\r' in
 * a value (trimmed like other trailing blanks, or refused).
 */
Test(worktree, carriage_returns_never_stay_in_values)
{
	struct sch_meta m;
	int rc = parse(&m, "parent 0001_a\r\r\ndepends 0002_b\r\r\r\n\nm\n");

	if (rc == 0) {
		cr_assert_str_eq(m.parents[0], "0001_a");
		cr_assert_str_eq(m.depends[0], "0002_b");
	} else {
		cr_assert_eq(rc, SCH_EPARSE);
	}
	sch_meta_release(&m);
}

Test(worktree, trailing_blanks_of_values_are_dropped)
{
	struct sch_meta m;

	cr_assert_eq(parse(&m, "parent 0001_a \t\n\nm"), 0, "%s",
		     sch_error_msg());
	cr_assert_str_eq(m.parents[0], "0001_a");
	cr_assert_str_eq(m.message, "m\n", "a newline is added");
	sch_meta_release(&m);
}

Test(worktree, comment_lines_are_skipped_in_headers_only)
{
	struct sch_meta m;

	cr_assert_eq(parse(&m, "# generated by schema new\n"
			       "parent 0001_a\n"
			       "# another comment\n"
			       "\n"
			       "Subject\n"
			       "# kept in the message\n"), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(m.nparents, 1);
	cr_assert_str_eq(m.message, "Subject\n# kept in the message\n");
	sch_meta_release(&m);
}

/* ---- loading a directory ---- */

Test(worktree, missing_directory_is_an_empty_worktree)
{
	struct sch_wt wt;

	cr_assert_eq(sch_wt_load(&wt, mig), 0, "%s", sch_error_msg());
	cr_assert_eq(wt.n, 0);
	sch_wt_release(&wt);
}

Test(worktree, load_reads_matching_directories_in_sequence_order)
{
	struct sch_wt wt;
	char *p;
	FILE *f;

	put_migration(mig, "0010_later", "parent 0002_b\n\nLater\n", "u10",
		      "d10");
	put_migration(mig, "0002_b", "parent 0001_a\n\nB\n", "u2", "d2");
	put_file(mig, "0002_b", "verify.sql", "select 1;\n");
	put_migration(mig, "0001_a", "\nA\n", "create table a ();\n",
		      "drop table a;\n");
	put_migration(mig, "0002_a", "parent 0001_a\n\nA2\n", "u", "d");
	/* Ignored: not <digits>_<slug>, or not a directory. */
	put_migration(mig, "README", "\nx\n", "", "");
	put_migration(mig, "abc_x", "\nx\n", "", "");
	put_migration(mig, "0003", "\nx\n", "", "");
	put_migration(mig, "0004_", "\nx\n", "", "");
	put_migration(mig, "0005_bad name", "\nx\n", "", "");
	put_migration(mig, "_0006_x", "\nx\n", "", "");
	p = xasprintf("%s/0007_file", mig);
	f = fopen(p, "w");
	fclose(f);
	free(p);

	cr_assert_eq(sch_wt_load(&wt, mig), 0, "%s", sch_error_msg());
	cr_assert_eq(wt.n, 4);
	cr_assert_str_eq(wt.e[0].name, "0001_a");
	cr_assert_str_eq(wt.e[1].name, "0002_a");
	cr_assert_str_eq(wt.e[2].name, "0002_b");
	cr_assert_str_eq(wt.e[3].name, "0010_later");
	cr_assert_eq(wt.e[3].seq, 10);
	cr_assert_str_eq(wt.e[0].up.ptr, "create table a ();\n");
	cr_assert_str_eq(wt.e[0].down.ptr, "drop table a;\n");
	cr_assert_not(wt.e[0].has_verify);
	cr_assert(wt.e[2].has_verify);
	cr_assert_str_eq(wt.e[2].verify.ptr, "select 1;\n");
	cr_assert_str_eq(wt.e[2].meta.parents[0], "0001_a");
	cr_assert_eq(sch_wt_find(&wt, "0002_b"), &wt.e[2]);
	cr_assert_null(sch_wt_find(&wt, "0003"));
	sch_wt_release(&wt);
}

/*
 * BUG: sch_wt_load() calls sch_meta_init(&e->meta) for each entry, then
 * load_entry() hands the same meta to sch_meta_parse(), which initialises
 * it again: the first (empty) message is lost, one allocation per
 * migration directory per load. Only visible under ASan, and only once
 * the __lsan_default_suppressions() at the top of this file is removed.
 */
Test(worktree, load_leaks_nothing)
{
	struct sch_wt wt;

	put_migration(mig, "0001_a", "\nA\n", "", "");
	put_migration(mig, "0002_b", "parent 0001_a\n\nB\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), 0, "%s", sch_error_msg());
	cr_assert_eq(wt.n, 2);
	sch_wt_release(&wt);
#if defined(__SANITIZE_ADDRESS__)
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0);
#endif
}

Test(worktree, missing_up_sql_is_named)
{
	struct sch_wt wt;

	put_file(mig, "0001_a", "meta", "\nA\n");
	put_file(mig, "0001_a", "down.sql", "");
	cr_assert_eq(sch_wt_load(&wt, mig), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "0001_a/up.sql is missing"), "%s",
		  sch_error_msg());
	sch_wt_release(&wt);
}

Test(worktree, missing_down_sql_or_meta_is_named)
{
	struct sch_wt wt;

	put_file(mig, "0001_a", "meta", "\nA\n");
	put_file(mig, "0001_a", "up.sql", "");
	cr_assert_eq(sch_wt_load(&wt, mig), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "0001_a/down.sql is missing"), "%s",
		  sch_error_msg());
	sch_wt_release(&wt);

	put_file(mig, "0002_b", "up.sql", "");
	put_file(mig, "0001_a", "down.sql", "");
	cr_assert_eq(sch_wt_load(&wt, mig), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "0002_b/meta is missing"), "%s",
		  sch_error_msg());
	sch_wt_release(&wt);
}

Test(worktree, bad_meta_in_directory_names_its_path_and_line)
{
	struct sch_wt wt;
	char *want = xasprintf("%s/0001_a/meta:2: unknown header 'bogus'", mig);

	put_migration(mig, "0001_a", "label x\nbogus y\n\nA\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(), want);
	sch_wt_release(&wt);
	free(want);
}

/* ---- resolving ---- */

/* The id that a directory with these contents must get. */
static struct sch_id expected_id(const struct sch_id *parents, size_t np,
				 const char *up, const char *down,
				 const char *message)
{
	struct sch_rev r;
	struct sch_buf body = SCH_BUF_INIT;
	struct sch_id id;

	sch_rev_init(&r);
	for (size_t i = 0; i < np; i++)
		sch_rev_add_parent(&r, &parents[i]);
	sch_object_hash(&r.up, SCH_OBJ_BLOB, up, strlen(up));
	sch_object_hash(&r.down, SCH_OBJ_BLOB, down, strlen(down));
	free(r.message);
	r.message = xstrdup(message);
	sch_rev_format(&body, &r);
	sch_object_hash(&id, SCH_OBJ_REV, body.ptr, body.len);
	sch_rev_release(&r);
	sch_buf_release(&body);
	return id;
}

Test(worktree, resolve_by_directory_name_gives_content_ids)
{
	struct sch_store *s = open_store();
	struct sch_txn *t = NULL;
	struct sch_wt wt;
	struct sch_id a, b;

	put_migration(mig, "0002_b", "parent 0001_a\n\nB\n", "ub", "db");
	put_migration(mig, "0001_a", "\nA\n", "ua", "da");
	cr_assert_eq(sch_wt_load(&wt, mig), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_txn_begin(&t, s, 0), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), 0, "%s", sch_error_msg());
	a = expected_id(NULL, 0, "ua", "da", "A\n");
	b = expected_id(&a, 1, "ub", "db", "B\n");
	cr_assert_eq(wt.e[0].resolved, 2);
	cr_assert_eq(sch_id_cmp(&wt.e[0].id, &a), 0);
	cr_assert_eq(sch_id_cmp(&wt.e[1].id, &b), 0);
	cr_assert_eq(wt.e[1].rev.nparents, 1);
	cr_assert_eq(sch_id_cmp(&wt.e[1].rev.parents[0], &a), 0);
	cr_assert_eq(sch_wt_find_id(&wt, &b), &wt.e[1]);
	cr_assert_eq(sch_wt_find_id(&wt, &a), &wt.e[0]);
	cr_assert_null(sch_wt_find_id(&wt, &wt.e[0].rev.up));
	sch_txn_abort(t);
	sch_wt_release(&wt);
	sch_store_close(s);
}

Test(worktree, ids_do_not_depend_on_where_the_directory_is)
{
	struct sch_wt w1, w2;
	char *other = xasprintf("%s/elsewhere", tmpdir);
	struct sch_store *s = open_store();
	struct sch_txn *t = NULL;

	put_migration(mig, "0001_a", "label x\n\nA\n", "u", "d");
	put_migration(other, "0001_a", "label x\n\nA\n", "u", "d");
	cr_assert_eq(sch_wt_load(&w1, mig), 0);
	cr_assert_eq(sch_wt_load(&w2, other), 0);
	cr_assert_eq(sch_txn_begin(&t, s, 0), 0);
	cr_assert_eq(sch_wt_resolve(&w1, t), 0);
	cr_assert_eq(sch_wt_resolve(&w2, t), 0);
	cr_assert_eq(sch_id_cmp(&w1.e[0].id, &w2.e[0].id), 0);
	sch_txn_abort(t);
	sch_wt_release(&w1);
	sch_wt_release(&w2);
	sch_store_close(s);
	free(other);
}

Test(worktree, store_then_resolve_by_id_prefix)
{
	struct sch_store *s = open_store();
	struct sch_txn *t = NULL;
	struct sch_wt wt, w2;
	struct sch_rev back;
	char hex[SCH_HEX_LEN + 1], *meta;
	struct sch_id b;

	put_migration(mig, "0001_a", "\nA\n", "ua", "da");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	cr_assert_eq(sch_txn_begin(&t, s, 1), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_wt_store(t, &wt.e[0]), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_txn_commit(t), 0);
	cr_assert_eq(sch_txn_begin(&t, s, 0), 0);
	cr_assert_eq(sch_rev_load(&back, t, &wt.e[0].id), 0, "%s",
		     sch_error_msg());
	cr_assert_str_eq(back.message, "A\n");
	sch_rev_release(&back);

	/* Another worktree names the stored revision by an id prefix. */
	sch_id_hex(hex, &wt.e[0].id);
	meta = xasprintf("parent %.10s\n\nB\n", hex);
	put_migration(tmpdir, "0001_b", meta, "ub", "db");
	cr_assert_eq(sch_wt_load(&w2, tmpdir), 0, "%s", sch_error_msg());
	cr_assert_eq(w2.n, 1);
	cr_assert_eq(sch_wt_resolve(&w2, t), 0, "%s", sch_error_msg());
	b = expected_id(&wt.e[0].id, 1, "ub", "db", "B\n");
	cr_assert_eq(sch_id_cmp(&w2.e[0].id, &b), 0);
	sch_txn_abort(t);
	sch_wt_release(&wt);
	sch_wt_release(&w2);
	sch_store_close(s);
	free(meta);
}

Test(worktree, unknown_parent_is_named)
{
	struct sch_store *s = open_store();
	struct sch_txn *t = NULL;
	struct sch_wt wt;

	put_migration(mig, "0001_a", "parent 0000_nothing\n\nA\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	cr_assert_eq(sch_txn_begin(&t, s, 0), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "0001_a/meta: parent '0000_nothing' "
					  "does not exist"),
		  "%s", sch_error_msg());
	sch_wt_release(&wt);

	put_migration(mig, "0001_a", "depends deadbeef\n\nA\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "depends 'deadbeef'"), "%s",
		  sch_error_msg());
	sch_txn_abort(t);
	sch_wt_release(&wt);
	sch_store_close(s);
}

Test(worktree, parent_cycle_is_detected)
{
	struct sch_store *s = open_store();
	struct sch_txn *t = NULL;
	struct sch_wt wt;

	put_migration(mig, "0001_a", "parent 0003_c\n\nA\n", "", "");
	put_migration(mig, "0002_b", "parent 0001_a\n\nB\n", "", "");
	put_migration(mig, "0003_c", "parent 0002_b\n\nC\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	cr_assert_eq(sch_txn_begin(&t, s, 0), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "cycle"), "%s", sch_error_msg());
	sch_wt_release(&wt);

	put_migration(tmpdir, "0001_self", "parent 0001_self\n\nS\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, tmpdir), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), SCH_EPARSE, "its own parent");
	cr_assert(strstr(sch_error_msg(), "cycle"), "%s", sch_error_msg());
	sch_txn_abort(t);
	sch_wt_release(&wt);
	sch_store_close(s);
}

Test(worktree, depends_cycle_is_detected)
{
	struct sch_store *s = open_store();
	struct sch_txn *t = NULL;
	struct sch_wt wt;

	put_migration(mig, "0001_a", "depends 0002_b\n\nA\n", "", "");
	put_migration(mig, "0002_b", "parent 0001_a\n\nB\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	cr_assert_eq(sch_txn_begin(&t, s, 0), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), SCH_EPARSE);
	sch_txn_abort(t);
	sch_wt_release(&wt);
	sch_store_close(s);
}

/* ---- new migrations ---- */

Test(worktree, next_name_numbers_after_the_highest_and_slugs_the_subject)
{
	struct sch_wt wt;
	struct sch_buf n = SCH_BUF_INIT;

	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	sch_wt_next_name(&n, &wt, "Add users table!");
	cr_assert_str_eq(n.ptr, "0001_add_users_table");
	sch_wt_next_name(&n, &wt, "  --Fix: a/b  c--\nsecond line");
	cr_assert_str_eq(n.ptr, "0001_fix_a_b_c");
	sch_wt_next_name(&n, &wt, "!!!");
	cr_assert_str_eq(n.ptr, "0001_migration");
	sch_wt_next_name(&n, &wt, "");
	cr_assert_str_eq(n.ptr, "0001_migration");
	sch_wt_next_name(&n, &wt, "caf\xc3\xa9 cr\xc3\xa8me");
	cr_assert_str_eq(n.ptr, "0001_caf_cr_me");
	sch_wt_next_name(&n, &wt, "a very long subject line that goes on and "
				  "on well past any sensible directory name");
	cr_assert_leq(strlen(n.ptr) - 5, 48);
	cr_assert_eq(strncmp(n.ptr, "0001_a_very_long", 16), 0);
	cr_assert_neq(n.ptr[n.len - 1], '_');
	sch_wt_release(&wt);

	put_migration(mig, "0001_a", "\nA\n", "", "");
	put_migration(mig, "0041_b", "\nB\n", "", "");
	put_migration(mig, "0007_c", "\nC\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	sch_wt_next_name(&n, &wt, "Next");
	cr_assert_str_eq(n.ptr, "0042_next");
	sch_wt_release(&wt);
	sch_buf_release(&n);
}

Test(worktree, create_writes_files_that_load_back)
{
	struct sch_meta m;
	struct sch_wt wt;
	struct dirent *de;
	int entries = 0;
	DIR *d;

	cr_assert_eq(parse(&m, "parent 0001_a\nlabel x\n\nCreate b\n"), 0);
	cr_assert_eq(sch_wt_create(mig, "0002_create_b", &m,
				   "create table b ();\n", "drop table b;\n"),
		     0, "%s", sch_error_msg());
	cr_assert_eq(sch_wt_load(&wt, mig), 0, "%s", sch_error_msg());
	cr_assert_eq(wt.n, 1);
	cr_assert_str_eq(wt.e[0].name, "0002_create_b");
	cr_assert_str_eq(wt.e[0].up.ptr, "create table b ();\n");
	cr_assert_str_eq(wt.e[0].down.ptr, "drop table b;\n");
	cr_assert_str_eq(wt.e[0].meta.parents[0], "0001_a");
	cr_assert_str_eq(wt.e[0].meta.labels[0], "x");
	cr_assert_str_eq(wt.e[0].meta.message, "Create b\n");
	cr_assert_not(wt.e[0].has_verify);
	sch_wt_release(&wt);

	cr_assert_eq(sch_wt_create(mig, "0002_create_b", &m, "x", "y"),
		     SCH_EEXISTS);
	d = opendir(mig);
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || strstr(de->d_name, "tmp"))
			entries++;
	closedir(d);
	cr_assert_eq(entries, 1, "no temporary directory is left");
	sch_meta_release(&m);
}

Test(worktree, supersedes_takes_a_full_id_that_need_not_be_stored)
{
	struct sch_store *s = open_store();
	struct sch_txn *t = NULL;
	struct sch_wt wt;
	const char *full = "00112233445566778899aabbccddeeff"
			   "00112233445566778899aabbccddeeff";
	char *meta = xasprintf("supersedes %s\n\nA\n", full);
	struct sch_id want;
	struct sch_buf again = SCH_BUF_INIT;
	struct sch_meta m;

	cr_assert_eq(parse(&m, meta), 0);
	cr_assert_eq(m.nsupersedes, 1);
	sch_meta_format(&again, &m);
	cr_assert_str_eq(again.ptr, meta);
	sch_meta_release(&m);
	put_migration(mig, "0001_a", meta, "SELECT 1;\n", "SELECT 1;\n");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	cr_assert_eq(sch_txn_begin(&t, s, 0), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_id_parse(&want, full, strlen(full)), 0);
	cr_assert_eq(wt.e[0].rev.nsupersedes, 1);
	cr_assert_eq(sch_id_cmp(&wt.e[0].rev.supersedes[0], &want), 0);
	sch_wt_release(&wt);

	/* a short prefix must name a stored revision */
	put_migration(mig, "0001_a", "supersedes 0011\n\nA\n", "", "");
	cr_assert_eq(sch_wt_load(&wt, mig), 0);
	cr_assert_eq(sch_wt_resolve(&wt, t), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "0001_a/meta: supersedes '0011' is "
					  "neither a full revision id"),
		  "%s", sch_error_msg());
	sch_wt_release(&wt);
	sch_txn_abort(t);
	sch_store_close(s);
	sch_buf_release(&again);
	free(meta);
}
