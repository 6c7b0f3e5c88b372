/* test_catalog.c - states of a real database (see pgtest.h): the same
 * schema built in another order has the same state, every kind of change
 * gives another one, the registry is left out, and a pg_dump round trip of
 * large real schemas keeps the state. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/catalog.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/pg.h"
#include "unit/pgtest.h"

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

static void teardown(void)
{
	pgtest_teardown();
	leak_check();
}

TestSuite(catalog, .init = pgtest_setup, .fini = teardown);

#define FIXTURES "/work/shared/fixtures"

static const struct sch_catalog_opts app = { NULL, "app" };

static void run(struct sch_pg *pg, const char *sql)
{
	cr_assert_eq(sch_pg_exec_script(pg, sql), 0, "%s: %s", sql,
		     sch_error_msg());
}

/* The state id of pg's database; its text into text when non-NULL. */
static void state(struct sch_id *out, struct sch_buf *text, struct sch_pg *pg,
		  const struct sch_catalog_opts *o)
{
	struct sch_buf b = SCH_BUF_INIT;

	cr_assert_eq(sch_catalog_state(out, &b, NULL, pg, o), 0, "capture: %s",
		     sch_error_msg());
	if (text) {
		sch_buf_reset(text);
		sch_buf_add(text, b.ptr, b.len);
	}
	sch_buf_release(&b);
}

static void rebuild(struct sch_pg *pg, const char *sql)
{
	run(pg, "DROP SCHEMA IF EXISTS app CASCADE; CREATE SCHEMA app");
	run(pg, sql);
}

Test(catalog, same_schema_built_in_another_order_has_the_same_state)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_id a, b;
	struct sch_buf ta = SCH_BUF_INIT, tb = SCH_BUF_INIT;

	rebuild(pg,
		"CREATE TABLE app.users (id bigint PRIMARY KEY, email text "
		"NOT NULL, name text);"
		"CREATE TABLE app.orders (id bigint PRIMARY KEY, user_id bigint "
		"REFERENCES app.users(id), total numeric(10,2) DEFAULT 0);"
		"CREATE INDEX users_email ON app.users (email);"
		"CREATE INDEX orders_user ON app.orders (user_id);"
		"CREATE INDEX orders_total ON app.orders (total DESC);");
	state(&a, &ta, pg, &app);
	/* Tables in the other order, columns and keys added later, indexes
	 * in another order, a column dropped on the way. */
	rebuild(pg,
		"CREATE TABLE app.orders (id bigint PRIMARY KEY);"
		"CREATE TABLE app.users (id bigint, junk int, email text "
		"NOT NULL);"
		"ALTER TABLE app.users DROP COLUMN junk;"
		"ALTER TABLE app.users ADD COLUMN name text;"
		"ALTER TABLE app.users ADD PRIMARY KEY (id);"
		"ALTER TABLE app.orders ADD COLUMN user_id bigint "
		"REFERENCES app.users(id);"
		"ALTER TABLE app.orders ADD COLUMN total numeric(10,2) "
		"DEFAULT 0;"
		"CREATE INDEX orders_total ON app.orders (total DESC);"
		"CREATE INDEX orders_user ON app.orders (user_id);"
		"CREATE INDEX users_email ON app.users (email);");
	state(&b, &tb, pg, &app);
	cr_assert_str_eq(ta.ptr, tb.ptr);
	cr_assert_eq(sch_id_cmp(&a, &b), 0);
	cr_assert(strstr(ta.ptr, "table app.users\n"
			 "  column id bigint not null\n"
			 "  column email text not null\n"
			 "  column name text\n"), "%s", ta.ptr);
	sch_buf_release(&ta);
	sch_buf_release(&tb);
	sch_pg_close(pg);
}

Test(catalog, column_order_is_part_of_the_state)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_id a, b;

	rebuild(pg, "CREATE TABLE app.t (a int, b int)");
	state(&a, NULL, pg, &app);
	rebuild(pg, "CREATE TABLE app.t (b int, a int)");
	state(&b, NULL, pg, &app);
	cr_assert_neq(sch_id_cmp(&a, &b), 0);
	sch_pg_close(pg);
}

static const char base_schema[] =
	"CREATE TYPE app.mood AS ENUM ('sad', 'ok');"
	"CREATE SEQUENCE app.counter INCREMENT 1;"
	"CREATE TABLE app.users (id bigint PRIMARY KEY, email text NOT NULL,"
	" age int DEFAULT 0 CHECK (age >= 0), mood app.mood, score int);"
	"CREATE INDEX users_email ON app.users (email);"
	"CREATE VIEW app.adults AS SELECT id, email FROM app.users"
	" WHERE age >= 18;"
	"CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN RETURN NEW; END$$;"
	"CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW"
	" EXECUTE FUNCTION app.touch();"
	"ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;"
	"CREATE POLICY own ON app.users USING (id > 0);"
	"COMMENT ON TABLE app.users IS 'people';";

/* Each change alone, applied on top of base_schema. */
static const char *const changes[] = {
	"ALTER TABLE app.users ALTER COLUMN score TYPE bigint",
	"ALTER TABLE app.users ALTER COLUMN age SET DEFAULT 1",
	"ALTER TABLE app.users ALTER COLUMN email DROP NOT NULL",
	"ALTER TABLE app.users ADD CONSTRAINT email_len CHECK "
	"(length(email) > 3)",
	"DROP INDEX app.users_email; CREATE INDEX users_email ON app.users "
	"(lower(email))",
	"CREATE OR REPLACE VIEW app.adults AS SELECT id, email FROM app.users"
	" WHERE age >= 21",
	"CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE "
	"plpgsql AS $$BEGIN RETURN OLD; END$$",
	"DROP TRIGGER users_touch ON app.users; CREATE TRIGGER users_touch "
	"BEFORE INSERT ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch()",
	"ALTER TYPE app.mood ADD VALUE 'happy'",
	"COMMENT ON TABLE app.users IS 'persons'",
	"COMMENT ON COLUMN app.users.email IS 'where to write'",
	"DROP POLICY own ON app.users; CREATE POLICY own ON app.users "
	"USING (id > 1)",
	"ALTER SEQUENCE app.counter INCREMENT 2",
	"ALTER TABLE app.users DISABLE ROW LEVEL SECURITY",
	"ALTER TABLE app.users RENAME COLUMN score TO points",
	"CREATE TABLE app.extra (x int)",
	"CREATE TABLE app.parted (at date NOT NULL) PARTITION BY RANGE (at);"
	"CREATE TABLE app.parted_2024 PARTITION OF app.parted FOR VALUES "
	"FROM ('2024-01-01') TO ('2025-01-01')",
};

Test(catalog, each_kind_of_change_gives_another_state)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_id base, again, changed;
	struct sch_buf tb = SCH_BUF_INIT, tc = SCH_BUF_INIT;

	rebuild(pg, base_schema);
	state(&base, &tb, pg, &app);
	rebuild(pg, base_schema);
	state(&again, NULL, pg, &app);
	cr_assert_eq(sch_id_cmp(&base, &again), 0, "rebuilding changed it");
	for (size_t i = 0; i < sizeof(changes) / sizeof(*changes); i++) {
		rebuild(pg, base_schema);
		run(pg, changes[i]);
		state(&changed, &tc, pg, &app);
		cr_assert_neq(sch_id_cmp(&base, &changed), 0,
			      "no change seen after: %s\n%s", changes[i], tc.ptr);
	}
	sch_buf_release(&tb);
	sch_buf_release(&tc);
	sch_pg_close(pg);
}

/*
 * On PostgreSQL 15 to 17 indexes and constraints are rendered by the
 * client from raw catalog columns: every index and constraint of app must
 * read exactly as the server's pg_get_indexdef() and
 * pg_get_constraintdef() print it.
 */
static void expect_server_text(struct sch_pg *pg, const char *text,
			       const char *nsp)
{
	struct sch_pg_result *r = NULL;
	const char *p[1] = { nsp };

	/* the capture's conventions: names outside pg_catalog qualified */
	run(pg, "SET search_path = ''");
	cr_assert_eq(sch_pg_exec(pg, &r, SCH_PG_TUPLES,
		"SELECT '  index ' || pg_get_indexdef(i.indexrelid) FROM "
		"pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE "
		"c.relnamespace::regnamespace::text = ANY(string_to_array($1, ','))"
		" AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE "
		"k.conindid = i.indexrelid AND k.contype IN ('p','u','x')) "
		"UNION ALL SELECT '  constraint ' || quote_ident(k.conname) || "
		"' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN "
		"pg_class c ON c.oid = k.conrelid WHERE "
		"c.relnamespace::regnamespace::text = ANY(string_to_array($1, ','))"
		" AND k.contype <> 't'", 1, p), 0, "%s", sch_error_msg());
	for (int i = 0; i < sch_pg_result_rows(r); i++) {
		struct sch_buf want = SCH_BUF_INIT;
		sch_buf_addstr(&want, sch_pg_result_value(r, i, 0));
		/* flags and comments follow on the same line */
		cr_assert(strstr(text, want.ptr), "missing: %s\nin:\n%s",
			  want.ptr, text);
		sch_buf_release(&want);
	}
	sch_pg_result_free(r);
}

/* A schema in the app schema, built two ways: their states must differ,
 * and both must read as the server reads them. */
static void differ(const char *common, const char *a, const char *b)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_id ia, ib, ia2;
	struct sch_buf ta = SCH_BUF_INIT, tb = SCH_BUF_INIT;

	rebuild(pg, common);
	run(pg, a);
	state(&ia, &ta, pg, &app);
	expect_server_text(pg, ta.ptr, "app");
	rebuild(pg, common);
	run(pg, b);
	state(&ib, &tb, pg, &app);
	expect_server_text(pg, tb.ptr, "app");
	cr_assert_neq(sch_id_cmp(&ia, &ib), 0, "same state for:\n%s\nand\n%s"
		      "\n%s", a, b, ta.ptr);
	/* and the first one again gives the first state */
	rebuild(pg, common);
	run(pg, a);
	state(&ia2, NULL, pg, &app);
	cr_assert_eq(sch_id_cmp(&ia, &ia2), 0, "not stable: %s", a);
	sch_buf_release(&ta);
	sch_buf_release(&tb);
	sch_pg_close(pg);
}

static const char idx_table[] =
	"CREATE TYPE app.color AS ENUM ('red', 'blue');"
	"CREATE TABLE app.t (a int, b text, c varchar(20), d int[],"
	" e app.color, f numeric, \"Odd Name\" int, ts tsvector)";

Test(catalog, index_column_order_is_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t (a, b)",
	       "CREATE INDEX t_i ON app.t (b, a)");
}

Test(catalog, index_operator_class_is_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t (b)",
	       "CREATE INDEX t_i ON app.t (b text_pattern_ops)");
	/* varchar's default is text_ops through binary coercion */
	differ(idx_table, "CREATE INDEX t_i ON app.t (c)",
	       "CREATE INDEX t_i ON app.t (c varchar_pattern_ops)");
	differ(idx_table, "CREATE INDEX t_i ON app.t (c text_ops)",
	       "CREATE INDEX t_i ON app.t (c bpchar_ops)");
}

Test(catalog, index_descending_and_nulls_order_are_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t (a DESC)",
	       "CREATE INDEX t_i ON app.t (a DESC NULLS LAST)");
	differ(idx_table, "CREATE INDEX t_i ON app.t (a)",
	       "CREATE INDEX t_i ON app.t (a NULLS FIRST)");
	differ(idx_table, "CREATE INDEX t_i ON app.t (a)",
	       "CREATE INDEX t_i ON app.t (a DESC)");
}

Test(catalog, index_uniqueness_is_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t (a)",
	       "CREATE UNIQUE INDEX t_i ON app.t (a)");
	differ(idx_table, "CREATE UNIQUE INDEX t_i ON app.t (a)",
	       "CREATE UNIQUE INDEX t_i ON app.t (a) NULLS NOT DISTINCT");
}

Test(catalog, partial_index_predicate_is_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t (a) WHERE a > 0",
	       "CREATE INDEX t_i ON app.t (a) WHERE a > 1");
	differ(idx_table, "CREATE INDEX t_i ON app.t (a)",
	       "CREATE INDEX t_i ON app.t (a) WHERE b IS NOT NULL");
}

Test(catalog, index_include_columns_are_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t (a) INCLUDE (b)",
	       "CREATE INDEX t_i ON app.t (a) INCLUDE (b, f)");
	differ(idx_table, "CREATE INDEX t_i ON app.t (a, b)",
	       "CREATE INDEX t_i ON app.t (a) INCLUDE (b)");
}

Test(catalog, index_collation_is_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t (b)",
	       "CREATE INDEX t_i ON app.t (b COLLATE \"C\")");
	differ(idx_table, "CREATE INDEX t_i ON app.t (b COLLATE \"POSIX\")",
	       "CREATE INDEX t_i ON app.t (b COLLATE \"C\")");
}

Test(catalog, index_method_and_options_are_part_of_the_state)
{
	differ(idx_table, "CREATE INDEX t_i ON app.t USING btree (a)",
	       "CREATE INDEX t_i ON app.t USING hash (a)");
	differ(idx_table, "CREATE INDEX t_i ON app.t USING gin (d)",
	       "CREATE INDEX t_i ON app.t USING gin (d) WITH "
	       "(fastupdate = off)");
	differ(idx_table, "CREATE INDEX t_i ON app.t (a) WITH (fillfactor=70)",
	       "CREATE INDEX t_i ON app.t (a) WITH (fillfactor=80)");
	/* polymorphic default operator classes, quoted names */
	differ(idx_table, "CREATE INDEX t_i ON app.t (e, \"Odd Name\")",
	       "CREATE INDEX t_i ON app.t (\"Odd Name\", e)");
	/* expressions and opclass options come from the server */
	differ(idx_table, "CREATE INDEX t_i ON app.t (lower(b))",
	       "CREATE INDEX t_i ON app.t (upper(b))");
	differ(idx_table, "CREATE INDEX t_i ON app.t USING gist (ts "
	       "tsvector_ops (siglen = 100))", "CREATE INDEX t_i ON app.t "
	       "USING gist (ts tsvector_ops (siglen = 200))");
}

static const char fk_tables[] =
	"CREATE TABLE app.p (id int, k int, PRIMARY KEY (id),"
	" UNIQUE (id, k));"
	"CREATE TABLE app.c (id int PRIMARY KEY, pid int, pk int, x int)";

Test(catalog, foreign_key_actions_are_part_of_the_state)
{
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid) "
	       "REFERENCES app.p (id)", "ALTER TABLE app.c ADD FOREIGN KEY "
	       "(pid) REFERENCES app.p (id) ON DELETE CASCADE");
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid) "
	       "REFERENCES app.p (id) ON UPDATE SET NULL",
	       "ALTER TABLE app.c ADD FOREIGN KEY (pid) REFERENCES app.p (id)"
	       " ON UPDATE SET DEFAULT");
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid) "
	       "REFERENCES app.p (id) ON DELETE RESTRICT",
	       "ALTER TABLE app.c ADD FOREIGN KEY (pid) REFERENCES app.p (id)"
	       " ON DELETE NO ACTION");
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid, pk) "
	       "REFERENCES app.p (id, k) ON DELETE SET NULL",
	       "ALTER TABLE app.c ADD FOREIGN KEY (pid, pk) REFERENCES "
	       "app.p (id, k) ON DELETE SET NULL (pk)");
}

Test(catalog, foreign_key_match_and_columns_are_part_of_the_state)
{
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid, pk) "
	       "REFERENCES app.p (id, k)", "ALTER TABLE app.c ADD FOREIGN "
	       "KEY (pid, pk) REFERENCES app.p (id, k) MATCH FULL");
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid) "
	       "REFERENCES app.p (id)", "ALTER TABLE app.c ADD FOREIGN KEY "
	       "(x) REFERENCES app.p (id)");
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid, pk) "
	       "REFERENCES app.p (id, k)", "ALTER TABLE app.c ADD FOREIGN "
	       "KEY (pk, pid) REFERENCES app.p (id, k)");
	/* a referenced table outside the managed schemas */
	differ("CREATE SCHEMA IF NOT EXISTS other; DROP TABLE IF EXISTS "
	       "other.r CASCADE; CREATE TABLE other.r (id int PRIMARY KEY, "
	       "\"Id 2\" int UNIQUE); CREATE TABLE app.c (x int)",
	       "ALTER TABLE app.c ADD FOREIGN KEY (x) REFERENCES other.r (id)",
	       "ALTER TABLE app.c ADD FOREIGN KEY (x) REFERENCES other.r "
	       "(\"Id 2\")");
}

Test(catalog, constraint_deferrability_and_validity_are_part_of_the_state)
{
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid) "
	       "REFERENCES app.p (id)", "ALTER TABLE app.c ADD FOREIGN KEY "
	       "(pid) REFERENCES app.p (id) DEFERRABLE");
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid) "
	       "REFERENCES app.p (id) DEFERRABLE", "ALTER TABLE app.c ADD "
	       "FOREIGN KEY (pid) REFERENCES app.p (id) DEFERRABLE INITIALLY "
	       "DEFERRED");
	differ(fk_tables, "ALTER TABLE app.c ADD FOREIGN KEY (pid) "
	       "REFERENCES app.p (id)", "ALTER TABLE app.c ADD FOREIGN KEY "
	       "(pid) REFERENCES app.p (id) NOT VALID");
	differ(fk_tables, "ALTER TABLE app.c ADD UNIQUE (x)",
	       "ALTER TABLE app.c ADD UNIQUE (x) DEFERRABLE");
	differ(fk_tables, "ALTER TABLE app.c ADD CHECK (x > 0)",
	       "ALTER TABLE app.c ADD CHECK (x > 0) NOT VALID");
}

Test(catalog, key_constraint_columns_are_part_of_the_state)
{
	differ(fk_tables, "ALTER TABLE app.c ADD UNIQUE (pid, pk)",
	       "ALTER TABLE app.c ADD UNIQUE (pk, pid)");
	differ(fk_tables, "ALTER TABLE app.c ADD UNIQUE (pid) INCLUDE (pk)",
	       "ALTER TABLE app.c ADD UNIQUE (pid) INCLUDE (x)");
	differ(fk_tables, "ALTER TABLE app.c ADD UNIQUE (pid)",
	       "ALTER TABLE app.c ADD UNIQUE NULLS NOT DISTINCT (pid)");
	differ("CREATE TABLE app.k (a int, b int)",
	       "ALTER TABLE app.k ADD PRIMARY KEY (a, b)",
	       "ALTER TABLE app.k ADD PRIMARY KEY (a) INCLUDE (b)");
	differ("CREATE EXTENSION IF NOT EXISTS btree_gist; CREATE TABLE "
	       "app.k (a int, b int)", "ALTER TABLE app.k ADD EXCLUDE USING "
	       "gist (a WITH =)", "ALTER TABLE app.k ADD EXCLUDE USING gist "
	       "(a WITH <>)");
}

Test(catalog, registry_and_system_schemas_are_left_out)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_id a, b, c;
	struct sch_catalog_opts other = { "my_registry", NULL };
	struct sch_buf t = SCH_BUF_INIT;

	run(pg, "CREATE TABLE public.t (id int)");
	state(&a, NULL, pg, NULL);
	run(pg, "CREATE SCHEMA schema_registry; CREATE TABLE "
		"schema_registry.applied (revision text PRIMARY KEY);"
		"CREATE SCHEMA my_registry; CREATE TABLE my_registry.x (y int)");
	state(&b, NULL, pg, &other);
	run(pg, "DROP SCHEMA my_registry CASCADE");
	state(&c, &t, pg, NULL);
	cr_assert_eq(sch_id_cmp(&a, &c), 0, "%s", t.ptr);
	cr_assert(!strstr(t.ptr, "registry"), "%s", t.ptr);
	/* with another registry name, schema_registry is a managed schema */
	cr_assert_neq(sch_id_cmp(&a, &b), 0);
	sch_buf_release(&t);
	sch_pg_close(pg);
}

Test(catalog, core_schemas_limits_the_managed_set)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_id a, b;
	struct sch_buf t = SCH_BUF_INIT;
	struct sch_catalog_opts two = { NULL, " app, other " };

	run(pg, "CREATE SCHEMA app; CREATE SCHEMA other; CREATE SCHEMA skip;"
		"CREATE TABLE app.a (x int); CREATE TABLE other.o (x int)");
	state(&a, &t, pg, &two);
	cr_assert(strstr(t.ptr, "table app.a\n") && strstr(t.ptr, "table other.o\n")
		  && !strstr(t.ptr, "public"), "%s", t.ptr);
	run(pg, "CREATE TABLE skip.s (x int); CREATE TABLE public.p (x int)");
	state(&b, NULL, pg, &two);
	cr_assert_eq(sch_id_cmp(&a, &b), 0);
	sch_buf_release(&t);
	sch_pg_close(pg);
}

Test(catalog, capture_inside_a_transaction_keeps_its_settings)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_id a;
	struct sch_buf v = SCH_BUF_INIT;

	run(pg, "CREATE SCHEMA app; CREATE TABLE app.t (x int)");
	cr_assert_eq(sch_pg_begin(pg), 0);
	run(pg, "SET LOCAL search_path = app, public");
	state(&a, NULL, pg, &app);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_OPEN);
	cr_assert_eq(sch_pg_query_value(&v, pg, "SHOW search_path", 0, NULL), 0);
	cr_assert_str_eq(v.ptr, "app, public");
	cr_assert_eq(sch_pg_commit(pg), 0);
	sch_buf_release(&v);
	sch_pg_close(pg);
}

/* Runs psql or pg_dump on db with argv's tail; aborts on failure. */
static void tool(const char *prog, const char *conninfo, const char *a1,
		 const char *a2, struct sch_buf *out)
{
	char *argv[] = { (char *)prog, "-X", "-q", "-v", "ON_ERROR_STOP=1",
			 "-d", (char *)conninfo, (char *)a1, (char *)a2, NULL };
	char *dump[] = { (char *)prog, "--schema-only", "-d",
			 (char *)conninfo, (char *)a1, (char *)a2, NULL };

	cr_assert_eq(pgtest_run(out, strcmp(prog, "psql") ? dump : argv), 0,
		     "%s failed", prog);
}

static void round_trip(const char *fixture)
{
	char path[512], dumpfile[256], sql[128], db2[48];
	struct sch_buf conn2 = SCH_BUF_INIT, ta = SCH_BUF_INIT,
		       tb = SCH_BUF_INIT, ver = SCH_BUF_INIT;
	struct sch_pg *pg, *pg2 = NULL;
	struct sch_id a, b;
	const char *p = NULL;
	int major;

	snprintf(path, sizeof(path), FIXTURES "/%s", fixture);
	if (access(path, R_OK) != 0)
		cr_skip_test("fixture %s missing", path);
	tool("psql", pgtest_conninfo, "-f", path, NULL);
	pg = pgtest_open();
	state(&a, &ta, pg, NULL);
	expect_server_text(pg, ta.ptr, "public");
	major = sch_pg_server_major(pg);
	sch_pg_close(pg);
	/* pg_dump refuses a newer server (make test-pg PG=18 runs against
	 * Debian's pg_dump 15): the rendering above is checked, the round
	 * trip needs a pg_dump of the server's major */
	if (pgtest_run(&ver, (char *[]){ "pg_dump", "--version", NULL }) ||
	    !(p = strpbrk(ver.ptr, "0123456789")) || atoi(p) < major) {
		int dump_major = p ? atoi(p) : -1;
		sch_buf_release(&ver);
		sch_buf_release(&ta);
		cr_skip_test("pg_dump %d is older than the server (%d)",
			     dump_major, major);
	}
	sch_buf_release(&ver);
	snprintf(dumpfile, sizeof(dumpfile), "/tmp/schema-catalog-%d.sql",
		 (int)getpid());
	tool("pg_dump", pgtest_conninfo, "-f", dumpfile, NULL);
	snprintf(db2, sizeof(db2), "%s_copy", pgtest_dbname);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db2);
	pgtest_admin(sql);
	cr_assert_eq(sch_pg_conninfo_set(&conn2, pgtest_url(), "dbname", db2), 0);
	tool("psql", conn2.ptr, "-f", dumpfile, NULL);
	unlink(dumpfile);
	cr_assert_eq(sch_pg_open(&pg2, conn2.ptr), 0, "%s", sch_error_msg());
	state(&b, &tb, pg2, NULL);
	sch_pg_close(pg2);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", db2);
	pgtest_admin(sql);
	cr_assert(ta.len > 10000, "a large schema: %zu bytes", ta.len);
	cr_assert_str_eq(ta.ptr, tb.ptr);
	cr_assert_eq(sch_id_cmp(&a, &b), 0);
	sch_buf_release(&conn2);
	sch_buf_release(&ta);
	sch_buf_release(&tb);
}

Test(catalog, pagila_survives_a_pg_dump_round_trip, .timeout = 120)
{
	round_trip("pagila/pagila-schema.sql");
}

Test(catalog, osm_survives_a_pg_dump_round_trip, .timeout = 120)
{
	round_trip("osm/structure.sql");
}

Test(catalog, entry_names_drop_the_kind)
{
	cr_assert_str_eq(sch_catalog_entry_name("table public.users"),
			 "public.users");
	cr_assert_str_eq(sch_catalog_entry_name("materialized view a.b"), "a.b");
	cr_assert_str_eq(sch_catalog_entry_name("function a.f(integer,text)"),
			 "a.f(integer,text)");
}

Test(catalog, collations_defined_in_a_managed_schema_are_part_of_the_state)
{
	differ("", "CREATE COLLATION app.c1 (provider = libc, locale = 'C')",
	       "CREATE COLLATION app.c1 (provider = libc, locale = 'POSIX')");
	differ("", "CREATE COLLATION app.c1 (provider = icu, locale = 'und',"
	       " deterministic = false)",
	       "CREATE COLLATION app.c1 (provider = icu, locale = 'und')");
	differ("", "CREATE COLLATION app.c1 (provider = libc, locale = 'C')",
	       "CREATE COLLATION app.c2 (provider = libc, locale = 'C')");
}

/* PostgreSQL 18: virtual generated columns (their expression needs the
 * table's context) and named NOT NULL constraints, catalogued in
 * pg_constraint. */
Test(catalog, virtual_generated_columns_and_not_null_constraints)
{
	struct sch_pg *pg = pgtest_open();
	int major = sch_pg_server_major(pg);

	sch_pg_close(pg);
	if (major < 18)
		cr_skip_test("PostgreSQL %d has neither", major);
	differ("CREATE TABLE app.g (a int)",
	       "ALTER TABLE app.g ADD b int GENERATED ALWAYS AS (a * 2) VIRTUAL",
	       "ALTER TABLE app.g ADD b int GENERATED ALWAYS AS (a * 2) STORED");
	differ("CREATE TABLE app.n (a int)",
	       "ALTER TABLE app.n ADD CONSTRAINT a_required NOT NULL a",
	       "ALTER TABLE app.n ADD CONSTRAINT a_needed NOT NULL a");
	differ("CREATE TABLE app.n (a int)",
	       "ALTER TABLE app.n ADD CONSTRAINT a_required NOT NULL a",
	       "ALTER TABLE app.n ADD CONSTRAINT a_required NOT NULL a NO INHERIT");
}
