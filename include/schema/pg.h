/*
 * pg.h - the one libpq wrapper: connections, statements, results, errors,
 * transactions, pipelined batches, COPY, and connection strings.
 *
 * No other module includes libpq-fe.h. Every failure returns SCH_EDB (or
 * the code named below) and leaves in the per-thread error message the
 * server's primary message, its detail and its SQLSTATE; the hint, when the
 * server gave one, goes to sch_error_hint(). The same details, plus the
 * error position, stay available through sch_pg_last_error() until the next
 * failure on the same connection.
 *
 * Passwords: no message built here contains a password. Connection strings
 * shown to a user go through sch_pg_redact(); a child process (pg_dump)
 * receives its password through PGPASSWORD in its environment only, never
 * on its argv (sch_pg_child_init()).
 *
 * One connection is used by one thread at a time.
 */
#ifndef SCH_PG_H
#define SCH_PG_H

#include <stddef.h>

#include "schema/buf.h"

struct sch_pg;		/* a connection */
struct sch_pg_result;	/* a result of sch_pg_exec() */

/* ---- connection sources (DESIGN.md, "Target databases") ---- */

/* Where sch_pg_resolve() found the connection string, in its order. */
enum sch_pg_from {
	SCH_PG_FROM_URL = 1,	/* --url */
	SCH_PG_FROM_CONFIG,	/* --env NAME: the url configured for NAME */
	SCH_PG_FROM_DATABASE_URL, /* $DATABASE_URL */
	SCH_PG_FROM_SCHEMA_DB,	/* $SCHEMA_DB_HOST/PORT/NAME/USER/PASSWORD */
	SCH_PG_FROM_DEFAULTS	/* "": libpq's own PG*, ~/.pgpass, services */
};

/* What the command line and the configuration say; NULL or "" = not given. */
struct sch_pg_source {
	const char *url;	/* --url VALUE */
	const char *env_name;	/* --env NAME (only named in messages) */
	const char *env_url;	/* the url of [env "NAME"] in config */
};

/*
 * Replaces the content of `out` with the connection string to use: the
 * first of src->url, src->env_url, $DATABASE_URL, a key=value string built
 * from those $SCHEMA_DB_HOST, _PORT, _NAME, _USER, _PASSWORD that are set
 * (values single-quoted, quotes and backslashes escaped), or "" (libpq
 * defaults). Empty values count as unset. `from` (may be NULL) receives
 * which source won. The result may hold a password: show it only through
 * sch_pg_redact(). Returns 0, or SCH_ETOOBIG past out->max.
 */
int sch_pg_resolve(struct sch_buf *out, enum sch_pg_from *from,
		   const struct sch_pg_source *src);

/* "--url", "config", "DATABASE_URL", "SCHEMA_DB_*", "libpq defaults". */
const char *sch_pg_from_text(enum sch_pg_from from);

/*
 * Appends `conninfo` to `out` with every password replaced by "***": the
 * password of a postgres:// or postgresql:// URL's user info, and the
 * values of the password and sslpassword parameters, whether given as URL
 * query parameters (also percent-encoded) or as key=value pairs (quoted or
 * not). A key=value dbname that is itself a connection string is redacted
 * too. Everything else is copied byte for byte. Malformed strings are
 * redacted generously: an unterminated quoted password masks the rest of
 * the string. Returns 0, or SCH_ETOOBIG past out->max.
 */
int sch_pg_redact(struct sch_buf *out, const char *conninfo);

/*
 * Appends to `out` a key=value connection string equal to `conninfo` (URL
 * or key=value) with `key` set to `value` (value NULL: removed). Used to
 * point a connection string at another database. Returns 0, SCH_EINVAL when
 * conninfo does not parse (message without the string's secrets), or
 * SCH_ETOOBIG.
 */
int sch_pg_conninfo_set(struct sch_buf *out, const char *conninfo,
			const char *key, const char *value);

/*
 * Replaces the content of `out` with a key=value connection string to
 * database `db` through the unix socket in directory `dir` on `port` as
 * `user`, that nothing of the user's libpq environment can change: every
 * option libpq reads from an environment variable (PGOPTIONS, PGSSLMODE,
 * PGTARGETSESSIONATTRS, PGHOSTADDR, ...) is stated, with libpq's compiled
 * default where this function has no better value (sslmode, gssencmode
 * and channel_binding disable, target_session_attrs any, options empty,
 * a password file that does not exist), and service is given empty. An
 * empty service is this wrapper's "no service": sch_pg_open() and
 * sch_pg_child_init() then ignore PGSERVICE and, for the connection's
 * start, the variables no connection string overrides (PGTZ,
 * PGDATESTYLE, PGGEQO). For servers schema starts itself (the scratch
 * cluster). Returns 0 or SCH_ETOOBIG.
 */
int sch_pg_conninfo_sealed(struct sch_buf *out, const char *dir,
			   const char *port, const char *user,
			   const char *db);

/*
 * Environment and argv for a libpq client program (pg_dump, pg_restore,
 * psql) that must reach the database `conninfo` names, without a secret on
 * its argv.
 */
struct sch_pg_child {
	/*
	 * NULL-terminated "NAME=value" array for execve(): `base` (the
	 * parent's environment) with PGHOST, PGPORT, PGDATABASE, PGUSER,
	 * PGPASSWORD, PGSSLMODE, ... set from every option of conninfo that
	 * has an environment variable. Variables conninfo does not set are
	 * inherited, as they are by the parent's own connection.
	 */
	char **envp;
	/*
	 * A key=value connection string of the options that have no
	 * environment variable (keepalives, tcp_user_timeout, ...), for the
	 * program's --dbname; NULL when there are none. Never holds a
	 * secret: sslpassword, which has no variable, is dropped.
	 */
	char *dbname_arg;
};

/*
 * Fills `out` for conninfo (URL, key=value, or "" for the defaults).
 * `base` may be NULL (empty environment). Release with
 * sch_pg_child_release(). Returns 0 or SCH_EINVAL (conninfo does not parse).
 */
int sch_pg_child_init(struct sch_pg_child *out, const char *conninfo,
		      char *const *base);
void sch_pg_child_release(struct sch_pg_child *c);

/* ---- identifiers and literals, without a connection (UTF-8 text) ---- */

/* Appends name as a double-quoted identifier ("a""b"). Returns 0/ETOOBIG. */
int sch_pg_quote_ident(struct sch_buf *out, const char *name);
/*
 * Appends s as a string literal: 'it''s', or E'a\\b' when s has a
 * backslash, so that it reads the same whatever standard_conforming_strings
 * says. Returns 0 or SCH_ETOOBIG.
 */
int sch_pg_quote_literal(struct sch_buf *out, const char *s);

/* ---- connections ---- */

/*
 * Connects. conninfo is a URL, a key=value string, a bare database name,
 * or "" (libpq defaults); every libpq option passes through. Defaults that
 * conninfo can override: fallback_application_name=schema and
 * client_encoding=UTF8 (so that error positions count UTF-8 characters).
 * Never prompts for a password. On success *out owns the connection
 * (sch_pg_close()). A conninfo whose service is given empty (see
 * sch_pg_conninfo_sealed()) connects as if PGSERVICE, PGTZ, PGDATESTYLE
 * and PGGEQO were unset; it hides them from libpq for the moment the
 * connection starts, so such a connection must not be opened while
 * another thread reads the environment. Returns 0, SCH_EDB (server
 * unreachable, authentication failed: the message names host and cause,
 * never the password), or SCH_EINVAL (conninfo does not parse).
 */
int sch_pg_open(struct sch_pg **out, const char *conninfo);
/* Closes the connection; NULL is accepted. */
void sch_pg_close(struct sch_pg *pg);

/* Server version as a number (150004 for 15.4) and its major (15). */
int sch_pg_server_version(const struct sch_pg *pg);
int sch_pg_server_major(const struct sch_pg *pg);
/* Process id of the server backend (pg_stat_activity.pid). */
int sch_pg_backend_pid(const struct sch_pg *pg);
/* Database and user of the connection; valid while pg is open. */
const char *sch_pg_dbname(const struct sch_pg *pg);
const char *sch_pg_user(const struct sch_pg *pg);

/*
 * Called for every NOTICE, WARNING, INFO, ... the server sends, with the
 * severity ("NOTICE") and the primary message, the connection's password
 * masked. The default drops them (this floor never prints). fn NULL
 * restores the default.
 */
typedef void sch_pg_notice_fn(void *arg, const char *severity,
			      const char *message);
void sch_pg_set_notice(struct sch_pg *pg, sch_pg_notice_fn *fn, void *arg);

/* ---- errors ---- */

struct sch_pg_err {
	char sqlstate[6];	/* "42P01"; "" when the server sent none */
	/*
	 * 1-based character (not byte) offset of the error in the failing
	 * statement's text, 0 when the server gave none. Internal errors
	 * inside a function body report no position here.
	 */
	int position;
	/* Index of the failing statement in a sch_pg_batch(), else -1. */
	long index;
	const char *message;	/* primary message; "" when none */
	const char *detail;	/* "" when none */
	const char *hint;	/* "" when none */
	const char *context;	/* "" when none (PL/pgSQL call stack) */
};

/* The last failure on pg; valid until the next failing call on pg. */
const struct sch_pg_err *sch_pg_last_error(const struct sch_pg *pg);

/* ---- statements ---- */

/* The result status a statement must give. */
enum sch_pg_expect {
	SCH_PG_OK = 0,		/* any successful completion (a script line) */
	SCH_PG_COMMAND,		/* a command without rows */
	SCH_PG_TUPLES		/* rows (possibly none) */
};

/*
 * Runs one statement with text parameters $1..$n (params[i] NULL = SQL
 * NULL) through the extended protocol, so sql holds exactly one statement.
 * The result must have status `expect`. When out is non-NULL, *out
 * receives the result (sch_pg_result_free()); on failure *out is NULL.
 * Returns 0 or SCH_EDB (server error, lost connection, unexpected status).
 */
int sch_pg_exec(struct sch_pg *pg, struct sch_pg_result **out,
		enum sch_pg_expect expect, const char *sql, int nparams,
		const char *const *params);

/*
 * Runs a script of any number of statements through the simple-query
 * protocol, results dropped. Without explicit transaction control the
 * whole script is one transaction. An error position counts from the
 * start of the script. Returns 0 or SCH_EDB.
 */
int sch_pg_exec_script(struct sch_pg *pg, const char *sql);

/*
 * Runs a query that must return at most one row of one column and
 * replaces out's content with its value. Returns 0, SCH_ENOTFOUND (no row,
 * or a NULL value; out emptied), or SCH_EDB (also more than one row or
 * column).
 */
int sch_pg_query_value(struct sch_buf *out, struct sch_pg *pg,
		       const char *sql, int nparams, const char *const *params);

/* Rows and columns of a result. */
int sch_pg_result_rows(const struct sch_pg_result *r);
int sch_pg_result_cols(const struct sch_pg_result *r);
/* Column number of `name` (PQfnumber rules: unquoted names fold to lower
 * case), or -1. */
int sch_pg_result_col(const struct sch_pg_result *r, const char *name);
/* Text of a value ("" for NULL), valid until the result is freed. */
const char *sch_pg_result_value(const struct sch_pg_result *r, int row,
				int col);
size_t sch_pg_result_len(const struct sch_pg_result *r, int row, int col);
int sch_pg_result_isnull(const struct sch_pg_result *r, int row, int col);
/* Rows affected by INSERT, UPDATE, DELETE, MERGE, COPY, ...; 0 for others. */
long sch_pg_result_affected(const struct sch_pg_result *r);
/* Command tag ("INSERT 0 1"), valid until the result is freed. */
const char *sch_pg_result_tag(const struct sch_pg_result *r);
/* Frees a result; NULL is accepted. */
void sch_pg_result_free(struct sch_pg_result *r);

/* ---- transactions ---- */

enum sch_pg_tx {
	SCH_PG_TX_IDLE,		/* not in a transaction block */
	SCH_PG_TX_ACTIVE,	/* a command is running */
	SCH_PG_TX_OPEN,		/* in a transaction block */
	SCH_PG_TX_FAILED,	/* in a failed transaction block */
	SCH_PG_TX_UNKNOWN	/* the connection is bad */
};

enum sch_pg_tx sch_pg_tx_status(const struct sch_pg *pg);
/* BEGIN. Returns 0 or SCH_EDB (also when a block is already open). */
int sch_pg_begin(struct sch_pg *pg);
/*
 * COMMIT. Returns 0, or SCH_EDB when the commit fails or the block had
 * failed (the server then rolls back and says ROLLBACK).
 */
int sch_pg_commit(struct sch_pg *pg);
/*
 * ROLLBACK when a block is open (failed or not); nothing when idle. Meant
 * for cleanup paths: it leaves the per-thread error message and the last
 * error of pg alone unless the rollback itself fails. Returns 0 or SCH_EDB.
 */
int sch_pg_rollback(struct sch_pg *pg);

/* ---- pipelined batches ---- */

struct sch_pg_stmt {
	const char *sql;		/* exactly one statement */
	int nparams;
	const char *const *params;	/* text; NULL entries are SQL NULLs */
	enum sch_pg_expect expect;
};

/*
 * Sends the n statements in libpq pipeline mode, then one sync, and reads
 * every result: one round trip. Outside a transaction block the batch is
 * one implicit transaction: committed at the sync when every statement
 * succeeded, rolled back entirely otherwise (statements after the failing
 * one are skipped by the server). Inside a block opened by sch_pg_begin()
 * the statements join it, and a failure leaves it failed for the caller to
 * roll back. Statements that cannot run in a transaction block fail here
 * unless alone (n == 1). Results are dropped.
 *
 * Returns 0, or SCH_EDB for the first failure; sch_pg_last_error()->index
 * is then the failing statement's index (n when the sync itself failed).
 * SCH_EINVAL when n is 0.
 */
int sch_pg_batch(struct sch_pg *pg, const struct sch_pg_stmt *stmts,
		 size_t n);

/*
 * The same, keeping the results: out[i] (n entries, the caller's array)
 * receives statement i's result, to be freed with sch_pg_result_free().
 * On failure every out[i] is NULL. Returns what sch_pg_batch() returns.
 */
int sch_pg_batch_results(struct sch_pg *pg, struct sch_pg_result **out,
			 const struct sch_pg_stmt *stmts, size_t n);

/* ---- COPY ---- */

/*
 * Receives consecutive pieces of COPY output (whole rows in text and CSV
 * format). A non-zero return stops the copy and is returned by
 * sch_pg_copy_out() unchanged.
 */
typedef int sch_pg_copy_fn(void *arg, const void *data, size_t len);

/*
 * Runs `sql` (a COPY ... TO STDOUT) and hands its output to fn. Returns 0,
 * fn's non-zero return (the connection is drained and usable), or SCH_EDB.
 */
int sch_pg_copy_out(struct sch_pg *pg, const char *sql, sch_pg_copy_fn *fn,
		    void *arg);

/*
 * COPY ... FROM STDIN in three steps: start it, put data (any cut), end
 * it. sch_pg_copy_in_end() with `abort_msg` non-NULL makes the server fail
 * the COPY with that message (returns SCH_EDB). After a failure of _put,
 * call _end anyway: it finishes the protocol. Each returns 0 or SCH_EDB.
 */
int sch_pg_copy_in_begin(struct sch_pg *pg, const char *sql);
int sch_pg_copy_in_put(struct sch_pg *pg, const void *data, size_t len);
int sch_pg_copy_in_end(struct sch_pg *pg, const char *abort_msg);

#endif
