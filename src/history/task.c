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

/* ---- for the table migrator (src/db/task_table.c) ----------------- */

int sch_task_op_paths(const json_t *ops, size_t i, const char **path,
		      const char **from, int *moves)
{
	struct op o;
	int rc = op_read(&o, ops, i);

	if (rc)
		return rc;
	*path = o.path;
	*from = o.from;
	*moves = o.kind == OP_MOVE;
	return 0;
}

int sch_task_apply_in_place(json_t **doc, const json_t *ops)
{
	return apply_in_place(doc, ops);
}

const char *sch_task_graph_name(const struct sch_task_graph *g)
{
	return g->name;
}
