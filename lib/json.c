/*
 * json.c - the jansson wrapper: parsing, dumping, equality, JSON Pointers.
 * The only file that calls jansson's parser and dumper; other modules use
 * jansson's value functions (json_object_get, ...) through json.h.
 */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/json.h"

static void *json_xmalloc(size_t n)
{
	return xmalloc(n ? n : 1);
}

/* Out of memory inside jansson aborts like everywhere else. */
__attribute__((constructor)) static void json_setup(void)
{
	json_set_alloc_funcs(json_xmalloc, free);
}

int sch_json_parse(json_t **out, const void *data, size_t len,
		   const char *what)
{
	json_error_t err;
	json_t *v;

	*out = NULL;
	v = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		       &err);
	if (!v)
		return sch_error_set(SCH_EPARSE, "%s:%d:%d: %s",
				     what ? what : "<json>", err.line,
				     err.column, err.text);
	*out = v;
	return 0;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return sch_buf_add(data, buffer, size) ? -1 : 0;
}

static int dump(struct sch_buf *out, const json_t *v, size_t flags)
{
	size_t start = out->len;

	if (json_dump_callback(v, dump_cb, out, flags | JSON_ENCODE_ANY)) {
		sch_buf_truncate(out, start);
		return sch_error_set(SCH_ETOOBIG,
				     "json document larger than %zu bytes",
				     out->max);
	}
	return 0;
}

int sch_json_dump(struct sch_buf *out, const json_t *v)
{
	return dump(out, v, JSON_COMPACT | JSON_SORT_KEYS);
}

int sch_json_dump_pretty(struct sch_buf *out, const json_t *v)
{
	size_t start = out->len;
	int rc;

	rc = dump(out, v, JSON_INDENT(2));
	if (!rc && sch_buf_addch(out, '\n')) {
		sch_buf_truncate(out, start);
		rc = sch_error_set(SCH_ETOOBIG,
				   "json document larger than %zu bytes",
				   out->max);
	}
	return rc;
}

int sch_json_is_integral(const json_t *v)
{
	double d;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	return d == floor(d); /* jansson never holds NaN or infinities */
}

int sch_json_number_cmp(const json_t *a, const json_t *b)
{
	long double x, y;

	assert(json_is_number(a) && json_is_number(b));
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t i = json_integer_value(a);
		json_int_t j = json_integer_value(b);

		return (i > j) - (i < j);
	}
	x = json_is_integer(a) ? (long double)json_integer_value(a)
			       : (long double)json_real_value(a);
	y = json_is_integer(b) ? (long double)json_integer_value(b)
			       : (long double)json_real_value(b);
	return (x > y) - (x < y);
}

int sch_json_equal(const json_t *a, const json_t *b)
{
	const char *key;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return sch_json_number_cmp(a, b) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT: {
		json_t *va;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		/* json_object_foreach wants a non-const object. */
		json_object_foreach((json_t *)a, key, va) {
			const json_t *vb = json_object_get(b, key);

			if (!vb || !sch_json_equal(va, vb))
				return 0;
		}
		return 1;
	}
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!sch_json_equal(json_array_get(a, i),
					    json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b),
			       json_string_length(a));
	default:
		return 1; /* true, false, null: the type is the value */
	}
}

const char *sch_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

/*
 * Reads the reference token at *p (just after its '/') into tok,
 * unescaped, and leaves *p on the next '/' or the terminating NUL.
 */
static int next_token(struct sch_buf *tok, const char **p, const char *ptr)
{
	const char *s = *p;

	sch_buf_reset(tok);
	while (*s && *s != '/') {
		if (*s != '~') {
			sch_buf_addch(tok, *s++);
			continue;
		}
		if (s[1] != '0' && s[1] != '1')
			return sch_error_set(SCH_EINVAL,
					     "json pointer '%s': '~' must be "
					     "followed by 0 or 1",
					     ptr);
		sch_buf_addch(tok, s[1] == '0' ? '~' : '/');
		s += 2;
	}
	*p = s;
	return 0;
}

#define INDEX_END SIZE_MAX

/* Parses an array index token; "-" gives INDEX_END. */
static int parse_index(size_t *out, const struct sch_buf *tok,
		       const char *ptr)
{
	size_t i, v = 0;

	if (tok->len == 1 && tok->ptr[0] == '-') {
		*out = INDEX_END;
		return 0;
	}
	if (!tok->len || tok->len > 18 || (tok->ptr[0] == '0' && tok->len > 1))
		goto bad;
	for (i = 0; i < tok->len; i++) {
		if (tok->ptr[i] < '0' || tok->ptr[i] > '9')
			goto bad;
		v = v * 10 + (size_t)(tok->ptr[i] - '0');
	}
	*out = v;
	return 0;
bad:
	return sch_error_set(SCH_EINVAL,
			     "json pointer '%s': '%s' is not an array index",
			     ptr, tok->ptr);
}

int sch_json_pointer_check(const char *ptr)
{
	struct sch_buf tok = SCH_BUF_INIT;
	const char *p = ptr;
	int rc = 0;

	if (*p && *p != '/') {
		rc = sch_error_set(SCH_EINVAL,
				   "json pointer '%s' must start with '/'",
				   ptr);
		goto out;
	}
	while (*p) {
		p++;
		rc = next_token(&tok, &p, ptr);
		if (rc)
			goto out;
	}
out:
	sch_buf_release(&tok);
	return rc;
}

/* Names the value at pointer prefix ptr[0..at) in messages. */
static const char *where(struct sch_buf *b, const char *ptr, int at)
{
	sch_buf_reset(b);
	if (!at)
		sch_buf_addstr(b, "the document root");
	else
		sch_buf_addf(b, "'%.*s'", at, ptr);
	return b->ptr;
}

/*
 * Steps from container cur by token tok; `at` is the length of the pointer
 * prefix that names cur, for messages. *out is borrowed, NULL for the end
 * position ("-" or the array size) when allow_end is set; *index receives
 * the array position.
 */
static int step(json_t **out, size_t *index, json_t *cur,
		const struct sch_buf *tok, const char *ptr, int at,
		int allow_end)
{
	struct sch_buf w = SCH_BUF_INIT;
	size_t i = 0;
	int rc = 0;

	*out = NULL;
	if (json_is_object(cur)) {
		*out = json_object_getn(cur, tok->ptr, tok->len);
		if (!*out)
			rc = sch_error_set(SCH_ENOTFOUND,
					   "json pointer '%s': no member '%s' "
					   "in %s",
					   ptr, tok->ptr, where(&w, ptr, at));
		goto out;
	}
	if (!json_is_array(cur)) {
		rc = sch_error_set(SCH_ENOTFOUND,
				   "json pointer '%s': %s is %s %s, not an "
				   "object or array",
				   ptr, where(&w, ptr, at),
				   json_is_integer(cur) ? "an" : "a",
				   sch_json_type_name(cur));
		goto out;
	}
	rc = parse_index(&i, tok, ptr);
	if (rc)
		goto out;
	if (i == INDEX_END && !allow_end) {
		rc = sch_error_set(SCH_ENOTFOUND,
				   "json pointer '%s': '-' names no element "
				   "of %s",
				   ptr, where(&w, ptr, at));
		goto out;
	}
	if (i == INDEX_END)
		i = json_array_size(cur);
	if (i > json_array_size(cur) ||
	    (i == json_array_size(cur) && !allow_end)) {
		rc = sch_error_set(SCH_ENOTFOUND,
				   "json pointer '%s': index %zu out of range "
				   "in %s (size %zu)",
				   ptr, i, where(&w, ptr, at),
				   json_array_size(cur));
		goto out;
	}
	*index = i;
	*out = json_array_get(cur, i);
out:
	sch_buf_release(&w);
	return rc;
}

/*
 * Walks every token but the last: *parent is the container the last token
 * applies to and tok holds that token. ptr must not be "".
 */
static int walk_parent(json_t **parent, struct sch_buf *tok, json_t *root,
		       const char *ptr)
{
	const char *p = ptr;
	json_t *cur = root;
	size_t i;
	int rc;

	if (*p != '/')
		return sch_error_set(SCH_EINVAL,
				     "json pointer '%s' must start with '/'",
				     ptr);
	for (;;) {
		int at = (int)(p - ptr);

		p++;
		rc = next_token(tok, &p, ptr);
		if (rc)
			return rc;
		if (!*p)
			break;
		rc = step(&cur, &i, cur, tok, ptr, at, 0);
		if (rc)
			return rc;
	}
	if (!json_is_object(cur) && !json_is_array(cur))
		return sch_error_set(SCH_ENOTFOUND,
				     "json pointer '%s': parent is %s %s, not "
				     "an object or array",
				     ptr, json_is_integer(cur) ? "an" : "a",
				     sch_json_type_name(cur));
	*parent = cur;
	return 0;
}

int sch_json_pointer_get(json_t **out, json_t *root, const char *ptr)
{
	struct sch_buf tok = SCH_BUF_INIT;
	json_t *parent = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (!*ptr) {
		*out = root;
		return 0;
	}
	rc = walk_parent(&parent, &tok, root, ptr);
	if (rc)
		goto out;
	rc = step(out, &i, parent, &tok, ptr,
		  (int)(strrchr(ptr, '/') - ptr), 0);
out:
	sch_buf_release(&tok);
	return rc;
}

int sch_json_pointer_set(json_t **root, const char *ptr, json_t *value,
			 enum sch_json_set how)
{
	struct sch_buf tok = SCH_BUF_INIT;
	json_t *parent = NULL, *cur;
	size_t i = 0;
	int rc, at;

	if (!value)
		return sch_error_set(SCH_EINVAL, "json pointer '%s': no value",
				     ptr);
	if (!*ptr) {
		json_decref(*root);
		*root = value;
		return 0;
	}
	rc = walk_parent(&parent, &tok, *root, ptr);
	if (rc)
		goto out;
	at = (int)(strrchr(ptr, '/') - ptr);
	if (json_is_object(parent)) {
		if (how == SCH_JSON_REPLACE &&
		    !json_object_getn(parent, tok.ptr, tok.len)) {
			rc = step(&cur, &i, parent, &tok, ptr, at, 0);
			goto out;
		}
		if (json_object_setn_new(parent, tok.ptr, tok.len, value)) {
			value = NULL; /* jansson dropped it */
			rc = sch_error_set(SCH_EINVAL,
					   "json pointer '%s': invalid key",
					   ptr);
			goto out;
		}
		value = NULL;
		goto out;
	}
	rc = step(&cur, &i, parent, &tok, ptr, at, how == SCH_JSON_ADD);
	if (rc)
		goto out;
	if (how == SCH_JSON_ADD)
		json_array_insert_new(parent, i, value);
	else
		json_array_set_new(parent, i, value);
	value = NULL;
out:
	json_decref(value);
	sch_buf_release(&tok);
	return rc;
}

int sch_json_pointer_remove(json_t **root, const char *ptr, json_t **removed)
{
	struct sch_buf tok = SCH_BUF_INIT;
	json_t *parent = NULL, *cur = NULL;
	size_t i = 0;
	int rc;

	if (removed)
		*removed = NULL;
	if (!*ptr)
		return sch_error_set(SCH_EINVAL,
				     "json pointer '': the whole document "
				     "cannot be removed");
	rc = walk_parent(&parent, &tok, *root, ptr);
	if (rc)
		goto out;
	rc = step(&cur, &i, parent, &tok, ptr,
		  (int)(strrchr(ptr, '/') - ptr), 0);
	if (rc)
		goto out;
	if (removed)
		*removed = json_incref(cur);
	if (json_is_object(parent))
		json_object_deln(parent, tok.ptr, tok.len);
	else
		json_array_remove(parent, i);
out:
	sch_buf_release(&tok);
	return rc;
}

void sch_json_pointer_push(struct sch_buf *out, const char *token)
{
	sch_buf_addch(out, '/');
	for (; *token; token++) {
		if (*token == '~')
			sch_buf_addstr(out, "~0");
		else if (*token == '/')
			sch_buf_addstr(out, "~1");
		else
			sch_buf_addch(out, *token);
	}
}

void sch_json_pointer_push_index(struct sch_buf *out, size_t index)
{
	sch_buf_addf(out, "/%zu", index);
}
