/*
 * sqlparse.h - the one libpg_query wrapper: split SQL scripts into
 * statements, check their syntax, find the statements that cannot run in
 * a transaction block, and turn error positions into line numbers.
 *
 * Scripts are UTF-8 bytes (sql, len); they need not be NUL-terminated but
 * must not contain a NUL byte. The grammar is PostgreSQL 15's, whatever the
 * server: a script that only an older server accepts is still parsed with
 * the newer grammar, which accepts nearly everything older ones did.
 * Errors carry "file:line: message" ("file:line:column: message" for a
 * syntax error, the column counted in characters from 1) so that commands
 * print them as they are.
 */
#ifndef SCH_SQLPARSE_H
#define SCH_SQLPARSE_H

#include <stddef.h>

/* The statement cannot run inside a transaction block. */
#define SCH_SQL_NOTX 0x1u
/* The statement is explicit transaction control (BEGIN, COMMIT, ...). */
#define SCH_SQL_TXCONTROL 0x2u

struct sch_sql_stmt {
	/* Byte offset of the statement's first token in the script: leading
	 * whitespace and comments are skipped. */
	size_t off;
	/*
	 * Bytes up to the terminating ';' (excluded) or the end of the
	 * script, trailing whitespace trimmed. The text can still end in a
	 * comment ("SELECT 1 -- x"): put a newline before any ';' appended.
	 */
	size_t len;
	int line;		/* 1-based line of `off` */
	unsigned flags;		/* SCH_SQL_*, set by sch_sql_classify() */
	/* What the flags are about ("CREATE INDEX CONCURRENTLY"), static
	 * storage; NULL when flags is 0. */
	const char *what;
};

struct sch_sql_script {
	struct sch_sql_stmt *stmts;	/* n entries, in script order */
	size_t n;
};

/*
 * Splits a script into its statements with the server's grammar, so that
 * semicolons in strings, quoted identifiers, comments and dollar-quoted
 * bodies do not split. Empty statements and comments are not statements.
 * `file` names the script in messages (NULL: "<sql>"). On success the
 * caller owns out (sch_sql_script_release()); on failure out is empty.
 * Returns 0, or SCH_EPARSE ("file:line:column: syntax error at or near ...",
 * also for a NUL byte).
 */
int sch_sql_split(struct sch_sql_script *out, const char *file,
		  const void *sql, size_t len);

/* Frees the statements and empties the script; safe on an empty script. */
void sch_sql_script_release(struct sch_sql_script *s);

/* Checks the syntax of a script. Returns 0 or SCH_EPARSE as above. */
int sch_sql_check(const char *file, const void *sql, size_t len);

/*
 * Sets flags and what of every statement of `script`, which
 * sch_sql_split() made from the same sql. SCH_SQL_NOTX marks:
 *   CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY,
 *   REINDEX ... CONCURRENTLY, REINDEX SCHEMA | DATABASE | SYSTEM,
 *   VACUUM (not ANALYZE alone), CLUSTER without a table,
 *   CREATE DATABASE, DROP DATABASE, ALTER DATABASE ... SET TABLESPACE,
 *   CREATE TABLESPACE, DROP TABLESPACE, ALTER SYSTEM, DISCARD ALL,
 *   ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY,
 *   CREATE SUBSCRIPTION (unless connect or create_slot is false),
 *   DROP SUBSCRIPTION, ALTER SUBSCRIPTION ... REFRESH PUBLICATION and
 *   ... SET | ADD | DROP PUBLICATION (unless refresh is false),
 *   ALTER TYPE ... ADD VALUE when server_major < 12.
 * REFRESH MATERIALIZED VIEW CONCURRENTLY is allowed in a transaction
 * block and is not marked. SCH_SQL_TXCONTROL marks BEGIN, START
 * TRANSACTION, COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION, COMMIT
 * PREPARED and ROLLBACK PREPARED (not savepoints). Returns 0 or SCH_EPARSE.
 */
int sch_sql_classify(struct sch_sql_script *script, const char *file,
		     const void *sql, size_t len, int server_major);

/* The first statement of a script that needs a step without transaction. */
struct sch_sql_notx {
	int line;		/* 1-based; 0 when every statement can run
				 * in a transaction */
	const char *what;	/* as in struct sch_sql_stmt; NULL when none */
};

/*
 * Tells whether a migration script must run statement by statement
 * outside a transaction (flag notx), naming the first statement that
 * requires it. Explicit transaction control is refused: every step runs
 * in a transaction together with its registry row (notx steps statement
 * by statement), and a COMMIT in the script would break that.
 * Returns 0, or SCH_EPARSE for a syntax error or "file:line: COMMIT is
 * not allowed in a migration".
 */
int sch_sql_needs_notx(struct sch_sql_notx *out, const char *file,
		       const void *sql, size_t len, int server_major);

/* 1-based line of byte offset `off` (clamped to len) in sql. */
int sch_sql_line_at(const void *sql, size_t len, size_t off);

/*
 * Byte offset in sql of a server error position: `pos` is the 1-based
 * character (UTF-8 code point) offset that PostgreSQL reports, counted
 * from byte `stmt_off`, where the statement that was sent starts. pos 0
 * (no position) gives stmt_off. The result is clamped to len.
 */
size_t sch_sql_pos_to_offset(const void *sql, size_t len, size_t stmt_off,
			     int pos);

/* Line of sch_sql_pos_to_offset(). */
int sch_sql_pos_to_line(const void *sql, size_t len, size_t stmt_off,
			int pos);

#endif
