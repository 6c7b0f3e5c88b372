/*
 * sqlparse.c - the one libpg_query wrapper (see include/schema/sqlparse.h).
 *
 * Splitting uses pg_query_split_with_parser (no tree is built); the
 * classification parses the script once more with pg_query_parse and reads
 * the JSON tree with jansson. That JSON is libpg_query's private output, so
 * it is read here, beside the library that makes it, rather than through
 * the application's JSON module.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <pg_query.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/sqlparse.h"

static const char *name_of(const char *file)
{
	return file ? file : "<sql>";
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

int sch_sql_line_at(const void *sql, size_t len, size_t off)
{
	const char *s = sql, *p = s, *end;
	int line = 1;

	end = s + (off < len ? off : len);
	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		line++;
		p++;
	}
	return line;
}

size_t sch_sql_pos_to_offset(const void *sql, size_t len, size_t stmt_off,
			     int pos)
{
	const unsigned char *s = sql;
	size_t i = stmt_off < len ? stmt_off : len;
	int k;

	for (k = 1; k < pos && i < len; k++) {
		i++;
		while (i < len && (s[i] & 0xC0) == 0x80)
			i++;
	}
	return i;
}

int sch_sql_pos_to_line(const void *sql, size_t len, size_t stmt_off,
			int pos)
{
	return sch_sql_line_at(sql, len,
			       sch_sql_pos_to_offset(sql, len, stmt_off, pos));
}

/* Skips whitespace and comments (block comments nest, as in PostgreSQL). */
static size_t skip_blank(const char *s, size_t i, size_t end)
{
	for (;;) {
		while (i < end && is_space(s[i]))
			i++;
		if (i + 1 < end && s[i] == '-' && s[i + 1] == '-') {
			/* as in the server's scanner, \r also ends it */
			while (i < end && s[i] != '\n' && s[i] != '\r')
				i++;
		} else if (i + 1 < end && s[i] == '/' && s[i + 1] == '*') {
			int depth = 1;

			i += 2;
			while (i < end && depth) {
				if (i + 1 < end && s[i] == '/' && s[i + 1] == '*') {
					depth++;
					i += 2;
				} else if (i + 1 < end && s[i] == '*' &&
					   s[i + 1] == '/') {
					depth--;
					i += 2;
				} else {
					i++;
				}
			}
		} else {
			return i;
		}
	}
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned lo = 0x80, hi = 0xBF;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/*
 * Copies the script into a NUL-terminated buffer for libpg_query.
 * Returns 0, or SCH_EPARSE for an embedded NUL or bytes that are not
 * UTF-8 (the server would refuse them, and libpg_query's JSON cannot carry
 * them).
 */
static int to_cstring(char **out, const char *file, const void *sql,
		      size_t len)
{
	const unsigned char *s = sql;
	size_t i = 0, n;

	*out = NULL;
	while (i < len) {
		if (s[i] == 0)
			return sch_error_set(SCH_EPARSE,
					     "%s:%d: NUL byte in script",
					     name_of(file),
					     sch_sql_line_at(sql, len, i));
		n = utf8_seq(s + i, len - i);
		if (!n)
			return sch_error_set(SCH_EPARSE,
					     "%s:%d: invalid UTF-8 in script",
					     name_of(file),
					     sch_sql_line_at(sql, len, i));
		i += n;
	}
	*out = xstrndup(sql, len);
	return 0;
}

/* 1-based column (in characters) of byte offset off in sql. */
static int column_at(const char *sql, size_t off)
{
	size_t start = off;
	int col = 1;

	while (start > 0 && sql[start - 1] != '\n')
		start--;
	for (size_t i = start; i < off; i++)
		if (((unsigned char)sql[i] & 0xC0) != 0x80)
			col++;
	return col;
}

/* Turns a libpg_query error into "file:line:column: message". */
static int parse_error(const char *file, const char *sql, size_t len,
		       const PgQueryError *e)
{
	if (e->cursorpos > 0) {
		size_t off = sch_sql_pos_to_offset(sql, len, 0, e->cursorpos);
		return sch_error_set(SCH_EPARSE, "%s:%d:%d: %s", name_of(file),
				     sch_sql_line_at(sql, len, off),
				     column_at(sql, off), e->message);
	}
	return sch_error_set(SCH_EPARSE, "%s: %s", name_of(file), e->message);
}

void sch_sql_script_release(struct sch_sql_script *s)
{
	free(s->stmts);
	s->stmts = NULL;
	s->n = 0;
}

int sch_sql_split(struct sch_sql_script *out, const char *file,
		  const void *sql, size_t len)
{
	PgQuerySplitResult r = { 0 };
	char *text = NULL;
	int rc, i, parsed = 0;

	out->stmts = NULL;
	out->n = 0;
	rc = to_cstring(&text, file, sql, len);
	if (rc)
		goto out;
	r = pg_query_split_with_parser(text);
	parsed = 1;
	if (r.error) {
		rc = parse_error(file, text, len, r.error);
		goto out;
	}
	out->stmts = xcalloc(r.n_stmts ? (size_t)r.n_stmts : 1,
			     sizeof(*out->stmts));
	for (i = 0; i < r.n_stmts; i++) {
		size_t off = (size_t)r.stmts[i]->stmt_location;
		size_t end = off + (size_t)r.stmts[i]->stmt_len;
		struct sch_sql_stmt *st;

		if (end > len || off > end)
			end = len;
		off = skip_blank(text, off, end);
		while (end > off && is_space(text[end - 1]))
			end--;
		if (end == off)
			continue;
		st = &out->stmts[out->n++];
		st->off = off;
		st->len = end - off;
		st->line = sch_sql_line_at(text, len, off);
	}
out:
	if (parsed)
		pg_query_free_split_result(r);
	free(text);
	if (rc)
		sch_sql_script_release(out);
	return rc;
}

int sch_sql_check(const char *file, const void *sql, size_t len)
{
	struct sch_sql_script s;
	int rc = sch_sql_split(&s, file, sql, len);

	sch_sql_script_release(&s);
	return rc;
}

/* ---- classification ---- */

/* PostgreSQL's parse_bool, for option values: false, no, off, 0. */
static int text_is_false(const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		return 0;
	return strncasecmp(v, "false", n) == 0 ||
	       strncasecmp(v, "no", n) == 0 ||
	       (n >= 2 && strncasecmp(v, "off", n) == 0) ||
	       strcmp(v, "0") == 0;
}

/* The value of a DefElem's arg as a boolean; no arg means true. */
static int defelem_true(json_t *defelem)
{
	json_t *arg = json_object_get(defelem, "arg"), *v;

	if (!arg)
		return 1;
	if ((v = json_object_get(arg, "String"))) {
		const char *sval = json_string_value(json_object_get(v, "sval"));

		return !text_is_false(sval ? sval : "");
	}
	if ((v = json_object_get(arg, "TypeName"))) {
		/* a bare word such as off parses as a type name */
		json_t *names = json_object_get(v, "names");
		json_t *last = json_array_get(names,
					      json_array_size(names) - 1);
		const char *sval = json_string_value(json_object_get(
			json_object_get(last, "String"), "sval"));

		return !text_is_false(sval ? sval : "");
	}
	if ((v = json_object_get(arg, "Boolean")))
		return json_is_true(json_object_get(v, "boolval"));
	if ((v = json_object_get(arg, "Integer")))
		return json_integer_value(json_object_get(v, "ival")) != 0;
	return 1;
}

/*
 * Looks for the DefElem `name` in a list of options: returns its boolean
 * value, or `dflt` when absent.
 */
static int option_bool(json_t *options, const char *name, int dflt)
{
	size_t i;
	json_t *el;

	json_array_foreach(options, i, el) {
		json_t *d = json_object_get(el, "DefElem");
		const char *n = json_string_value(json_object_get(d, "defname"));

		if (n && strcasecmp(n, name) == 0)
			return defelem_true(d);
	}
	return dflt;
}

static int has_option(json_t *options, const char *name)
{
	size_t i;
	json_t *el;

	json_array_foreach(options, i, el) {
		json_t *d = json_object_get(el, "DefElem");
		const char *n = json_string_value(json_object_get(d, "defname"));

		if (n && strcasecmp(n, name) == 0)
			return 1;
	}
	return 0;
}

static int str_is(json_t *node, const char *key, const char *value)
{
	const char *v = json_string_value(json_object_get(node, key));

	return v && strcmp(v, value) == 0;
}

static int flag(json_t *node, const char *key)
{
	return json_is_true(json_object_get(node, key));
}

/* Classifies one statement node; sets *what when it returns flags. */
static unsigned classify_node(const char *type, json_t *n, int major,
			      const char **what)
{
	if (strcmp(type, "IndexStmt") == 0) {
		if (flag(n, "concurrent"))
			return *what = "CREATE INDEX CONCURRENTLY", SCH_SQL_NOTX;
	} else if (strcmp(type, "DropStmt") == 0) {
		if (flag(n, "concurrent"))
			return *what = "DROP INDEX CONCURRENTLY", SCH_SQL_NOTX;
	} else if (strcmp(type, "ReindexStmt") == 0) {
		if (option_bool(json_object_get(n, "params"), "concurrently",
				0))
			return *what = "REINDEX CONCURRENTLY", SCH_SQL_NOTX;
		if (str_is(n, "kind", "REINDEX_OBJECT_SCHEMA"))
			return *what = "REINDEX SCHEMA", SCH_SQL_NOTX;
		if (str_is(n, "kind", "REINDEX_OBJECT_DATABASE"))
			return *what = "REINDEX DATABASE", SCH_SQL_NOTX;
		if (str_is(n, "kind", "REINDEX_OBJECT_SYSTEM"))
			return *what = "REINDEX SYSTEM", SCH_SQL_NOTX;
	} else if (strcmp(type, "VacuumStmt") == 0) {
		if (flag(n, "is_vacuumcmd"))
			return *what = "VACUUM", SCH_SQL_NOTX;
	} else if (strcmp(type, "ClusterStmt") == 0) {
		if (!json_object_get(n, "relation"))
			return *what = "CLUSTER without a table", SCH_SQL_NOTX;
	} else if (strcmp(type, "CreatedbStmt") == 0) {
		return *what = "CREATE DATABASE", SCH_SQL_NOTX;
	} else if (strcmp(type, "DropdbStmt") == 0) {
		return *what = "DROP DATABASE", SCH_SQL_NOTX;
	} else if (strcmp(type, "AlterDatabaseStmt") == 0) {
		if (has_option(json_object_get(n, "options"), "tablespace"))
			return *what = "ALTER DATABASE SET TABLESPACE",
			       SCH_SQL_NOTX;
	} else if (strcmp(type, "CreateTableSpaceStmt") == 0) {
		return *what = "CREATE TABLESPACE", SCH_SQL_NOTX;
	} else if (strcmp(type, "DropTableSpaceStmt") == 0) {
		return *what = "DROP TABLESPACE", SCH_SQL_NOTX;
	} else if (strcmp(type, "AlterSystemStmt") == 0) {
		return *what = "ALTER SYSTEM", SCH_SQL_NOTX;
	} else if (strcmp(type, "DiscardStmt") == 0) {
		if (str_is(n, "target", "DISCARD_ALL"))
			return *what = "DISCARD ALL", SCH_SQL_NOTX;
	} else if (strcmp(type, "AlterEnumStmt") == 0) {
		/* ADD VALUE has no oldVal; RENAME VALUE has one. */
		if (major < 12 && json_object_get(n, "newVal") &&
		    !json_object_get(n, "oldVal"))
			return *what = "ALTER TYPE ... ADD VALUE (server "
				       "before 12)", SCH_SQL_NOTX;
	} else if (strcmp(type, "AlterTableStmt") == 0) {
		size_t i;
		json_t *c;

		json_array_foreach(json_object_get(n, "cmds"), i, c) {
			json_t *cmd = json_object_get(c, "AlterTableCmd");
			json_t *pc = json_object_get(json_object_get(cmd, "def"),
						     "PartitionCmd");

			if (str_is(cmd, "subtype", "AT_DetachPartition") &&
			    flag(pc, "concurrent"))
				return *what = "ALTER TABLE ... DETACH "
					       "PARTITION CONCURRENTLY",
				       SCH_SQL_NOTX;
		}
	} else if (strcmp(type, "CreateSubscriptionStmt") == 0) {
		json_t *o = json_object_get(n, "options");

		if (option_bool(o, "connect", 1) &&
		    option_bool(o, "create_slot", 1))
			return *what = "CREATE SUBSCRIPTION", SCH_SQL_NOTX;
	} else if (strcmp(type, "DropSubscriptionStmt") == 0) {
		/* Allowed in a block only when the subscription has no slot,
		 * which the script does not say. */
		return *what = "DROP SUBSCRIPTION", SCH_SQL_NOTX;
	} else if (strcmp(type, "AlterSubscriptionStmt") == 0) {
		json_t *o = json_object_get(n, "options");

		if (str_is(n, "kind", "ALTER_SUBSCRIPTION_REFRESH"))
			return *what = "ALTER SUBSCRIPTION ... REFRESH",
			       SCH_SQL_NOTX;
		if ((str_is(n, "kind", "ALTER_SUBSCRIPTION_SET_PUBLICATION") ||
		     str_is(n, "kind", "ALTER_SUBSCRIPTION_ADD_PUBLICATION") ||
		     str_is(n, "kind", "ALTER_SUBSCRIPTION_DROP_PUBLICATION")) &&
		    option_bool(o, "refresh", 1))
			return *what = "ALTER SUBSCRIPTION ... PUBLICATION "
				       "with refresh", SCH_SQL_NOTX;
	} else if (strcmp(type, "TransactionStmt") == 0) {
		static const struct {
			const char *kind, *what;
		} tx[] = {
			{ "TRANS_STMT_BEGIN", "BEGIN" },
			{ "TRANS_STMT_START", "START TRANSACTION" },
			{ "TRANS_STMT_COMMIT", "COMMIT" },
			{ "TRANS_STMT_ROLLBACK", "ROLLBACK" },
			{ "TRANS_STMT_PREPARE", "PREPARE TRANSACTION" },
			{ "TRANS_STMT_COMMIT_PREPARED", "COMMIT PREPARED" },
			{ "TRANS_STMT_ROLLBACK_PREPARED", "ROLLBACK PREPARED" },
		};
		size_t i;

		for (i = 0; i < sizeof(tx) / sizeof(tx[0]); i++)
			if (str_is(n, "kind", tx[i].kind))
				return *what = tx[i].what, SCH_SQL_TXCONTROL;
	}
	return 0;
}

int sch_sql_classify(struct sch_sql_script *script, const char *file,
		     const void *sql, size_t len, int server_major)
{
	PgQueryParseResult r = { 0 };
	json_t *tree = NULL, *stmts, *el;
	json_error_t jerr;
	char *text = NULL;
	size_t i;
	int rc, parsed = 0;

	rc = to_cstring(&text, file, sql, len);
	if (rc)
		goto out;
	r = pg_query_parse(text);
	parsed = 1;
	if (r.error) {
		rc = parse_error(file, text, len, r.error);
		goto out;
	}
	tree = json_loads(r.parse_tree, JSON_DECODE_ANY, &jerr);
	stmts = json_object_get(tree, "stmts");
	/* The parser drops empty statements, as the splitter does. */
	if (!tree || json_array_size(stmts) != script->n) {
		rc = sch_error_set(SCH_EPARSE, "%s: cannot classify statements "
				   "(%zu parsed, %zu split)", name_of(file),
				   json_array_size(stmts), script->n);
		goto out;
	}
	json_array_foreach(stmts, i, el) {
		json_t *node = json_object_get(el, "stmt");
		void *it = json_object_iter(node);
		struct sch_sql_stmt *st = &script->stmts[i];

		st->flags = 0;
		st->what = NULL;
		if (!it)
			continue;
		st->flags = classify_node(json_object_iter_key(it),
					  json_object_iter_value(it),
					  server_major, &st->what);
		if (!st->flags)
			st->what = NULL;
	}
out:
	json_decref(tree);
	if (parsed)
		pg_query_free_parse_result(r);
	free(text);
	return rc;
}

int sch_sql_needs_notx(struct sch_sql_notx *out, const char *file,
		       const void *sql, size_t len, int server_major)
{
	struct sch_sql_script s = { 0 };
	size_t i;
	int rc;

	out->line = 0;
	out->what = NULL;
	rc = sch_sql_split(&s, file, sql, len);
	if (rc)
		goto out;
	rc = sch_sql_classify(&s, file, sql, len, server_major);
	if (rc)
		goto out;
	for (i = 0; i < s.n; i++) {
		const struct sch_sql_stmt *st = &s.stmts[i];

		if (st->flags & SCH_SQL_TXCONTROL) {
			rc = sch_error_set(SCH_EPARSE, "%s:%d: %s is not "
					   "allowed in a migration",
					   name_of(file), st->line, st->what);
			sch_error_hint("schema runs each step in a transaction "
				       "with its registry row; a script that "
				       "cannot run in one gets flag notx");
			goto out;
		}
		if ((st->flags & SCH_SQL_NOTX) && !out->line) {
			out->line = st->line;
			out->what = st->what;
		}
	}
out:
	if (rc) {
		out->line = 0;
		out->what = NULL;
	}
	sch_sql_script_release(&s);
	return rc;
}
