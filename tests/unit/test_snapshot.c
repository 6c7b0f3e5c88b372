/* test_snapshot.c - backups and restores against a real server. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pgtest.h"
#include "schema/env.h"
#include "schema/manifest.h"
#include "schema/object.h"
#include "schema/snapshot.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
static void leak_check(void)
{
	if (__lsan_do_recoverable_leak_check()) {
		fputs("memory leaked (see above)\n", stderr);
		abort();
	}
}
#else
static void leak_check(void)
{
}
#endif

static char tmpdir[64];
static struct sch_store *store;
static struct sch_buf target = SCH_BUF_INIT;
static char target_db[48];

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	char *dir, sql[128];

	pgtest_setup();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-snap.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	dir = xasprintf("%s/store", tmpdir);
	cr_assert_eq(sch_store_open(&store, dir, 1), 0, "%s", sch_error_msg());
	free(dir);
	snprintf(target_db, sizeof(target_db), "%s_r", pgtest_dbname);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", target_db);
	pgtest_admin(sql);
	sch_buf_reset(&target);
	cr_assert_eq(sch_pg_conninfo_set(&target, pgtest_url(), "dbname",
					 target_db), 0);
}

static void teardown(void)
{
	char sql[128];

	sch_store_close(store);
	store = NULL;
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 target_db);
	pgtest_admin(sql);
	sch_buf_release(&target);
	pgtest_teardown();
	leak_check();
}

TestSuite(snapshot, .init = setup, .fini = teardown, .timeout = 120);

static void run_sql(const char *conninfo, const char *sql)
{
	struct sch_pg *pg = NULL;

	cr_assert_eq(sch_pg_open(&pg, conninfo), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_exec_script(pg, sql), 0, "%s", sch_error_msg());
	sch_pg_close(pg);
}

/* md5 of every row of a table in a canonical order. */
static char *rows_md5(const char *conninfo, const char *table)
{
	struct sch_pg *pg = NULL;
	struct sch_buf v = SCH_BUF_INIT, q = SCH_BUF_INIT;

	cr_assert_eq(sch_pg_open(&pg, conninfo), 0, "%s", sch_error_msg());
	sch_buf_addf(&q, "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, "
		     "'|' ORDER BY x::text)), '') FROM %s x", table);
	cr_assert_eq(sch_pg_query_value(&v, pg, q.ptr, 0, NULL), 0, "%s",
		     sch_error_msg());
	sch_pg_close(pg);
	sch_buf_release(&q);
	return sch_buf_detach(&v, NULL);
}

static const char fixture[] =
	"CREATE TYPE color AS ENUM ('red', 'green');"
	"CREATE TABLE bin (id int PRIMARY KEY, v text, b bytea, a int[]);"
	"INSERT INTO bin SELECT g, 'row ' || g, decode(md5(g::text), 'hex'), "
	"ARRAY[g, NULL] FROM generate_series(1, 5000) g;"
	"INSERT INTO bin VALUES (0, NULL, NULL, NULL);"
	"CREATE TABLE txt (id serial, c color, note text);"
	"INSERT INTO txt (c, note) SELECT 'green', E'line\\nbreak ' || g "
	"FROM generate_series(1, 3000) g;"
	"CREATE TABLE nocols ();"
	"INSERT INTO nocols DEFAULT VALUES; INSERT INTO nocols DEFAULT VALUES;"
	"CREATE TABLE empty (x int);";

static void backup(struct sch_backup_result *res, int level)
{
	struct sch_backup_opts o;

	memset(&o, 0, sizeof(o));
	o.conninfo = pgtest_conninfo;
	o.level = level;
	o.chunk_avg = 4096;
	cr_assert_eq(sch_snapshot_backup(res, store, &o), 0, "backup: %s",
		     sch_error_msg());
}

Test(snapshot, restore_gives_back_every_row_in_both_formats)
{
	struct sch_backup_result res;
	struct sch_restore_opts ro;
	const char *tables[] = { "bin", "txt", "nocols", "empty" };

	run_sql(pgtest_conninfo, fixture);
	backup(&res, -1);
	cr_assert_eq(res.tables, 4);
	cr_assert_eq(res.rows, 5001 + 3000 + 2);
	memset(&ro, 0, sizeof(ro));
	ro.conninfo = target.ptr;
	cr_assert_eq(sch_snapshot_restore(store, &res.id, &ro), 0, "restore: %s",
		     sch_error_msg());
	for (size_t i = 0; i < 4; i++) {
		char *a = rows_md5(pgtest_conninfo, tables[i]);
		char *b = rows_md5(target.ptr, tables[i]);
		cr_assert_str_eq(a, b, "table %s", tables[i]);
		free(a);
		free(b);
	}
	{
		char *a = rows_md5(target.ptr, "(SELECT nextval('txt_id_seq'))");
		cr_assert(strstr(a, "1:"), "%s", a);
		free(a);
	}
}

Test(snapshot, formats_follow_the_column_types)
{
	struct sch_backup_result res;
	struct sch_manifest m;
	struct sch_txn *t = NULL;

	run_sql(pgtest_conninfo, fixture);
	backup(&res, 1);
	cr_assert_eq(sch_txn_begin(&t, store, 0), 0);
	cr_assert_eq(sch_snapshot_load(&m, t, &res.id), 0, "%s", sch_error_msg());
	cr_assert_eq(m.ntables, 4);
	/* sorted by schema and name: bin, empty, nocols, txt */
	cr_assert_str_eq(m.tables[0].name, "bin");
	cr_assert_eq(m.tables[0].binary, 1);
	cr_assert_eq(m.tables[0].rows, 5001);
	cr_assert_str_eq(m.tables[3].name, "txt");
	cr_assert_eq(m.tables[3].binary, 0, "an enum column needs text");
	/* an empty table in binary format: header and trailer */
	cr_assert_eq(m.tables[1].rows, 0);
	cr_assert_eq(m.tables[1].bytes, 21);
	cr_assert_eq(m.nseqs, 1);
	cr_assert_eq(m.seqs[0].last_value, 3000);
	cr_assert(m.tables[0].parts[0].nchunks > 10, "4 KiB chunks");
	sch_manifest_release(&m);
	sch_txn_abort(t);
}

Test(snapshot, second_backup_of_an_unchanged_database_stores_no_chunk)
{
	struct sch_backup_result a, b;

	run_sql(pgtest_conninfo, fixture);
	backup(&a, -1);
	backup(&b, -1);
	cr_assert(a.new_objects > 10);
	cr_assert_eq(b.new_objects, 0, "%llu new chunks",
		     (unsigned long long)b.new_objects);
	cr_assert_neq(sch_id_cmp(&a.id, &b.id), 0, "times differ");
}

Test(snapshot, a_missing_chunk_stops_the_restore_before_it_connects)
{
	struct sch_backup_result res;
	struct sch_restore_opts ro;
	struct sch_manifest m;
	struct sch_txn *t = NULL;
	char *before, *after;

	run_sql(pgtest_conninfo, fixture);
	backup(&res, -1);
	cr_assert_eq(sch_txn_begin(&t, store, 1), 0);
	cr_assert_eq(sch_snapshot_load(&m, t, &res.id), 0);
	cr_assert_eq(sch_object_delete(t, &m.tables[0].parts[0].chunks[3]), 0);
	cr_assert_eq(sch_txn_commit(t), 0);
	sch_manifest_release(&m);
	before = rows_md5(target.ptr, "pg_class");
	memset(&ro, 0, sizeof(ro));
	ro.conninfo = target.ptr;
	cr_assert_eq(sch_snapshot_restore(store, &res.id, &ro), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "damaged"), "%s", sch_error_msg());
	after = rows_md5(target.ptr, "pg_class");
	cr_assert_str_eq(before, after, "the target changed");
	free(before);
	free(after);
}

Test(snapshot, a_non_empty_target_is_refused_unless_forced)
{
	struct sch_backup_result res;
	struct sch_restore_opts ro;
	char *a, *b;

	run_sql(pgtest_conninfo, fixture);
	backup(&res, 0);
	run_sql(target.ptr, "CREATE TABLE other (x int); CREATE SCHEMA s2;"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
		"CREATE TABLE bin (x int)");
	memset(&ro, 0, sizeof(ro));
	ro.conninfo = target.ptr;
	cr_assert_eq(sch_snapshot_restore(store, &res.id, &ro), SCH_EREFUSED);
	cr_assert(strstr(sch_error_msg(), "not empty"), "%s", sch_error_msg());
	ro.force = 1;
	cr_assert_eq(sch_snapshot_restore(store, &res.id, &ro), 0, "%s",
		     sch_error_msg());
	a = rows_md5(pgtest_conninfo, "bin");
	b = rows_md5(target.ptr, "bin");
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	a = rows_md5(target.ptr, "(SELECT to_regclass('public.other') IS NULL "
		     "AND to_regnamespace('s2') IS NULL)");
	cr_assert(strstr(a, "1:"));
	free(a);
}

Test(snapshot, an_unreachable_database_fails_and_stores_nothing)
{
	struct sch_backup_opts o;
	struct sch_backup_result res;
	struct sch_txn *t = NULL;
	size_t n = 1;

	memset(&o, 0, sizeof(o));
	o.conninfo = "host=/nonexistent dbname=x";
	cr_assert_eq(sch_snapshot_backup(&res, store, &o), SCH_EDB);
	cr_assert_eq(sch_txn_begin(&t, store, 0), 0);
	cr_assert_eq(sch_kv_count(t, SCH_DB_OBJECTS, &n), 0);
	cr_assert_eq(n, 0);
	sch_txn_abort(t);
}
