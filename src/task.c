/*
 * task.c - versioned task configurations: operations (JSON Patch plus
 * "default"), a closed JSON Schema subset, `task` objects, version graphs
 * and migration. See task.h and docs/task-configs.md.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/json.h"
#include "schema/object.h"
#include "schema/pg.h"
#include "schema/task.h"

/*
 * Replaces the current error message by "<prefix>: <message>" and returns
 * code (which may differ from the code the message was set with).
 */
static int rewrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int rewrap(int code, const char *fmt, ...)
{
	struct sch_buf prefix = SCH_BUF_INIT;
	char *prev = xstrdup(sch_error_msg());
	va_list ap;

	va_start(ap, fmt);
	sch_buf_vaddf(&prefix, fmt, ap);
	va_end(ap);
	sch_error_set(code, "%s: %s", prefix.ptr, prev);
	sch_buf_release(&prefix);
	free(prev);
	return code;
}

/* A short rendering of a value for messages: canonical, cut at 60 bytes. */
static void add_value(struct sch_buf *out, const json_t *v)
{
	struct sch_buf b = SCH_BUF_INIT;

	b.max = 4096;
	if (sch_json_dump(&b, v) || b.len > 60) {
		sch_buf_truncate(&b, b.len > 57 ? 57 : b.len);
		sch_buf_addstr(&b, "...");
	}
	sch_buf_add(out, b.ptr, b.len);
	sch_buf_release(&b);
}

/* ---- names and versions ------------------------------------------- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int sch_task_check_name(const char *name)
{
	size_t i, n = strlen(name);

	if (!n || n > SCH_TASK_NAME_MAX || !is_alnum(name[0]))
		goto bad;
	for (i = 1; i < n; i++)
		if (!is_alnum(name[i]) && !strchr("._-", name[i]))
			goto bad;
	return 0;
bad:
	sch_error_set(SCH_EINVAL, "invalid task name '%s'", name);
	sch_error_hint("a task name is up to %d letters, digits, '.', '_' "
		       "or '-', starting with a letter or digit",
		       SCH_TASK_NAME_MAX);
	return SCH_EINVAL;
}

int sch_task_check_version(const char *version)
{
	const char *p = version;

	if (strlen(version) > SCH_TASK_VERSION_MAX)
		goto bad;
	for (;;) {
		const char *start = p;

		while (is_digit(*p))
			p++;
		if (p == start || (*start == '0' && p - start > 1))
			goto bad;
		if (!*p)
			return 0;
		if (*p++ != '.')
			goto bad;
	}
bad:
	sch_error_set(SCH_EINVAL, "invalid version '%s'", version);
	sch_error_hint("a version is dotted decimal without leading zeros, "
		       "such as 1.0 or 2.1.3");
	return SCH_EINVAL;
}

int sch_task_version_cmp(const char *a, const char *b)
{
	for (;;) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		int c;

		/* No leading zeros: a longer number is a larger one. */
		if (la != lb)
			return la < lb ? -1 : 1;
		c = memcmp(a, b, la);
		if (c)
			return c < 0 ? -1 : 1;
		a += la;
		b += lb;
		if (!*a || !*b)
			return (*a != 0) - (*b != 0);
		a++;
		b++;
	}
}

/* ---- operations --------------------------------------------------- */

enum op_kind { OP_ADD, OP_REMOVE, OP_REPLACE, OP_MOVE, OP_COPY, OP_TEST,
	       OP_DEFAULT };

static const struct {
	const char *name;
	int needs_value;
	int needs_from;
} op_kinds[] = {
	[OP_ADD] = { "add", 1, 0 },	  [OP_REMOVE] = { "remove", 0, 0 },
	[OP_REPLACE] = { "replace", 1, 0 }, [OP_MOVE] = { "move", 0, 1 },
	[OP_COPY] = { "copy", 0, 1 },	  [OP_TEST] = { "test", 1, 0 },
	[OP_DEFAULT] = { "default", 1, 0 },
};

struct op {
	enum op_kind kind;
	const char *path;
	const char *from;     /* move, copy */
	const json_t *value;  /* add, replace, test, default */
};

/* Reads and checks operation i of ops. */
static int op_read(struct op *o, const json_t *ops, size_t i)
{
	const json_t *e = json_array_get(ops, i), *m;
	const char *name;
	size_t k;
	int rc;

	memset(o, 0, sizeof(*o));
	if (!json_is_object(e))
		return sch_error_set(SCH_EINVAL, "operation %zu: not an object",
				     i);
	m = json_object_get(e, "op");
	if (!json_is_string(m))
		return sch_error_set(SCH_EINVAL,
				     "operation %zu: 'op' must be a string", i);
	name = json_string_value(m);
	for (k = 0; k < sizeof(op_kinds) / sizeof(op_kinds[0]); k++)
		if (!strcmp(name, op_kinds[k].name))
			break;
	if (k == sizeof(op_kinds) / sizeof(op_kinds[0]))
		return sch_error_set(SCH_EINVAL,
				     "operation %zu: unknown op '%s'", i, name);
	o->kind = (enum op_kind)k;
	m = json_object_get(e, "path");
	if (!json_is_string(m))
		return sch_error_set(SCH_EINVAL,
				     "operation %zu (%s): 'path' must be a "
				     "string",
				     i, name);
	o->path = json_string_value(m);
	rc = sch_json_pointer_check(o->path);
	if (rc)
		return rewrap(rc, "operation %zu (%s %s)", i, name, o->path);
	if (op_kinds[k].needs_value) {
		o->value = json_object_get(e, "value");
		if (!o->value)
			return sch_error_set(SCH_EINVAL,
					     "operation %zu (%s %s): missing "
					     "'value'",
					     i, name, o->path);
	}
	if (op_kinds[k].needs_from) {
		size_t fl;

		m = json_object_get(e, "from");
		if (!json_is_string(m))
			return sch_error_set(SCH_EINVAL,
					     "operation %zu (%s %s): 'from' "
					     "must be a string",
					     i, name, o->path);
		o->from = json_string_value(m);
		rc = sch_json_pointer_check(o->from);
		if (rc)
			return rewrap(rc, "operation %zu (%s %s)", i, name,
				      o->path);
		fl = strlen(o->from);
		if (o->kind == OP_MOVE && !strncmp(o->path, o->from, fl) &&
		    o->path[fl] == '/')
			return sch_error_set(SCH_EINVAL,
					     "operation %zu (move %s): cannot "
					     "move '%s' into itself",
					     i, o->path, o->from);
	}
	return 0;
}

int sch_task_ops_check(const json_t *ops)
{
	struct op o;
	size_t i;
	int rc;

	if (!json_is_array(ops))
		return sch_error_set(SCH_EINVAL,
				     "an operation list must be a json array, "
				     "not %s",
				     sch_json_type_name(ops));
	for (i = 0; i < json_array_size(ops); i++) {
		rc = op_read(&o, ops, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* The default op refuses "-": it would append on every run. */
static int default_target_is_end(json_t *doc, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent_ptr;
	json_t *parent = NULL;
	int end = 0;

	if (!slash || strcmp(slash, "/-"))
		return 0;
	parent_ptr = xstrndup(path, (size_t)(slash - path));
	if (!sch_json_pointer_get(&parent, doc, parent_ptr))
		end = json_is_array(parent);
	free(parent_ptr);
	return end;
}

static int op_apply(json_t **doc, const struct op *o)
{
	struct sch_buf b = SCH_BUF_INIT;
	json_t *cur = NULL;
	int rc;

	switch (o->kind) {
	case OP_ADD:
		return sch_json_pointer_set(doc, o->path,
					    json_deep_copy(o->value),
					    SCH_JSON_ADD);
	case OP_REPLACE:
		return sch_json_pointer_set(doc, o->path,
					    json_deep_copy(o->value),
					    SCH_JSON_REPLACE);
	case OP_REMOVE:
		return sch_json_pointer_remove(doc, o->path, NULL);
	case OP_MOVE:
		if (!strcmp(o->from, o->path))
			return sch_json_pointer_get(&cur, *doc, o->from);
		rc = sch_json_pointer_remove(doc, o->from, &cur);
		if (rc)
			return rc;
		return sch_json_pointer_set(doc, o->path, cur, SCH_JSON_ADD);
	case OP_COPY:
		rc = sch_json_pointer_get(&cur, *doc, o->from);
		if (rc)
			return rc;
		return sch_json_pointer_set(doc, o->path, json_deep_copy(cur),
					    SCH_JSON_ADD);
	case OP_TEST:
		rc = sch_json_pointer_get(&cur, *doc, o->path);
		if (rc)
			return rc;
		if (sch_json_equal(cur, o->value))
			return 0;
		sch_buf_addstr(&b, "test failed: found ");
		add_value(&b, cur);
		sch_buf_addstr(&b, ", expected ");
		add_value(&b, o->value);
		rc = sch_error_set(SCH_ECHECK, "%s", b.ptr);
		sch_buf_release(&b);
		return rc;
	case OP_DEFAULT:
		if (default_target_is_end(*doc, o->path))
			return sch_error_set(SCH_EINVAL,
					     "default cannot append with '-'");
		/* The common case, a member of the root, without the
		 * message a failed lookup formats. */
		if (json_is_object(*doc) && o->path[0] == '/' &&
		    !strpbrk(o->path + 1, "/~")) {
			if (json_object_get(*doc, o->path + 1))
				return 0;
			return sch_json_pointer_set(doc, o->path,
						    json_deep_copy(o->value),
						    SCH_JSON_ADD);
		}
		rc = sch_json_pointer_get(&cur, *doc, o->path);
		if (rc != SCH_ENOTFOUND)
			return rc;
		return sch_json_pointer_set(doc, o->path,
					    json_deep_copy(o->value),
					    SCH_JSON_ADD);
	}
	assert(0);
	return SCH_EINVAL;
}

/* Applies checked ops to *work, which the caller owns alone. */
static int apply_in_place(json_t **work, const json_t *ops)
{
	struct op o;
	size_t i;
	int rc;

	for (i = 0; i < json_array_size(ops); i++) {
		rc = op_read(&o, ops, i);
		if (rc)
			return rc;
		rc = op_apply(work, &o);
		if (rc)
			return rewrap(SCH_ECHECK, "operation %zu (%s %s)", i,
				      op_kinds[o.kind].name, o.path);
	}
	return 0;
}

int sch_task_ops_apply(json_t **doc, const json_t *ops)
{
	json_t *work = NULL;
	int rc;

	rc = sch_task_ops_check(ops);
	if (rc)
		goto out;
	work = json_deep_copy(*doc);
	rc = apply_in_place(&work, ops);
	if (rc)
		goto out;
	json_decref(*doc);
	*doc = work;
	work = NULL;
out:
	json_decref(work);
	return rc;
}

/* ---- schemas ------------------------------------------------------ */

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_INTEGER = 1 << 5,
	T_STRING = 1 << 6,
};

static const struct {
	const char *name;
	unsigned bit;
} type_names[] = {
	{ "null", T_NULL },	  { "boolean", T_BOOLEAN }, { "object", T_OBJECT },
	{ "array", T_ARRAY },	  { "number", T_NUMBER },   { "integer", T_INTEGER },
	{ "string", T_STRING },
};

struct node;

struct prop {
	const char *name;
	size_t len;
	struct node *schema;
};

struct node {
	int never;              /* the schema `false` */
	unsigned types;         /* 0: any type */
	const json_t *enum_v;   /* borrowed from the schema document */
	const json_t *const_v;
	const json_t *required;
	struct prop *props;
	size_t nprops;
	int no_additional;      /* additionalProperties: false */
	struct node *additional;
	struct node *items;
	const json_t *minimum, *maximum, *xminimum, *xmaximum;
	int has_min_len, has_max_len;
	size_t min_len, max_len;
	int has_pattern;
	const char *pattern;
	regex_t re;
};

struct sch_task_schema {
	json_t *doc;
	struct node *root;
};

static void node_free(struct node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nprops; i++)
		node_free(n->props[i].schema);
	free(n->props);
	node_free(n->additional);
	node_free(n->items);
	if (n->has_pattern)
		regfree(&n->re);
	free(n);
}

static int schema_error(const struct sch_buf *at, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int schema_error(const struct sch_buf *at, const char *fmt, ...)
{
	struct sch_buf b = SCH_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sch_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	sch_error_set(SCH_EINVAL, "schema %s at %s", b.ptr,
		      at->len ? at->ptr : "(root)");
	sch_buf_release(&b);
	return SCH_EINVAL;
}

/* Bounds on what regcomp() is asked to build from one pattern. */
#define PATTERN_MAX_DEPTH 32
#define PATTERN_MAX_NODES 10000

/* Reads an interval "{n}", "{n,}" or "{n,m}" at s; 0 if s is not one. */
static size_t interval(const char **s)
{
	const char *p = *s + 1;
	size_t n = 0, m = 0;

	if (!is_digit(*p))
		return 0;
	for (; is_digit(*p); p++)
		n = n > 100000 ? n : n * 10 + (size_t)(*p - '0');
	m = n;
	if (*p == ',') {
		p++;
		m = n + 1; /* "{n,}": n copies and a star */
		if (is_digit(*p))
			for (m = 0; is_digit(*p); p++)
				m = m > 100000 ? m : m * 10 + (size_t)(*p - '0');
	}
	if (*p != '}')
		return 0;
	*s = p;
	return (m > n ? m : n) + 1;
}

/*
 * Refuses what an ECMA-262 pattern (the JSON Schema dialect) would mean
 * differently in POSIX ERE, instead of letting it match something else:
 * class escapes like \d, backslashes inside brackets, (?...) groups and
 * lazy quantifiers. Also refuses patterns that regcomp() would expand into
 * a huge automaton: glibc copies a repeated atom once per repetition, so
 * "a+++++..." or nested intervals grow exponentially. The estimate counts
 * atoms, multiplying a repeated atom or group by its repetitions.
 */
static int check_pattern(const char *p, const struct sch_buf *at)
{
	size_t stack[PATTERN_MAX_DEPTH], depth = 0, cur = 0, last = 0, mult;
	const char *s;

	for (s = p; *s; s++) {
		mult = 0;
		if (*s == '\\') {
			if (!s[1])
				break;
			s++;
			if (is_alnum(*s) && !strchr("wWsSbB", *s))
				return schema_error(at,
						    "pattern '%s' uses '\\%c', "
						    "which POSIX extended "
						    "regular expressions do not "
						    "know (write [0-9] for \\d)",
						    p, *s);
			last = 1;
			cur++;
		} else if (*s == '[') {
			s++;
			if (*s == '^')
				s++;
			if (*s == ']')
				s++;
			for (; *s && *s != ']'; s++) {
				if (*s == '\\')
					return schema_error(at,
							    "pattern '%s' has "
							    "'\\' inside [], "
							    "where POSIX takes "
							    "it literally",
							    p);
				if (*s == '[' && s[1] && strchr(":.=", s[1])) {
					const char *end;
					char close[3] = { s[1], ']', 0 };

					end = strstr(s + 2, close);
					if (!end)
						break;
					s = end + 1;
				}
			}
			if (!*s)
				break; /* unterminated: regcomp says so */
			last = 1;
			cur++;
		} else if (*s == '(') {
			if (s[1] == '?')
				return schema_error(at,
						    "pattern '%s' uses '(?', "
						    "which POSIX extended regular "
						    "expressions do not know",
						    p);
			if (depth == PATTERN_MAX_DEPTH)
				return schema_error(at,
						    "pattern '%s' nests groups "
						    "more than %d deep",
						    p, PATTERN_MAX_DEPTH);
			stack[depth++] = cur;
			cur = last = 0;
			continue;
		} else if (*s == ')' && depth) {
			last = cur + 1;
			cur = stack[--depth] + last;
		} else if (*s == '*' || *s == '+' || *s == '?') {
			mult = 2;
		} else if (*s == '{' && (mult = interval(&s))) {
			;
		} else {
			last = 1;
			cur++;
		}
		if (mult) {
			if (s[1] == '?')
				return schema_error(at,
						    "pattern '%s' uses a lazy "
						    "quantifier, which POSIX "
						    "extended regular "
						    "expressions do not know",
						    p);
			cur += last * (mult - 1);
			last *= mult;
		}
		if (cur > PATTERN_MAX_NODES || last > PATTERN_MAX_NODES)
			return schema_error(at,
					    "pattern '%s' is too complex (its "
					    "repetitions expand past %d atoms)",
					    p, PATTERN_MAX_NODES);
	}
	return 0;
}

static int get_count(size_t *out, const json_t *v, const char *kw,
		     const struct sch_buf *at)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return schema_error(at,
				    "keyword '%s' must be a non-negative "
				    "integer",
				    kw);
	*out = (size_t)json_integer_value(v);
	return 0;
}

static int compile(struct node **out, const json_t *s, struct sch_buf *at);

/* Compiles s[kw] as a subschema located at at + "/" + kw [+ "/" + key]. */
static int compile_sub(struct node **out, const json_t *s,
		       struct sch_buf *at, const char *kw, const char *key)
{
	size_t len = at->len;
	int rc;

	sch_json_pointer_push(at, kw);
	if (key)
		sch_json_pointer_push(at, key);
	rc = compile(out, s, at);
	sch_buf_truncate(at, len);
	return rc;
}

static int compile_types(struct node *n, const json_t *v,
			 const struct sch_buf *at)
{
	size_t i, k, count = json_is_array(v) ? json_array_size(v) : 1;

	if (!json_is_string(v) && !(json_is_array(v) && count))
		return schema_error(at,
				    "keyword 'type' must be a type name or a "
				    "non-empty array of them");
	for (i = 0; i < count; i++) {
		const json_t *t = json_is_array(v) ? json_array_get(v, i) : v;

		for (k = 0; json_is_string(t) &&
			    k < sizeof(type_names) / sizeof(type_names[0]);
		     k++)
			if (!strcmp(json_string_value(t), type_names[k].name))
				break;
		if (!json_is_string(t) ||
		    k == sizeof(type_names) / sizeof(type_names[0]))
			return schema_error(at,
					    "keyword 'type' names an unknown "
					    "type");
		n->types |= type_names[k].bit;
	}
	return 0;
}

static int compile_keyword(struct node *n, const json_t *s, const char *kw,
			   const json_t *v, struct sch_buf *at)
{
	const char *key;
	json_t *sub;
	size_t i;
	int rc;

	if (!strcmp(kw, "$schema") || !strcmp(kw, "$id") ||
	    !strcmp(kw, "title") || !strcmp(kw, "description") ||
	    !strcmp(kw, "default"))
		return 0;
	if (!strcmp(kw, "type"))
		return compile_types(n, v, at);
	if (!strcmp(kw, "enum")) {
		if (!json_is_array(v))
			return schema_error(at, "keyword 'enum' must be an array");
		n->enum_v = v;
		return 0;
	}
	if (!strcmp(kw, "const")) {
		n->const_v = v;
		return 0;
	}
	if (!strcmp(kw, "required")) {
		if (!json_is_array(v))
			return schema_error(at,
					    "keyword 'required' must be an "
					    "array of strings");
		for (i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i)))
				return schema_error(at,
						    "keyword 'required' must "
						    "be an array of strings");
		n->required = v;
		return 0;
	}
	if (!strcmp(kw, "properties")) {
		if (!json_is_object(v))
			return schema_error(at,
					    "keyword 'properties' must be an "
					    "object");
		n->props = xcalloc(json_object_size(v) + 1, sizeof(*n->props));
		json_object_foreach((json_t *)v, key, sub) {
			struct prop *p = &n->props[n->nprops];

			p->name = key;
			p->len = json_object_iter_key_len(
				json_object_key_to_iter(key));
			rc = compile_sub(&p->schema, sub, at, "properties", key);
			if (rc)
				return rc;
			n->nprops++;
		}
		return 0;
	}
	if (!strcmp(kw, "additionalProperties")) {
		if (json_is_false(v)) {
			n->no_additional = 1;
			return 0;
		}
		return compile_sub(&n->additional, v, at, kw, NULL);
	}
	if (!strcmp(kw, "items")) {
		if (json_is_array(v))
			return schema_error(at,
					    "uses unsupported keyword 'items' "
					    "with an array (tuple validation)");
		return compile_sub(&n->items, v, at, kw, NULL);
	}
	if (!strcmp(kw, "minimum") || !strcmp(kw, "maximum") ||
	    !strcmp(kw, "exclusiveMinimum") ||
	    !strcmp(kw, "exclusiveMaximum")) {
		int is_min = !strcmp(kw, "minimum") ||
			     !strcmp(kw, "exclusiveMinimum");

		if (json_is_boolean(v) && kw[0] == 'e') {
			/* draft-04: makes minimum or maximum exclusive. */
			const json_t *bound = json_object_get(
				s, is_min ? "minimum" : "maximum");

			if (!bound)
				return schema_error(at,
						    "keyword '%s' (a boolean) "
						    "needs '%s'",
						    kw,
						    is_min ? "minimum"
							   : "maximum");
			return 0;
		}
		if (!json_is_number(v))
			return schema_error(at, "keyword '%s' must be a number",
					    kw);
		if (kw[0] == 'e')
			*(is_min ? &n->xminimum : &n->xmaximum) = v;
		else
			*(is_min ? &n->minimum : &n->maximum) = v;
		return 0;
	}
	if (!strcmp(kw, "minLength")) {
		n->has_min_len = 1;
		return get_count(&n->min_len, v, kw, at);
	}
	if (!strcmp(kw, "maxLength")) {
		n->has_max_len = 1;
		return get_count(&n->max_len, v, kw, at);
	}
	if (!strcmp(kw, "pattern")) {
		char msg[128];

		if (!json_is_string(v))
			return schema_error(at,
					    "keyword 'pattern' must be a string");
		n->pattern = json_string_value(v);
		rc = check_pattern(n->pattern, at);
		if (rc)
			return rc;
		rc = regcomp(&n->re, n->pattern, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, &n->re, msg, sizeof(msg));
			return schema_error(at, "pattern '%s' is invalid: %s",
					    n->pattern, msg);
		}
		n->has_pattern = 1;
		return 0;
	}
	return schema_error(at, "uses unsupported keyword '%s'", kw);
}

static int compile(struct node **out, const json_t *s, struct sch_buf *at)
{
	struct node *n = xcalloc(1, sizeof(*n));
	const char *kw;
	json_t *v;
	int rc = 0;

	*out = NULL;
	if (json_is_boolean(s)) {
		n->never = json_is_false(s);
		goto out;
	}
	if (!json_is_object(s)) {
		rc = schema_error(at, "must be an object or a boolean, not %s",
				  sch_json_type_name(s));
		goto out;
	}
	json_object_foreach((json_t *)s, kw, v) {
		rc = compile_keyword(n, s, kw, v, at);
		if (rc)
			goto out;
	}
	/* draft-04 exclusive flags, now that both keywords are known. */
	v = json_object_get(s, "exclusiveMinimum");
	if (json_is_true(v)) {
		n->xminimum = n->minimum;
		n->minimum = NULL;
	}
	v = json_object_get(s, "exclusiveMaximum");
	if (json_is_true(v)) {
		n->xmaximum = n->maximum;
		n->maximum = NULL;
	}
out:
	if (rc)
		node_free(n);
	else
		*out = n;
	return rc;
}

int sch_task_schema_load(struct sch_task_schema **out, const json_t *schema)
{
	struct sch_buf at = SCH_BUF_INIT;
	struct sch_task_schema *s = xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->doc = json_deep_copy(schema);
	rc = compile(&s->root, s->doc, &at);
	sch_buf_release(&at);
	if (rc) {
		sch_task_schema_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void sch_task_schema_free(struct sch_task_schema *s)
{
	if (!s)
		return;
	node_free(s->root);
	json_decref(s->doc);
	free(s);
}

/*
 * Where the value being checked is: a chain of frames on the stack, turned
 * into a JSON Pointer only when there is a violation to report.
 */
struct vframe {
	const struct vframe *up;
	const char *key;	/* NULL: an array index */
	size_t index;
};

struct vctx {
	const struct vframe *at; /* NULL: the root */
	struct sch_buf first;  /* the first violation */
	struct sch_buf *report;
	size_t count;
};

static void add_frames(struct sch_buf *b, const struct vframe *f)
{
	if (!f)
		return;
	add_frames(b, f->up);
	if (f->key)
		sch_json_pointer_push(b, f->key);
	else
		sch_json_pointer_push_index(b, f->index);
}

static void violation(struct vctx *c, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void violation(struct vctx *c, const char *kw, const char *fmt, ...)
{
	struct sch_buf line = SCH_BUF_INIT;
	va_list ap;

	if (++c->count > SCH_TASK_REPORT_MAX)
		return;
	add_frames(&line, c->at);
	sch_buf_addf(&line, "%s: %s: ", line.len ? "" : "(root)", kw);
	va_start(ap, fmt);
	sch_buf_vaddf(&line, fmt, ap);
	va_end(ap);
	if (c->count == 1)
		sch_buf_add(&c->first, line.ptr, line.len);
	if (c->report) {
		sch_buf_add(c->report, line.ptr, line.len);
		sch_buf_addch(c->report, '\n');
	}
	sch_buf_release(&line);
}

/* Same as violation, with a rendered value spliced in after the text. */
static void violation_value(struct vctx *c, const char *kw,
			    const char *before, const json_t *v,
			    const char *after)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_buf_addstr(&b, before);
	add_value(&b, v);
	sch_buf_addstr(&b, after);
	violation(c, kw, "%s", b.ptr);
	sch_buf_release(&b);
}

static unsigned type_bits(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return T_OBJECT;
	case JSON_ARRAY:
		return T_ARRAY;
	case JSON_STRING:
		return T_STRING;
	case JSON_INTEGER:
		return T_NUMBER | T_INTEGER;
	case JSON_REAL:
		return T_NUMBER | (sch_json_is_integral(v) ? T_INTEGER : 0);
	case JSON_TRUE:
	case JSON_FALSE:
		return T_BOOLEAN;
	default:
		return T_NULL;
	}
}

static size_t utf8_length(const char *s, size_t len)
{
	size_t i, n = 0;

	/* jansson has checked the encoding: count the non-continuation
	 * bytes. */
	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static void validate(struct vctx *c, const struct node *n, const json_t *v);

static void validate_object(struct vctx *c, const struct node *n,
			    const json_t *v)
{
	size_t i;
	const char *key;
	json_t *m;

	for (i = 0; n->required && i < json_array_size(n->required); i++) {
		const char *r = json_string_value(
			json_array_get(n->required, i));

		if (!json_object_get(v, r))
			violation(c, "required", "missing property '%s'", r);
	}
	json_object_foreach((json_t *)v, key, m) {
		size_t klen = json_object_iter_key_len(
			json_object_key_to_iter(key));
		const struct node *sub = NULL;

		for (i = 0; i < n->nprops; i++)
			if (n->props[i].len == klen &&
			    !memcmp(n->props[i].name, key, klen))
				sub = n->props[i].schema;
		struct vframe f = { c->at, key, 0 };

		c->at = &f;
		if (sub)
			validate(c, sub, m);
		else if (n->no_additional)
			violation(c, "additionalProperties",
				  "property '%s' is not allowed", key);
		else if (n->additional)
			validate(c, n->additional, m);
		c->at = f.up;
	}
}

static void validate_number(struct vctx *c, const struct node *n,
			    const json_t *v)
{
	if (n->minimum && sch_json_number_cmp(v, n->minimum) < 0)
		violation_value(c, "minimum", "", v, " is less than the minimum");
	if (n->xminimum && sch_json_number_cmp(v, n->xminimum) <= 0)
		violation_value(c, "exclusiveMinimum", "", v,
				" is not greater than the exclusive minimum");
	if (n->maximum && sch_json_number_cmp(v, n->maximum) > 0)
		violation_value(c, "maximum", "", v,
				" is greater than the maximum");
	if (n->xmaximum && sch_json_number_cmp(v, n->xmaximum) >= 0)
		violation_value(c, "exclusiveMaximum", "", v,
				" is not less than the exclusive maximum");
}

static void validate_string(struct vctx *c, const struct node *n,
			    const json_t *v)
{
	size_t len = utf8_length(json_string_value(v), json_string_length(v));

	if (n->has_min_len && len < n->min_len)
		violation(c, "minLength", "length %zu is less than %zu", len,
			  n->min_len);
	if (n->has_max_len && len > n->max_len)
		violation(c, "maxLength", "length %zu is greater than %zu", len,
			  n->max_len);
	if (n->has_pattern &&
	    regexec(&n->re, json_string_value(v), 0, NULL, 0))
		violation_value(c, "pattern", "", v, " does not match");
}

static void validate(struct vctx *c, const struct node *n, const json_t *v)
{
	unsigned bits = type_bits(v);
	size_t i;

	if (n->never) {
		violation(c, "false", "no value is allowed here");
		return;
	}
	if (n->types && !(n->types & bits)) {
		struct sch_buf want = SCH_BUF_INIT;

		for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
			if (n->types & type_names[i].bit)
				sch_buf_addf(&want, "%s%s", want.len ? " or " : "",
					     type_names[i].name);
		violation(c, "type", "expected %s, found %s", want.ptr,
			  sch_json_type_name(v));
		sch_buf_release(&want);
	}
	if (n->enum_v) {
		for (i = 0; i < json_array_size(n->enum_v); i++)
			if (sch_json_equal(v, json_array_get(n->enum_v, i)))
				break;
		if (i == json_array_size(n->enum_v))
			violation_value(c, "enum", "", v,
					" is not one of the allowed values");
	}
	if (n->const_v && !sch_json_equal(v, n->const_v))
		violation_value(c, "const", "", v, " is not the allowed value");
	if (bits & T_OBJECT)
		validate_object(c, n, v);
	if ((bits & T_ARRAY) && n->items)
		for (i = 0; i < json_array_size(v); i++) {
			struct vframe f = { c->at, NULL, i };

			c->at = &f;
			validate(c, n->items, json_array_get(v, i));
			c->at = f.up;
		}
	if (bits & T_NUMBER)
		validate_number(c, n, v);
	if (bits & T_STRING)
		validate_string(c, n, v);
}

int sch_task_schema_validate(const struct sch_task_schema *s,
			     const json_t *doc, struct sch_buf *report)
{
	struct vctx c = { NULL, SCH_BUF_INIT, report, 0 };
	int rc = 0;

	validate(&c, s->root, doc);
	if (c.count > SCH_TASK_REPORT_MAX && report)
		sch_buf_addf(report, "... and %zu more\n",
			     c.count - SCH_TASK_REPORT_MAX);
	if (c.count == 1)
		rc = sch_error_set(SCH_ECHECK, "%s", c.first.ptr);
	else if (c.count > 1)
		rc = sch_error_set(SCH_ECHECK, "%s (and %zu more)", c.first.ptr,
				   c.count - 1);
	sch_buf_release(&c.first);
	return rc;
}

/* ---- task objects ------------------------------------------------- */

void sch_task_obj_init(struct sch_task_obj *o)
{
	memset(o, 0, sizeof(*o));
}

void sch_task_obj_release(struct sch_task_obj *o)
{
	size_t i;

	for (i = 0; i < o->nedges; i++)
		free(o->edges[i].from);
	free(o->edges);
	free(o->name);
	free(o->version);
	sch_task_obj_init(o);
}

int sch_task_obj_format(struct sch_buf *out, const struct sch_task_obj *o)
{
	char hex[SCH_HEX_LEN + 1], a[SCH_HEX_LEN + 1], b[SCH_HEX_LEN + 1];
	size_t i, start = out->len;
	int rc;

	rc = sch_task_check_name(o->name);
	if (!rc)
		rc = sch_task_check_version(o->version);
	for (i = 0; !rc && i < o->nedges; i++) {
		rc = sch_task_check_version(o->edges[i].from);
		if (rc)
			break;
		if (!strcmp(o->edges[i].from, o->version) ||
		    (i && sch_task_version_cmp(o->edges[i - 1].from,
					       o->edges[i].from) >= 0))
			rc = sch_error_set(SCH_EINVAL,
					   "task %s %s: edges must come from "
					   "distinct other versions, in order",
					   o->name, o->version);
	}
	if (rc)
		return rc;
	sch_id_hex(hex, &o->schema);
	sch_buf_addf(out, "name %s\nversion %s\nschema %s\n", o->name,
		     o->version, hex);
	for (i = 0; i < o->nedges; i++) {
		sch_id_hex(hex, &o->edges[i].from_id);
		sch_id_hex(a, &o->edges[i].up);
		sch_id_hex(b, &o->edges[i].down);
		rc = sch_buf_addf(out, "from %s %s up %s down %s\n",
				  o->edges[i].from, hex, a, b);
		if (rc) {
			sch_buf_truncate(out, start);
			return rc;
		}
	}
	return 0;
}

/* Cuts the next space- or newline-terminated word from [*p, end). */
static int word(char **out, const char **p, const char *end, char stop)
{
	const char *s = *p, *e = s;

	while (e < end && *e != ' ' && *e != '\n')
		e++;
	if (e == s || e == end || *e != stop)
		return SCH_ECORRUPT;
	*out = xstrndup(s, (size_t)(e - s));
	*p = e + 1;
	return 0;
}

static int expect(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n))
		return SCH_ECORRUPT;
	*p += n;
	return 0;
}

static int word_id(struct sch_id *out, const char **p, const char *end,
		   char stop)
{
	char *w = NULL;
	int rc;

	rc = word(&w, p, end, stop);
	if (!rc && (strlen(w) != SCH_HEX_LEN ||
		    sch_id_parse(out, w, SCH_HEX_LEN)))
		rc = SCH_ECORRUPT;
	free(w);
	return rc;
}

int sch_task_obj_parse(struct sch_task_obj *o, const void *body, size_t len)
{
	struct sch_buf again = SCH_BUF_INIT;
	const char *p = body, *end = p + len;
	size_t alloc = 0;
	int rc;

	sch_task_obj_release(o);
	if (memchr(body, 0, len)) {
		rc = SCH_ECORRUPT;
		goto out;
	}
	if ((rc = expect(&p, end, "name ")) ||
	    (rc = word(&o->name, &p, end, '\n')) ||
	    (rc = expect(&p, end, "version ")) ||
	    (rc = word(&o->version, &p, end, '\n')) ||
	    (rc = expect(&p, end, "schema ")) ||
	    (rc = word_id(&o->schema, &p, end, '\n')))
		goto out;
	while (p < end) {
		struct sch_task_edge *e;

		if (o->nedges == alloc) {
			alloc = alloc ? 2 * alloc : 4;
			o->edges = xrealloc(o->edges, alloc * sizeof(*e));
		}
		e = &o->edges[o->nedges];
		memset(e, 0, sizeof(*e));
		if ((rc = expect(&p, end, "from ")) ||
		    (rc = word(&e->from, &p, end, ' ')))
			goto out;
		o->nedges++;
		if ((rc = word_id(&e->from_id, &p, end, ' ')) ||
		    (rc = expect(&p, end, "up ")) ||
		    (rc = word_id(&e->up, &p, end, ' ')) ||
		    (rc = expect(&p, end, "down ")) ||
		    (rc = word_id(&e->down, &p, end, '\n')))
			goto out;
	}
	/* Strict: the body must be exactly what we would write. */
	rc = sch_task_obj_format(&again, o);
	if (!rc && (again.len != len || memcmp(again.ptr, body, len)))
		rc = SCH_ECORRUPT;
out:
	sch_buf_release(&again);
	if (rc) {
		sch_task_obj_release(o);
		return sch_error_set(SCH_ECORRUPT, "corrupt task object");
	}
	return 0;
}

/* ---- graphs ------------------------------------------------------- */

struct sch_task_graph {
	char *name;
	struct sch_task_version *v; /* ascending version order */
	size_t n, alloc;
};

void sch_task_path_init(struct sch_task_path *p)
{
	p->steps = NULL;
	p->n = 0;
}

void sch_task_path_release(struct sch_task_path *p)
{
	free(p->steps);
	sch_task_path_init(p);
}

int sch_task_graph_new(struct sch_task_graph **out, const char *name)
{
	int rc;

	*out = NULL;
	rc = sch_task_check_name(name);
	if (rc)
		return rc;
	*out = xcalloc(1, sizeof(**out));
	(*out)->name = xstrdup(name);
	return 0;
}

static void version_release(struct sch_task_version *v)
{
	size_t i;

	for (i = 0; i < v->obj.nedges; i++) {
		json_decref(v->up ? v->up[i] : NULL);
		json_decref(v->down ? v->down[i] : NULL);
	}
	free(v->up);
	free(v->down);
	json_decref(v->schema);
	sch_task_schema_free(v->compiled);
	sch_task_obj_release(&v->obj);
}

void sch_task_graph_free(struct sch_task_graph *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n; i++)
		version_release(&g->v[i]);
	free(g->v);
	free(g->name);
	free(g);
}

const char *sch_task_graph_name(const struct sch_task_graph *g)
{
	return g->name;
}

size_t sch_task_graph_count(const struct sch_task_graph *g)
{
	return g->n;
}

const struct sch_task_version *
sch_task_graph_at(const struct sch_task_graph *g, size_t i)
{
	assert(i < g->n);
	return &g->v[i];
}

/* Index of version, or g->n. */
static size_t find(const struct sch_task_graph *g, const char *version)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].obj.version, version))
			return i;
	return g->n;
}

const struct sch_task_version *
sch_task_graph_get(const struct sch_task_graph *g, const char *version)
{
	size_t i = find(g, version);

	return i < g->n ? &g->v[i] : NULL;
}

const char *sch_task_graph_newest(const struct sch_task_graph *g)
{
	return g->n ? g->v[g->n - 1].obj.version : NULL;
}

/* The id a blob holding the canonical form of v would have. */
static void json_blob_id(struct sch_id *out, const json_t *v)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_json_dump(&b, v);
	sch_object_hash(out, SCH_OBJ_BLOB, b.ptr, b.len);
	sch_buf_release(&b);
}

static int version_rehash(struct sch_task_version *v)
{
	struct sch_buf b = SCH_BUF_INIT;
	int rc;

	rc = sch_task_obj_format(&b, &v->obj);
	if (!rc)
		sch_object_hash(&v->id, SCH_OBJ_TASK, b.ptr, b.len);
	sch_buf_release(&b);
	return rc;
}

/* Inserts v (moved in) at its place in version order. */
static struct sch_task_version *insert_version(struct sch_task_graph *g,
					       struct sch_task_version *v)
{
	size_t i;

	if (g->n == g->alloc) {
		g->alloc = g->alloc ? 2 * g->alloc : 8;
		g->v = xrealloc(g->v, g->alloc * sizeof(*g->v));
	}
	for (i = g->n; i > 0; i--) {
		if (sch_task_version_cmp(g->v[i - 1].obj.version,
					 v->obj.version) < 0)
			break;
		g->v[i] = g->v[i - 1];
	}
	g->v[i] = *v;
	g->n++;
	return &g->v[i];
}

/* Adds an edge (the op lists are new references, moved in) in order. */
static void insert_edge(struct sch_task_version *v, const char *from,
			const struct sch_id *from_id, json_t *up,
			json_t *down)
{
	size_t i, n = v->obj.nedges;

	v->obj.edges = xrealloc(v->obj.edges, (n + 1) * sizeof(*v->obj.edges));
	v->up = xrealloc(v->up, (n + 1) * sizeof(*v->up));
	v->down = xrealloc(v->down, (n + 1) * sizeof(*v->down));
	for (i = n; i > 0; i--) {
		if (sch_task_version_cmp(v->obj.edges[i - 1].from, from) < 0)
			break;
		v->obj.edges[i] = v->obj.edges[i - 1];
		v->up[i] = v->up[i - 1];
		v->down[i] = v->down[i - 1];
	}
	v->obj.edges[i].from = xstrdup(from);
	v->obj.edges[i].from_id = *from_id;
	json_blob_id(&v->obj.edges[i].up, up);
	json_blob_id(&v->obj.edges[i].down, down);
	v->up[i] = up;
	v->down[i] = down;
	v->obj.nedges = n + 1;
}

int sch_task_graph_add(struct sch_task_graph *g, const char *version,
		       const json_t *schema, const char *from,
		       const json_t *up, const json_t *down)
{
	struct sch_task_version nv, *v;
	struct sch_task_schema *compiled = NULL;
	struct sch_id schema_id, from_id;
	size_t i, fi = 0;
	int rc;

	memset(&nv, 0, sizeof(nv));
	rc = sch_task_check_version(version);
	if (rc)
		goto out;
	if (from) {
		rc = sch_task_check_version(from);
		if (rc)
			goto out;
		if (!strcmp(from, version)) {
			rc = sch_error_set(SCH_EINVAL,
					   "task %s %s: an edge cannot come "
					   "from the version itself",
					   g->name, version);
			goto out;
		}
		if (!up || !down) {
			rc = sch_error_set(SCH_EINVAL,
					   "task %s %s: an edge from %s needs "
					   "both up and down operations",
					   g->name, version, from);
			goto out;
		}
		if ((rc = sch_task_ops_check(up))) {
			rc = rewrap(rc, "up operations %s -> %s", from, version);
			goto out;
		}
		if ((rc = sch_task_ops_check(down))) {
			rc = rewrap(rc, "down operations %s -> %s", version,
				    from);
			goto out;
		}
		fi = find(g, from);
		if (fi == g->n) {
			rc = sch_error_set(SCH_ENOTFOUND,
					   "task %s has no version %s", g->name,
					   from);
			goto out;
		}
		from_id = g->v[fi].id;
	}
	rc = sch_task_schema_load(&compiled, schema);
	if (rc)
		goto out;
	json_blob_id(&schema_id, schema);

	i = find(g, version);
	if (i < g->n) {
		v = &g->v[i];
		if (sch_id_cmp(&v->obj.schema, &schema_id)) {
			rc = sch_error_set(SCH_EEXISTS,
					   "task %s version %s already exists "
					   "with another schema",
					   g->name, version);
			goto out;
		}
		if (!from)
			goto out;
		for (i = 0; i < v->obj.nedges; i++) {
			struct sch_id u, d;

			if (strcmp(v->obj.edges[i].from, from))
				continue;
			json_blob_id(&u, up);
			json_blob_id(&d, down);
			if (sch_id_cmp(&u, &v->obj.edges[i].up) ||
			    sch_id_cmp(&d, &v->obj.edges[i].down))
				rc = sch_error_set(SCH_EEXISTS,
						   "task %s version %s already "
						   "has other operations from "
						   "%s",
						   g->name, version, from);
			goto out;
		}
		insert_edge(v, from, &from_id, json_deep_copy(up),
			    json_deep_copy(down));
		rc = version_rehash(v);
		goto out;
	}

	nv.obj.name = xstrdup(g->name);
	nv.obj.version = xstrdup(version);
	nv.obj.schema = schema_id;
	nv.schema = json_deep_copy(schema);
	nv.compiled = compiled;
	compiled = NULL;
	if (from)
		insert_edge(&nv, from, &from_id, json_deep_copy(up),
			    json_deep_copy(down));
	rc = version_rehash(&nv);
	if (rc)
		goto out;
	insert_version(g, &nv);
	memset(&nv, 0, sizeof(nv));
out:
	version_release(&nv);
	sch_task_schema_free(compiled);
	return rc;
}

/*
 * Breadth-first search over edges in both directions. Neighbours are
 * visited in version order, so the path found is the shortest one whose
 * versions come first.
 */
int sch_task_graph_path(struct sch_task_path *out,
			const struct sch_task_graph *g, const char *from,
			const char *to)
{
	size_t src = find(g, from), dst = find(g, to);
	size_t *prev = NULL, *queue = NULL, head = 0, tail = 0, u, w, e, k;
	struct sch_task_step *st;
	int rc = 0;

	sch_task_path_release(out);
	if (src == g->n || dst == g->n) {
		return sch_error_set(SCH_ENOTFOUND, "task %s has no version %s",
				     g->name, src == g->n ? from : to);
	}
	prev = xmalloc(g->n * sizeof(*prev));
	queue = xmalloc(g->n * sizeof(*queue));
	for (u = 0; u < g->n; u++)
		prev[u] = SIZE_MAX;
	prev[src] = src;
	queue[tail++] = src;
	while (head < tail && prev[dst] == SIZE_MAX) {
		u = queue[head++];
		for (w = 0; w < g->n; w++) {
			int linked = 0;

			if (prev[w] != SIZE_MAX)
				continue;
			for (e = 0; !linked && e < g->v[w].obj.nedges; e++)
				linked = !strcmp(g->v[w].obj.edges[e].from,
						 g->v[u].obj.version);
			for (e = 0; !linked && e < g->v[u].obj.nedges; e++)
				linked = !strcmp(g->v[u].obj.edges[e].from,
						 g->v[w].obj.version);
			if (linked) {
				prev[w] = u;
				queue[tail++] = w;
			}
		}
	}
	if (prev[dst] == SIZE_MAX) {
		rc = sch_error_set(SCH_ENOTFOUND,
				   "task %s has no path from %s to %s",
				   g->name, from, to);
		goto out;
	}
	for (u = dst; u != src; u = prev[u])
		out->n++;
	out->steps = xcalloc(out->n + 1, sizeof(*out->steps));
	k = out->n;
	for (w = dst; w != src; w = u) {
		const struct sch_task_version *vw = &g->v[w], *vu;

		u = prev[w];
		vu = &g->v[u];
		st = &out->steps[--k];
		st->from = vu->obj.version;
		st->to = vw->obj.version;
		/* Prefer w's own edge from u (forwards, its up ops). */
		for (e = 0; e < vw->obj.nedges; e++)
			if (!strcmp(vw->obj.edges[e].from, vu->obj.version))
				break;
		if (e < vw->obj.nedges) {
			st->ops = vw->up[e];
			continue;
		}
		for (e = 0; e < vu->obj.nedges; e++)
			if (!strcmp(vu->obj.edges[e].from, vw->obj.version))
				break;
		assert(e < vu->obj.nedges);
		st->backwards = 1;
		st->ops = vu->down[e];
	}
out:
	free(prev);
	free(queue);
	return rc;
}

/* Reads a blob holding JSON. */
static int load_json(json_t **out, struct sch_txn *t, const struct sch_id *id)
{
	struct sch_buf body = SCH_BUF_INIT;
	char hex[SCH_HEX_LEN + 1];
	int rc;

	*out = NULL;
	rc = sch_object_get_typed(&body, t, id, SCH_OBJ_BLOB);
	if (!rc) {
		sch_id_hex(hex, id);
		rc = sch_json_parse(out, body.ptr, body.len, hex);
		if (rc)
			rc = rewrap(SCH_ECORRUPT, "blob %s", hex);
	}
	sch_buf_release(&body);
	return rc;
}

/* Loads one version given its ref. */
static int load_version(struct sch_task_version *v, struct sch_txn *t,
			const char *name, const char *version,
			const struct sch_id *id)
{
	struct sch_buf body = SCH_BUF_INIT;
	size_t i;
	int rc;

	memset(v, 0, sizeof(*v));
	v->id = *id;
	rc = sch_object_get_typed(&body, t, id, SCH_OBJ_TASK);
	if (rc)
		goto out;
	rc = sch_task_obj_parse(&v->obj, body.ptr, body.len);
	if (rc)
		goto out;
	if (strcmp(v->obj.name, name) || strcmp(v->obj.version, version)) {
		rc = sch_error_set(SCH_ECORRUPT,
				   "ref for task %s %s names the object of "
				   "%s %s",
				   name, version, v->obj.name, v->obj.version);
		goto out;
	}
	rc = load_json(&v->schema, t, &v->obj.schema);
	if (rc)
		goto out;
	rc = sch_task_schema_load(&v->compiled, v->schema);
	if (rc) {
		rc = rewrap(SCH_ECORRUPT, "schema of task %s %s", name,
			    version);
		goto out;
	}
	v->up = xcalloc(v->obj.nedges + 1, sizeof(*v->up));
	v->down = xcalloc(v->obj.nedges + 1, sizeof(*v->down));
	for (i = 0; i < v->obj.nedges; i++) {
		rc = load_json(&v->up[i], t, &v->obj.edges[i].up);
		if (!rc)
			rc = load_json(&v->down[i], t, &v->obj.edges[i].down);
		if (!rc && (sch_task_ops_check(v->up[i]) ||
			    sch_task_ops_check(v->down[i])))
			rc = rewrap(SCH_ECORRUPT, "operations of task %s %s",
				    name, version);
		if (rc)
			goto out;
	}
out:
	sch_buf_release(&body);
	/* A ref naming a missing object is damage, not an absent task. */
	if (rc == SCH_ENOTFOUND)
		rc = SCH_ECORRUPT;
	if (rc)
		rc = rewrap(rc, "task %s %s", name, version);
	return rc;
}

int sch_task_graph_load(struct sch_task_graph **out, struct sch_txn *t,
			const char *name)
{
	struct sch_task_graph *g = NULL;
	struct sch_cursor *cur = NULL;
	struct sch_buf prefix = SCH_BUF_INIT;
	struct sch_task_version v;
	char **versions = NULL;
	struct sch_id *ids = NULL;
	size_t n = 0, alloc = 0, i;
	const void *k, *val;
	size_t kl, vl;
	int rc;

	*out = NULL;
	memset(&v, 0, sizeof(v));
	rc = sch_task_graph_new(&g, name);
	if (rc)
		goto out;
	sch_buf_add(&prefix, name, strlen(name) + 1); /* with its NUL */
	rc = sch_cursor_open(&cur, t, SCH_DB_TASKS);
	if (rc)
		goto out;
	/* Copy the refs out before reading objects. */
	for (rc = sch_cursor_seek(cur, prefix.ptr, prefix.len, &k, &kl, &val,
				  &vl);
	     rc == 1; rc = sch_cursor_next(cur, &k, &kl, &val, &vl)) {
		if (kl < prefix.len || memcmp(k, prefix.ptr, prefix.len))
			break;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			versions = xrealloc(versions, alloc * sizeof(*versions));
			ids = xrealloc(ids, alloc * sizeof(*ids));
		}
		versions[n] = xstrndup((const char *)k + prefix.len,
				       kl - prefix.len);
		if (vl != SCH_ID_LEN ||
		    strlen(versions[n]) != kl - prefix.len ||
		    sch_task_check_version(versions[n])) {
			n++;
			rc = sch_error_set(SCH_ECORRUPT,
					   "corrupt ref for task %s", name);
			goto out;
		}
		memcpy(ids[n].b, val, SCH_ID_LEN);
		n++;
	}
	if (rc < 0)
		goto out;
	sch_cursor_close(cur);
	cur = NULL;
	if (!n) {
		rc = sch_error_set(SCH_ENOTFOUND, "no task '%s'", name);
		goto out;
	}
	for (i = 0; i < n; i++) {
		rc = load_version(&v, t, name, versions[i], &ids[i]);
		if (rc)
			goto out;
		insert_version(g, &v);
		memset(&v, 0, sizeof(v));
	}
	*out = g;
	g = NULL;
	rc = 0;
out:
	version_release(&v);
	sch_cursor_close(cur);
	for (i = 0; i < n; i++)
		free(versions[i]);
	free(versions);
	free(ids);
	sch_buf_release(&prefix);
	sch_task_graph_free(g);
	return rc;
}

static int put_json(struct sch_txn *t, const json_t *v,
		    const struct sch_id *want)
{
	struct sch_buf b = SCH_BUF_INIT;
	struct sch_id id;
	int rc;

	sch_json_dump(&b, v);
	rc = sch_object_put(&id, t, SCH_OBJ_BLOB, b.ptr, b.len, -1);
	assert(rc || !sch_id_cmp(&id, want));
	sch_buf_release(&b);
	return rc;
}

int sch_task_add(struct sch_id *out, struct sch_txn *t, const char *name,
		 const char *version, const json_t *schema, const char *from,
		 const json_t *up, const json_t *down)
{
	struct sch_task_graph *g = NULL;
	const struct sch_task_version *v;
	struct sch_buf body = SCH_BUF_INIT, key = SCH_BUF_INIT;
	struct sch_id id;
	size_t i;
	int rc;

	rc = sch_task_graph_load(&g, t, name);
	if (rc == SCH_ENOTFOUND && !g)
		rc = sch_task_graph_new(&g, name);
	if (rc)
		goto out;
	rc = sch_task_graph_add(g, version, schema, from, up, down);
	if (rc)
		goto out;
	v = sch_task_graph_get(g, version);
	rc = put_json(t, v->schema, &v->obj.schema);
	for (i = 0; !rc && i < v->obj.nedges; i++) {
		rc = put_json(t, v->up[i], &v->obj.edges[i].up);
		if (!rc)
			rc = put_json(t, v->down[i], &v->obj.edges[i].down);
	}
	if (!rc)
		rc = sch_task_obj_format(&body, &v->obj);
	if (!rc)
		rc = sch_object_put(&id, t, SCH_OBJ_TASK, body.ptr, body.len,
				    -1);
	if (rc)
		goto out;
	assert(!sch_id_cmp(&id, &v->id));
	sch_buf_add(&key, name, strlen(name) + 1);
	sch_buf_addstr(&key, version);
	rc = sch_kv_put(t, SCH_DB_TASKS, key.ptr, key.len, id.b, SCH_ID_LEN);
	if (!rc && out)
		*out = id;
out:
	sch_buf_release(&body);
	sch_buf_release(&key);
	sch_task_graph_free(g);
	return rc;
}

/* ---- documents ---------------------------------------------------- */

int sch_task_doc_version(const char **out, const json_t *doc,
			 const char *what)
{
	const json_t *v;

	*out = NULL;
	what = what ? what : "document";
	if (!json_is_object(doc))
		return sch_error_set(SCH_EINVAL,
				     "%s: a task configuration must be a json "
				     "object, not %s",
				     what, sch_json_type_name(doc));
	v = json_object_get(doc, SCH_TASK_VERSION_KEY);
	if (!v)
		return sch_error_set(SCH_EINVAL, "%s: no %s", what,
				     SCH_TASK_VERSION_KEY);
	if (!json_is_string(v))
		return sch_error_set(SCH_EINVAL,
				     "%s: %s must be a string, not %s", what,
				     SCH_TASK_VERSION_KEY,
				     sch_json_type_name(v));
	if (sch_task_check_version(json_string_value(v)))
		return rewrap(SCH_EINVAL, "%s: %s", what, SCH_TASK_VERSION_KEY);
	*out = json_string_value(v);
	return 0;
}

int sch_task_validate(const struct sch_task_graph *g, const json_t *doc,
		      const char *version, const char *what,
		      struct sch_buf *report)
{
	const struct sch_task_version *v;
	int rc;

	what = what ? what : "document";
	if (!version) {
		rc = sch_task_doc_version(&version, doc, what);
		if (rc)
			return rc;
	}
	v = sch_task_graph_get(g, version);
	if (!v)
		return sch_error_set(SCH_ENOTFOUND, "%s: task %s has no "
				     "version %s", what, g->name, version);
	rc = sch_task_schema_validate(v->compiled, doc, report);
	if (rc)
		return rewrap(rc, "%s: does not validate against %s %s", what,
			      g->name, version);
	return 0;
}

int sch_task_migrate(json_t **doc, const struct sch_task_graph *g,
		     const char *to, const char *what, struct sch_buf *report)
{
	struct sch_task_path path;
	json_t *work = NULL;
	const char *from;
	size_t i;
	int rc;

	sch_task_path_init(&path);
	what = what ? what : "document";
	rc = sch_task_doc_version(&from, *doc, what);
	if (rc)
		goto out;
	if (!to)
		to = sch_task_graph_newest(g);
	if (!to) {
		rc = sch_error_set(SCH_ENOTFOUND, "%s: task %s has no version",
				   what, g->name);
		goto out;
	}
	rc = sch_task_graph_path(&path, g, from, to);
	if (rc) {
		rc = rewrap(rc, "%s", what);
		goto out;
	}
	work = json_deep_copy(*doc);
	for (i = 0; i < path.n; i++) {
		const struct sch_task_step *st = &path.steps[i];

		rc = apply_in_place(&work, st->ops);
		if (!rc && !json_is_object(work))
			rc = sch_error_set(SCH_ECHECK,
					   "the result is %s, not an object",
					   sch_json_type_name(work));
		if (rc) {
			rc = rewrap(rc, "%s: %s -> %s (%s)", what, st->from,
				    st->to, st->backwards ? "down" : "up");
			goto out;
		}
		json_object_set_new(work, SCH_TASK_VERSION_KEY,
				    json_string(st->to));
	}
	rc = sch_task_validate(g, work, to, what, report);
	if (rc)
		goto out;
	json_decref(*doc);
	*doc = work;
	work = NULL;
out:
	json_decref(work);
	sch_task_path_release(&path);
	return rc;
}

int sch_task_migrate_batch(json_t **docs, size_t n,
			   const struct sch_task_graph *g, const char *to,
			   const char *what, size_t *failed,
			   struct sch_buf *report)
{
	json_t **work = xcalloc(n + 1, sizeof(*work));
	size_t i, done = 0;
	char *name = NULL;
	int rc = 0;

	if (failed)
		*failed = 0;
	for (i = 0; i < n; i++) {
		work[i] = json_incref(docs[i]);
		done = i + 1;
		name = xasprintf("%s %zu", what ? what : "document", i);
		rc = sch_task_migrate(&work[i], g, to, name, report);
		free(name);
		if (rc) {
			if (failed)
				*failed = i;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		json_decref(docs[i]);
		docs[i] = work[i];
		work[i] = NULL;
	}
out:
	for (i = 0; i < done; i++)
		json_decref(work[i]);
	free(work);
	return rc;
}

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
		struct op o;
		size_t k;

		for (k = 0; !rc && k < json_array_size(ops); k++) {
			rc = op_read(&o, ops, k);
			if (rc)
				break;
			cow_note(tp, o.path, 0);
			cow_note(tp, o.from, o.kind == OP_MOVE);
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
		rc = apply_in_place(doc, path->steps[i].ops);
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
				   g->name, r.to ? r.to : "at all");
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
