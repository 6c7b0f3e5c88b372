/*
 * json.h - the one wrapper around jansson (src/json.c): parsing with
 * positioned errors, canonical and pretty dumps, number-aware equality and
 * JSON Pointers (RFC 6901).
 *
 * Values are jansson's json_t and follow its reference counting: a function
 * documented as returning a "new reference" gives the caller one reference
 * to drop with json_decref(); a "borrowed" reference stays valid as long as
 * the value that holds it is neither changed nor freed.
 *
 * Jansson allocates through the xmalloc family once this module is linked
 * in, so out of memory aborts instead of returning NULL.
 */
#ifndef SCH_JSON_H
#define SCH_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "schema/buf.h"

/*
 * Parses exactly one JSON value (any type) from data. Duplicate object keys
 * and NUL characters in strings are refused. `what` names the input in the
 * message: "what:LINE:COL: message".
 * On success *out is a new reference. Returns 0 or SCH_EPARSE.
 */
int sch_json_parse(json_t **out, const void *data, size_t len,
		   const char *what);

/*
 * Appends the canonical form of v to out: compact, object keys sorted by
 * their bytes, strings in UTF-8, no trailing newline. Equal documents (key
 * order aside) give equal bytes, so the form is fit for hashing.
 * Returns 0 or SCH_ETOOBIG (out's size cap).
 */
int sch_json_dump(struct sch_buf *out, const json_t *v);

/*
 * Appends v for people to read: two-space indent, object keys in the
 * document's own order, a trailing newline.
 * Returns 0 or SCH_ETOOBIG.
 */
int sch_json_dump_pretty(struct sch_buf *out, const json_t *v);

/*
 * 1 if a and b are equal JSON values, 0 if not. Numbers compare by value
 * (1 equals 1.0), objects regardless of key order, arrays in order.
 */
int sch_json_equal(const json_t *a, const json_t *b);

/* 1 if v is a number with an integral value (3 or 3.0), else 0. */
int sch_json_is_integral(const json_t *v);

/*
 * Compares two numbers by value: <0, 0, >0. Both must be numbers
 * (asserted).
 */
int sch_json_number_cmp(const json_t *a, const json_t *b);

/* "object", "array", "string", "integer", "number", "boolean", "null". */
const char *sch_json_type_name(const json_t *v);

/*
 * JSON Pointers (RFC 6901). "" is the whole document; otherwise every
 * reference token follows a '/', with "~0" for '~' and "~1" for '/'. An
 * array index is "0" or a decimal without leading zeros; "-" names the
 * position after the last element and only sch_json_pointer_set() with
 * SCH_JSON_ADD accepts it.
 *
 * Errors: SCH_EINVAL for a malformed pointer (a '~' not followed by 0 or
 * 1, no leading '/', a bad array index); SCH_ENOTFOUND when the target or
 * its parent is missing, an index is out of range, or a step meets a value
 * that is neither object nor array. The message names the pointer prefix
 * where the walk stopped.
 */

/* Checks the syntax of a pointer. Returns 0 or SCH_EINVAL. */
int sch_json_pointer_check(const char *ptr);

/* *out = borrowed reference to the value ptr names in root. */
int sch_json_pointer_get(json_t **out, json_t *root, const char *ptr);

enum sch_json_set {
	/* RFC 6902 add: creates or replaces an object member, inserts into
	 * an array (shifting the rest), "-" appends, "" replaces the root. */
	SCH_JSON_ADD,
	/* RFC 6902 replace: the target must exist. */
	SCH_JSON_REPLACE,
};

/*
 * Stores value at ptr in *root (which changes when ptr is ""). Takes
 * ownership of value, on failure too (like json_object_set_new); value
 * must not already be part of *root.
 * Returns 0, SCH_EINVAL, SCH_ENOTFOUND.
 */
int sch_json_pointer_set(json_t **root, const char *ptr, json_t *value,
			 enum sch_json_set how);

/*
 * Removes the value at ptr (array elements after it shift down). The root
 * itself cannot be removed (SCH_EINVAL). When removed is not NULL it
 * receives a new reference to the removed value.
 * Returns 0, SCH_EINVAL, SCH_ENOTFOUND.
 */
int sch_json_pointer_remove(json_t **root, const char *ptr, json_t **removed);

/* Appends "/" and the escaped token (or index) to a pointer in out. */
void sch_json_pointer_push(struct sch_buf *out, const char *token);
void sch_json_pointer_push_index(struct sch_buf *out, size_t index);

#endif
