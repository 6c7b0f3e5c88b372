/* test_sqlparse.c - src/sqlparse.c, with the server as the referee. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/pg.h"
#include "schema/sqlparse.h"
#include "unit/pgtest.h"

TestSuite(sqlparse);

#define DB .init = pgtest_setup, .fini = pgtest_teardown

static struct sch_sql_script split_ok(const char *sql)
{
	struct sch_sql_script s;

	cr_assert_eq(sch_sql_split(&s, "t.sql", sql, strlen(sql)), 0, "%s: %s", sql,
		     sch_error_msg());
	return s;
}

/* Asserts statement i's text and line. */
static void stmt_is(const struct sch_sql_script *s, const char *sql,
		    size_t i, const char *text, int line)
{
	cr_assert_lt(i, s->n, "statement %zu of %zu", i, s->n);
	cr_assert_eq(s->stmts[i].len, strlen(text), "stmt %zu: <%.*s>", i,
		     (int)s->stmts[i].len, sql + s->stmts[i].off);
	cr_assert_eq(memcmp(sql + s->stmts[i].off, text, strlen(text)), 0,
		     "stmt %zu: <%.*s>", i, (int)s->stmts[i].len,
		     sql + s->stmts[i].off);
	cr_assert_eq(s->stmts[i].line, line, "stmt %zu line %d", i,
		     s->stmts[i].line);
}

/* ---- splitting ---- */

Test(sqlparse, splits_with_offsets_lengths_and_lines)
{
	const char *sql = "create table a (x int);\n"
			  "\n"
			  "  insert into a values (1);   \n"
			  "select\n  x\nfrom a";
	struct sch_sql_script s = split_ok(sql);

	cr_assert_eq(s.n, 3);
	stmt_is(&s, sql, 0, "create table a (x int)", 1);
	cr_assert_eq(s.stmts[0].off, 0);
	stmt_is(&s, sql, 1, "insert into a values (1)", 3);
	cr_assert_eq(s.stmts[1].off, 27);
	stmt_is(&s, sql, 2, "select\n  x\nfrom a", 4);
	cr_assert_eq(s.stmts[2].flags, 0);
	cr_assert_null(s.stmts[2].what);
	sch_sql_script_release(&s);
	cr_assert_null(s.stmts);
	cr_assert_eq(s.n, 0);
}

Test(sqlparse, semicolons_inside_strings_identifiers_and_comments_do_not_split)
{
	const char *sql = "select 'a;b', \"we;ird\" from t; -- c;d\n"
			  "select E'it\\'s;', $$x;y$$, $q$ $$ ; $q$ /* ; /* ; */ ; */;\n"
			  "select U&'d\\0061t;a'";
	struct sch_sql_script s = split_ok(sql);

	cr_assert_eq(s.n, 3);
	stmt_is(&s, sql, 0, "select 'a;b', \"we;ird\" from t", 1);
	stmt_is(&s, sql, 1, "select E'it\\'s;', $$x;y$$, $q$ $$ ; $q$ "
		"/* ; /* ; */ ; */", 2);
	stmt_is(&s, sql, 2, "select U&'d\\0061t;a'", 3);
	sch_sql_script_release(&s);
}

Test(sqlparse, dollar_quoted_function_body_is_one_statement)
{
	const char *sql =
		"create function f() returns trigger language plpgsql as $body$\n"
		"begin\n"
		"  new.updated := now();\n"
		"  raise notice 'a;b';\n"
		"  return new;\n"
		"end;\n"
		"$body$;\n"
		"create trigger tr before update on t\n"
		"  for each row execute function f();\n"
		"do $$ begin perform 1; end $$;\n";
	struct sch_sql_script s = split_ok(sql);

	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.stmts[0].line, 1);
	cr_assert_eq(sql[s.stmts[0].off + s.stmts[0].len - 1], '$');
	stmt_is(&s, sql, 1, "create trigger tr before update on t\n"
		"  for each row execute function f()", 8);
	stmt_is(&s, sql, 2, "do $$ begin perform 1; end $$", 10);
	sch_sql_script_release(&s);
}

Test(sqlparse, comments_and_empty_statements_are_not_statements)
{
	const char *empties[] = {
		"", ";", ";;;", "  \n\t", "-- only a comment",
		"-- a\n-- b\n", "/* block */", "/* nested /* deep */ still */;",
		"; -- x\n ; /* y */ ;",
	};
	const char *sql = "-- leading comment ; with semicolon\n"
			  "/* and\n a block; */\n"
			  ";;\n"
			  "select 1; -- trailing\n"
			  "/* after */";
	struct sch_sql_script s;
	size_t i;

	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		s = split_ok(empties[i]);
		cr_assert_eq(s.n, 0, "<%s> gave %zu", empties[i], s.n);
		sch_sql_script_release(&s);
	}
	s = split_ok(sql);
	cr_assert_eq(s.n, 1);
	stmt_is(&s, sql, 0, "select 1", 5);
	sch_sql_script_release(&s);
}

Test(sqlparse, a_carriage_return_ends_a_line_comment)
{
	const char *sql = "-- old mac line\rselect 1;\r\n-- x\r\nselect 2";
	struct sch_sql_script s = split_ok(sql);

	cr_assert_eq(s.n, 2);
	stmt_is(&s, sql, 0, "select 1", 1);
	stmt_is(&s, sql, 1, "select 2", 3);
	cr_assert_eq(sch_sql_classify(&s, "t.sql", sql, strlen(sql), 15), 0);
	sch_sql_script_release(&s);
}

Test(sqlparse, statement_may_keep_a_trailing_comment)
{
	const char *sql = "select 1 -- one\n;\nselect 2 /* two */;";
	struct sch_sql_script s = split_ok(sql);

	cr_assert_eq(s.n, 2);
	stmt_is(&s, sql, 0, "select 1 -- one", 1);
	stmt_is(&s, sql, 1, "select 2 /* two */", 3);
	sch_sql_script_release(&s);
}

Test(sqlparse, input_need_not_be_nul_terminated)
{
	const char buf[] = { 's', 'e', 'l', 'e', 'c', 't', ' ', '1', ';', 'x' };
	struct sch_sql_script s;

	cr_assert_eq(sch_sql_split(&s, "t.sql", buf, 9), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.stmts[0].len, 8);
	sch_sql_script_release(&s);
}

Test(sqlparse, splits_a_real_schema)
{
	struct sch_buf b = SCH_BUF_INIT;
	struct sch_sql_script s;
	const char *path = "/work/shared/fixtures/pagila/pagila-schema.sql";

	if (sch_buf_read_file(&b, path) != 0)
		cr_skip_test("%s not available", path);
	cr_assert_eq(sch_sql_split(&s, "pagila-schema.sql", b.ptr, b.len), 0,
		     "%s", sch_error_msg());
	cr_assert_gt(s.n, 100);
	cr_assert_eq(sch_sql_classify(&s, "pagila-schema.sql", b.ptr, b.len,
				      15), 0, "%s", sch_error_msg());
	sch_sql_script_release(&s);
	sch_buf_release(&b);
}

/* ---- syntax errors ---- */

Test(sqlparse, syntax_error_names_file_and_line)
{
	const char *sql = "create table a (x int);\n"
			  "\n"
			  "select x\n"
			  "  frm a;\n";
	struct sch_sql_script s;

	cr_assert_eq(sch_sql_split(&s, "up.sql", sql, strlen(sql)), SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(),
			 "up.sql:4:7: syntax error at or near \"a\"");
	cr_assert_eq(s.n, 0);
	cr_assert_null(s.stmts);
	cr_assert_eq(sch_sql_check("up.sql", sql, strlen(sql)), SCH_EPARSE);
	cr_assert_eq(sch_sql_check("up.sql", sql, 23), 0);
}

Test(sqlparse, syntax_error_line_counts_characters_not_bytes)
{
	/* the server and libpg_query count characters; é is 2 bytes */
	const char *sql = "select 'ééééééééééééééééééééé';\nselect 1 +;";

	cr_assert_eq(sch_sql_check(NULL, sql, strlen(sql)), SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(),
			 "<sql>:2:11: syntax error at or near \";\"");
}

Test(sqlparse, unterminated_quote_is_a_syntax_error)
{
	const char *sql = "select 1;\nselect $$never closed;\n\n";

	cr_assert_eq(sch_sql_check("f.sql", sql, strlen(sql)), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "f.sql:2:8: unterminated"), "%s",
		  sch_error_msg());
}

Test(sqlparse, nul_byte_is_refused_with_its_line)
{
	const char sql[] = "select 1;\nselect\0 2;";

	cr_assert_eq(sch_sql_check("n.sql", sql, sizeof(sql) - 1), SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(), "n.sql:2: NUL byte in script");
}

Test(sqlparse, invalid_utf8_is_refused_with_its_line)
{
	const char *bad[] = {
		"select 1;\nselect 'a\xa0';",		/* lone continuation */
		"select 1;\nselect 'a\xc3';",		/* truncated */
		"select 1;\nselect '\xc0\xaf';",	/* overlong */
		"select 1;\nselect '\xed\xa0\x80';",	/* surrogate */
		"select 1;\nselect '\xf4\x90\x80\x80';",	/* > U+10FFFF */
	};
	const char *good = "select '\xf0\x9f\x90\x98 \xe2\x82\xac'";
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(sch_sql_check("u.sql", bad[i], strlen(bad[i])),
			     SCH_EPARSE, "%zu", i);
		cr_assert_str_eq(sch_error_msg(),
				 "u.sql:2: invalid UTF-8 in script");
	}
	cr_assert_eq(sch_sql_check("u.sql", good, strlen(good)), 0);
}

/* ---- classification ---- */

struct verdict {
	const char *sql;
	unsigned flags;
	const char *what;
};

/* Statements whose verdict the server can confirm in the referee test. */
static const struct verdict checked[] = {
	{ "create index concurrently ci on t (a)", SCH_SQL_NOTX,
	  "CREATE INDEX CONCURRENTLY" },
	{ "create unique index concurrently if not exists ci on t (a)",
	  SCH_SQL_NOTX, "CREATE INDEX CONCURRENTLY" },
	{ "drop index concurrently ti", SCH_SQL_NOTX, "DROP INDEX CONCURRENTLY" },
	{ "reindex index concurrently ti", SCH_SQL_NOTX,
	  "REINDEX CONCURRENTLY" },
	{ "reindex (verbose) table concurrently t", SCH_SQL_NOTX,
	  "REINDEX CONCURRENTLY" },
	{ "reindex (concurrently) table t", SCH_SQL_NOTX,
	  "REINDEX CONCURRENTLY" },
	{ "reindex schema public", SCH_SQL_NOTX, "REINDEX SCHEMA" },
	{ "reindex database DBNAME", SCH_SQL_NOTX, "REINDEX DATABASE" },
	{ "reindex system DBNAME", SCH_SQL_NOTX, "REINDEX SYSTEM" },
	{ "vacuum", SCH_SQL_NOTX, "VACUUM" },
	{ "vacuum (analyze) t", SCH_SQL_NOTX, "VACUUM" },
	{ "vacuum full t", SCH_SQL_NOTX, "VACUUM" },
	{ "cluster", SCH_SQL_NOTX, "CLUSTER without a table" },
	{ "create database x_never", SCH_SQL_NOTX, "CREATE DATABASE" },
	{ "drop database if exists x_never", SCH_SQL_NOTX, "DROP DATABASE" },
	{ "alter database DBNAME set tablespace pg_default", SCH_SQL_NOTX,
	  "ALTER DATABASE SET TABLESPACE" },
	{ "alter system set work_mem = '8MB'", SCH_SQL_NOTX, "ALTER SYSTEM" },
	{ "alter system reset all", SCH_SQL_NOTX, "ALTER SYSTEM" },
	{ "create tablespace ts location '/nonexistent'", SCH_SQL_NOTX,
	  "CREATE TABLESPACE" },
	{ "drop tablespace if exists ts", SCH_SQL_NOTX, "DROP TABLESPACE" },
	{ "discard all", SCH_SQL_NOTX, "DISCARD ALL" },
	{ "alter table p detach partition c concurrently", SCH_SQL_NOTX,
	  "ALTER TABLE ... DETACH PARTITION CONCURRENTLY" },
	{ "create subscription s connection 'dbname=x' publication p",
	  SCH_SQL_NOTX, "CREATE SUBSCRIPTION" },
	/* and what may run in a transaction block */
	{ "refresh materialized view concurrently m", 0, NULL },
	{ "refresh materialized view m", 0, NULL },
	{ "create index ci on t (a)", 0, NULL },
	{ "drop index ti", 0, NULL },
	{ "reindex table t", 0, NULL },
	{ "reindex (concurrently false) table t", 0, NULL },
	{ "analyze t", 0, NULL },
	{ "cluster t using ti", 0, NULL },
	{ "discard temp", 0, NULL },
	{ "alter database DBNAME set work_mem = '8MB'", 0, NULL },
	{ "alter table p detach partition c", 0, NULL },
	{ "alter type e add value 'c'", 0, NULL },	/* server >= 12 */
	{ "alter type e rename value 'a' to 'z'", 0, NULL },
	{ "create subscription s connection 'dbname=x' publication p "
	  "with (connect = false)", 0, NULL },
	{ "savepoint sp", 0, NULL },
	{ "select 1", 0, NULL },
};

/* Verdicts the server cannot be asked about in a throwaway database. */
static const struct verdict unchecked[] = {
	{ "drop subscription if exists s", SCH_SQL_NOTX, "DROP SUBSCRIPTION" },
	{ "alter subscription s refresh publication", SCH_SQL_NOTX,
	  "ALTER SUBSCRIPTION ... REFRESH" },
	{ "alter subscription s set publication p", SCH_SQL_NOTX,
	  "ALTER SUBSCRIPTION ... PUBLICATION with refresh" },
	{ "alter subscription s add publication p with (refresh = false)", 0,
	  NULL },
	{ "alter subscription s enable", 0, NULL },
	{ "create subscription s connection 'dbname=x' publication p "
	  "with (create_slot = false, enabled = false, slot_name = none)",
	  0, NULL },
	{ "create subscription s connection 'x' publication p "
	  "with (connect = off)", 0, NULL },
	{ "create subscription s connection 'x' publication p "
	  "with (create_slot = 0)", 0, NULL },
	{ "create subscription s connection 'x' publication p "
	  "with (create_slot = true)", SCH_SQL_NOTX, "CREATE SUBSCRIPTION" },
	{ "begin", SCH_SQL_TXCONTROL, "BEGIN" },
	{ "begin isolation level serializable", SCH_SQL_TXCONTROL, "BEGIN" },
	{ "start transaction", SCH_SQL_TXCONTROL, "START TRANSACTION" },
	{ "commit", SCH_SQL_TXCONTROL, "COMMIT" },
	{ "end", SCH_SQL_TXCONTROL, "COMMIT" },
	{ "commit and chain", SCH_SQL_TXCONTROL, "COMMIT" },
	{ "rollback", SCH_SQL_TXCONTROL, "ROLLBACK" },
	{ "abort", SCH_SQL_TXCONTROL, "ROLLBACK" },
	{ "prepare transaction 'x'", SCH_SQL_TXCONTROL, "PREPARE TRANSACTION" },
	{ "commit prepared 'x'", SCH_SQL_TXCONTROL, "COMMIT PREPARED" },
	{ "rollback prepared 'x'", SCH_SQL_TXCONTROL, "ROLLBACK PREPARED" },
	{ "release savepoint sp", 0, NULL },
	{ "rollback to savepoint sp", 0, NULL },
	{ "do $$ begin commit; end $$", 0, NULL },
};

static void classify_one(const struct verdict *v, const char *dbname,
			 int major, unsigned *flags, const char **what,
			 char **text)
{
	struct sch_buf sql = SCH_BUF_INIT;
	struct sch_sql_script s;
	const char *p = strstr(v->sql, "DBNAME");

	if (p) {
		sch_buf_add(&sql, v->sql, (size_t)(p - v->sql));
		sch_buf_addstr(&sql, dbname);
		sch_buf_addstr(&sql, p + 6);
	} else {
		sch_buf_addstr(&sql, v->sql);
	}
	/* inside a script, after another statement and a comment */
	s = split_ok(sql.ptr);
	cr_assert_eq(s.n, 1, "%s", sql.ptr);
	cr_assert_eq(sch_sql_classify(&s, "t.sql", sql.ptr, sql.len, major), 0,
		     "%s: %s", sql.ptr, sch_error_msg());
	*flags = s.stmts[0].flags;
	*what = s.stmts[0].what;
	sch_sql_script_release(&s);
	*text = sch_buf_detach(&sql, NULL);
}

static void expect_verdicts(const struct verdict *vs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned flags;
		const char *what;
		char *text;

		classify_one(&vs[i], "d", 15, &flags, &what, &text);
		cr_expect_eq(flags, vs[i].flags, "%s: flags %u", text, flags);
		if (vs[i].what)
			cr_expect_str_eq(what ? what : "(null)", vs[i].what,
					 "%s", text);
		else
			cr_expect_null(what, "%s: %s", text, what);
		free(text);
	}
}

Test(sqlparse, classifies_statements_that_need_no_transaction)
{
	expect_verdicts(checked, sizeof(checked) / sizeof(checked[0]));
	expect_verdicts(unchecked, sizeof(unchecked) / sizeof(unchecked[0]));
}

Test(sqlparse, alter_type_add_value_needs_notx_only_before_12)
{
	const char *sql = "alter type e add value 'x' after 'a'";
	struct sch_sql_notx n;

	cr_assert_eq(sch_sql_needs_notx(&n, "u.sql", sql, strlen(sql), 11), 0);
	cr_assert_eq(n.line, 1);
	cr_assert_str_eq(n.what, "ALTER TYPE ... ADD VALUE (server before 12)");
	cr_assert_eq(sch_sql_needs_notx(&n, "u.sql", sql, strlen(sql), 12), 0);
	cr_assert_eq(n.line, 0);
	cr_assert_null(n.what);
	sql = "alter type e rename value 'a' to 'b'";
	cr_assert_eq(sch_sql_needs_notx(&n, "u.sql", sql, strlen(sql), 9), 0);
	cr_assert_eq(n.line, 0);
}

Test(sqlparse, needs_notx_names_the_first_offending_line)
{
	const char *sql = "create table t (a int);\n"
			  "-- build the index without locking writers\n"
			  "create index concurrently i on t (a);\n"
			  "vacuum t;\n";
	struct sch_sql_notx n;

	cr_assert_eq(sch_sql_needs_notx(&n, "up.sql", sql, strlen(sql), 15), 0);
	cr_assert_eq(n.line, 3);
	cr_assert_str_eq(n.what, "CREATE INDEX CONCURRENTLY");
	cr_assert_eq(sch_sql_needs_notx(&n, "up.sql", sql, 23, 15), 0);
	cr_assert_eq(n.line, 0);
	cr_assert_eq(sch_sql_needs_notx(&n, "up.sql", "", 0, 15), 0);
	cr_assert_eq(n.line, 0);
}

Test(sqlparse, needs_notx_refuses_transaction_control)
{
	const char *sql = "create table t (a int);\n"
			  "create index concurrently i on t (a);\n"
			  "\n"
			  "commit;\n";
	struct sch_sql_notx n;

	cr_assert_eq(sch_sql_needs_notx(&n, "up.sql", sql, strlen(sql), 15),
		     SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(),
			 "up.sql:4: COMMIT is not allowed in a migration");
	cr_assert(strlen(sch_error_hint_msg()) > 0);
	cr_assert_eq(n.line, 0);
	sql = "BEGIN;\nselect 1;\nEND;";
	cr_assert_eq(sch_sql_needs_notx(&n, "x.sql", sql, strlen(sql), 15),
		     SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(),
			 "x.sql:1: BEGIN is not allowed in a migration");
	sql = "select 1 +;";
	cr_assert_eq(sch_sql_needs_notx(&n, "y.sql", sql, strlen(sql), 15),
		     SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "y.sql:1:11: syntax error"), "%s",
		  sch_error_msg());
}

Test(sqlparse, classify_refuses_a_script_it_did_not_split)
{
	const char *a = "select 1; select 2;", *b = "select 1;";
	struct sch_sql_script s = split_ok(a);

	cr_assert_eq(sch_sql_classify(&s, "t.sql", b, strlen(b), 15),
		     SCH_EPARSE);
	sch_sql_script_release(&s);
}

/* The server is the referee: notx iff it refuses inside a block. */
Test(sqlparse, server_agrees_with_every_checked_verdict, DB)
{
	struct sch_pg *pg = pgtest_open();
	size_t i;

	cr_assert_eq(sch_pg_exec_script(pg,
		"create table t (a int);"
		"create index ti on t (a);"
		"create table p (a int) partition by range (a);"
		"create table c partition of p for values from (0) to (10);"
		"create type e as enum ('a', 'b');"
		"create materialized view m as select 1 as x;"
		"create unique index mx on m (x);"), 0, "%s", sch_error_msg());
	for (i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		unsigned flags;
		const char *what;
		char *text;
		int rc;

		classify_one(&checked[i], pgtest_dbname, sch_pg_server_major(pg),
			     &flags, &what, &text);
		cr_assert_eq(sch_pg_begin(pg), 0);
		rc = sch_pg_exec(pg, NULL, SCH_PG_OK, text, 0, NULL);
		if (flags & SCH_SQL_NOTX) {
			cr_expect_eq(rc, SCH_EDB, "%s ran in a block", text);
			if (rc)
				cr_expect_str_eq(sch_pg_last_error(pg)->sqlstate,
						 "25001", "%s: %s", text,
						 sch_error_msg());
		} else {
			cr_expect_eq(rc, 0, "%s: %s", text, sch_error_msg());
		}
		cr_assert_eq(sch_pg_rollback(pg), 0);
		free(text);
	}
	sch_pg_close(pg);
}

/* ---- positions and lines ---- */

Test(sqlparse, line_at_counts_newlines_before_the_offset)
{
	const char *s = "a\nb\n\nc";

	cr_assert_eq(sch_sql_line_at(s, 6, 0), 1);
	cr_assert_eq(sch_sql_line_at(s, 6, 1), 1);
	cr_assert_eq(sch_sql_line_at(s, 6, 2), 2);
	cr_assert_eq(sch_sql_line_at(s, 6, 5), 4);
	cr_assert_eq(sch_sql_line_at(s, 6, 99), 4);	/* clamped */
	cr_assert_eq(sch_sql_line_at("", 0, 0), 1);
}

Test(sqlparse, server_position_maps_to_byte_offset_and_line)
{
	/* statement starts at byte 7 ("x;\n\n-- \n" is not it) */
	const char *s = "x;\n\n-- \nselect 'é',\n  ñope";
	size_t len = strlen(s), off = 8;

	/* position 1 is the statement's first character */
	cr_assert_eq(sch_sql_pos_to_offset(s, len, off, 1), off);
	cr_assert_eq(sch_sql_pos_to_offset(s, len, off, 0), off);
	cr_assert_eq(sch_sql_pos_to_line(s, len, off, 0), 4);
	/* "select 'é',\n  " is 14 characters, 15 bytes: ñope is char 15 */
	cr_assert_eq(sch_sql_pos_to_offset(s, len, off, 15),
		     (size_t)(strstr(s, "ñope") - s));
	cr_assert_eq(sch_sql_pos_to_line(s, len, off, 15), 5);
	/* past the end: clamped */
	cr_assert_eq(sch_sql_pos_to_offset(s, len, off, 1000), len);
	cr_assert_eq(sch_sql_pos_to_offset(s, len, len + 5, 3), len);
}
