/* test_scratch.c - checks on a scratch database (a real server, see
 * pgtest.h, named through SCHEMA_DEV_URL): reversible and irreversible
 * revisions, failing scripts, the two orders of a merge, and the
 * throwaway database dropped at close. Also the pure parts of
 * devcluster.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/cmd.h"
#include "schema/devcluster.h"
#include "schema/error.h"
#include "schema/scratch.h"
#include "schema/worktree.h"
#include "unit/pgtest.h"
#include "unit/testutil.h"

static char tmpdir[] = "/tmp/schema-scratch-XXXXXX";
static struct sch_ctx ctx;
static struct sch_wt wt;

static void setup(void)
{
	char *dir;

	pgtest_setup();
	cr_assert_not_null(mkdtemp(tmpdir));
	setenv("SCHEMA_DEV_URL", getenv(PGTEST_ENV), 1);
	memset(&ctx, 0, sizeof(ctx));
	memset(&wt, 0, sizeof(wt));
	ctx.root = xstrdup(tmpdir);
	ctx.repo = xasprintf("%s/.schema", tmpdir);
	ctx.migrations = xasprintf("%s/migrations", tmpdir);
	cr_assert_eq(mkdir(ctx.repo, 0755), 0);
	cr_assert_eq(mkdir(ctx.migrations, 0755), 0);
	dir = xasprintf("%s/store", ctx.repo);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(sch_store_open(&ctx.store, dir, 1), 0, "%s", sch_error_msg());
	free(dir);
	cr_assert_eq(sch_txn_begin(&ctx.txn, ctx.store, 1), 0);
}

static void teardown(void)
{
	sch_wt_release(&wt);
	sch_txn_abort(ctx.txn);
	sch_store_close(ctx.store);
	sch_config_release(&ctx.config);
	free(ctx.root);
	free(ctx.repo);
	free(ctx.migrations);
	rm_tree(tmpdir);
	memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
	pgtest_teardown();
	leak_check();
}

TestSuite(scratch, .init = setup, .fini = teardown);

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* A migration directory: parents is "" or "parent a\nparent b\n". */
static void mig(const char *name, const char *parents, const char *up,
		const char *down)
{
	char *dir = xasprintf("%s/%s", ctx.migrations, name);
	char *meta = xasprintf("%s\n%s\n", parents, name);

	cr_assert_eq(mkdir(dir, 0755), 0);
	write_file(dir, "up.sql", up);
	write_file(dir, "down.sql", down);
	write_file(dir, "meta", meta);
	free(dir);
	free(meta);
}

/* Loads migrations/ and stores every revision; returns the id of name. */
static void store_all(void)
{
	sch_wt_release(&wt);
	memset(&wt, 0, sizeof(wt));
	cr_assert_eq(sch_wt_load(&wt, ctx.migrations), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_wt_resolve(&wt, ctx.txn), 0, "%s", sch_error_msg());
	for (size_t i = 0; i < wt.n; i++)
		cr_assert_eq(sch_wt_store(ctx.txn, &wt.e[i]), 0, "%s",
			     sch_error_msg());
}

static const struct sch_id *id_of(const char *name)
{
	struct sch_wt_entry *e = sch_wt_find(&wt, name);

	cr_assert_not_null(e, "%s", name);
	return &e->id;
}

/* 1 when database name exists on the server. */
static int db_exists(const char *name)
{
	struct sch_pg *pg = NULL;
	struct sch_buf v = SCH_BUF_INIT;
	const char *params[1] = { name };
	int n;

	cr_assert_eq(sch_pg_open(&pg, getenv(PGTEST_ENV)), 0);
	cr_assert_eq(sch_pg_query_value(&v, pg, "SELECT count(*) FROM pg_database "
					"WHERE datname = $1", 1, params), 0);
	n = atoi(v.ptr);
	sch_buf_release(&v);
	sch_pg_close(pg);
	return n;
}

Test(scratch, reversible_revision_comes_back_to_its_parent)
{
	struct sch_scratch s;
	struct sch_revcheck c;

	mig("0001_a", "", "CREATE TABLE a (id int PRIMARY KEY);\n",
	    "DROP TABLE a;\n");
	mig("0002_b", "parent 0001_a\n", "ALTER TABLE a ADD COLUMN b text;\n",
	    "ALTER TABLE a DROP COLUMN b;\n");
	store_all();
	cr_assert_eq(sch_scratch_open(&s, &ctx.config, ctx.repo), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_scratch_revcheck(&c, &s, ctx.txn, id_of("0002_b")), 0,
		     "%s", sch_error_msg());
	cr_assert(c.reversible);
	cr_assert_eq(sch_id_cmp(&c.before, &c.back), 0);
	cr_assert_neq(sch_id_cmp(&c.before, &c.after), 0);
	cr_assert_eq(c.differ.n, 0);
	/* the states were stored in the write transaction */
	cr_assert(sch_object_exists(ctx.txn, &c.after));
	sch_revcheck_release(&c);
	sch_scratch_close(&s);
}

Test(scratch, irreversible_revision_names_what_differs)
{
	struct sch_scratch s;
	struct sch_revcheck c;

	mig("0001_a", "", "CREATE TABLE a (id int);\n", "DROP TABLE a;\n");
	mig("0002_b", "parent 0001_a\n", "CREATE TABLE lost (x int);\n",
	    "SELECT 1;\n");
	store_all();
	cr_assert_eq(sch_scratch_open(&s, &ctx.config, ctx.repo), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_scratch_revcheck(&c, &s, ctx.txn, id_of("0002_b")), 0,
		     "%s", sch_error_msg());
	cr_assert_not(c.reversible);
	cr_assert_eq(c.differ.n, 1);
	cr_assert_str_eq(c.differ.v[0], "table public.lost");
	cr_assert(strstr(c.diff.ptr, "table public.lost") != NULL);
	sch_revcheck_release(&c);
	/* the next check starts from a clean database again */
	cr_assert_eq(sch_scratch_revcheck(&c, &s, ctx.txn, id_of("0001_a")), 0,
		     "%s", sch_error_msg());
	cr_assert(c.reversible);
	sch_revcheck_release(&c);
	sch_scratch_close(&s);
}

Test(scratch, failing_script_is_a_check_failure_with_file_and_line)
{
	struct sch_scratch s;
	struct sch_revcheck c;

	mig("0001_a", "", "CREATE TABLE a (id int);\nALTER TABLE nosuch ADD x int;\n",
	    "DROP TABLE a;\n");
	store_all();
	cr_assert_eq(sch_scratch_open(&s, &ctx.config, ctx.repo), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_scratch_revcheck(&c, &s, ctx.txn, id_of("0001_a")),
		     SCH_ECHECK);
	cr_assert(strstr(sch_error_msg(), "up.sql:2") != NULL, "%s",
		  sch_error_msg());
	cr_assert(strstr(sch_error_msg(), "nosuch") != NULL, "%s",
		  sch_error_msg());
	sch_revcheck_release(&c);
	sch_scratch_close(&s);
}

/*
 * 0001_a (base), then 0002_b and 0003_c on top of it, stored; s opened
 * and the two sides checked in both orders into mc.
 */
static void sides(struct sch_scratch *s, struct sch_mergecheck *mc,
		  const char *base, const char *b_up, const char *b_down,
		  const char *c_up, const char *c_down)
{
	mig("0001_a", "", base, "SELECT 1;\n");
	mig("0002_b", "parent 0001_a\n", b_up, b_down);
	mig("0003_c", "parent 0001_a\n", c_up, c_down);
	store_all();
	cr_assert_eq(sch_scratch_open(s, &ctx.config, ctx.repo), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_scratch_mergecheck(mc, s, ctx.txn, id_of("0002_b"),
					    id_of("0003_c"), NULL), 0, "%s",
		     sch_error_msg());
}

Test(scratch, independent_sides_merge_in_either_order)
{
	struct sch_scratch s;
	struct sch_mergecheck mc;

	sides(&s, &mc, "CREATE TABLE a (id int);\n",
	      "CREATE TABLE b (id int);\n", "DROP TABLE b;\n",
	      "ALTER TABLE a ADD COLUMN c int;\n", "ALTER TABLE a DROP COLUMN c;\n");
	cr_assert_not(mc.failed, "%s", mc.why.ptr);
	cr_assert_not(mc.differ);
	cr_assert_eq(mc.both.n, 0);
	sch_mergecheck_release(&mc);
	sch_scratch_close(&s);
}

Test(scratch, sides_changing_one_column_conflict)
{
	struct sch_scratch s;
	struct sch_mergecheck mc;

	sides(&s, &mc, "CREATE TABLE u (e text);\n",
	      "ALTER TABLE u ALTER e TYPE varchar(10);\n",
	      "ALTER TABLE u ALTER e TYPE text;\n",
	      "ALTER TABLE u ALTER e TYPE varchar(20);\n",
	      "ALTER TABLE u ALTER e TYPE text;\n");
	cr_assert_not(mc.failed, "%s", mc.why.ptr);
	cr_assert(mc.differ);
	cr_assert_eq(mc.both.n, 1);
	cr_assert_str_eq(mc.both.v[0], "table public.u");
	cr_assert_eq(mc.orders.n, 1);
	sch_mergecheck_release(&mc);
	sch_scratch_close(&s);
}

Test(scratch, sides_that_cannot_both_apply_fail_with_the_server_message)
{
	struct sch_scratch s;
	struct sch_mergecheck mc;

	sides(&s, &mc, "CREATE TABLE a (id int);\n",
	      "CREATE TABLE t (id int);\n", "DROP TABLE t;\n",
	      "CREATE TABLE t (id bigint);\n", "DROP TABLE t;\n");
	cr_assert(mc.failed);
	cr_assert(strstr(mc.why.ptr, "already exists") != NULL, "%s",
		  mc.why.ptr);
	sch_mergecheck_release(&mc);
	sch_scratch_close(&s);
}

Test(scratch, a_resolving_merge_script_makes_the_orders_agree)
{
	struct sch_scratch s;
	struct sch_mergecheck mc;

	mig("0001_a", "", "CREATE TABLE u (e text);\n", "DROP TABLE u;\n");
	mig("0002_b", "parent 0001_a\n",
	    "ALTER TABLE u ALTER e TYPE varchar(10);\n",
	    "ALTER TABLE u ALTER e TYPE text;\n");
	mig("0003_c", "parent 0001_a\n",
	    "ALTER TABLE u ALTER e TYPE varchar(20);\n",
	    "ALTER TABLE u ALTER e TYPE text;\n");
	mig("0004_m", "parent 0002_b\nparent 0003_c\n",
	    "ALTER TABLE u ALTER e TYPE varchar(30);\n",
	    "ALTER TABLE u ALTER e TYPE varchar(20);\n");
	store_all();
	cr_assert_eq(sch_scratch_open(&s, &ctx.config, ctx.repo), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_scratch_mergecheck(&mc, &s, ctx.txn, id_of("0002_b"),
					    id_of("0003_c"), id_of("0004_m")),
		     0, "%s", sch_error_msg());
	cr_assert_not(mc.failed, "%s", mc.why.ptr);
	cr_assert_not(mc.differ);
	/* the two states before the merge differ: one per order */
	cr_assert_neq(sch_id_cmp(&mc.pre[0], &mc.pre[1]), 0);
	sch_mergecheck_release(&mc);
	sch_scratch_close(&s);
}

Test(scratch, close_drops_the_throwaway_database)
{
	struct sch_scratch s;
	char *db;

	cr_assert_eq(sch_scratch_open(&s, &ctx.config, ctx.repo), 0, "%s", sch_error_msg());
	db = xstrdup(s.db);
	cr_assert(strncmp(db, "schema_check_", 13) == 0, "%s", db);
	cr_assert_eq(db_exists(db), 1);
	sch_scratch_close(&s);
	cr_assert_eq(db_exists(db), 0);
	free(db);
}

Test(scratch, checks_follow_schema_check_and_config)
{
	int on;

	setenv("SCHEMA_CHECK", "0", 1);
	cr_assert_eq(sch_scratch_enabled(&on, &ctx.config), 0);
	cr_assert_not(on);
	setenv("SCHEMA_CHECK", "1", 1);
	cr_assert_eq(sch_scratch_enabled(&on, &ctx.config), 0);
	cr_assert(on);
	setenv("SCHEMA_CHECK", "maybe", 1);
	cr_assert_eq(sch_scratch_enabled(&on, &ctx.config), SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "'maybe'") != NULL);
	unsetenv("SCHEMA_CHECK");
	sch_config_set(&ctx.config, "commit.check", "false");
	cr_assert_eq(sch_scratch_enabled(&on, &ctx.config), 0);
	cr_assert_not(on);
	sch_config_set(&ctx.config, "commit.check", "require");
	cr_assert_eq(sch_scratch_enabled(&on, &ctx.config), 0);
	cr_assert_eq(on, SCH_CHECK_REQUIRE);
	sch_config_set(&ctx.config, "commit.check", "sometimes");
	cr_assert_eq(sch_scratch_enabled(&on, &ctx.config), SCH_EPARSE);
}

Test(scratch, dev_url_encodes_the_socket_directory)
{
	struct sch_buf u = SCH_BUF_INIT;
	char *repo = xasprintf("%s/a b", tmpdir);

	char *root = xasprintf("%s/r s", tmpdir);

	cr_assert_eq(mkdir(repo, 0755), 0);
	/* under root the cluster lives in the runtime directory */
	setenv("SCHEMA_DEV_ROOT", root, 1);
	sch_dev_url(&u, repo, "postgres");
	unsetenv("SCHEMA_DEV_ROOT");
	cr_assert(strncmp(u.ptr, "postgresql://postgres@/postgres?host=/", 38) == 0,
		  "%s", u.ptr);
	cr_assert(strstr(u.ptr, geteuid() ? "a%20b/dev&port=5432"
					  : "r%20s/") != NULL, "%s", u.ptr);
	cr_assert(strstr(u.ptr, "&port=5432") != NULL, "%s", u.ptr);
	cr_assert_not(sch_dev_running(repo, NULL));
	free(root);
	sch_buf_release(&u);
	free(repo);
}

Test(scratch, dev_bindir_names_a_missing_pg_bindir)
{
	struct sch_buf b = SCH_BUF_INIT;

	setenv("PG_BINDIR", "/nonexistent", 1);
	cr_assert_eq(sch_dev_bindir(&b), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "/nonexistent") != NULL);
	unsetenv("PG_BINDIR");
	cr_assert_eq(sch_dev_bindir(&b), 0, "%s", sch_error_msg());
	sch_buf_release(&b);
}

Test(scratch, columns_added_by_both_sides_differ_only_in_order)
{
	struct sch_scratch s;
	struct sch_mergecheck mc;

	sides(&s, &mc, "CREATE TABLE u (id int);\n",
	      "ALTER TABLE u ADD COLUMN b int;\n", "ALTER TABLE u DROP COLUMN b;\n",
	      "ALTER TABLE u ADD COLUMN c int;\n", "ALTER TABLE u DROP COLUMN c;\n");
	cr_assert_not(mc.failed, "%s", mc.why.ptr);
	cr_assert_not(mc.differ);
	cr_assert(mc.column_order);
	cr_assert_eq(mc.orders.n, 1);
	cr_assert_str_eq(mc.orders.v[0], "table public.u");
	sch_mergecheck_release(&mc);
	sch_scratch_close(&s);
}
