/*
 * pg.c - the one libpq wrapper (see include/schema/pg.h).
 *
 * Everything libpq says is translated here into SCH_EDB plus a message;
 * every PGresult is cleared on every path. Passwords are kept out of
 * messages in three ways: connection strings are only ever shown redacted,
 * libpq's parse errors for a string that holds a password are withheld
 * (they quote fragments of the string), and every message and notice has
 * the connection's password masked as a last line of defence.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "pq_lazy.h"

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/pg.h"

/* Passwords shorter than this are not searched for in messages: masking
 * every "test" in "database "test" does not exist" would mislead more
 * than it protects, and no known libpq or server message echoes one. */
#define SCRUB_MIN 6

struct sch_pg {
	PGconn *conn;
	sch_pg_notice_fn *notice_fn;
	void *notice_arg;
	int in_copy_in;
	int connected;		/* the connection was once established */
	struct sch_pg_err err;
	struct sch_buf message, detail, hint, context;
};

/* ---- small string helpers ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Replaces every occurrence of secret in b with "***". */
static void scrub(struct sch_buf *b, const char *secret)
{
	struct sch_buf tmp = SCH_BUF_INIT;
	size_t slen, i = 0;
	char *hit;

	if (!secret || (slen = strlen(secret)) < SCRUB_MIN)
		return;
	if (!strstr(b->ptr, secret))
		return;
	while ((hit = strstr(b->ptr + i, secret))) {
		sch_buf_add(&tmp, b->ptr + i, (size_t)(hit - (b->ptr + i)));
		sch_buf_addstr(&tmp, "***");
		i = (size_t)(hit - b->ptr) + slen;
	}
	sch_buf_addstr(&tmp, b->ptr + i);
	sch_buf_reset(b);
	sch_buf_add(b, tmp.ptr, tmp.len);
	sch_buf_release(&tmp);
}

/*
 * Appends libpq's multi-line message text as one line: lines joined by
 * "; ", trailing newline dropped. Lines libpq indents with a tab are
 * advice; they go to `hint` when it is non-NULL.
 */
static void add_oneline(struct sch_buf *out, struct sch_buf *hint,
			const char *text)
{
	const char *p = text ? text : "";

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		struct sch_buf *dst = out;

		if (*p == '\t') {
			if (hint)
				dst = hint;
			p++;
			n--;
		}
		while (n && is_space(p[n - 1]))
			n--;
		if (n) {
			if (dst->len)
				sch_buf_addstr(dst, dst == hint ? " " : "; ");
			sch_buf_add(dst, p, n);
		}
		p = e ? e + 1 : p + strlen(p);
	}
}

/* ---- errors ---- */

static void err_reset(struct sch_pg *pg)
{
	sch_buf_reset(&pg->message);
	sch_buf_reset(&pg->detail);
	sch_buf_reset(&pg->hint);
	sch_buf_reset(&pg->context);
	pg->err.sqlstate[0] = '\0';
	pg->err.position = 0;
	pg->err.index = -1;
}

static void err_publish(struct sch_pg *pg)
{
	const char *pw = pg->conn ? PQpass(pg->conn) : NULL;

	scrub(&pg->message, pw);
	scrub(&pg->detail, pw);
	scrub(&pg->hint, pw);
	scrub(&pg->context, pw);
	pg->err.message = pg->message.ptr;
	pg->err.detail = pg->detail.ptr;
	pg->err.hint = pg->hint.ptr;
	pg->err.context = pg->context.ptr;
}

/* Sets the per-thread error from pg->err and returns SCH_EDB. */
static int err_raise(struct sch_pg *pg)
{
	struct sch_buf m = SCH_BUF_INIT;

	err_publish(pg);
	if (pg->conn && pg->connected && PQstatus(pg->conn) == CONNECTION_BAD)
		sch_buf_addstr(&m, "lost connection to the server: ");
	sch_buf_addstr(&m, pg->message.len ? pg->message.ptr : "unknown error");
	if (pg->err.sqlstate[0])
		sch_buf_addf(&m, " (SQLSTATE %s)", pg->err.sqlstate);
	if (pg->detail.len)
		sch_buf_addf(&m, "; detail: %s", pg->detail.ptr);
	sch_error_set(SCH_EDB, "%s", m.ptr);
	if (pg->hint.len)
		sch_error_hint("%s", pg->hint.ptr);
	sch_buf_release(&m);
	return SCH_EDB;
}

/* A failure that libpq reports on the connection, not in a result. */
static int fail_conn(struct sch_pg *pg, const char *what)
{
	err_reset(pg);
	if (what) {
		sch_buf_addstr(&pg->message, what);
		if (*PQerrorMessage(pg->conn))
			sch_buf_addstr(&pg->message, ": ");
	}
	add_oneline(&pg->message, &pg->hint, PQerrorMessage(pg->conn));
	return err_raise(pg);
}

static int fail_msg(struct sch_pg *pg, const char *msg)
{
	err_reset(pg);
	sch_buf_addstr(&pg->message, msg);
	return err_raise(pg);
}

/* A failed result: the server's fields, or libpq's text when it has none. */
static int fail_result(struct sch_pg *pg, const PGresult *res, long index)
{
	const char *f;

	err_reset(pg);
	pg->err.index = index;
	f = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (f && strlen(f) == 5)
		memcpy(pg->err.sqlstate, f, 6);
	f = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	if (f)
		pg->err.position = atoi(f);
	f = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (f)
		add_oneline(&pg->message, NULL, f);
	else
		add_oneline(&pg->message, &pg->hint, PQresultErrorMessage(res));
	if (!pg->message.len)
		add_oneline(&pg->message, &pg->hint, PQerrorMessage(pg->conn));
	f = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (f)
		add_oneline(&pg->detail, NULL, f);
	f = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	if (f)
		add_oneline(&pg->hint, NULL, f);
	f = PQresultErrorField(res, PG_DIAG_CONTEXT);
	if (f)
		add_oneline(&pg->context, NULL, f);
	return err_raise(pg);
}

const struct sch_pg_err *sch_pg_last_error(const struct sch_pg *pg)
{
	return &pg->err;
}

/* Reads and drops the results still pending. */
static void drain_results(struct sch_pg *pg)
{
	PGresult *res;

	while ((res = PQgetResult(pg->conn)))
		PQclear(res);
}

/* Reads and drops the rest of an unwanted COPY so the connection is usable. */
static void drain_copy(struct sch_pg *pg, ExecStatusType st)
{
	char *data;

	if (st == PGRES_COPY_IN) {
		PQputCopyEnd(pg->conn, "COPY FROM STDIN is not supported here");
	} else if (st == PGRES_COPY_OUT) {
		while (PQgetCopyData(pg->conn, &data, 0) > 0)
			PQfreemem(data);
	}
	drain_results(pg);
}

/* Checks res against what the caller expects; res stays owned by caller. */
static int check_result(struct sch_pg *pg, PGresult *res,
			enum sch_pg_expect expect, long index)
{
	ExecStatusType st;

	if (!res)
		return fail_conn(pg, NULL);
	st = PQresultStatus(res);
	switch (st) {
	case PGRES_COMMAND_OK:
		if (expect == SCH_PG_OK || expect == SCH_PG_COMMAND)
			return 0;
		break;
	case PGRES_TUPLES_OK:
		if (expect == SCH_PG_OK || expect == SCH_PG_TUPLES)
			return 0;
		break;
	case PGRES_EMPTY_QUERY:
		if (expect == SCH_PG_OK)
			return 0;
		break;
	case PGRES_COPY_IN:
	case PGRES_COPY_OUT:
	case PGRES_COPY_BOTH:
		drain_copy(pg, st);
		err_reset(pg);
		pg->err.index = index;
		sch_buf_addstr(&pg->message,
			       "COPY to or from the client is not supported "
			       "in a script");
		return err_raise(pg);
	default:
		return fail_result(pg, res, index);
	}
	err_reset(pg);
	pg->err.index = index;
	sch_buf_addf(&pg->message, "unexpected result %s for a statement "
		     "that should give %s", PQresStatus(st),
		     expect == SCH_PG_TUPLES ? "rows" : "no rows");
	return err_raise(pg);
}

/* ---- connection strings ---- */

static int has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* libpq's test: a URI designator or an '=' makes a connection string. */
static int is_url(const char *s)
{
	return has_prefix_ci(s, "postgresql://") ||
	       has_prefix_ci(s, "postgres://");
}

static int is_conninfo(const char *s)
{
	return is_url(s) || strchr(s, '=') != NULL;
}

static int is_secret_key(const char *key, size_t n)
{
	return (n == 8 && strncasecmp(key, "password", 8) == 0) ||
	       (n == 11 && strncasecmp(key, "sslpassword", 11) == 0);
}

/* Appends v single-quoted for a key=value connection string. */
static void add_kv_value(struct sch_buf *out, const char *v)
{
	sch_buf_addch(out, '\'');
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			sch_buf_addch(out, '\\');
		sch_buf_addch(out, *v);
	}
	sch_buf_addch(out, '\'');
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (invalid escapes kept as they are). */
static void pct_decode(struct sch_buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			sch_buf_addch(out, (char)(hexval(s[i + 1]) * 16 +
						  hexval(s[i + 2])));
			i += 2;
		} else {
			sch_buf_addch(out, s[i]);
		}
	}
}

/* The query part of a URL: "k=v&k=v...", secrets masked. */
static void redact_url_query(struct sch_buf *out, const char *q)
{
	int after_secret = 0;

	while (*q) {
		size_t seg = strcspn(q, "&");
		const char *eq = memchr(q, '=', seg);

		if (eq) {
			struct sch_buf key = SCH_BUF_INIT;

			pct_decode(&key, q, (size_t)(eq - q));
			after_secret = is_secret_key(key.ptr, key.len);
			sch_buf_release(&key);
			sch_buf_add(out, q, (size_t)(eq - q) + 1);
			if (after_secret)
				sch_buf_addstr(out, "***");
			else
				sch_buf_add(out, eq + 1,
					    seg - (size_t)(eq - q) - 1);
		} else if (after_secret && seg) {
			/* a raw '&' inside a password: the rest is its tail */
			sch_buf_addstr(out, "***");
		} else {
			sch_buf_add(out, q, seg);
		}
		q += seg;
		if (*q == '&')
			sch_buf_addch(out, *q++);
	}
}

static void redact_url(struct sch_buf *out, const char *s)
{
	const char *auth = strstr(s, "://") + 3;
	const char *at = strrchr(auth, '@');
	const char *rest = auth;
	const char *q;

	sch_buf_add(out, s, (size_t)(auth - s));
	/*
	 * libpq takes the user info up to the first '@' before any '/'. We
	 * take it up to the last '@' anywhere: a password with a raw '@',
	 * '/' or '?' is then still masked, at the price of masking too much
	 * in the rare URL with an '@' in its query.
	 */
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		if (colon) {
			sch_buf_add(out, auth, (size_t)(colon - auth) + 1);
			sch_buf_addstr(out, "***");
		} else {
			sch_buf_add(out, auth, (size_t)(at - auth));
		}
		rest = at;
	}
	q = strchr(rest, '?');
	if (!q) {
		sch_buf_addstr(out, rest);
		return;
	}
	sch_buf_add(out, rest, (size_t)(q - rest) + 1);
	redact_url_query(out, q + 1);
}

static void redact_kv(struct sch_buf *out, const char *s);

/* Reads a key=value value at *pp into val (unescaped); returns 0 when the
 * value is an unterminated quoted string. */
static int kv_read_value(const char **pp, struct sch_buf *val)
{
	const char *p = *pp;

	if (*p == '\'') {
		p++;
		while (*p && *p != '\'') {
			if (*p == '\\' && p[1])
				p++;
			sch_buf_addch(val, *p++);
		}
		if (!*p) {
			*pp = p;
			return 0;
		}
		p++;
	} else {
		while (*p && !is_space(*p)) {
			if (*p == '\\' && p[1])
				p++;
			sch_buf_addch(val, *p++);
		}
	}
	*pp = p;
	return 1;
}

static void redact_kv(struct sch_buf *out, const char *s)
{
	const char *p = s;
	int after_secret = 0;

	while (*p) {
		const char *k = p, *v;
		size_t klen;
		struct sch_buf val = SCH_BUF_INIT;
		int closed;

		if (is_space(*p)) {
			sch_buf_addch(out, *p++);
			continue;
		}
		while (*p && *p != '=' && !is_space(*p))
			p++;
		klen = (size_t)(p - k);
		while (is_space(*p))
			p++;
		if (*p != '=') {
			/* a bare word: malformed, or the tail of a password
			 * that held a space */
			if (after_secret)
				sch_buf_addstr(out, "***");
			else
				sch_buf_add(out, k, klen);
			sch_buf_add(out, k + klen, (size_t)(p - (k + klen)));
			continue;
		}
		p++;
		while (is_space(*p))
			p++;
		sch_buf_add(out, k, (size_t)(p - k));
		v = p;
		closed = kv_read_value(&p, &val);
		after_secret = is_secret_key(k, klen);
		if (after_secret) {
			sch_buf_addstr(out, "***");
			if (!closed) {
				sch_buf_release(&val);
				return;
			}
		} else if (klen == 6 && strncasecmp(k, "dbname", 6) == 0 &&
			   is_conninfo(val.ptr)) {
			struct sch_buf inner = SCH_BUF_INIT;

			sch_pg_redact(&inner, val.ptr);
			if (strcmp(inner.ptr, val.ptr) != 0)
				add_kv_value(out, inner.ptr);
			else
				sch_buf_add(out, v, (size_t)(p - v));
			sch_buf_release(&inner);
		} else {
			sch_buf_add(out, v, (size_t)(p - v));
		}
		sch_buf_release(&val);
	}
}

int sch_pg_redact(struct sch_buf *out, const char *conninfo)
{
	struct sch_buf tmp = SCH_BUF_INIT;
	int rc;

	if (is_url(conninfo))
		redact_url(&tmp, conninfo);
	else if (strchr(conninfo, '='))
		redact_kv(&tmp, conninfo);
	else
		sch_buf_addstr(&tmp, conninfo);
	rc = sch_buf_add(out, tmp.ptr, tmp.len);
	sch_buf_release(&tmp);
	return rc;
}

/* A string that may hold a secret: its redaction differs, or it names one. */
static int may_hold_secret(const char *conninfo)
{
	struct sch_buf r = SCH_BUF_INIT;
	int yes;

	sch_pg_redact(&r, conninfo);
	yes = strcmp(r.ptr, conninfo) != 0 || strcasestr(conninfo, "password");
	sch_buf_release(&r);
	return yes;
}

/*
 * Parses conninfo with libpq, a bare name counting as a database name.
 * Returns 0 with *out set (PQconninfoFree), or SCH_EINVAL with a message
 * that quotes libpq only when the string holds no secret.
 */
static int parse_conninfo(PQconninfoOption **out, const char *conninfo)
{
	struct sch_buf tmp = SCH_BUF_INIT;
	char *errmsg = NULL;
	int rc = 0;

	if (!is_conninfo(conninfo) && *conninfo) {
		sch_buf_addstr(&tmp, "dbname=");
		add_kv_value(&tmp, conninfo);
		conninfo = tmp.ptr;
	}
	*out = PQconninfoParse(conninfo, &errmsg);
	if (*out)
		goto out;
	if (!errmsg) {
		rc = sch_error_set(SCH_EINVAL, "invalid connection string: "
				   "out of memory");
	} else if (may_hold_secret(conninfo)) {
		struct sch_buf r = SCH_BUF_INIT;

		sch_pg_redact(&r, conninfo);
		rc = sch_error_set(SCH_EINVAL, "invalid connection string '%s'",
				   r.ptr);
		sch_error_hint("libpq's reason is withheld because it may "
			       "quote the password");
		sch_buf_release(&r);
	} else {
		struct sch_buf m = SCH_BUF_INIT;

		add_oneline(&m, NULL, errmsg);
		rc = sch_error_set(SCH_EINVAL, "invalid connection string: %s",
				   m.ptr);
		sch_buf_release(&m);
	}
out:
	PQfreemem(errmsg);
	sch_buf_release(&tmp);
	return rc;
}

int sch_pg_conninfo_set(struct sch_buf *out, const char *conninfo,
			const char *key, const char *value)
{
	PQconninfoOption *opts = NULL, *o;
	struct sch_buf tmp = SCH_BUF_INIT;
	int rc, known = 0;

	rc = parse_conninfo(&opts, conninfo);
	if (rc)
		goto out;
	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, key) == 0)
			known = 1;
		if (!o->val || strcmp(o->keyword, key) == 0)
			continue;
		if (tmp.len)
			sch_buf_addch(&tmp, ' ');
		sch_buf_addf(&tmp, "%s=", o->keyword);
		add_kv_value(&tmp, o->val);
	}
	if (!known) {
		rc = sch_error_set(SCH_EINVAL, "unknown connection option '%s'",
				   key);
		goto out;
	}
	if (value) {
		if (tmp.len)
			sch_buf_addch(&tmp, ' ');
		sch_buf_addf(&tmp, "%s=", key);
		add_kv_value(&tmp, value);
	}
	rc = sch_buf_add(out, tmp.ptr, tmp.len);
out:
	PQconninfoFree(opts);
	sch_buf_release(&tmp);
	return rc;
}

/* What a sealed connection string states instead of libpq's compiled
 * default; every other option with an environment variable gets that
 * default, or "" when it has none. */
static const struct {
	const char *key, *val;
} sealed_pins[] = {
	{ "hostaddr", "" },
	{ "password", "" },
	{ "options", "" },
	{ "client_encoding", "UTF8" },
	{ "application_name", "schema" },
	{ "connect_timeout", "30" },
	{ "sslmode", "disable" },
	{ "gssencmode", "disable" },
	{ "channel_binding", "disable" },
	{ "target_session_attrs", "any" },
	{ "load_balance_hosts", "disable" },
	{ "requirepeer", "" },
	{ "require_auth", "" },
};

static void add_kv(struct sch_buf *out, const char *key, const char *val)
{
	if (out->len)
		sch_buf_addch(out, ' ');
	sch_buf_addf(out, "%s=", key);
	add_kv_value(out, val);
}

int sch_pg_conninfo_sealed(struct sch_buf *out, const char *dir,
			   const char *port, const char *user, const char *db)
{
	struct sch_buf tmp = SCH_BUF_INIT;
	char *passfile = xasprintf("%s/.no-pgpass", dir);
	const char *given[][2] = {
		{ "host", dir }, { "port", port }, { "user", user },
		{ "dbname", db }, { "passfile", passfile }, { "service", "" },
	};
	const size_t ngiven = sizeof(given) / sizeof(given[0]);
	const size_t npins = sizeof(sealed_pins) / sizeof(sealed_pins[0]);
	PQconninfoOption *defs = PQconndefaults(), *o;
	int rc;

	for (size_t i = 0; i < ngiven; i++)
		add_kv(&tmp, given[i][0], given[i][1]);
	for (o = defs; o && o->keyword; o++) {
		const char *val = o->compiled ? o->compiled : "";
		int skip = !o->envvar;

		for (size_t i = 0; i < ngiven && !skip; i++)
			skip = !strcmp(o->keyword, given[i][0]);
		if (skip)
			continue;
		for (size_t i = 0; i < npins; i++)
			if (!strcmp(o->keyword, sealed_pins[i].key))
				val = sealed_pins[i].val;
		add_kv(&tmp, o->keyword, val);
	}
	if (!defs)	/* out of memory in libpq: at least what we know */
		for (size_t i = 0; i < npins; i++)
			if (strcmp(sealed_pins[i].key, "load_balance_hosts") &&
			    strcmp(sealed_pins[i].key, "require_auth"))
				add_kv(&tmp, sealed_pins[i].key,
				       sealed_pins[i].val);
	PQconninfoFree(defs);
	sch_buf_reset(out);
	rc = sch_buf_add(out, tmp.ptr, tmp.len);
	sch_buf_release(&tmp);
	free(passfile);
	return rc;
}

/* 1 when the parsed options give service as "": no service at all. */
static int no_service(const PQconninfoOption *opts)
{
	for (; opts && opts->keyword; opts++)
		if (!strcmp(opts->keyword, "service"))
			return opts->val && !*opts->val;
	return 0;
}

/* The variables a connection string cannot override, hidden from libpq
 * while a "no service" connection starts (sch_pg_open()). */
static const char *const unsealable[] = { "PGSERVICE", "PGTZ", "PGDATESTYLE",
					  "PGGEQO" };
#define NUNSEALABLE (sizeof(unsealable) / sizeof(unsealable[0]))

static void env_hide(char *saved[NUNSEALABLE])
{
	for (size_t i = 0; i < NUNSEALABLE; i++) {
		const char *v = getenv(unsealable[i]);
		saved[i] = v ? xstrdup(v) : NULL;
		if (v)
			unsetenv(unsealable[i]);
	}
}

static void env_restore(char *saved[NUNSEALABLE])
{
	for (size_t i = 0; i < NUNSEALABLE; i++) {
		if (saved[i])
			setenv(unsealable[i], saved[i], 1);
		free(saved[i]);
	}
}

int sch_pg_resolve(struct sch_buf *out, enum sch_pg_from *from,
		   const struct sch_pg_source *src)
{
	static const struct {
		const char *var, *key;
	} parts[] = {
		{ "SCHEMA_DB_HOST", "host" },
		{ "SCHEMA_DB_PORT", "port" },
		{ "SCHEMA_DB_NAME", "dbname" },
		{ "SCHEMA_DB_USER", "user" },
		{ "SCHEMA_DB_PASSWORD", "password" },
	};
	struct sch_buf tmp = SCH_BUF_INIT;
	enum sch_pg_from f;
	const char *v;
	size_t i;
	int rc;

	if (src && src->url && *src->url) {
		f = SCH_PG_FROM_URL;
		sch_buf_addstr(&tmp, src->url);
	} else if (src && src->env_url && *src->env_url) {
		f = SCH_PG_FROM_CONFIG;
		sch_buf_addstr(&tmp, src->env_url);
	} else if ((v = getenv("DATABASE_URL")) && *v) {
		f = SCH_PG_FROM_DATABASE_URL;
		sch_buf_addstr(&tmp, v);
	} else {
		f = SCH_PG_FROM_DEFAULTS;
		for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			v = getenv(parts[i].var);
			if (!v || !*v)
				continue;
			f = SCH_PG_FROM_SCHEMA_DB;
			if (tmp.len)
				sch_buf_addch(&tmp, ' ');
			sch_buf_addf(&tmp, "%s=", parts[i].key);
			add_kv_value(&tmp, v);
		}
	}
	sch_buf_reset(out);
	rc = sch_buf_add(out, tmp.ptr, tmp.len);
	if (!rc && from)
		*from = f;
	sch_buf_release(&tmp);
	return rc;
}

const char *sch_pg_from_text(enum sch_pg_from from)
{
	switch (from) {
	case SCH_PG_FROM_URL:
		return "--url";
	case SCH_PG_FROM_CONFIG:
		return "config";
	case SCH_PG_FROM_DATABASE_URL:
		return "DATABASE_URL";
	case SCH_PG_FROM_SCHEMA_DB:
		return "SCHEMA_DB_*";
	case SCH_PG_FROM_DEFAULTS:
		return "libpq defaults";
	}
	return "unknown";
}

/* ---- child processes ---- */

static int env_name_eq(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

int sch_pg_child_init(struct sch_pg_child *out, const char *conninfo,
		      char *const *base)
{
	PQconninfoOption *opts = NULL, *o;
	struct sch_buf arg = SCH_BUF_INIT;
	size_t nbase = 0, nopt = 0, n = 0, i;
	int rc;

	out->envp = NULL;
	out->dbname_arg = NULL;
	rc = parse_conninfo(&opts, conninfo);
	if (rc)
		goto out;
	while (base && base[nbase])
		nbase++;
	for (o = opts; o->keyword; o++)
		nopt++;
	out->envp = xcalloc(nbase + nopt + 1, sizeof(char *));
	for (i = 0; i < nbase; i++) {
		int overridden = 0;

		for (o = opts; o->keyword; o++)
			if (o->val && o->envvar && env_name_eq(base[i], o->envvar))
				overridden = 1;
		if (!overridden)
			out->envp[n++] = xstrdup(base[i]);
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		/* "no service": PGSERVICE is left out (dropped above) */
		if (!strcmp(o->keyword, "service") && !*o->val)
			continue;
		if (o->envvar) {
			out->envp[n++] = xasprintf("%s=%s", o->envvar, o->val);
		} else if (!strchr(o->dispchar, '*')) {
			if (arg.len)
				sch_buf_addch(&arg, ' ');
			sch_buf_addf(&arg, "%s=", o->keyword);
			add_kv_value(&arg, o->val);
		}
	}
	if (arg.len)
		out->dbname_arg = sch_buf_detach(&arg, NULL);
out:
	PQconninfoFree(opts);
	sch_buf_release(&arg);
	return rc;
}

void sch_pg_child_release(struct sch_pg_child *c)
{
	size_t i;

	for (i = 0; c->envp && c->envp[i]; i++) {
		/* PGPASSWORD=...: do not leave it in freed memory */
		explicit_bzero(c->envp[i], strlen(c->envp[i]));
		free(c->envp[i]);
	}
	free(c->envp);
	free(c->dbname_arg);
	c->envp = NULL;
	c->dbname_arg = NULL;
}

/* ---- quoting ---- */

int sch_pg_quote_ident(struct sch_buf *out, const char *name)
{
	struct sch_buf tmp = SCH_BUF_INIT;
	int rc;

	sch_buf_addch(&tmp, '"');
	for (; *name; name++) {
		if (*name == '"')
			sch_buf_addch(&tmp, '"');
		sch_buf_addch(&tmp, *name);
	}
	sch_buf_addch(&tmp, '"');
	rc = sch_buf_add(out, tmp.ptr, tmp.len);
	sch_buf_release(&tmp);
	return rc;
}

int sch_pg_quote_literal(struct sch_buf *out, const char *s)
{
	struct sch_buf tmp = SCH_BUF_INIT;
	int rc;

	if (strchr(s, '\\'))
		sch_buf_addch(&tmp, 'E');
	sch_buf_addch(&tmp, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			sch_buf_addch(&tmp, *s);
		sch_buf_addch(&tmp, *s);
	}
	sch_buf_addch(&tmp, '\'');
	rc = sch_buf_add(out, tmp.ptr, tmp.len);
	sch_buf_release(&tmp);
	return rc;
}

/* ---- connections ---- */

static void notice_receiver(void *arg, const PGresult *res)
{
	struct sch_pg *pg = arg;
	struct sch_buf m = SCH_BUF_INIT;
	const char *sev, *primary;

	if (!pg->notice_fn)
		return;
	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (!sev)
		sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (primary)
		sch_buf_addstr(&m, primary);
	else
		add_oneline(&m, NULL, PQresultErrorMessage(res));
	scrub(&m, PQpass(pg->conn));
	pg->notice_fn(pg->notice_arg, sev ? sev : "NOTICE", m.ptr);
	sch_buf_release(&m);
}

void sch_pg_set_notice(struct sch_pg *pg, sch_pg_notice_fn *fn, void *arg)
{
	pg->notice_fn = fn;
	pg->notice_arg = arg;
}

static long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The connect_timeout in effect, in milliseconds (0 = none), with
 * libpq's own reading: at least 2 seconds. */
static long connect_timeout_ms(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn), *o;
	long ms = 0;

	for (o = opts; o && o->keyword; o++) {
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val) {
			ms = strtol(o->val, NULL, 10);
			if (ms > 0 && ms < 2)
				ms = 2;
			ms = ms > 0 ? ms * 1000 : 0;
		}
	}
	PQconninfoFree(opts);
	return ms;
}

/*
 * Drives PQconnectPoll to the end. Done by hand rather than with
 * PQconnectdbParams so that the notice receiver is in place before the
 * server can say anything (libpq's default would print to stderr).
 * connect_timeout is applied to each host libpq tries, as libpq does.
 */
static int connect_poll(PGconn *conn)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	long limit = connect_timeout_ms(conn), deadline = 0;
	int sock = -1;

	for (;;) {
		struct pollfd pfd;
		long wait = -1;
		int r;

		if (st == PGRES_POLLING_OK)
			return 0;
		if (st == PGRES_POLLING_FAILED)
			return -1;
		if (PQsocket(conn) != sock) {
			sock = PQsocket(conn);
			deadline = limit ? monotonic_ms() + limit : 0;
		}
		if (deadline) {
			wait = deadline - monotonic_ms();
			if (wait < 0)
				wait = 0;
		}
		pfd.fd = sock;
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)(wait > INT_MAX ? INT_MAX : wait));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -2;
		st = PQconnectPoll(conn);
	}
}

int sch_pg_open(struct sch_pg **out, const char *conninfo)
{
	/* Earlier keywords are overridden by what dbname expands to. */
	const char *const keys[] = { "client_encoding",
				     "fallback_application_name", "dbname",
				     NULL };
	const char *vals[] = { "UTF8", "schema", NULL, NULL };
	struct sch_pg *pg = NULL;
	PQconninfoOption *opts = NULL;
	struct sch_buf without = SCH_BUF_INIT;
	char *saved[NUNSEALABLE];
	int rc = 0, r, sealed = 0, hidden = 0;

	*out = NULL;
	if (!conninfo)
		conninfo = "";
	if (is_conninfo(conninfo)) {
		rc = parse_conninfo(&opts, conninfo);
		if (rc)
			goto out;
		sealed = no_service(opts);
	}
	if (sealed) {
		/* libpq would look an empty service up: leave it out, and
		 * PGSERVICE with it */
		rc = sch_pg_conninfo_set(&without, conninfo, "service", NULL);
		if (rc)
			goto out;
		conninfo = without.ptr;
	}
	vals[2] = conninfo;
	pg = xcalloc(1, sizeof(*pg));
	sch_buf_init(&pg->message);
	sch_buf_init(&pg->detail);
	sch_buf_init(&pg->hint);
	sch_buf_init(&pg->context);
	err_reset(pg);
	err_publish(pg);
	/* libpq reads PGSERVICE as the connection starts and PGTZ & co.
	 * when it sends the startup packet: hidden until connected */
	if (sealed) {
		env_hide(saved);
		hidden = 1;
	}
	pg->conn = PQconnectStartParams(keys, vals, 1);
	if (!pg->conn) {
		rc = fail_msg(pg, "cannot connect: out of memory");
		goto out;
	}
	PQsetNoticeReceiver(pg->conn, notice_receiver, pg);
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		rc = fail_conn(pg, NULL);
		goto out;
	}
	r = connect_poll(pg->conn);
	if (hidden) {
		env_restore(saved);
		hidden = 0;
	}
	if (r == -2) {
		rc = fail_msg(pg, "cannot connect: timeout expired");
		goto out;
	}
	if (r < 0 || PQstatus(pg->conn) != CONNECTION_OK) {
		int needs_pw = PQconnectionNeedsPassword(pg->conn);

		rc = fail_conn(pg, NULL);
		if (needs_pw)
			sch_error_hint("give the password in PGPASSWORD, "
				       "~/.pgpass or the connection string");
		goto out;
	}
	pg->connected = 1;
	*out = pg;
	pg = NULL;
out:
	if (hidden)
		env_restore(saved);
	PQconninfoFree(opts);
	sch_buf_release(&without);
	sch_pg_close(pg);
	return rc;
}

void sch_pg_close(struct sch_pg *pg)
{
	if (!pg)
		return;
	PQfinish(pg->conn);
	sch_buf_release(&pg->message);
	sch_buf_release(&pg->detail);
	sch_buf_release(&pg->hint);
	sch_buf_release(&pg->context);
	free(pg);
}

int sch_pg_server_version(const struct sch_pg *pg)
{
	return PQserverVersion(pg->conn);
}

int sch_pg_server_major(const struct sch_pg *pg)
{
	int v = PQserverVersion(pg->conn);

	return v >= 100000 ? v / 10000 : v / 100;
}

int sch_pg_backend_pid(const struct sch_pg *pg)
{
	return PQbackendPID(pg->conn);
}

const char *sch_pg_dbname(const struct sch_pg *pg)
{
	return PQdb(pg->conn);
}

const char *sch_pg_user(const struct sch_pg *pg)
{
	return PQuser(pg->conn);
}

/* ---- statements ---- */

int sch_pg_exec(struct sch_pg *pg, struct sch_pg_result **out,
		enum sch_pg_expect expect, const char *sql, int nparams,
		const char *const *params)
{
	PGresult *res;
	int rc;

	if (out)
		*out = NULL;
	res = PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL,
			   0);
	rc = check_result(pg, res, expect, -1);
	if (!rc && out) {
		*out = (struct sch_pg_result *)res;
		res = NULL;
	}
	PQclear(res);
	return rc;
}

int sch_pg_exec_script(struct sch_pg *pg, const char *sql)
{
	PGresult *res;
	int rc;

	res = PQexec(pg->conn, sql);
	rc = check_result(pg, res, SCH_PG_OK, -1);
	PQclear(res);
	return rc;
}

int sch_pg_query_value(struct sch_buf *out, struct sch_pg *pg,
		       const char *sql, int nparams, const char *const *params)
{
	PGresult *res;
	int rc;

	sch_buf_reset(out);
	res = PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL,
			   0);
	rc = check_result(pg, res, SCH_PG_TUPLES, -1);
	if (rc)
		goto out;
	if (PQnfields(res) != 1 || PQntuples(res) > 1) {
		rc = fail_msg(pg, "query for one value returned more");
		goto out;
	}
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		rc = sch_error_set(SCH_ENOTFOUND, "query returned no value");
		goto out;
	}
	rc = sch_buf_add(out, PQgetvalue(res, 0, 0),
			 (size_t)PQgetlength(res, 0, 0));
out:
	PQclear(res);
	return rc;
}

#define RES(r) ((const PGresult *)(r))

int sch_pg_result_rows(const struct sch_pg_result *r)
{
	return PQntuples(RES(r));
}

int sch_pg_result_cols(const struct sch_pg_result *r)
{
	return PQnfields(RES(r));
}

int sch_pg_result_col(const struct sch_pg_result *r, const char *name)
{
	return PQfnumber(RES(r), name);
}

const char *sch_pg_result_value(const struct sch_pg_result *r, int row,
				int col)
{
	return PQgetvalue(RES(r), row, col);
}

size_t sch_pg_result_len(const struct sch_pg_result *r, int row, int col)
{
	return (size_t)PQgetlength(RES(r), row, col);
}

int sch_pg_result_isnull(const struct sch_pg_result *r, int row, int col)
{
	return PQgetisnull(RES(r), row, col);
}

long sch_pg_result_affected(const struct sch_pg_result *r)
{
	/* PQcmdTuples takes a non-const pointer but does not write. */
	const char *t = PQcmdTuples((PGresult *)RES(r));

	return *t ? strtol(t, NULL, 10) : 0;
}

const char *sch_pg_result_tag(const struct sch_pg_result *r)
{
	return PQcmdStatus((PGresult *)RES(r));
}

void sch_pg_result_free(struct sch_pg_result *r)
{
	PQclear((PGresult *)r);
}

/* ---- transactions ---- */

enum sch_pg_tx sch_pg_tx_status(const struct sch_pg *pg)
{
	switch (PQtransactionStatus(pg->conn)) {
	case PQTRANS_IDLE:
		return SCH_PG_TX_IDLE;
	case PQTRANS_ACTIVE:
		return SCH_PG_TX_ACTIVE;
	case PQTRANS_INTRANS:
		return SCH_PG_TX_OPEN;
	case PQTRANS_INERROR:
		return SCH_PG_TX_FAILED;
	default:
		return SCH_PG_TX_UNKNOWN;
	}
}

/* Runs a parameterless command and returns its tag in `tag` (may be NULL). */
static int run_command(struct sch_pg *pg, const char *sql,
		       struct sch_buf *tag)
{
	PGresult *res = PQexec(pg->conn, sql);
	int rc = check_result(pg, res, SCH_PG_COMMAND, -1);

	if (!rc && tag)
		sch_buf_addstr(tag, PQcmdStatus(res));
	PQclear(res);
	return rc;
}

int sch_pg_begin(struct sch_pg *pg)
{
	if (sch_pg_tx_status(pg) != SCH_PG_TX_IDLE)
		return fail_msg(pg, "cannot begin a transaction: one is "
				    "already open or the connection is bad");
	return run_command(pg, "BEGIN", NULL);
}

int sch_pg_commit(struct sch_pg *pg)
{
	struct sch_buf tag = SCH_BUF_INIT;
	enum sch_pg_tx st = sch_pg_tx_status(pg);
	int rc;

	if (st != SCH_PG_TX_OPEN && st != SCH_PG_TX_FAILED) {
		rc = fail_msg(pg, "cannot commit: no transaction is open");
		goto out;
	}
	rc = run_command(pg, "COMMIT", &tag);
	if (rc)
		goto out;
	if (strcmp(tag.ptr, "COMMIT") != 0)
		rc = fail_msg(pg, "transaction rolled back: a statement in it "
				  "failed");
out:
	sch_buf_release(&tag);
	return rc;
}

int sch_pg_rollback(struct sch_pg *pg)
{
	enum sch_pg_tx st = sch_pg_tx_status(pg);

	if (st != SCH_PG_TX_OPEN && st != SCH_PG_TX_FAILED)
		return 0;
	return run_command(pg, "ROLLBACK", NULL);
}

/* ---- pipelined batches ---- */

/*
 * Reads a synced pipeline's results up to its sync: for each statement
 * sent, its result and then NULL; errors of the implicit commit arrive
 * after the last statement, before the sync. Keeps the first failure
 * (rc non-zero on entry keeps that one). When out is non-NULL, out[i]
 * receives statement i's result while every statement succeeds. Returns
 * 0 or SCH_EDB.
 */
static int read_batch(struct sch_pg *pg, const struct sch_pg_stmt *stmts,
		      size_t sent, int rc, struct sch_pg_result **out)
{
	PGresult *res;
	size_t i = 0;

	for (;;) {
		ExecStatusType st;

		res = PQgetResult(pg->conn);
		if (!res) {
			/* the end of one statement's results */
			if (PQstatus(pg->conn) == CONNECTION_BAD || i > sent) {
				if (!rc) {
					rc = fail_conn(pg, "batch interrupted");
					pg->err.index = (long)i;
				}
				break;
			}
			i++;
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (st != PGRES_PIPELINE_ABORTED && !rc)
			rc = check_result(pg, res, i < sent ? stmts[i].expect
							     : SCH_PG_COMMAND,
					  (long)i);
		if (!rc && out && i < sent && !out[i]) {
			out[i] = (struct sch_pg_result *)res;
			res = NULL;
		}
		PQclear(res);
	}
	return rc;
}

static int run_batch(struct sch_pg *pg, const struct sch_pg_stmt *stmts,
		     size_t n, struct sch_pg_result **out)
{
	size_t i, sent = 0;
	int rc = 0;

	if (out)
		for (i = 0; i < n; i++)
			out[i] = NULL;
	if (n == 0 || n > INT_MAX)
		return sch_error_set(SCH_EINVAL, "empty or oversized batch");
	if (PQenterPipelineMode(pg->conn) != 1)
		return fail_conn(pg, "cannot enter pipeline mode");
	for (i = 0; i < n; i++) {
		if (!PQsendQueryParams(pg->conn, stmts[i].sql, stmts[i].nparams,
				       NULL, stmts[i].params, NULL, NULL, 0)) {
			rc = fail_conn(pg, "cannot send a statement");
			pg->err.index = (long)i;
			break;
		}
		sent++;
	}
	if (PQpipelineSync(pg->conn) != 1) {
		if (!rc)
			rc = fail_conn(pg, "cannot send the batch");
		goto out;
	}
	rc = read_batch(pg, stmts, sent, rc, out);
out:
	if (PQexitPipelineMode(pg->conn) != 1 && !rc)
		rc = fail_conn(pg, "cannot leave pipeline mode");
	if (rc && out)
		for (i = 0; i < n; i++) {
			PQclear((PGresult *)out[i]);
			out[i] = NULL;
		}
	return rc;
}

int sch_pg_batch(struct sch_pg *pg, const struct sch_pg_stmt *stmts,
		 size_t n)
{
	return run_batch(pg, stmts, n, NULL);
}

int sch_pg_batch_results(struct sch_pg *pg, struct sch_pg_result **out,
			 const struct sch_pg_stmt *stmts, size_t n)
{
	return run_batch(pg, stmts, n, out);
}

/* ---- COPY ---- */

/* Reads the final results of a COPY; returns 0 or SCH_EDB. */
static int copy_finish(struct sch_pg *pg)
{
	PGresult *res;
	int rc = 0;

	while ((res = PQgetResult(pg->conn))) {
		if (!rc)
			rc = check_result(pg, res, SCH_PG_COMMAND, -1);
		PQclear(res);
	}
	return rc;
}

/* Asks the server to stop the running statement; best effort. */
static void cancel(struct sch_pg *pg)
{
	char eb[256];
	PGcancel *c = PQgetCancel(pg->conn);

	if (c) {
		PQcancel(c, eb, sizeof(eb));
		PQfreeCancel(c);
	}
}

int sch_pg_copy_out(struct sch_pg *pg, const char *sql, sch_pg_copy_fn *fn,
		    void *arg)
{
	PGresult *res;
	char *data = NULL;
	int rc = 0, n, stop = 0;

	res = PQexec(pg->conn, sql);
	if (!res || PQresultStatus(res) != PGRES_COPY_OUT) {
		rc = check_result(pg, res, SCH_PG_COMMAND, -1);
		if (!rc)
			rc = fail_msg(pg, "statement did not start a COPY TO "
					  "STDOUT");
		goto out;
	}
	while ((n = PQgetCopyData(pg->conn, &data, 0)) > 0) {
		if (!stop) {
			stop = fn(arg, data, (size_t)n);
			if (stop)
				cancel(pg);	/* and drain what was sent */
		}
		PQfreemem(data);
		data = NULL;
	}
	if (stop) {
		/* the cancel's error is expected; keep the caller's reason */
		rc = stop;
		drain_results(pg);
	} else if (n == -2) {
		rc = fail_conn(pg, "COPY failed");
		drain_results(pg);
	} else {
		rc = copy_finish(pg);
	}
out:
	PQclear(res);
	return rc;
}

int sch_pg_copy_in_begin(struct sch_pg *pg, const char *sql)
{
	PGresult *res = PQexec(pg->conn, sql);
	int rc = 0;

	if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
		rc = check_result(pg, res, SCH_PG_COMMAND, -1);
		if (!rc)
			rc = fail_msg(pg, "statement did not start a COPY FROM "
					  "STDIN");
	} else {
		pg->in_copy_in = 1;
	}
	PQclear(res);
	return rc;
}

int sch_pg_copy_in_put(struct sch_pg *pg, const void *data, size_t len)
{
	const char *p = data;

	if (!pg->in_copy_in)
		return fail_msg(pg, "no COPY FROM STDIN in progress");
	while (len) {
		int chunk = len > (1u << 30) ? 1 << 30 : (int)len;

		if (PQputCopyData(pg->conn, p, chunk) != 1)
			return fail_conn(pg, "cannot send COPY data");
		p += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

int sch_pg_copy_in_end(struct sch_pg *pg, const char *abort_msg)
{
	int rc;

	if (!pg->in_copy_in)
		return fail_msg(pg, "no COPY FROM STDIN in progress");
	pg->in_copy_in = 0;
	if (PQputCopyEnd(pg->conn, abort_msg) != 1) {
		rc = fail_conn(pg, "cannot end COPY");
		drain_results(pg);
		return rc;
	}
	return copy_finish(pg);
}
