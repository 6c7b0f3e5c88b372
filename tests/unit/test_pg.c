/* test_pg.c - src/pg.c against a real PostgreSQL (see pgtest.h). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/pg.h"
#include "schema/sqlparse.h"
#include "unit/pgtest.h"

#define SECRET "Secr3t-Passw0rd"

TestSuite(pg);

/* A test that needs its own database. */
#define DB .init = pgtest_setup, .fini = pgtest_teardown

static void value_is(struct sch_pg *pg, const char *sql, const char *want)
{
	struct sch_buf v = SCH_BUF_INIT;

	cr_assert_eq(sch_pg_query_value(&v, pg, sql, 0, NULL), 0, "%s: %s",
		     sql, sch_error_msg());
	cr_assert_str_eq(v.ptr, want, "%s", sql);
	sch_buf_release(&v);
}

static void run(struct sch_pg *pg, const char *sql)
{
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK, sql, 0, NULL), 0,
		     "%s: %s", sql, sch_error_msg());
}

/* ---- connecting ---- */

Test(pg, connects_and_reports_version_pid_and_defaults, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_buf v = SCH_BUF_INIT;
	char pid[16];

	cr_assert_geq(sch_pg_server_version(pg), 100000);
	cr_assert_eq(sch_pg_server_major(pg),
		     sch_pg_server_version(pg) / 10000);
	snprintf(pid, sizeof(pid), "%d", sch_pg_backend_pid(pg));
	value_is(pg, "select pg_backend_pid()::text", pid);
	value_is(pg, "select current_setting('application_name')", "schema");
	value_is(pg, "select current_setting('client_encoding')", "UTF8");
	cr_assert_str_eq(sch_pg_dbname(pg), pgtest_dbname);
	cr_assert_eq(sch_pg_query_value(&v, pg, "select current_user", 0,
					 NULL), 0);
	cr_assert_str_eq(sch_pg_user(pg), v.ptr);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_IDLE);
	sch_buf_release(&v);
	sch_pg_close(pg);
}

Test(pg, options_in_the_connection_string_pass_through, DB)
{
	struct sch_buf ci = SCH_BUF_INIT, ci2 = SCH_BUF_INIT;
	struct sch_pg *pg = NULL;

	cr_assert_eq(sch_pg_conninfo_set(&ci, pgtest_conninfo,
					 "application_name", "deployer"), 0);
	cr_assert_eq(sch_pg_conninfo_set(&ci2, ci.ptr, "options",
					 "-c search_path=foo,public"), 0);
	cr_assert_eq(sch_pg_open(&pg, ci2.ptr), 0, "%s", sch_error_msg());
	value_is(pg, "select current_setting('application_name')", "deployer");
	value_is(pg, "select current_setting('search_path')", "foo,public");
	sch_pg_close(pg);
	sch_buf_release(&ci);
	sch_buf_release(&ci2);
}

Test(pg, url_form_connects, DB)
{
	/* the harness URL is postgresql://...; point it at our database */
	struct sch_buf url = SCH_BUF_INIT;
	struct sch_pg *pg = NULL;
	const char *base = pgtest_url();

	if (strncmp(base, "postgres", 8) != 0)
		cr_skip_test("harness URL is not in URL form");
	/* a database name in the path wins over nothing else given */
	if (strstr(base, "/postgres?"))
		sch_buf_add(&url, base, (size_t)(strstr(base, "/postgres?") - base));
	else
		cr_skip_test("unexpected harness URL shape");
	sch_buf_addf(&url, "/%s%s", pgtest_dbname, strchr(base, '?'));
	cr_assert_eq(sch_pg_open(&pg, url.ptr), 0, "%s", sch_error_msg());
	cr_assert_str_eq(sch_pg_dbname(pg), pgtest_dbname);
	sch_pg_close(pg);
	sch_buf_release(&url);
}

Test(pg, unreachable_server_names_the_socket_and_not_the_password)
{
	struct sch_pg *pg = NULL;
	int rc = sch_pg_open(&pg, "host=/nonexistent/dir user=u password="
			     SECRET " connect_timeout=5");

	cr_assert_eq(rc, SCH_EDB);
	cr_assert_null(pg);
	cr_assert(strstr(sch_error_msg(), "/nonexistent/dir"), "%s",
		  sch_error_msg());
	cr_assert_null(strstr(sch_error_msg(), SECRET));
	cr_assert_null(strstr(sch_error_hint_msg(), SECRET));
}

Test(pg, unknown_database_is_a_database_error)
{
	struct sch_buf ci = SCH_BUF_INIT;
	struct sch_pg *pg = NULL;

	cr_assert_eq(sch_pg_conninfo_set(&ci, pgtest_url(), "dbname",
					 "no_such_db_here"), 0);
	cr_assert_eq(sch_pg_open(&pg, ci.ptr), SCH_EDB);
	cr_assert(strstr(sch_error_msg(), "no_such_db_here"), "%s",
		  sch_error_msg());
	sch_buf_release(&ci);
}

Test(pg, malformed_conninfo_with_password_withholds_libpq_reason)
{
	struct sch_pg *pg = NULL;

	/* libpq would answer: missing "=" after "Passw0rd" */
	cr_assert_eq(sch_pg_open(&pg, "host=/tmp password=Secr3t- Passw0rd"),
		     SCH_EINVAL);
	cr_assert_null(strstr(sch_error_msg(), "Passw0rd"), "%s",
		       sch_error_msg());
	cr_assert_null(strstr(sch_error_msg(), "Secr3t"), "%s",
		       sch_error_msg());
	cr_assert(strstr(sch_error_msg(), "invalid connection string"));
}

Test(pg, malformed_conninfo_without_password_explains)
{
	struct sch_pg *pg = NULL;

	cr_assert_eq(sch_pg_open(&pg, "host=/tmp bogus_option=1"), SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "bogus_option"), "%s",
		  sch_error_msg());
}

/* ---- statements and errors ---- */

Test(pg, exec_binds_text_parameters_and_nulls, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_pg_result *r = NULL;
	const char *params[] = { "2", "40", NULL, "it's" };

	cr_assert_eq(sch_pg_exec(pg, &r, SCH_PG_TUPLES,
				 "select $1::int + $2::int as sum, "
				 "$3::text is null as isnull, $3::text as n, "
				 "$4::text as q",
				 4, params), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_result_rows(r), 1);
	cr_assert_eq(sch_pg_result_cols(r), 4);
	cr_assert_str_eq(sch_pg_result_value(r, 0, sch_pg_result_col(r, "sum")),
			 "42");
	cr_assert_str_eq(sch_pg_result_value(r, 0, sch_pg_result_col(r,
								      "isnull")),
			 "t");
	cr_assert(sch_pg_result_isnull(r, 0, sch_pg_result_col(r, "n")));
	cr_assert_str_eq(sch_pg_result_value(r, 0, 3), "it's");
	cr_assert_eq(sch_pg_result_len(r, 0, 3), 4);
	cr_assert_eq(sch_pg_result_col(r, "missing"), -1);
	sch_pg_result_free(r);
	sch_pg_close(pg);
}

Test(pg, exec_reports_affected_rows_and_tag, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_pg_result *r = NULL;

	run(pg, "create table t (a int)");
	cr_assert_eq(sch_pg_exec(pg, &r, SCH_PG_COMMAND,
				 "insert into t select generate_series(1, 3)",
				 0, NULL), 0);
	cr_assert_eq(sch_pg_result_affected(r), 3);
	cr_assert_str_eq(sch_pg_result_tag(r), "INSERT 0 3");
	sch_pg_result_free(r);
	sch_pg_close(pg);
}

Test(pg, exec_refuses_an_unexpected_status, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_pg_result *r = (void *)1;

	cr_assert_eq(sch_pg_exec(pg, &r, SCH_PG_COMMAND, "select 1", 0, NULL),
		     SCH_EDB);
	cr_assert_null(r);
	cr_assert(strstr(sch_error_msg(), "unexpected result"), "%s",
		  sch_error_msg());
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_TUPLES, "create table x ()",
				 0, NULL), SCH_EDB);
	sch_pg_close(pg);
}

Test(pg, error_carries_sqlstate_message_and_position, DB)
{
	struct sch_pg *pg = pgtest_open();
	const struct sch_pg_err *e;

	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_TUPLES,
				 "select * from nope", 0, NULL), SCH_EDB);
	e = sch_pg_last_error(pg);
	cr_assert_str_eq(e->sqlstate, "42P01");
	cr_assert_str_eq(e->message, "relation \"nope\" does not exist");
	cr_assert_eq(e->position, 15);
	cr_assert_eq(e->index, -1);
	cr_assert_str_eq(sch_error_msg(),
			 "relation \"nope\" does not exist (SQLSTATE 42P01)");
	cr_assert_eq(sch_error_code(), SCH_EDB);
	sch_pg_close(pg);
}

Test(pg, error_position_maps_to_the_line_of_the_file, DB)
{
	/* a file whose second statement fails on its third line */
	const char *file = "-- header\nselect 1;\n\nselect\n  1,\n  ünïcödé_col +\n  2;\n";
	struct sch_sql_script s;
	struct sch_pg *pg = pgtest_open();
	char *stmt;
	int pos;

	cr_assert_eq(sch_sql_split(&s, "up.sql", file, strlen(file)), 0);
	cr_assert_eq(s.n, 2);
	stmt = strndup(file + s.stmts[1].off, s.stmts[1].len);
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK, stmt, 0, NULL), SCH_EDB);
	cr_assert_str_eq(sch_pg_last_error(pg)->sqlstate, "42703");
	pos = sch_pg_last_error(pg)->position;
	cr_assert_gt(pos, 0);
	cr_assert_eq(sch_sql_pos_to_line(file, strlen(file), s.stmts[1].off,
					 pos), 6);
	cr_assert_eq(strncmp(file + sch_sql_pos_to_offset(file, strlen(file),
							  s.stmts[1].off, pos),
			     "ünïcödé_col", strlen("ünïcödé_col")), 0);
	free(stmt);
	sch_sql_script_release(&s);
	sch_pg_close(pg);
}

Test(pg, error_carries_detail_and_hint, DB)
{
	struct sch_pg *pg = pgtest_open();
	const struct sch_pg_err *e;

	run(pg, "create table t (id int primary key)");
	run(pg, "insert into t values (1)");
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_COMMAND,
				 "insert into t values (1)", 0, NULL), SCH_EDB);
	e = sch_pg_last_error(pg);
	cr_assert_str_eq(e->sqlstate, "23505");
	cr_assert_str_eq(e->detail, "Key (id)=(1) already exists.");
	cr_assert(strstr(sch_error_msg(), "detail: Key (id)=(1)"), "%s",
		  sch_error_msg());

	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_TUPLES,
				 "select no_such_fn(1)", 0, NULL), SCH_EDB);
	e = sch_pg_last_error(pg);
	cr_assert_str_eq(e->sqlstate, "42883");
	cr_assert(strlen(e->hint) > 0);
	cr_assert_str_eq(sch_error_hint_msg(), e->hint);
	sch_pg_close(pg);
}

Test(pg, plpgsql_error_has_context, DB)
{
	struct sch_pg *pg = pgtest_open();

	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK,
				 "do $$ begin perform 1/0; end $$", 0, NULL),
		     SCH_EDB);
	cr_assert_str_eq(sch_pg_last_error(pg)->sqlstate, "22012");
	cr_assert(strstr(sch_pg_last_error(pg)->context, "PL/pgSQL"), "%s",
		  sch_pg_last_error(pg)->context);
	sch_pg_close(pg);
}

Test(pg, query_value_distinguishes_no_row_null_and_many, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_buf v = SCH_BUF_INIT;

	cr_assert_eq(sch_pg_query_value(&v, pg, "select 1 where false", 0,
					NULL), SCH_ENOTFOUND);
	cr_assert_eq(sch_pg_query_value(&v, pg, "select null", 0, NULL),
		     SCH_ENOTFOUND);
	cr_assert_eq(v.len, 0);
	cr_assert_eq(sch_pg_query_value(&v, pg, "select generate_series(1,2)",
					0, NULL), SCH_EDB);
	cr_assert_eq(sch_pg_query_value(&v, pg, "select 1, 2", 0, NULL),
		     SCH_EDB);
	sch_buf_release(&v);
	sch_pg_close(pg);
}

Test(pg, exec_script_runs_several_statements, DB)
{
	struct sch_pg *pg = pgtest_open();

	cr_assert_eq(sch_pg_exec_script(pg, "create table a (x int); "
					"insert into a values (1); "
					"insert into a values (2);"), 0);
	value_is(pg, "select sum(x)::text from a", "3");
	/* one implicit transaction: a failure undoes the whole script */
	cr_assert_eq(sch_pg_exec_script(pg, "insert into a values (3); "
					"select 1/0;"), SCH_EDB);
	value_is(pg, "select count(*)::text from a", "2");
	sch_pg_close(pg);
}

Test(pg, lost_connection_is_a_database_error, DB)
{
	struct sch_pg *pg = pgtest_open(), *other = pgtest_open();
	char pid[16];
	const char *params[] = { pid };
	int rc;

	snprintf(pid, sizeof(pid), "%d", sch_pg_backend_pid(pg));
	cr_assert_eq(sch_pg_exec(other, NULL, SCH_PG_TUPLES,
				 "select pg_terminate_backend($1::int)", 1,
				 params), 0);
	rc = sch_pg_exec(pg, NULL, SCH_PG_TUPLES, "select 1", 0, NULL);
	cr_assert_eq(rc, SCH_EDB);
	cr_assert(strncmp(sch_error_msg(), "lost connection to the server: ",
			  31) == 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_UNKNOWN);
	cr_assert_eq(sch_pg_rollback(pg), 0);	/* nothing to roll back */
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_TUPLES, "select 1", 0, NULL),
		     SCH_EDB);
	cr_assert_eq(sch_pg_batch(pg, &(struct sch_pg_stmt){ "select 1", 0,
				  NULL, SCH_PG_TUPLES }, 1), SCH_EDB);
	sch_pg_close(pg);
	sch_pg_close(other);
}

/* ---- notices ---- */

struct notices {
	struct sch_buf text;
	int n;
};

static void collect(void *arg, const char *severity, const char *message)
{
	struct notices *ns = arg;

	sch_buf_addf(&ns->text, "%s: %s\n", severity, message);
	ns->n++;
}

Test(pg, notices_reach_the_handler_with_the_password_masked, DB)
{
	struct sch_buf ci = SCH_BUF_INIT;
	struct notices ns = { SCH_BUF_INIT, 0 };
	struct sch_pg *pg = NULL;

	/* the test cluster trusts local users; the password is just sent */
	cr_assert_eq(sch_pg_conninfo_set(&ci, pgtest_conninfo, "password",
					 SECRET), 0);
	cr_assert_eq(sch_pg_open(&pg, ci.ptr), 0, "%s", sch_error_msg());
	run(pg, "do $$ begin raise notice 'quiet'; end $$");
	cr_assert_eq(ns.n, 0);
	sch_pg_set_notice(pg, collect, &ns);
	run(pg, "do $$ begin raise notice 'pw is %', '" SECRET "'; "
		"raise warning 'careful'; end $$");
	cr_assert_eq(ns.n, 2);
	cr_assert_str_eq(ns.text.ptr, "NOTICE: pw is ***\nWARNING: careful\n");
	/* and the same for errors */
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK,
				 "do $$ begin raise exception 'leak %', '"
				 SECRET "'; end $$", 0, NULL), SCH_EDB);
	cr_assert_null(strstr(sch_error_msg(), SECRET));
	cr_assert(strstr(sch_error_msg(), "leak ***"), "%s", sch_error_msg());
	sch_pg_set_notice(pg, NULL, NULL);
	run(pg, "do $$ begin raise notice 'quiet again'; end $$");
	cr_assert_eq(ns.n, 2);
	sch_buf_release(&ns.text);
	sch_buf_release(&ci);
	sch_pg_close(pg);
}

/* ---- transactions ---- */

Test(pg, rollback_undoes_and_commit_keeps, DB)
{
	struct sch_pg *pg = pgtest_open();

	run(pg, "create table t (a int)");
	cr_assert_eq(sch_pg_begin(pg), 0);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_OPEN);
	run(pg, "insert into t values (1)");
	cr_assert_eq(sch_pg_rollback(pg), 0);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_IDLE);
	value_is(pg, "select count(*)::text from t", "0");
	cr_assert_eq(sch_pg_begin(pg), 0);
	run(pg, "insert into t values (1)");
	cr_assert_eq(sch_pg_commit(pg), 0);
	value_is(pg, "select count(*)::text from t", "1");
	sch_pg_close(pg);
}

Test(pg, commit_of_a_failed_block_is_an_error, DB)
{
	struct sch_pg *pg = pgtest_open();

	cr_assert_eq(sch_pg_begin(pg), 0);
	cr_assert_eq(sch_pg_begin(pg), SCH_EDB);	/* nested */
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK, "select 1/0", 0, NULL),
		     SCH_EDB);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_FAILED);
	cr_assert_eq(sch_pg_commit(pg), SCH_EDB);
	cr_assert(strstr(sch_error_msg(), "rolled back"), "%s",
		  sch_error_msg());
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_IDLE);
	cr_assert_eq(sch_pg_commit(pg), SCH_EDB);	/* nothing open */
	sch_pg_close(pg);
}

Test(pg, rollback_keeps_the_error_being_reported, DB)
{
	struct sch_pg *pg = pgtest_open();

	cr_assert_eq(sch_pg_begin(pg), 0);
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK, "select * from nope", 0,
				 NULL), SCH_EDB);
	cr_assert_eq(sch_pg_rollback(pg), 0);
	cr_assert_str_eq(sch_pg_last_error(pg)->sqlstate, "42P01");
	cr_assert(strstr(sch_error_msg(), "nope"));
	cr_assert_eq(sch_pg_rollback(pg), 0);	/* idle: nothing to do */
	sch_pg_close(pg);
}

/* ---- batches ---- */

Test(pg, batch_runs_all_statements_and_commits, DB)
{
	struct sch_pg *pg = pgtest_open();
	const char *p1[] = { "one" }, *p2[] = { NULL };
	struct sch_pg_stmt stmts[] = {
		{ "create table t (a text)", 0, NULL, SCH_PG_COMMAND },
		{ "insert into t values ($1)", 1, p1, SCH_PG_COMMAND },
		{ "insert into t values ($1)", 1, p2, SCH_PG_COMMAND },
		{ "select count(*) from t", 0, NULL, SCH_PG_TUPLES },
	};

	cr_assert_eq(sch_pg_batch(pg, stmts, 4), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_IDLE);
	value_is(pg, "select count(*)::text || count(a)::text from t", "21");
	sch_pg_close(pg);
}

Test(pg, batch_stops_at_the_first_error_and_rolls_back, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_pg *other = pgtest_open();
	struct sch_buf v = SCH_BUF_INIT;
	struct sch_pg_stmt stmts[] = {
		{ "create table t (a int)", 0, NULL, SCH_PG_COMMAND },
		{ "insert into t values (1)", 0, NULL, SCH_PG_COMMAND },
		{ "insert into t values ('x')", 0, NULL, SCH_PG_COMMAND },
		{ "create table marker (a int)", 0, NULL, SCH_PG_COMMAND },
	};

	cr_assert_eq(sch_pg_batch(pg, stmts, 4), SCH_EDB);
	cr_assert_eq(sch_pg_last_error(pg)->index, 2);
	cr_assert_str_eq(sch_pg_last_error(pg)->sqlstate, "22P02");
	cr_assert_eq(sch_pg_last_error(pg)->position, 23);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_IDLE);
	/* nothing of the batch is visible, from here or from elsewhere */
	cr_assert_eq(sch_pg_query_value(&v, other,
					"select to_regclass('t')::text", 0,
					NULL), SCH_ENOTFOUND);
	cr_assert_eq(sch_pg_query_value(&v, pg,
					"select to_regclass('marker')::text",
					0, NULL), SCH_ENOTFOUND);
	/* the connection is usable again, out of pipeline mode */
	value_is(pg, "select 'ok'", "ok");
	sch_buf_release(&v);
	sch_pg_close(pg);
	sch_pg_close(other);
}

Test(pg, batch_is_one_round_trip, DB)
{
	/* the server sees one transaction for the whole batch */
	struct sch_pg *pg = pgtest_open();
	struct sch_pg_stmt stmts[] = {
		{ "create table t (x xid8)", 0, NULL, SCH_PG_COMMAND },
		{ "insert into t values (pg_current_xact_id())", 0, NULL,
		  SCH_PG_COMMAND },
		{ "insert into t values (pg_current_xact_id())", 0, NULL,
		  SCH_PG_COMMAND },
	};

	cr_assert_eq(sch_pg_batch(pg, stmts, 3), 0, "%s", sch_error_msg());
	value_is(pg, "select count(distinct x)::text from t", "1");
	sch_pg_close(pg);
}

Test(pg, batch_inside_a_block_leaves_it_failed, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_pg_stmt stmts[] = {
		{ "create table t (a int)", 0, NULL, SCH_PG_COMMAND },
		{ "select 1/0", 0, NULL, SCH_PG_TUPLES },
	};

	cr_assert_eq(sch_pg_begin(pg), 0);
	cr_assert_eq(sch_pg_batch(pg, stmts, 2), SCH_EDB);
	cr_assert_eq(sch_pg_last_error(pg)->index, 1);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_FAILED);
	cr_assert_eq(sch_pg_rollback(pg), 0);
	value_is(pg, "select coalesce(to_regclass('t')::text, 'none')", "none");
	/* a successful batch joins the block and commits with it */
	stmts[1].sql = "insert into t values (1)";
	stmts[1].expect = SCH_PG_COMMAND;
	cr_assert_eq(sch_pg_begin(pg), 0);
	cr_assert_eq(sch_pg_batch(pg, stmts, 2), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_OPEN);
	cr_assert_eq(sch_pg_commit(pg), 0);
	value_is(pg, "select count(*)::text from t", "1");
	sch_pg_close(pg);
}

Test(pg, batch_reports_a_failure_at_commit_after_the_last_statement, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_pg_stmt stmts[] = {
		{ "create table p (id int primary key)", 0, NULL,
		  SCH_PG_COMMAND },
		{ "create table c (p int references p deferrable initially "
		  "deferred)", 0, NULL, SCH_PG_COMMAND },
		{ "insert into c values (1)", 0, NULL, SCH_PG_COMMAND },
	};

	cr_assert_eq(sch_pg_batch(pg, stmts, 3), SCH_EDB);
	cr_assert_str_eq(sch_pg_last_error(pg)->sqlstate, "23503");
	cr_assert_eq(sch_pg_last_error(pg)->index, 3);
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_IDLE);
	value_is(pg, "select coalesce(to_regclass('c')::text, 'none')", "none");
	sch_pg_close(pg);
}

Test(pg, batch_with_a_notx_statement_works_only_alone, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_pg_stmt stmts[] = {
		{ "create table t (a int)", 0, NULL, SCH_PG_COMMAND },
		{ "create index concurrently i on t (a)", 0, NULL,
		  SCH_PG_COMMAND },
	};

	cr_assert_eq(sch_pg_batch(pg, stmts, 2), SCH_EDB);
	cr_assert_str_eq(sch_pg_last_error(pg)->sqlstate, "25001");
	cr_assert_eq(sch_pg_last_error(pg)->index, 1);
	cr_assert_eq(sch_pg_batch(pg, stmts, 1), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_batch(pg, stmts + 1, 1), 0, "%s", sch_error_msg());
	value_is(pg, "select to_regclass('i')::text", "i");
	cr_assert_eq(sch_pg_batch(pg, stmts, 0), SCH_EINVAL);
	sch_pg_close(pg);
}

/* ---- COPY ---- */

static int gather(void *arg, const void *data, size_t len)
{
	return sch_buf_add(arg, data, len);
}

static int stop_after_first(void *arg, const void *data, size_t len)
{
	(*(int *)arg)++;
	return 7;
}

Test(pg, copy_in_then_out_round_trips, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_buf out = SCH_BUF_INIT;
	const char *rows = "1\tone\n2\t\\N\n3\ttab\\there\n";

	run(pg, "create table t (id int, s text)");
	cr_assert_eq(sch_pg_copy_in_begin(pg, "copy t from stdin"), 0);
	cr_assert_eq(sch_pg_copy_in_put(pg, rows, 5), 0);
	cr_assert_eq(sch_pg_copy_in_put(pg, rows + 5, strlen(rows) - 5), 0);
	cr_assert_eq(sch_pg_copy_in_end(pg, NULL), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_copy_out(pg, "copy (select * from t order by id) "
				     "to stdout", gather, &out), 0);
	cr_assert_str_eq(out.ptr, rows);
	sch_buf_release(&out);
	sch_pg_close(pg);
}

Test(pg, copy_in_bad_data_and_abort_are_errors, DB)
{
	struct sch_pg *pg = pgtest_open();

	run(pg, "create table t (id int)");
	cr_assert_eq(sch_pg_copy_in_begin(pg, "copy t from stdin"), 0);
	cr_assert_eq(sch_pg_copy_in_put(pg, "x\n", 2), 0);
	cr_assert_eq(sch_pg_copy_in_end(pg, NULL), SCH_EDB);
	cr_assert_str_eq(sch_pg_last_error(pg)->sqlstate, "22P02");
	cr_assert_eq(sch_pg_copy_in_begin(pg, "copy t from stdin"), 0);
	cr_assert_eq(sch_pg_copy_in_put(pg, "1\n", 2), 0);
	cr_assert_eq(sch_pg_copy_in_end(pg, "changed my mind"), SCH_EDB);
	cr_assert(strstr(sch_error_msg(), "changed my mind"), "%s",
		  sch_error_msg());
	value_is(pg, "select count(*)::text from t", "0");
	cr_assert_eq(sch_pg_copy_in_begin(pg, "select 1"), SCH_EDB);
	cr_assert_eq(sch_pg_copy_in_put(pg, "1\n", 2), SCH_EDB);
	sch_pg_close(pg);
}

Test(pg, copy_out_stops_when_the_callback_says_so, DB)
{
	struct sch_pg *pg = pgtest_open();
	int calls = 0;

	cr_assert_eq(sch_pg_copy_out(pg, "copy (select generate_series(1, "
				     "2000000)) to stdout", stop_after_first,
				     &calls), 7);
	cr_assert_eq(calls, 1);
	value_is(pg, "select 'usable'", "usable");
	cr_assert_eq(sch_pg_copy_out(pg, "copy nope to stdout", gather, NULL),
		     SCH_EDB);
	sch_pg_close(pg);
}

Test(pg, exec_refuses_copy_and_stays_usable, DB)
{
	struct sch_pg *pg = pgtest_open();

	run(pg, "create table t (id int)");
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK, "copy t from stdin", 0,
				 NULL), SCH_EDB);
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK, "copy t to stdout", 0,
				 NULL), SCH_EDB);
	value_is(pg, "select count(*)::text from t", "0");
	sch_pg_close(pg);
}

/* ---- quoting ---- */

Test(pg, quoted_identifiers_and_literals_survive_the_server, DB)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_buf sql = SCH_BUF_INIT, v = SCH_BUF_INIT;
	const char *name = "Weird \"name\"; drop table x; --";
	const char *lit = "it's a \\back\\slash and 'quotes' ünï";

	cr_assert_eq(sch_pg_quote_ident(&v, "a\"b"), 0);
	cr_assert_str_eq(v.ptr, "\"a\"\"b\"");
	sch_buf_reset(&v);
	cr_assert_eq(sch_pg_quote_literal(&v, "it's"), 0);
	cr_assert_str_eq(v.ptr, "'it''s'");
	sch_buf_reset(&v);
	cr_assert_eq(sch_pg_quote_literal(&v, "a\\b"), 0);
	cr_assert_str_eq(v.ptr, "E'a\\\\b'");

	sch_buf_addstr(&sql, "create table ");
	sch_pg_quote_ident(&sql, name);
	sch_buf_addstr(&sql, " (a int)");
	run(pg, sql.ptr);
	sch_buf_reset(&sql);
	sch_buf_addstr(&sql, "select relname from pg_class where relname = ");
	sch_pg_quote_literal(&sql, name);
	value_is(pg, sql.ptr, name);
	sch_buf_reset(&sql);
	sch_buf_addstr(&sql, "select ");
	sch_pg_quote_literal(&sql, lit);
	value_is(pg, sql.ptr, lit);
	run(pg, "set standard_conforming_strings = off");
	value_is(pg, sql.ptr, lit);
	sch_buf_release(&sql);
	sch_buf_release(&v);
	sch_pg_close(pg);
}

/* ---- redaction ---- */

static void redacts(const char *in, const char *want)
{
	struct sch_buf out = SCH_BUF_INIT;

	cr_assert_eq(sch_pg_redact(&out, in), 0);
	cr_assert_str_eq(out.ptr, want, "redact(%s)", in);
	sch_buf_release(&out);
}

Test(pg, redacts_url_passwords)
{
	redacts("postgresql://u:pw@h/db", "postgresql://u:***@h/db");
	redacts("postgres://u:pw@h:5432/db?sslmode=require",
		"postgres://u:***@h:5432/db?sslmode=require");
	redacts("postgresql://u@h/db", "postgresql://u@h/db");
	redacts("postgresql://h/db", "postgresql://h/db");
	redacts("postgresql://", "postgresql://");
	redacts("postgresql://[::1]:5432/db", "postgresql://[::1]:5432/db");
	/* percent-encoded '@' and ':' inside the password */
	redacts("postgresql://u:p%40ss%3Aw@h/db", "postgresql://u:***@h/db");
	/* raw '@', '/', '?' in the password: still all of it */
	redacts("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db");
	redacts("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db");
	redacts("postgresql://u:pa?ss@h/db", "postgresql://u:***@h/db");
	/* empty password */
	redacts("postgresql://u:@h/db", "postgresql://u:***@h/db");
	/* password as a query parameter, also percent-encoded */
	redacts("postgresql://h/db?user=u&password=pw&sslmode=disable",
		"postgresql://h/db?user=u&password=***&sslmode=disable");
	redacts("postgresql:///db?host=/tmp&pass%77ord=pw",
		"postgresql:///db?host=/tmp&pass%77ord=***");
	redacts("postgresql://h/db?PASSWORD=pw", "postgresql://h/db?PASSWORD=***");
	redacts("postgresql://h/db?sslpassword=pw&a=b",
		"postgresql://h/db?sslpassword=***&a=b");
	/* a raw '&' in a query password: its tail is masked too */
	redacts("postgresql://h/db?password=p&w&sslmode=require",
		"postgresql://h/db?password=***&***&sslmode=require");
	/* both */
	redacts("postgresql://u:a@h/db?password=b",
		"postgresql://u:***@h/db?password=***");
	/* the URL scheme is recognised whatever its case */
	redacts("PostgreSQL://u:pw@h/db", "PostgreSQL://u:***@h/db");
}

Test(pg, redacts_key_value_passwords)
{
	redacts("host=h password=pw dbname=d", "host=h password=*** dbname=d");
	redacts("password=pw", "password=***");
	redacts("host=h password = pw", "host=h password = ***");
	redacts("password='p w' user=u", "password=*** user=u");
	redacts("password='it\\'s' user=u", "password=*** user=u");
	redacts("password=a\\ b user=u", "password=*** user=u");
	redacts("password='' user=u", "password=*** user=u");
	/* a key's name as another key's value is not a password */
	redacts("user=password password=x", "user=password password=***");
	redacts("application_name='password=x' host=h",
		"application_name='password=x' host=h");
	redacts("sslpassword=k sslmode=verify-full",
		"sslpassword=*** sslmode=verify-full");
	redacts("host=h PASSWORD=pw", "host=h PASSWORD=***");
	/* malformed: unterminated quote masks the rest */
	redacts("host=h password='abc def", "host=h password=***");
	/* malformed: a space in an unquoted password */
	redacts("password=abc def host=h", "password=*** *** host=h");
	/* a dbname that is itself a connection string */
	redacts("dbname='postgresql://u:pw@h/db' connect_timeout=3",
		"dbname='postgresql://u:***@h/db' connect_timeout=3");
	redacts("dbname='host=h password=x'", "dbname='host=h password=***'");
	/* not a connection string at all */
	redacts("mydb", "mydb");
	redacts("", "");
}

Test(pg, redacted_strings_still_parse_the_same_otherwise)
{
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;

	/* redaction keeps every other option intact */
	cr_assert_eq(sch_pg_redact(&a, "host=/tmp port=5433 password='x y' "
				   "dbname=app"), 0);
	cr_assert_eq(sch_pg_conninfo_set(&b, a.ptr, "password", NULL), 0);
	cr_assert_str_eq(b.ptr, "dbname='app' host='/tmp' port='5433'");
	sch_buf_release(&a);
	sch_buf_release(&b);
}

/* ---- resolution ---- */

static void clear_env(void)
{
	unsetenv("DATABASE_URL");
	unsetenv("SCHEMA_DB_HOST");
	unsetenv("SCHEMA_DB_PORT");
	unsetenv("SCHEMA_DB_NAME");
	unsetenv("SCHEMA_DB_USER");
	unsetenv("SCHEMA_DB_PASSWORD");
}

static void resolves(const struct sch_pg_source *src, const char *want,
		     enum sch_pg_from want_from)
{
	struct sch_buf out = SCH_BUF_INIT;
	enum sch_pg_from from = 0;

	sch_buf_addstr(&out, "stale");
	cr_assert_eq(sch_pg_resolve(&out, &from, src), 0);
	cr_assert_str_eq(out.ptr, want);
	cr_assert_eq(from, want_from, "from %s", sch_pg_from_text(from));
	sch_buf_release(&out);
}

Test(pg, resolution_follows_the_documented_order)
{
	struct sch_pg_source src = { "postgresql://cli/db", "production",
				     "postgresql://config/db" };

	clear_env();
	setenv("DATABASE_URL", "postgresql://env/db", 1);
	setenv("SCHEMA_DB_HOST", "dbhost", 1);
	resolves(&src, "postgresql://cli/db", SCH_PG_FROM_URL);
	src.url = "";
	resolves(&src, "postgresql://config/db", SCH_PG_FROM_CONFIG);
	src.env_url = NULL;	/* --env NAME without a url: fall through */
	resolves(&src, "postgresql://env/db", SCH_PG_FROM_DATABASE_URL);
	setenv("DATABASE_URL", "", 1);
	resolves(&src, "host='dbhost'", SCH_PG_FROM_SCHEMA_DB);
	unsetenv("SCHEMA_DB_HOST");
	resolves(&src, "", SCH_PG_FROM_DEFAULTS);
	resolves(NULL, "", SCH_PG_FROM_DEFAULTS);
	cr_assert_str_eq(sch_pg_from_text(SCH_PG_FROM_DATABASE_URL),
			 "DATABASE_URL");
	clear_env();
}

Test(pg, schema_db_variables_are_quoted)
{
	struct sch_buf out = SCH_BUF_INIT;
	struct sch_pg_child child;
	size_t i;
	int seen = 0;

	clear_env();
	setenv("SCHEMA_DB_HOST", "/var/run/postgresql", 1);
	setenv("SCHEMA_DB_PORT", "5433", 1);
	setenv("SCHEMA_DB_NAME", "my db", 1);
	setenv("SCHEMA_DB_USER", "app", 1);
	setenv("SCHEMA_DB_PASSWORD", "it's a \\ 'pw' =x", 1);
	resolves(NULL, "host='/var/run/postgresql' port='5433' "
		 "dbname='my db' user='app' "
		 "password='it\\'s a \\\\ \\'pw\\' =x'",
		 SCH_PG_FROM_SCHEMA_DB);
	/* libpq reads back exactly the values */
	sch_pg_resolve(&out, NULL, NULL);
	cr_assert_eq(sch_pg_child_init(&child, out.ptr, NULL), 0);
	for (i = 0; child.envp[i]; i++) {
		if (strcmp(child.envp[i], "PGPASSWORD=it's a \\ 'pw' =x") == 0 ||
		    strcmp(child.envp[i], "PGDATABASE=my db") == 0)
			seen++;
	}
	cr_assert_eq(seen, 2);
	sch_pg_child_release(&child);
	redacts(out.ptr, "host='/var/run/postgresql' port='5433' "
		"dbname='my db' user='app' password=***");
	sch_buf_release(&out);
	clear_env();
}

/* ---- child processes ---- */

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

Test(pg, child_env_carries_the_password_and_argv_does_not)
{
	char *base[] = { "PATH=/usr/bin", "PGHOST=elsewhere", "PGUSER=olduser",
			 "HOME=/root", NULL };
	struct sch_pg_child c;

	cr_assert_eq(sch_pg_child_init(&c, "postgresql://alice:" SECRET
				       "@dbhost:6432/app?sslmode=require"
				       "&keepalives=1&sslpassword=keypw"
				       "&application_name=x", base), 0);
	cr_assert_str_eq(env_get(c.envp, "PGPASSWORD"), SECRET);
	cr_assert_str_eq(env_get(c.envp, "PGHOST"), "dbhost");
	cr_assert_str_eq(env_get(c.envp, "PGPORT"), "6432");
	cr_assert_str_eq(env_get(c.envp, "PGUSER"), "alice");
	cr_assert_str_eq(env_get(c.envp, "PGDATABASE"), "app");
	cr_assert_str_eq(env_get(c.envp, "PGSSLMODE"), "require");
	cr_assert_str_eq(env_get(c.envp, "PGAPPNAME"), "x");
	cr_assert_str_eq(env_get(c.envp, "PATH"), "/usr/bin");
	cr_assert_str_eq(env_get(c.envp, "HOME"), "/root");
	/* overridden once, not duplicated */
	{
		size_t i, hosts = 0;

		for (i = 0; c.envp[i]; i++)
			hosts += strncmp(c.envp[i], "PGHOST=", 7) == 0;
		cr_assert_eq(hosts, 1);
	}
	/* what may go on argv: no secret at all */
	cr_assert_str_eq(c.dbname_arg, "keepalives='1'");
	cr_assert_null(strstr(c.dbname_arg, SECRET));
	cr_assert_null(strstr(c.dbname_arg, "keypw"));
	sch_pg_child_release(&c);

	cr_assert_eq(sch_pg_child_init(&c, "", base), 0);
	cr_assert_str_eq(env_get(c.envp, "PGHOST"), "elsewhere");
	cr_assert_null(c.dbname_arg);
	sch_pg_child_release(&c);
	cr_assert_eq(sch_pg_child_init(&c, "mydb", NULL), 0);
	cr_assert_str_eq(env_get(c.envp, "PGDATABASE"), "mydb");
	sch_pg_child_release(&c);
	cr_assert_eq(sch_pg_child_init(&c, "host=h bogus=1", NULL), SCH_EINVAL);
}

Test(pg, child_reaches_the_database_through_its_environment, DB)
{
	extern char **environ;
	struct sch_buf ci = SCH_BUF_INIT, out = SCH_BUF_INIT;
	struct sch_pg_child c;
	char *argv[] = { "psql", "-XAtq", "-c",
			 "select current_database() || ' ' || "
			 "current_setting('application_name')", NULL };
	int fds[2], status;
	char buf[256];
	ssize_t n;
	pid_t pid;

	cr_assert_eq(sch_pg_conninfo_set(&ci, pgtest_conninfo, "password",
					 SECRET), 0);
	cr_assert_eq(sch_pg_child_init(&c, ci.ptr, environ), 0);
	cr_assert_null(c.dbname_arg);
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execvpe("psql", argv, c.envp);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		sch_buf_add(&out, buf, (size_t)n);
	close(fds[0]);
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert(strncmp(out.ptr, pgtest_dbname, strlen(pgtest_dbname)) == 0,
		  "%s", out.ptr);
	for (n = 0; argv[n]; n++)
		cr_assert_null(strstr(argv[n], SECRET));
	sch_pg_child_release(&c);
	sch_buf_release(&ci);
	sch_buf_release(&out);
}

/* ---- connection strings ---- */

Test(pg, conninfo_set_rewrites_urls_and_key_values)
{
	struct sch_buf out = SCH_BUF_INIT;

	cr_assert_eq(sch_pg_conninfo_set(&out, "postgresql://u@/postgres?"
					 "host=/tmp/x", "dbname", "t_1"), 0);
	cr_assert_str_eq(out.ptr, "user='u' host='/tmp/x' dbname='t_1'");
	sch_buf_reset(&out);
	cr_assert_eq(sch_pg_conninfo_set(&out, "host=h dbname=a", "dbname",
					 NULL), 0);
	cr_assert_str_eq(out.ptr, "host='h'");
	sch_buf_reset(&out);
	cr_assert_eq(sch_pg_conninfo_set(&out, "", "port", "1"), 0);
	cr_assert_str_eq(out.ptr, "port='1'");
	sch_buf_reset(&out);
	cr_assert_eq(sch_pg_conninfo_set(&out, "olddb", "host", "h"), 0);
	cr_assert_str_eq(out.ptr, "dbname='olddb' host='h'");
	cr_assert_eq(sch_pg_conninfo_set(&out, "", "nonsense", "1"),
		     SCH_EINVAL);
	sch_buf_release(&out);
}

/*
 * The scratch cluster's connection string: nothing of the caller's libpq
 * environment reaches it, not even a PGSERVICE that names no service or
 * a PGTZ the server refuses.
 */
Test(pg, sealed_conninfo_ignores_the_libpq_environment, .init = pgtest_setup,
     .fini = pgtest_teardown)
{
	struct sch_buf ci = SCH_BUF_INIT, host = SCH_BUF_INIT, v = SCH_BUF_INIT;
	struct sch_pg *pg = pgtest_open(), *sealed = NULL;
	struct sch_pg_child child;
	static const char *const env[][2] = {
		{ "PGHOST", "/nonexistent" }, { "PGHOSTADDR", "127.0.0.2" },
		{ "PGPORT", "5999" }, { "PGUSER", "nobody" },
		{ "PGDATABASE", "nowhere" },
		{ "PGOPTIONS", "-c statement_timeout=1" },
		{ "PGTARGETSESSIONATTRS", "standby" },
		{ "PGSSLMODE", "require" }, { "PGGSSENCMODE", "require" },
		{ "PGCHANNELBINDING", "require" }, { "PGSERVICE", "nosuch" },
		{ "PGTZ", "Mars/Base" }, { "PGCONNECT_TIMEOUT", "x" },
		{ "PGCLIENTENCODING", "bogus" },
	};
	char *base[] = { "PGSERVICE=nosuch", "PATH=/bin", NULL };
	int found = 0;

	cr_assert_eq(sch_pg_query_value(&host, pg, "SELECT "
		"current_setting('unix_socket_directories')", 0, NULL), 0);
	sch_pg_close(pg);
	cr_assert_eq(sch_pg_conninfo_sealed(&ci, host.ptr, "5432", "postgres",
					    pgtest_dbname), 0);
	for (size_t i = 0; i < sizeof(env) / sizeof(*env); i++)
		setenv(env[i][0], env[i][1], 1);
	cr_assert_eq(sch_pg_open(&sealed, ci.ptr), 0, "%s: %s", ci.ptr,
		     sch_error_msg());
	cr_assert_str_eq(getenv("PGSERVICE"), "nosuch", "PGSERVICE restored");
	cr_assert_str_eq(getenv("PGTZ"), "Mars/Base", "PGTZ restored");
	for (size_t i = 0; i < sizeof(env) / sizeof(*env); i++)
		unsetenv(env[i][0]);
	cr_assert_eq(sch_pg_query_value(&v, sealed, "SELECT current_database() "
		"|| ' ' || current_user || ' ' || current_setting("
		"'statement_timeout')", 0, NULL), 0);
	cr_assert_str_eq(v.ptr, xasprintf("%s postgres 0", pgtest_dbname));
	sch_pg_close(sealed);
	/* a child (pg_dump) gets no PGSERVICE */
	cr_assert_eq(sch_pg_child_init(&child, ci.ptr, base), 0);
	for (size_t i = 0; child.envp[i]; i++) {
		cr_assert(strncmp(child.envp[i], "PGSERVICE=", 10) != 0,
			  "%s", child.envp[i]);
		found |= !strcmp(child.envp[i], "PGPORT=5432");
	}
	cr_assert(found, "PGPORT=5432 in the child's environment");
	sch_pg_child_release(&child);
	sch_buf_release(&ci);
	sch_buf_release(&host);
	sch_buf_release(&v);
}
