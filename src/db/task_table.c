/* task_table.c - a json or jsonb column of a table migrated along a
 * task's version graph, in batches inside one transaction (task.h,
 * sch_task_table_migrate). The database half of task configs: the
 * documents' own migration and validation live in src/history/task.c. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/json.h"
#include "schema/pg.h"
#include "schema/task.h"

/* ---- tables ------------------------------------------------------- */

void sch_task_table_report_init(struct sch_task_table_report *r)
{
	memset(r, 0, sizeof(*r));
	sch_buf_init(&r->violations);
}

void sch_task_table_report_release(struct sch_task_table_report *r)
{
	size_t i;

	free(r->table);
	free(r->column);
	free(r->key);
	free(r->to);
	for (i = 0; i < r->ncounts; i++)
		free(r->counts[i].version);
	free(r->counts);
	free(r->failed_key);
	sch_buf_release(&r->violations);
	sch_task_table_report_init(r);
}

static int ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c >= 0x80;
}

/*
 * Reads one part of an SQL name at *p into out, as the server reads it: a
 * double-quoted part as written ("" for a quote), an unquoted one folded
 * to lower case. Stops at the first '.' outside quotes.
 */
static int name_part(struct sch_buf *out, const char **p, const char *opt,
		     const char *whole)
{
	const char *s = *p;

	sch_buf_reset(out);
	if (*s == '"') {
		for (s++;; s++) {
			if (!*s)
				return sch_error_set(SCH_EUSAGE,
						     "%s '%s': unterminated "
						     "quoted identifier",
						     opt, whole);
			if (*s == '"' && s[1] != '"')
				break;
			if (*s == '"')
				s++;
			sch_buf_addch(out, *s);
		}
		s++;
		if (!out->len)
			return sch_error_set(SCH_EUSAGE, "%s '%s': empty "
					     "quoted identifier", opt, whole);
	} else {
		if (!ident_start((unsigned char)*s))
			goto bad;
		for (; *s && *s != '.'; s++) {
			unsigned char c = (unsigned char)*s;

			if (!ident_start(c) && !(c >= '0' && c <= '9') &&
			    c != '$')
				goto bad;
			sch_buf_addch(out, c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	if (*s && *s != '.')
		goto bad;
	*p = s;
	return 0;
bad:
	sch_error_set(SCH_EUSAGE, "%s '%s' is not a valid name", opt, whole);
	sch_error_hint("write it as in SQL: name or schema.name, with double "
		       "quotes around parts that hold other characters");
	return SCH_EUSAGE;
}

/*
 * Splits a possibly schema-qualified table name into the quoted form
 * the server's to_regclass() reads ("s"."t").
 */
static int table_name(struct sch_buf *out, const char *table)
{
	struct sch_buf part = SCH_BUF_INIT;
	const char *p = table;
	int rc, parts = 0;

	for (;;) {
		rc = name_part(&part, &p, "--table", table);
		if (rc)
			goto out;
		if (++parts > 2) {
			rc = sch_error_set(SCH_EUSAGE, "--table '%s': more than "
					   "schema.name", table);
			goto out;
		}
		if (parts > 1)
			sch_buf_addch(out, '.');
		sch_pg_quote_ident(out, part.ptr);
		if (!*p)
			break;
		p++;
	}
out:
	sch_buf_release(&part);
	return rc;
}

/* Appends s as an element of an array literal: "..." with \ escapes. */
static void array_elem(struct sch_buf *b, const char *s, size_t len)
{
	const char *end = s + len, *run = s;

	if (b->len > 1)
		sch_buf_addch(b, ',');
	sch_buf_addch(b, '"');
	for (; s < end; s++) {
		if (*s != '"' && *s != '\\')
			continue;
		sch_buf_add(b, run, (size_t)(s - run));
		sch_buf_addch(b, '\\');
		run = s;
	}
	sch_buf_add(b, run, (size_t)(end - run));
	sch_buf_addch(b, '"');
}

static void array_null(struct sch_buf *b)
{
	if (b->len > 1)
		sch_buf_addch(b, ',');
	sch_buf_addstr(b, "NULL");
}

/* Appends s as a JSON string. */
static void json_str(struct sch_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const char *end = s + len, *run = s;

	sch_buf_addch(b, '"');
	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sch_buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			sch_buf_addch(b, '\\');
			sch_buf_addch(b, (char)c);
		} else {
			char u[7] = { '\\', 'u', '0', '0', hex[c >> 4],
				      hex[c & 15], 0 };
			sch_buf_addstr(b, u);
		}
	}
	sch_buf_add(b, run, (size_t)(end - run));
	sch_buf_addch(b, '"');
}

/*
 * Appends v as compact JSON whose numbers read back as the same values:
 * a real is written with the fewest digits (15 to 17) that give back the
 * same double, so 19.99 stays 19.99 (jansson's dumper would write
 * 19.989999999999998, a different numeric to jsonb), and keeps a '.' or an
 * exponent so that it stays a real.
 */
static void json_exact(struct sch_buf *b, const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i, n = 0;
	char num[40];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		sch_buf_addch(b, '{');
		json_object_foreach((json_t *)v, k, m) {
			if (n++)
				sch_buf_addch(b, ',');
			json_str(b, k, strlen(k));
			sch_buf_addch(b, ':');
			json_exact(b, m);
		}
		sch_buf_addch(b, '}');
		break;
	case JSON_ARRAY:
		sch_buf_addch(b, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				sch_buf_addch(b, ',');
			json_exact(b, json_array_get(v, i));
		}
		sch_buf_addch(b, ']');
		break;
	case JSON_STRING:
		json_str(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: {
		json_int_t x = json_integer_value(v);
		unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x
					     : (unsigned long long)x;
		char *e = num + sizeof(num), *d = e;

		do
			*--d = (char)('0' + u % 10);
		while (u /= 10);
		if (x < 0)
			*--d = '-';
		sch_buf_add(b, d, (size_t)(e - d));
		break;
	}
	case JSON_REAL: {
		double d = json_real_value(v);
		int p;

		for (p = 15; p < 17; p++) {
			snprintf(num, sizeof(num), "%.*g", p, d);
			if (strtod(num, NULL) == d)
				break;
		}
		if (p == 17)
			snprintf(num, sizeof(num), "%.17g", d);
		sch_buf_addstr(b, num);
		if (!strpbrk(num, ".eE"))
			sch_buf_addstr(b, ".0");
		break;
	}
	case JSON_TRUE:
		sch_buf_addstr(b, "true");
		break;
	case JSON_FALSE:
		sch_buf_addstr(b, "false");
		break;
	case JSON_NULL:
		sch_buf_addstr(b, "null");
		break;
	}
}

/*
 * A parser for the documents the server sends, several times faster than
 * jansson's (which reads a character at a time through a stream), so that
 * parsing does not dominate a table migration. Strict JSON (RFC 8259), one
 * value, as sch_json_parse() accepts it: duplicate keys and NUL characters
 * are refused, an integer beyond json_int_t and a real beyond a double are
 * errors rather than rounded (the row fails instead of changing).
 */
struct jparse {
	const char *p, *start, *end;
	struct sch_buf str;
	int depth;
};

#define JPARSE_MAX_DEPTH 2048

static int jp_error(struct jparse *j, const char *what)
{
	return sch_error_set(SCH_EPARSE, "document: byte %zu: %s",
			     (size_t)(j->p - j->start), what);
}

static void jp_space(struct jparse *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' ||
				 *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static int jp_hex4(struct jparse *j, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (j->end - j->p < 4)
		return jp_error(j, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		char c = *j->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return jp_error(j, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static void jp_utf8(struct sch_buf *b, unsigned c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3F));
		u[2] = (char)(0x80 | (c >> 6 & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	sch_buf_add(b, u, n);
}

/*
 * Reads a string after its opening quote. *out and *len point into the
 * input when it has no escape, else into j->str.
 */
static int jp_string(struct jparse *j, const char **out, size_t *len)
{
	const char *run = j->p;
	unsigned c, lo;
	int rc;

	while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
	       (unsigned char)*j->p >= 0x20)
		j->p++;
	if (j->p < j->end && *j->p == '"') {
		*out = run;
		*len = (size_t)(j->p++ - run);
		return 0;
	}
	sch_buf_reset(&j->str);
	for (;;) {
		sch_buf_add(&j->str, run, (size_t)(j->p - run));
		if (j->p >= j->end)
			return jp_error(j, "unterminated string");
		if (*j->p == '"')
			break;
		if ((unsigned char)*j->p < 0x20)
			return jp_error(j, "control character in a string");
		j->p++;	/* the backslash */
		if (j->p >= j->end)
			return jp_error(j, "unterminated string");
		switch (*j->p++) {
		case '"': sch_buf_addch(&j->str, '"'); break;
		case '\\': sch_buf_addch(&j->str, '\\'); break;
		case '/': sch_buf_addch(&j->str, '/'); break;
		case 'b': sch_buf_addch(&j->str, '\b'); break;
		case 'f': sch_buf_addch(&j->str, '\f'); break;
		case 'n': sch_buf_addch(&j->str, '\n'); break;
		case 'r': sch_buf_addch(&j->str, '\r'); break;
		case 't': sch_buf_addch(&j->str, '\t'); break;
		case 'u':
			if ((rc = jp_hex4(j, &c)))
				return rc;
			if (c >= 0xD800 && c < 0xDC00) {
				if (j->end - j->p < 2 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return jp_error(j, "lone surrogate");
				j->p += 2;
				if ((rc = jp_hex4(j, &lo)))
					return rc;
				if (lo < 0xDC00 || lo > 0xDFFF)
					return jp_error(j, "lone surrogate");
				c = 0x10000 + ((c - 0xD800) << 10) +
				    (lo - 0xDC00);
			} else if (c >= 0xDC00 && c <= 0xDFFF) {
				return jp_error(j, "lone surrogate");
			}
			if (!c)
				return jp_error(j, "\\u0000 is not allowed");
			jp_utf8(&j->str, c);
			break;
		default:
			j->p--;
			return jp_error(j, "bad escape");
		}
		run = j->p;
		while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
		       (unsigned char)*j->p >= 0x20)
			j->p++;
	}
	j->p++;
	*out = j->str.ptr;
	*len = j->str.len;
	return 0;
}

static int jp_digits(struct jparse *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

/*
 * A decimal's significant digits (no leading or trailing zeros) into dig
 * and the power of ten of the last of them into *exp; 0 "0" for zero.
 */
static void decimal_norm(const char *s, char *dig, size_t cap, long *exp)
{
	size_t n = 0;
	long e = 0, frac = 0;
	int seen_dot = 0;

	if (*s == '-' || *s == '+')
		s++;
	for (; *s && *s != 'e' && *s != 'E'; s++) {
		if (*s == '.') {
			seen_dot = 1;
			continue;
		}
		if (seen_dot)
			frac++;
		if ((n || *s != '0') && n + 1 < cap)
			dig[n++] = *s;
	}
	if (*s)
		e = strtol(s + 1, NULL, 10);
	e -= frac;
	while (n && dig[n - 1] == '0') {
		n--;
		e++;
	}
	dig[n] = '\0';
	if (!n) {
		dig[0] = '0';
		dig[1] = '\0';
		e = 0;
	}
	*exp = e;
}

/* 1 when the double d read from text prints back as the same number
 * (its shortest round-trip form has the same digits and scale). */
static int real_is_exact(const char *text, double d)
{
	char buf[40], a[64], b[64]; /* text is at most 63 characters */
	long ea, eb;

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	decimal_norm(text, a, sizeof(a), &ea);
	decimal_norm(buf, b, sizeof(b), &eb);
	return !strcmp(a, b) && ea == eb;
}

static int jp_number(struct jparse *j, json_t **out)
{
	const char *s = j->p;
	char num[64], *end;
	int real = 0;
	size_t n;

	if (*j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!jp_digits(j))
		return jp_error(j, "bad number");
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		real = 1;
		if (!jp_digits(j))
			return jp_error(j, "bad number");
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		real = 1;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jp_digits(j))
			return jp_error(j, "bad number");
	}
	n = (size_t)(j->p - s);
	if (n >= sizeof(num)) {
		/* Longer than any double or json_int_t needs: digits that
		 * would be lost. */
		j->p = s;
		return jp_error(j, "number too long to read exactly");
	}
	memcpy(num, s, n);
	num[n] = '\0';
	errno = 0;
	if (!real) {
		long long v = strtoll(num, &end, 10);

		if (errno == ERANGE) {
			j->p = s;
			return jp_error(j, "integer too big");
		}
		*out = json_integer((json_int_t)v);
	} else {
		double d = strtod(num, &end);

		if (errno == ERANGE) {
			j->p = s;
			return jp_error(j, "real number out of range");
		}
		if (!real_is_exact(num, d)) {
			/* the row would be written back rounded */
			j->p = s;
			return jp_error(j, "real number cannot be kept exactly");
		}
		*out = json_real(d);
	}
	return 0;
}

static int jp_value(struct jparse *j, json_t **out);

static int jp_object(struct jparse *j, json_t **out)
{
	json_t *o = json_object(), *v;
	const char *key;
	char *owned;
	size_t klen, size;
	int rc;

	j->p++;
	jp_space(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		*out = o;
		return 0;
	}
	for (;;) {
		if (j->p >= j->end || *j->p != '"') {
			rc = jp_error(j, "expected a member name");
			goto fail;
		}
		j->p++;
		if ((rc = jp_string(j, &key, &klen)))
			goto fail;
		if (memchr(key, '\0', klen)) {
			rc = jp_error(j, "NUL in a member name");
			goto fail;
		}
		/* An escaped key lives in j->str, which the value reuses. */
		owned = key == j->str.ptr ? xstrndup(key, klen) : NULL;
		if (owned)
			key = owned;
		jp_space(j);
		if (j->p >= j->end || *j->p != ':') {
			free(owned);
			rc = jp_error(j, "expected ':'");
			goto fail;
		}
		j->p++;
		rc = jp_value(j, &v);
		if (rc) {
			free(owned);
			goto fail;
		}
		size = json_object_size(o);
		rc = json_object_setn_new(o, key, klen, v);
		free(owned);
		if (rc || json_object_size(o) == size) {
			rc = jp_error(j, rc ? "invalid member name"
					    : "duplicate member name");
			goto fail;
		}
		jp_space(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jp_space(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			*out = o;
			return 0;
		}
		rc = jp_error(j, "expected ',' or '}'");
		goto fail;
	}
fail:
	json_decref(o);
	return rc;
}

static int jp_array(struct jparse *j, json_t **out)
{
	json_t *a = json_array(), *v;
	int rc;

	j->p++;
	jp_space(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		*out = a;
		return 0;
	}
	for (;;) {
		if ((rc = jp_value(j, &v)))
			break;
		json_array_append_new(a, v);
		jp_space(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			*out = a;
			return 0;
		}
		rc = jp_error(j, "expected ',' or ']'");
		break;
	}
	json_decref(a);
	return rc;
}

static int jp_word(struct jparse *j, const char *w, json_t *v, json_t **out)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n)) {
		json_decref(v);
		return jp_error(j, "unexpected character");
	}
	j->p += n;
	*out = v;
	return 0;
}

static int jp_value(struct jparse *j, json_t **out)
{
	const char *str;
	size_t len;
	int rc;

	*out = NULL;
	jp_space(j);
	if (j->p >= j->end)
		return jp_error(j, "unexpected end");
	if (++j->depth > JPARSE_MAX_DEPTH)
		return jp_error(j, "nested too deeply");
	switch (*j->p) {
	case '{':
		rc = jp_object(j, out);
		break;
	case '[':
		rc = jp_array(j, out);
		break;
	case '"':
		j->p++;
		rc = jp_string(j, &str, &len);
		if (!rc && memchr(str, '\0', len))
			rc = jp_error(j, "NUL in a string");
		if (!rc && !(*out = json_stringn(str, len)))
			rc = jp_error(j, "string is not valid UTF-8");
		break;
	case 't':
		rc = jp_word(j, "true", json_true(), out);
		break;
	case 'f':
		rc = jp_word(j, "false", json_false(), out);
		break;
	case 'n':
		rc = jp_word(j, "null", json_null(), out);
		break;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			rc = jp_number(j, out);
		else
			rc = jp_error(j, "unexpected character");
	}
	j->depth--;
	return rc;
}

/* Parses one JSON value from data. Returns 0 or SCH_EPARSE. */
static int parse_doc(json_t **out, struct jparse *j, const char *data,
		     size_t len)
{
	int rc;

	j->p = j->start = data;
	j->end = data + len;
	j->depth = 0;
	rc = jp_value(j, out);
	if (!rc) {
		jp_space(j);
		if (j->p < j->end) {
			json_decref(*out);
			*out = NULL;
			rc = jp_error(j, "text after the document");
		}
	}
	return rc;
}

/*
 * One batch: the rows fetched, and the parameters of the UPDATE that
 * writes those that change. Two batches are in flight: while a worker
 * thread migrates one, the main thread fetches or writes the other.
 */
struct table_job {
	struct table_run *r;
	struct sch_pg_result *res;
	/* Array literals: key columns, members to delete, members to set. */
	struct sch_buf *karr, darr, sarr;
	size_t nbatch;			/* rows in the arrays */
	/* The worker's outcome: its error travels to the main thread. */
	int rc;
	char *msg, *hint;
	pthread_t thread;
	int running;
};

/*
 * One migration of a table: what is resolved once, and what the worker
 * uses (never the main thread while a worker runs: the report's counts,
 * the parser, the path cache).
 */
struct table_run {
	struct sch_pg *pg;
	const struct sch_task_graph *g;
	struct sch_task_table_report *out;
	const char *to;
	char *qtable, *qcolumn;		/* quoted, for SQL */
	size_t nkeys;
	char **keys;			/* key column names; "ctid" */
	int json;			/* the column is json, not jsonb */
	struct sch_buf tmp, names;
	struct jparse jp;
	const struct sch_task_version *target;
	/* The path from each version met so far to the target. */
	struct table_path {
		char *from;
		struct sch_task_path path;
		/*
		 * Top-level members the path's operations may change in
		 * place (see row_migrate); all of them when `root`.
		 */
		char **cow;
		size_t ncow;
		int root;
	} *paths;
	size_t npaths;
};

/*
 * Notes the top-level member a pointer starts in, when an operation can
 * change that member's value in place: the pointer goes deeper (or
 * `always`, for the source of a move, whose value is shared after it).
 */
static void cow_note(struct table_path *tp, const char *ptr, int always)
{
	const char *end;
	struct sch_buf key = SCH_BUF_INIT;
	size_t i;

	if (!ptr)
		return;
	if (!*ptr) {
		tp->root = 1;
		return;
	}
	end = strchr(ptr + 1, '/');
	if (!end && !always)
		return;
	if (!end)
		end = ptr + strlen(ptr);
	for (ptr++; ptr < end; ptr++) {
		if (*ptr == '~' && ptr + 1 < end) {
			sch_buf_addch(&key, ptr[1] == '1' ? '/' : '~');
			ptr++;
		} else {
			sch_buf_addch(&key, *ptr);
		}
	}
	for (i = 0; i < tp->ncow; i++)
		if (!strcmp(tp->cow[i], key.ptr))
			break;
	if (i == tp->ncow) {
		tp->cow = xrealloc(tp->cow, (i + 1) * sizeof(*tp->cow));
		tp->cow[tp->ncow++] = sch_buf_detach(&key, NULL);
	}
	sch_buf_release(&key);
}

static void table_path_release(struct table_path *tp)
{
	size_t i;

	free(tp->from);
	sch_task_path_release(&tp->path);
	for (i = 0; i < tp->ncow; i++)
		free(tp->cow[i]);
	free(tp->cow);
}

/* The path from `from` to the target, found once per version. */
static int table_path(const struct table_path **out, struct table_run *r,
		      const char *from)
{
	struct table_path *tp;
	size_t i;
	int rc;

	for (i = 0; i < r->npaths; i++)
		if (!strcmp(r->paths[i].from, from)) {
			*out = &r->paths[i];
			return 0;
		}
	r->paths = xrealloc(r->paths, (r->npaths + 1) * sizeof(*r->paths));
	tp = &r->paths[r->npaths];
	memset(tp, 0, sizeof(*tp));
	sch_task_path_init(&tp->path);
	rc = sch_task_graph_path(&tp->path, r->g, from, r->to);
	for (i = 0; !rc && i < tp->path.n; i++) {
		const json_t *ops = tp->path.steps[i].ops;
		size_t k;

		for (k = 0; !rc && k < json_array_size(ops); k++) {
			const char *opath, *ofrom;
			int moves;
			rc = sch_task_op_paths(ops, k, &opath, &ofrom, &moves);
			if (rc)
				break;
			cow_note(tp, opath, 0);
			cow_note(tp, ofrom, moves);
		}
	}
	if (rc) {
		table_path_release(tp);
		return rc;
	}
	tp->from = xstrdup(from);
	r->npaths++;
	*out = tp;
	return 0;
}

/*
 * sch_task_migrate() for one row, without its per-document costs: the path
 * comes from the cache, no message is formatted, and the document is not
 * deep-copied. *old receives the document as it was: a shallow copy of
 * its root sharing the members' values with *doc, except for the members
 * an operation may change in place (a pointer below the top level, the
 * source of a move), which *doc gets deep copies of first. Operations at
 * the top level only replace members, so old keeps the original document
 * and unchanged members are the same values in both, which makes
 * comparing them cheap. On failure the caller runs sch_task_migrate() on
 * *old for the message and the report.
 */
static int row_migrate(struct table_run *r, json_t **doc, json_t **old,
		       const char *from)
{
	const struct table_path *tp;
	const struct sch_task_path *path;
	json_t *m;
	size_t i;
	int rc;

	*old = NULL;
	rc = table_path(&tp, r, from);
	if (rc)
		return rc;
	path = &tp->path;
	if (tp->root) {
		*old = json_deep_copy(*doc);
	} else {
		*old = json_copy(*doc);
		for (i = 0; i < tp->ncow; i++) {
			m = json_object_get(*doc, tp->cow[i]);
			if (m)
				json_object_set_new(*doc, tp->cow[i],
						    json_deep_copy(m));
		}
	}
	for (i = 0; !rc && i < path->n; i++) {
		rc = sch_task_apply_in_place(doc, path->steps[i].ops);
		if (!rc && !json_is_object(*doc))
			rc = SCH_ECHECK;
		if (!rc)
			json_object_set_new(*doc, SCH_TASK_VERSION_KEY,
					    json_string(path->steps[i].to));
	}
	if (!rc)
		rc = sch_task_schema_validate(r->target->compiled, *doc, NULL);
	return rc;
}

/* "id=42", "(a, b)=(1, x)", "ctid=(0,5)" for row `row` of res. */
static char *row_key(const struct table_run *r,
		     const struct sch_pg_result *res, int row)
{
	struct sch_buf b = SCH_BUF_INIT;
	size_t i;

	sch_buf_addstr(&b, r->out->key);
	sch_buf_addstr(&b, r->nkeys > 1 ? "=(" : "=");
	for (i = 0; i < r->nkeys; i++)
		sch_buf_addf(&b, "%s%s", i ? ", " : "",
			     sch_pg_result_value(res, row, (int)i));
	if (r->nkeys > 1)
		sch_buf_addch(&b, ')');
	return sch_buf_detach(&b, NULL);
}

/*
 * Turns the failure of a row's migration, whose message starts with
 * "row", into SCH_ECHECK naming the row by its key.
 */
static int row_failed(struct table_run *r, const struct sch_pg_result *res,
		      int row)
{
	const char *msg = sch_error_msg();
	char *rest;

	if (!strncmp(msg, "row:", 4))
		msg += 4 + (msg[4] == ' ');
	rest = xstrdup(msg);
	free(r->out->failed_key);
	r->out->failed_key = row_key(r, res, row);
	sch_error_set(SCH_ECHECK, "%s.%s: row %s: %s", r->out->table,
		      r->out->column, r->out->failed_key, rest);
	free(rest);
	return SCH_ECHECK;
}

static void count_version(struct sch_task_table_report *out,
			  const char *version)
{
	size_t i;

	for (i = 0; i < out->ncounts; i++)
		if (!strcmp(out->counts[i].version, version))
			break;
	if (i == out->ncounts) {
		out->counts = xrealloc(out->counts,
				       (i + 1) * sizeof(*out->counts));
		out->counts[i].version = xstrdup(version);
		out->counts[i].rows = 0;
		out->ncounts++;
	}
	out->counts[i].rows++;
}

/*
 * Adds a changed row to the batch: its key, the top-level members of old
 * that new lacks, and the members of new that old lacks or holds with a
 * different value.
 */
static void add_change(struct table_job *job, int row, const json_t *old,
		       const json_t *new)
{
	struct table_run *r = job->r;
	const struct sch_pg_result *res = job->res;
	const char *k;
	json_t *v, *ov;
	size_t i, n = 0;

	for (i = 0; i < r->nkeys; i++)
		array_elem(&job->karr[i], sch_pg_result_value(res, row, (int)i),
			   sch_pg_result_len(res, row, (int)i));
	sch_buf_reset(&r->names);
	sch_buf_addch(&r->names, '{');
	json_object_foreach((json_t *)old, k, v) {
		if (json_object_get(new, k))
			continue;
		array_elem(&r->names, k, strlen(k));
	}
	if (r->names.len > 1) {
		sch_buf_addch(&r->names, '}');
		array_elem(&job->darr, r->names.ptr, r->names.len);
	} else {
		array_null(&job->darr);
	}
	sch_buf_reset(&r->tmp);
	sch_buf_addch(&r->tmp, '{');
	json_object_foreach((json_t *)new, k, v) {
		ov = json_object_get(old, k);
		if (ov == v || (ov && sch_json_equal(ov, v)))
			continue;
		if (n++)
			sch_buf_addch(&r->tmp, ',');
		json_str(&r->tmp, k, strlen(k));
		sch_buf_addch(&r->tmp, ':');
		json_exact(&r->tmp, v);
	}
	sch_buf_addch(&r->tmp, '}');
	array_elem(&job->sarr, r->tmp.ptr, r->tmp.len);
	job->nbatch++;
}

/* Migrates the documents of one fetched batch into the job's arrays. */
static int migrate_rows(struct table_job *job)
{
	struct table_run *r = job->r;
	const struct sch_pg_result *res = job->res;
	struct sch_task_table_report *out = r->out;
	int row, rows = sch_pg_result_rows(res), col = (int)r->nkeys, rc = 0;
	int at_target;
	json_t *doc = NULL, *old = NULL;
	const char *from;

	for (row = 0; row < rows; row++) {
		out->read++;
		if (sch_pg_result_isnull(res, row, col)) {
			out->nulls++;
			continue;
		}
		rc = parse_doc(&doc, &r->jp, sch_pg_result_value(res, row, col),
			       sch_pg_result_len(res, row, col));
		if (rc)
			rc = sch_error_wrap(rc, "row");
		if (!rc)
			rc = sch_task_doc_version(&from, doc, "row");
		if (rc) {
			rc = row_failed(r, res, row);
			break;
		}
		count_version(out, from);
		at_target = !strcmp(from, r->to);
		if (at_target) {
			/* Checked, never written. */
			old = json_incref(doc);
			rc = sch_task_schema_validate(r->target->compiled, doc,
						      NULL);
		} else {
			rc = row_migrate(r, &doc, &old, from);
		}
		if (rc && !old) {
			/* No path: the message is set. */
			rc = row_failed(r, res, row);
			break;
		}
		if (rc) {
			/* Again, for the message and every violation. */
			if (at_target)
				rc = sch_task_validate(r->g, old, r->to, "row",
						       &out->violations);
			else
				rc = sch_task_migrate(&old, r->g, r->to, "row",
						      &out->violations);
			assert(rc);
			if (!rc)
				sch_error_set(SCH_ECHECK, "row: cannot be "
					      "migrated");
			rc = row_failed(r, res, row);
			break;
		}
		if (!at_target) {
			add_change(job, row, old, doc);
			out->changed++;
		}
		json_decref(old);
		old = NULL;
		json_decref(doc);
		doc = NULL;
	}
	json_decref(doc);
	json_decref(old);
	return rc;
}

/* Empties a job for the next batch (its result is freed). */
static void job_reset(struct table_job *job)
{
	size_t i;

	assert(!job->running);
	sch_pg_result_free(job->res);
	job->res = NULL;
	for (i = 0; i < job->r->nkeys; i++) {
		sch_buf_reset(&job->karr[i]);
		sch_buf_addch(&job->karr[i], '{');
	}
	sch_buf_reset(&job->darr);
	sch_buf_addch(&job->darr, '{');
	sch_buf_reset(&job->sarr);
	sch_buf_addch(&job->sarr, '{');
	job->nbatch = 0;
	job->rc = 0;
	free(job->msg);
	free(job->hint);
	job->msg = job->hint = NULL;
}

static void job_init(struct table_job *job, struct table_run *r)
{
	size_t i;

	memset(job, 0, sizeof(*job));
	job->r = r;
	job->karr = xcalloc(r->nkeys, sizeof(*job->karr));
	for (i = 0; i < r->nkeys; i++)
		sch_buf_init(&job->karr[i]);
	sch_buf_init(&job->darr);
	sch_buf_init(&job->sarr);
	job_reset(job);
}

static void *job_main(void *arg)
{
	struct table_job *job = arg;

	job->rc = migrate_rows(job);
	if (job->rc) {
		/* The error message is per thread. */
		job->msg = xstrdup(sch_error_msg());
		job->hint = xstrdup(sch_error_hint_msg());
	}
	return NULL;
}

/* Starts migrating a job's rows on a worker thread (or right here). */
static void job_start(struct table_job *job, struct sch_pg_result *res)
{
	job->res = res;
	if (!pthread_create(&job->thread, NULL, job_main, job))
		job->running = 1;
	else
		job_main(job);
}

/* Waits for the job and takes over its error. Returns its code. */
static int job_finish(struct table_job *job)
{
	if (job->running) {
		pthread_join(job->thread, NULL);
		job->running = 0;
	}
	if (job->rc) {
		sch_error_set(job->rc, "%s", job->msg);
		if (job->hint && *job->hint)
			sch_error_hint("%s", job->hint);
	}
	return job->rc;
}

static void job_release(struct table_job *job)
{
	size_t i;

	if (!job->r)
		return;
	if (job->running)
		pthread_join(job->thread, NULL);
	job->running = 0;
	job_reset(job);
	for (i = 0; i < job->r->nkeys; i++)
		sch_buf_release(&job->karr[i]);
	free(job->karr);
	sch_buf_release(&job->darr);
	sch_buf_release(&job->sarr);
}

/* Writes a job's changes: one UPDATE, one round trip. */
static int write_batch(struct table_job *job, const char *sql)
{
	struct table_run *r = job->r;
	const char **params = xcalloc(r->nkeys + 2, sizeof(*params));
	struct sch_pg_result *res = NULL;
	size_t i;
	long n;
	int rc;

	for (i = 0; i < r->nkeys; i++) {
		sch_buf_addch(&job->karr[i], '}');
		params[i] = job->karr[i].ptr;
	}
	sch_buf_addch(&job->darr, '}');
	sch_buf_addch(&job->sarr, '}');
	params[r->nkeys] = job->darr.ptr;
	params[r->nkeys + 1] = job->sarr.ptr;
	rc = sch_pg_exec(r->pg, &res, SCH_PG_COMMAND, sql,
			 (int)r->nkeys + 2, params);
	if (!rc && (n = sch_pg_result_affected(res)) != (long)job->nbatch)
		rc = sch_error_set(SCH_EDB, "updated %ld rows of %s instead "
				   "of %zu", n, r->out->table, job->nbatch);
	else if (rc)
		rc = sch_error_wrap(rc, "cannot update %s", r->out->table);
	sch_pg_result_free(res);
	free(params);
	return rc;
}

/* Finds the table, its column and its key; fills r and r->out. */
static int table_resolve(struct table_run *r, const struct sch_task_table_opts *o)
{
	struct sch_task_table_report *out = r->out;
	struct sch_buf name = SCH_BUF_INIT, col = SCH_BUF_INIT,
		       q = SCH_BUF_INIT;
	struct sch_pg_result *res = NULL;
	const char *p = o->column, *params[2];
	char relkind, *oid = NULL;
	int rc, i, n;

	rc = table_name(&name, o->table);
	if (!rc)
		rc = name_part(&col, &p, "--column", o->column);
	if (!rc && *p)
		rc = sch_error_set(SCH_EUSAGE, "--column '%s' is not a valid "
				   "name", o->column);
	if (rc)
		goto out;
	params[0] = name.ptr;
	rc = sch_pg_exec(r->pg, &res, SCH_PG_TUPLES,
			 "SELECT c.oid, n.nspname, c.relname, c.relkind "
			 "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
			 "ON n.oid = c.relnamespace "
			 "WHERE c.oid = pg_catalog.to_regclass($1)",
			 1, params);
	if (rc)
		goto out;
	if (!sch_pg_result_rows(res)) {
		rc = sch_error_set(SCH_EDB, "no table %s in database %s",
				   o->table, sch_pg_dbname(r->pg));
		sch_error_hint("an unqualified name follows the search_path; "
			       "write schema.name for another schema");
		goto out;
	}
	oid = xstrdup(sch_pg_result_value(res, 0, 0));
	out->table = xasprintf("%s.%s", sch_pg_result_value(res, 0, 1),
			       sch_pg_result_value(res, 0, 2));
	relkind = sch_pg_result_value(res, 0, 3)[0];
	sch_pg_quote_ident(&q, sch_pg_result_value(res, 0, 1));
	sch_buf_addch(&q, '.');
	sch_pg_quote_ident(&q, sch_pg_result_value(res, 0, 2));
	r->qtable = sch_buf_detach(&q, NULL);
	if (relkind != 'r' && relkind != 'p') {
		rc = sch_error_set(SCH_EDB, "%s is %s, not a table", out->table,
				   relkind == 'v' ? "a view"
				   : relkind == 'm' ? "a materialized view"
				   : relkind == 'f' ? "a foreign table"
				   : "not a table");
		goto out;
	}
	sch_pg_result_free(res);
	res = NULL;

	params[0] = oid;
	params[1] = col.ptr;
	rc = sch_pg_exec(r->pg, &res, SCH_PG_TUPLES,
			 "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod), "
			 "a.atttypid = 'pg_catalog.jsonb'::pg_catalog.regtype, "
			 "a.atttypid = 'pg_catalog.json'::pg_catalog.regtype, "
			 "a.attgenerated <> '' "
			 "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 "
			 "AND a.attname = $2 AND a.attnum > 0 "
			 "AND NOT a.attisdropped",
			 2, params);
	if (rc)
		goto out;
	out->column = xstrdup(col.ptr);
	if (!sch_pg_result_rows(res)) {
		rc = sch_error_set(SCH_EDB, "table %s has no column %s",
				   out->table, col.ptr);
		goto out;
	}
	if (*sch_pg_result_value(res, 0, 1) != 't' &&
	    *sch_pg_result_value(res, 0, 2) != 't') {
		rc = sch_error_set(SCH_EDB, "column %s of %s is %s, not jsonb "
				   "or json", col.ptr, out->table,
				   sch_pg_result_value(res, 0, 0));
		goto out;
	}
	if (*sch_pg_result_value(res, 0, 3) == 't') {
		rc = sch_error_set(SCH_EDB, "column %s of %s is generated",
				   col.ptr, out->table);
		goto out;
	}
	r->json = *sch_pg_result_value(res, 0, 2) == 't';
	sch_pg_quote_ident(&q, col.ptr);
	r->qcolumn = sch_buf_detach(&q, NULL);
	sch_pg_result_free(res);
	res = NULL;

	params[0] = oid;
	rc = sch_pg_exec(r->pg, &res, SCH_PG_TUPLES,
			 "SELECT a.attname, pg_catalog.format_type(a.atttypid, "
			 "a.atttypmod) FROM pg_catalog.pg_index i "
			 "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
			 "AND a.attnum = ANY (i.indkey) "
			 "WHERE i.indrelid = $1 AND i.indisprimary "
			 "ORDER BY pg_catalog.array_position(i.indkey::pg_catalog.int2[], "
			 "a.attnum)",
			 1, params);
	if (rc)
		goto out;
	n = sch_pg_result_rows(res);
	if (!n && relkind == 'p') {
		rc = sch_error_set(SCH_EDB, "partitioned table %s has no "
				   "primary key", out->table);
		sch_error_hint("a ctid names a row only within one partition; "
			       "migrate each partition on its own");
		goto out;
	}
	r->nkeys = n ? (size_t)n : 1;
	r->keys = xcalloc(r->nkeys * 2, sizeof(*r->keys));
	for (i = 0; i < n; i++) {
		r->keys[2 * i] = xstrdup(sch_pg_result_value(res, i, 0));
		r->keys[2 * i + 1] = xstrdup(sch_pg_result_value(res, i, 1));
	}
	if (!n) {
		r->keys[0] = xstrdup("ctid");
		r->keys[1] = xstrdup("tid");
		out->by_ctid = 1;
	}
	sch_buf_reset(&q);
	if (r->nkeys > 1)
		sch_buf_addch(&q, '(');
	for (i = 0; i < (int)r->nkeys; i++)
		sch_buf_addf(&q, "%s%s", i ? ", " : "", r->keys[2 * i]);
	if (r->nkeys > 1)
		sch_buf_addch(&q, ')');
	out->key = sch_buf_detach(&q, NULL);
out:
	sch_pg_result_free(res);
	free(oid);
	sch_buf_release(&name);
	sch_buf_release(&col);
	sch_buf_release(&q);
	return rc;
}

/* The cursor over the rows and the UPDATE of one batch. */
static void table_sql(struct sch_buf *declare, struct sch_buf *update,
		      const struct table_run *r, const char *where)
{
	size_t i;

	sch_buf_addstr(declare, "DECLARE schema_task_rows NO SCROLL CURSOR "
		       "FOR SELECT ");
	for (i = 0; i < r->nkeys; i++) {
		sch_pg_quote_ident(declare, r->keys[2 * i]);
		sch_buf_addstr(declare, ", ");
	}
	sch_buf_addf(declare, "%s FROM %s", r->qcolumn, r->qtable);
	/* On lines of its own: a trailing -- comment ends there. */
	if (where)
		sch_buf_addf(declare, " WHERE (\n%s\n)", where);
	sch_buf_addstr(declare, " ORDER BY ");
	for (i = 0; i < r->nkeys; i++) {
		sch_buf_addstr(declare, i ? ", " : "");
		sch_pg_quote_ident(declare, r->keys[2 * i]);
	}

	/*
	 * Keys travel as text and are cast on the parameter's side of the
	 * comparison, so that the key's index is used (and an array-typed
	 * key is not flattened by unnest). d: member names to delete, as a
	 * text[] literal, or NULL; s: the members to set, as text cast row
	 * by row (PostgreSQL 15 reads a large jsonb[] parameter several
	 * times slower than a text[] one and as many jsonb values).
	 */
	sch_buf_addf(update, "UPDATE %s AS schema_t SET %s = ", r->qtable,
		     r->qcolumn);
	if (r->json)
		sch_buf_addf(update, "((schema_t.%s::pg_catalog.jsonb - "
			     "COALESCE(schema_v.d::pg_catalog.text[], '{}')) "
			     "|| schema_v.s::pg_catalog.jsonb)::pg_catalog.json",
			     r->qcolumn);
	else
		sch_buf_addf(update, "(schema_t.%s - "
			     "COALESCE(schema_v.d::pg_catalog.text[], '{}')) "
			     "|| schema_v.s::pg_catalog.jsonb", r->qcolumn);
	sch_buf_addstr(update, " FROM unnest(");
	for (i = 0; i < r->nkeys; i++)
		sch_buf_addf(update, "$%zu::pg_catalog.text[], ", i + 1);
	sch_buf_addf(update, "$%zu::pg_catalog.text[], "
		     "$%zu::pg_catalog.text[]) AS schema_v(",
		     r->nkeys + 1, r->nkeys + 2);
	for (i = 0; i < r->nkeys; i++)
		sch_buf_addf(update, "k%zu, ", i);
	sch_buf_addstr(update, "d, s) WHERE ");
	for (i = 0; i < r->nkeys; i++) {
		sch_buf_addstr(update, i ? " AND schema_t." : "schema_t.");
		sch_pg_quote_ident(update, r->keys[2 * i]);
		sch_buf_addf(update, " = schema_v.k%zu::%s", i,
			     r->keys[2 * i + 1]);
	}
}

static int count_cmp(const void *a, const void *b)
{
	const struct sch_task_table_count *x = a, *y = b;

	return sch_task_version_cmp(x->version, y->version);
}

/* Fetches the next batch. Returns 0 or SCH_EDB. */
static int fetch_batch(struct sch_pg_result **out, struct table_run *r,
		       const char *sql)
{
	int rc = sch_pg_exec(r->pg, out, SCH_PG_TUPLES, sql, 0, NULL);

	if (rc)
		rc = sch_error_wrap(rc, "cannot read %s", r->out->table);
	return rc;
}

int sch_task_table_migrate(struct sch_task_table_report *out,
			   struct sch_pg *pg, const struct sch_task_graph *g,
			   const struct sch_task_table_opts *o)
{
	struct table_run r;
	struct table_job jobs[2], *cur = &jobs[0], *next = &jobs[1], *swap;
	struct sch_buf declare = SCH_BUF_INIT, update = SCH_BUF_INIT,
		       fetch = SCH_BUF_INIT;
	struct sch_pg_result *res = NULL;
	size_t batch = o->batch ? o->batch : SCH_TASK_BATCH_DEFAULT, i;
	const struct sch_pg_err *e;
	int rc, began = 0, more;

	sch_task_table_report_release(out);
	memset(&r, 0, sizeof(r));
	memset(jobs, 0, sizeof(jobs));
	r.pg = pg;
	r.g = g;
	r.out = out;
	sch_buf_init(&r.tmp);
	sch_buf_init(&r.names);
	sch_buf_init(&r.jp.str);
	r.to = o->to ? o->to : sch_task_graph_newest(g);
	if (!r.to || !(r.target = sch_task_graph_get(g, r.to))) {
		rc = sch_error_set(SCH_ENOTFOUND, "task %s has no version %s",
				   sch_task_graph_name(g), r.to ? r.to : "at all");
		goto out;
	}
	out->to = xstrdup(r.to);
	if (batch > SCH_TASK_BATCH_MAX) {
		rc = sch_error_set(SCH_EUSAGE, "--batch: at most %d rows",
				   SCH_TASK_BATCH_MAX);
		goto out;
	}

	/*
	 * One snapshot for reading and writing: a row another session
	 * changes after it is a serialization failure, never a lost update.
	 */
	rc = sch_pg_begin(pg);
	if (rc)
		goto out;
	began = 1;
	rc = sch_pg_exec(pg, NULL, SCH_PG_COMMAND, o->dry_run ?
			 "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, "
			 "READ ONLY" :
			 "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
			 0, NULL);
	if (!rc)
		rc = table_resolve(&r, o);
	if (rc)
		goto out;
	job_init(cur, &r);
	job_init(next, &r);
	table_sql(&declare, &update, &r, o->where);
	sch_buf_addf(&fetch, "FETCH FORWARD %zu FROM schema_task_rows", batch);
	rc = sch_pg_exec(pg, NULL, SCH_PG_COMMAND, declare.ptr, 0, NULL);
	if (rc) {
		rc = sch_error_wrap(rc, "cannot read %s", out->table);
		if (o->where)
			sch_error_hint("--where is SQL run as given: check "
				       "it with psql");
		goto out;
	}
	/*
	 * The UPDATE joins a batch to the table: by its primary key's index,
	 * whatever the sizes of the two. A hash or merge join would read
	 * the whole table for every batch once a batch is large enough to
	 * tempt the planner. Set after DECLARE: --where keeps its plan.
	 */
	rc = sch_pg_exec(pg, NULL, SCH_PG_TUPLES,
			 "SELECT pg_catalog.set_config('enable_hashjoin', 'off', true), "
			 "pg_catalog.set_config('enable_mergejoin', 'off', true)",
			 0, NULL);
	if (rc)
		goto out;

	/*
	 * Two jobs in turn, so that the server and the worker run side by
	 * side: while the worker migrates batch n, the server reads batch
	 * n + 1; while the worker migrates batch n + 1, the server writes
	 * batch n. Memory holds two batches at most.
	 */
	rc = fetch_batch(&res, &r, fetch.ptr);
	more = !rc && sch_pg_result_rows(res) > 0;
	if (more)
		job_start(cur, res);
	else
		sch_pg_result_free(res);
	res = NULL;
	while (!rc && more) {
		rc = fetch_batch(&res, &r, fetch.ptr);
		if (rc)
			break;
		more = sch_pg_result_rows(res) > 0;
		rc = job_finish(cur);
		if (rc)
			break;
		if (more)
			job_start(next, res);
		else
			sch_pg_result_free(res);
		res = NULL;
		if (cur->nbatch && !o->dry_run)
			rc = write_batch(cur, update.ptr);
		job_reset(cur);
		swap = cur;
		cur = next;
		next = swap;
	}
	if (rc)
		goto out;
	if (o->dry_run)
		rc = sch_pg_rollback(pg);
	else
		rc = sch_pg_commit(pg);
	began = 0;
out:
	e = sch_pg_last_error(pg);
	if (rc == SCH_EDB && e && !strcmp(e->sqlstate, "40001"))
		sch_error_hint("another session changed rows of %s during the "
			       "migration; run it again", out->table);
	if (began)
		sch_pg_rollback(pg);
	sch_pg_result_free(res);
	/* Joins a worker still running: out is the main thread's again. */
	job_release(&jobs[0]);
	job_release(&jobs[1]);
	if (out->ncounts)
		qsort(out->counts, out->ncounts, sizeof(*out->counts),
		      count_cmp);
	for (i = 0; r.keys && i < 2 * r.nkeys; i++)
		free(r.keys[i]);
	free(r.keys);
	free(r.qtable);
	free(r.qcolumn);
	sch_buf_release(&r.tmp);
	sch_buf_release(&r.names);
	sch_buf_release(&r.jp.str);
	for (i = 0; i < r.npaths; i++)
		table_path_release(&r.paths[i]);
	free(r.paths);
	sch_buf_release(&declare);
	sch_buf_release(&update);
	sch_buf_release(&fetch);
	return rc;
}
