/*
 * test_task.c - task-config versions: JSON helpers and pointers, JSON
 * Patch plus "default", the JSON Schema subset, task objects, version
 * graphs, migration, and the store round trip.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/json.h"
#include "schema/object.h"
#include "schema/task.h"
#include "unit/testutil.h"

TestSuite(task);

/* ---- helpers ------------------------------------------------------ */

static json_t *J(const char *text)
{
	json_t *v = NULL;
	int rc = sch_json_parse(&v, text, strlen(text), "test");

	cr_assert_eq(rc, 0, "cannot parse %s: %s", text, sch_error_msg());
	return v;
}

/* Asserts that v's canonical form is the canonical form of text. */
static void assert_json(const json_t *v, const char *text)
{
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;
	json_t *want = J(text);

	cr_assert_eq(sch_json_dump(&a, v), 0);
	cr_assert_eq(sch_json_dump(&b, want), 0);
	cr_assert_str_eq(a.ptr, b.ptr);
	json_decref(want);
	sch_buf_release(&a);
	sch_buf_release(&b);
}

/* Applies ops (text) to doc (text); returns the code, and the result or
 * the untouched document in *out when out is not NULL. */
static int patch(const char *doc, const char *ops, json_t **out)
{
	json_t *d = J(doc), *o = J(ops);
	int rc = sch_task_ops_apply(&d, o);

	json_decref(o);
	if (out)
		*out = d;
	else
		json_decref(d);
	return rc;
}

static void assert_patch(const char *doc, const char *ops, const char *want)
{
	json_t *r = NULL;
	int rc = patch(doc, ops, &r);

	cr_assert_eq(rc, 0, "%s on %s: %s", ops, doc, sch_error_msg());
	assert_json(r, want);
	json_decref(r);
}

static void assert_patch_fails(const char *doc, const char *ops, int code,
			       const char *msg_part)
{
	json_t *r = NULL;
	int rc = patch(doc, ops, &r);

	cr_assert_eq(rc, code, "%s on %s gave %d (%s)", ops, doc, rc,
		     sch_error_msg());
	cr_assert(strstr(sch_error_msg(), msg_part), "'%s' lacks '%s'",
		  sch_error_msg(), msg_part);
	assert_json(r, doc); /* untouched */
	json_decref(r);
}

static int check(const char *schema, const char *doc)
{
	struct sch_task_schema *s = NULL;
	json_t *js = J(schema), *jd = J(doc);
	int rc = sch_task_schema_load(&s, js);

	cr_assert_eq(rc, 0, "schema %s: %s", schema, sch_error_msg());
	rc = sch_task_schema_validate(s, jd, NULL);
	sch_task_schema_free(s);
	json_decref(js);
	json_decref(jd);
	return rc;
}

static void assert_valid(const char *schema, const char *doc)
{
	cr_assert_eq(check(schema, doc), 0, "%s against %s: %s", doc, schema,
		     sch_error_msg());
}

static void assert_invalid(const char *schema, const char *doc,
			   const char *msg_part)
{
	cr_assert_eq(check(schema, doc), SCH_ECHECK, "%s against %s passed",
		     doc, schema);
	cr_assert(strstr(sch_error_msg(), msg_part), "'%s' lacks '%s'",
		  sch_error_msg(), msg_part);
}

static void assert_schema_refused(const char *schema, const char *msg_part)
{
	struct sch_task_schema *s = NULL;
	json_t *js = J(schema);

	cr_assert_eq(sch_task_schema_load(&s, js), SCH_EINVAL, "%s loaded",
		     schema);
	cr_assert_null(s);
	cr_assert(strstr(sch_error_msg(), msg_part), "'%s' lacks '%s'",
		  sch_error_msg(), msg_part);
	json_decref(js);
}

/* The 1.0 -> 1.1 -> 2.0 graph of a small task. */
static struct sch_task_graph *three_versions(void)
{
	struct sch_task_graph *g = NULL;
	json_t *s10 = J("{\"type\":\"object\",\"required\":[\"url\"],"
			"\"properties\":{\"schema_version\":{\"const\":\"1.0\"},"
			"\"url\":{\"type\":\"string\"}},"
			"\"additionalProperties\":false}");
	json_t *s11 = J("{\"type\":\"object\",\"required\":[\"url\","
			"\"timeout_seconds\"],"
			"\"properties\":{\"schema_version\":{\"const\":\"1.1\"},"
			"\"url\":{\"type\":\"string\"},"
			"\"timeout_seconds\":{\"type\":\"integer\"}},"
			"\"additionalProperties\":false}");
	json_t *s20 = J("{\"type\":\"object\",\"required\":[\"source\","
			"\"timeout_seconds\"],"
			"\"properties\":{\"schema_version\":{\"const\":\"2.0\"},"
			"\"source\":{\"type\":\"object\",\"required\":[\"url\"]},"
			"\"timeout_seconds\":{\"type\":\"integer\"}},"
			"\"additionalProperties\":false}");
	json_t *up1 = J("[{\"op\":\"default\",\"path\":\"/timeout_seconds\","
			"\"value\":300}]");
	json_t *down1 = J("[{\"op\":\"remove\",\"path\":\"/timeout_seconds\"}]");
	json_t *up2 = J("[{\"op\":\"add\",\"path\":\"/source\",\"value\":{}},"
			"{\"op\":\"move\",\"from\":\"/url\","
			"\"path\":\"/source/url\"}]");
	json_t *down2 = J("[{\"op\":\"move\",\"from\":\"/source/url\","
			  "\"path\":\"/url\"},"
			  "{\"op\":\"remove\",\"path\":\"/source\"}]");

	cr_assert_eq(sch_task_graph_new(&g, "fetch"), 0);
	cr_assert_eq(sch_task_graph_add(g, "1.0", s10, NULL, NULL, NULL), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_task_graph_add(g, "1.1", s11, "1.0", up1, down1), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_task_graph_add(g, "2.0", s20, "1.1", up2, down2), 0,
		     "%s", sch_error_msg());
	json_decref(s10);
	json_decref(s11);
	json_decref(s20);
	json_decref(up1);
	json_decref(down1);
	json_decref(up2);
	json_decref(down2);
	return g;
}

static json_t *read_json(const char *path)
{
	struct sch_buf b = SCH_BUF_INIT;
	json_t *v = NULL;

	cr_assert_eq(sch_buf_read_file(&b, path), 0, "%s: %s", path,
		     sch_error_msg());
	cr_assert_eq(sch_json_parse(&v, b.ptr, b.len, path), 0, "%s",
		     sch_error_msg());
	sch_buf_release(&b);
	return v;
}

/* ---- json --------------------------------------------------------- */

Test(task, parse_error_names_input_line_and_column)
{
	json_t *v = NULL;
	const char *text = "{\n  \"a\": 1,\n  \"b\": ]\n}";

	cr_assert_eq(sch_json_parse(&v, text, strlen(text), "cfg.json"),
		     SCH_EPARSE);
	cr_assert_null(v);
	cr_assert(!strncmp(sch_error_msg(), "cfg.json:3:", 11), "%s",
		  sch_error_msg());
}

Test(task, parse_refuses_duplicate_keys)
{
	json_t *v = NULL;
	const char *text = "{\"a\":1,\"a\":2}";

	cr_assert_eq(sch_json_parse(&v, text, strlen(text), "d"), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "duplicate"), "%s", sch_error_msg());
}

Test(task, canonical_dump_sorts_keys_and_is_compact)
{
	struct sch_buf b = SCH_BUF_INIT;
	json_t *v = J("{ \"b\": [1, 2.5, \"\\u00e9\"], \"a\": {\"z\": null, "
		      "\"y\": true} }");

	cr_assert_eq(sch_json_dump(&b, v), 0);
	cr_assert_str_eq(b.ptr,
			 "{\"a\":{\"y\":true,\"z\":null},\"b\":[1,2.5,\"\xc3\xa9\"]}");
	json_decref(v);
	sch_buf_release(&b);
}

Test(task, pretty_dump_keeps_document_order)
{
	struct sch_buf b = SCH_BUF_INIT;
	json_t *v = J("{\"b\":1,\"a\":2}");

	cr_assert_eq(sch_json_dump_pretty(&b, v), 0);
	cr_assert_str_eq(b.ptr, "{\n  \"b\": 1,\n  \"a\": 2\n}\n");
	json_decref(v);
	sch_buf_release(&b);
}

Test(task, numbers_compare_by_value)
{
	json_t *a = J("[1, {\"x\": 2.0}]"), *b = J("[1.0, {\"x\": 2}]");
	json_t *c = J("[1, {\"x\": 2.5}]");

	cr_assert(sch_json_equal(a, b));
	cr_assert(!sch_json_equal(a, c));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

Test(task, pointer_unescapes_tilde_and_slash)
{
	json_t *doc = J("{\"a/b\":1,\"m~n\":2,\"\":3,\"x\":{\"\":4},"
			"\"~1\":5}");
	json_t *v = NULL;

	cr_assert_eq(sch_json_pointer_get(&v, doc, "/a~1b"), 0);
	cr_assert_eq(json_integer_value(v), 1);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/m~0n"), 0);
	cr_assert_eq(json_integer_value(v), 2);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/"), 0);
	cr_assert_eq(json_integer_value(v), 3);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/x/"), 0);
	cr_assert_eq(json_integer_value(v), 4);
	/* ~01 is "~1", not "/" */
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/~01"), 0);
	cr_assert_eq(json_integer_value(v), 5);
	cr_assert_eq(sch_json_pointer_get(&v, doc, ""), 0);
	cr_assert_eq(v, doc);
	json_decref(doc);
}

Test(task, pointer_push_escapes_tokens)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_json_pointer_push(&b, "a/b");
	sch_json_pointer_push(&b, "~x");
	sch_json_pointer_push_index(&b, 7);
	cr_assert_str_eq(b.ptr, "/a~1b/~0x/7");
	sch_buf_release(&b);
}

Test(task, pointer_refuses_bad_syntax)
{
	json_t *doc = J("{\"a\":[1,2]}"), *v = NULL;

	cr_assert_eq(sch_json_pointer_check("a"), SCH_EINVAL);
	cr_assert_eq(sch_json_pointer_check("/a~2"), SCH_EINVAL);
	cr_assert_eq(sch_json_pointer_check("/a~"), SCH_EINVAL);
	cr_assert_eq(sch_json_pointer_check("/a/~1/~0"), 0);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/a/01"), SCH_EINVAL);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/a/+1"), SCH_EINVAL);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/a/2"), SCH_ENOTFOUND);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/a/-"), SCH_ENOTFOUND);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/b"), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "no member 'b'"), "%s",
		  sch_error_msg());
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/a/0/x"), SCH_ENOTFOUND);
	json_decref(doc);
}

Test(task, pointer_set_and_remove_follow_rfc6902)
{
	json_t *doc = J("{\"a\":[1,3]}"), *removed = NULL;

	cr_assert_eq(sch_json_pointer_set(&doc, "/a/1", json_integer(2),
					  SCH_JSON_ADD), 0);
	cr_assert_eq(sch_json_pointer_set(&doc, "/a/-", json_integer(4),
					  SCH_JSON_ADD), 0);
	cr_assert_eq(sch_json_pointer_set(&doc, "/a/0", json_integer(0),
					  SCH_JSON_REPLACE), 0);
	cr_assert_eq(sch_json_pointer_set(&doc, "/b", json_true(),
					  SCH_JSON_REPLACE), SCH_ENOTFOUND);
	cr_assert_eq(sch_json_pointer_set(&doc, "/a/-", json_true(),
					  SCH_JSON_REPLACE), SCH_ENOTFOUND);
	cr_assert_eq(sch_json_pointer_set(&doc, "/a/9", json_true(),
					  SCH_JSON_ADD), SCH_ENOTFOUND);
	assert_json(doc, "{\"a\":[0,2,3,4]}");
	cr_assert_eq(sch_json_pointer_remove(&doc, "/a/1", &removed), 0);
	cr_assert_eq(json_integer_value(removed), 2);
	json_decref(removed);
	cr_assert_eq(sch_json_pointer_remove(&doc, "", NULL), SCH_EINVAL);
	assert_json(doc, "{\"a\":[0,3,4]}");
	cr_assert_eq(sch_json_pointer_set(&doc, "", json_string("new"),
					  SCH_JSON_ADD), 0);
	assert_json(doc, "\"new\"");
	json_decref(doc);
}

/* ---- operations --------------------------------------------------- */

Test(task, add_creates_replaces_and_inserts)
{
	assert_patch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2}]",
		     "{\"a\":1,\"b\":2}");
	assert_patch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":[]}]",
		     "{\"a\":[]}");
	assert_patch("{\"l\":[1,3]}",
		     "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":2}]",
		     "{\"l\":[1,2,3]}");
	assert_patch("{\"l\":[1]}",
		     "[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":2},"
		     "{\"op\":\"add\",\"path\":\"/l/2\",\"value\":3}]",
		     "{\"l\":[1,2,3]}");
	assert_patch("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":[1]}]",
		     "[1]");
}

Test(task, add_fails_without_parent_or_past_the_end)
{
	assert_patch_fails("{\"a\":1}",
			   "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":2}]",
			   SCH_ECHECK, "operation 0 (add /x/y)");
	assert_patch_fails("{\"l\":[1]}",
			   "[{\"op\":\"add\",\"path\":\"/l/2\",\"value\":2}]",
			   SCH_ECHECK, "out of range");
	assert_patch_fails("{\"a\":1}",
			   "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":2}]",
			   SCH_ECHECK, "not an object or array");
}

Test(task, remove_deletes_members_and_elements)
{
	assert_patch("{\"a\":1,\"b\":2}",
		     "[{\"op\":\"remove\",\"path\":\"/a\"}]", "{\"b\":2}");
	assert_patch("{\"l\":[1,2,3]}",
		     "[{\"op\":\"remove\",\"path\":\"/l/0\"}]", "{\"l\":[2,3]}");
	assert_patch_fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]",
			   SCH_ECHECK, "operation 0 (remove /b)");
	assert_patch_fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]",
			   SCH_ECHECK, "whole document");
}

Test(task, replace_needs_an_existing_target)
{
	assert_patch("{\"a\":1}",
		     "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":{\"b\":2}}]",
		     "{\"a\":{\"b\":2}}");
	assert_patch("{\"l\":[1,2]}",
		     "[{\"op\":\"replace\",\"path\":\"/l/1\",\"value\":9}]",
		     "{\"l\":[1,9]}");
	assert_patch_fails("{\"a\":1}",
			   "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]",
			   SCH_ECHECK, "operation 0 (replace /b)");
	assert_patch_fails("{\"l\":[1]}",
			   "[{\"op\":\"replace\",\"path\":\"/l/-\",\"value\":2}]",
			   SCH_ECHECK, "'-'");
}

Test(task, move_renames_and_relocates)
{
	assert_patch("{\"a\":1,\"b\":{}}",
		     "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b/c\"}]",
		     "{\"b\":{\"c\":1}}");
	assert_patch("{\"l\":[1,2,3]}",
		     "[{\"op\":\"move\",\"from\":\"/l/0\",\"path\":\"/l/-\"}]",
		     "{\"l\":[2,3,1]}");
	assert_patch("{\"a\":1}",
		     "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]",
		     "{\"a\":1}");
	assert_patch_fails("{\"a\":1}",
			   "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/y\"}]",
			   SCH_ECHECK, "operation 0 (move /y)");
	assert_patch_fails("{\"a\":{\"b\":1}}",
			   "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]",
			   SCH_EINVAL, "into itself");
}

Test(task, copy_duplicates_without_sharing)
{
	json_t *r = NULL;

	cr_assert_eq(patch("{\"a\":{\"x\":1}}",
			   "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
			   "{\"op\":\"replace\",\"path\":\"/b/x\",\"value\":2}]",
			   &r),
		     0, "%s", sch_error_msg());
	assert_json(r, "{\"a\":{\"x\":1},\"b\":{\"x\":2}}");
	json_decref(r);
	assert_patch_fails("{\"a\":1}",
			   "[{\"op\":\"copy\",\"from\":\"/z\",\"path\":\"/b\"}]",
			   SCH_ECHECK, "operation 0 (copy /b)");
}

Test(task, test_compares_values_and_fails_loudly)
{
	assert_patch("{\"a\":[1,{\"b\":2}]}",
		     "[{\"op\":\"test\",\"path\":\"/a\",\"value\":[1.0,{\"b\":2}]}]",
		     "{\"a\":[1,{\"b\":2}]}");
	assert_patch_fails("{\"a\":1,\"b\":\"x\"}",
			   "[{\"op\":\"add\",\"path\":\"/c\",\"value\":3},"
			   "{\"op\":\"test\",\"path\":\"/b\",\"value\":\"y\"}]",
			   SCH_ECHECK,
			   "operation 1 (test /b): test failed: found \"x\", "
			   "expected \"y\"");
	assert_patch_fails("{}",
			   "[{\"op\":\"test\",\"path\":\"/b\",\"value\":null}]",
			   SCH_ECHECK, "no member 'b'");
}

Test(task, default_sets_only_when_absent)
{
	assert_patch("{\"a\":1}",
		     "[{\"op\":\"default\",\"path\":\"/timeout_seconds\","
		     "\"value\":300}]",
		     "{\"a\":1,\"timeout_seconds\":300}");
	assert_patch("{\"timeout_seconds\":60}",
		     "[{\"op\":\"default\",\"path\":\"/timeout_seconds\","
		     "\"value\":300}]",
		     "{\"timeout_seconds\":60}");
	/* null is a value: present */
	assert_patch("{\"proxy\":null}",
		     "[{\"op\":\"default\",\"path\":\"/proxy\",\"value\":{}}]",
		     "{\"proxy\":null}");
	assert_patch("{\"l\":[1]}",
		     "[{\"op\":\"default\",\"path\":\"/l/1\",\"value\":2},"
		     "{\"op\":\"default\",\"path\":\"/l/0\",\"value\":9}]",
		     "{\"l\":[1,2]}");
	assert_patch_fails("{}",
			   "[{\"op\":\"default\",\"path\":\"/p/q\",\"value\":1}]",
			   SCH_ECHECK, "operation 0 (default /p/q)");
	assert_patch_fails("{\"l\":[]}",
			   "[{\"op\":\"default\",\"path\":\"/l/-\",\"value\":1}]",
			   SCH_ECHECK, "'-'");
}

Test(task, apply_is_all_or_nothing)
{
	json_t *doc = J("{\"a\":1,\"l\":[1,2]}"), *before = doc;
	json_t *ops = J("[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},"
			"{\"op\":\"remove\",\"path\":\"/l/0\"},"
			"{\"op\":\"replace\",\"path\":\"/missing\",\"value\":3}]");

	cr_assert_eq(sch_task_ops_apply(&doc, ops), SCH_ECHECK);
	cr_assert_eq(doc, before);
	assert_json(doc, "{\"a\":1,\"l\":[1,2]}");
	cr_assert(strstr(sch_error_msg(), "operation 2 (replace /missing)"),
		  "%s", sch_error_msg());
	json_decref(doc);
	json_decref(ops);
}

Test(task, applied_values_are_not_shared_with_the_ops)
{
	json_t *doc = J("{}");
	json_t *ops = J("[{\"op\":\"add\",\"path\":\"/a\",\"value\":{\"x\":1}}]");
	json_t *v = NULL;

	cr_assert_eq(sch_task_ops_apply(&doc, ops), 0);
	cr_assert_eq(sch_json_pointer_set(&doc, "/a/x", json_integer(2),
					  SCH_JSON_REPLACE), 0);
	cr_assert_eq(sch_json_pointer_get(&v, ops, "/0/value/x"), 0);
	cr_assert_eq(json_integer_value(v), 1);
	json_decref(doc);
	json_decref(ops);
}

Test(task, malformed_operations_are_refused)
{
	json_t *v;
	const char *bad[][2] = {
		{ "{}", "must be a json array" },
		{ "[1]", "operation 0: not an object" },
		{ "[{\"path\":\"/a\"}]", "'op' must be a string" },
		{ "[{\"op\":\"merge\",\"path\":\"/a\"}]", "unknown op 'merge'" },
		{ "[{\"op\":\"add\",\"value\":1}]", "'path' must be a string" },
		{ "[{\"op\":\"add\",\"path\":\"/a\"}]", "missing 'value'" },
		{ "[{\"op\":\"move\",\"path\":\"/a\"}]", "'from' must be" },
		{ "[{\"op\":\"remove\",\"path\":\"a\"}]", "must start with '/'" },
		{ "[{\"op\":\"remove\",\"path\":\"/ok\"},"
		  "{\"op\":\"remove\",\"path\":\"/a~x\"}]",
		  "operation 1 (remove /a~x)" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = J(bad[i][0]);
		cr_assert_eq(sch_task_ops_check(v), SCH_EINVAL, "%s", bad[i][0]);
		cr_assert(strstr(sch_error_msg(), bad[i][1]), "'%s' lacks '%s'",
			  sch_error_msg(), bad[i][1]);
		json_decref(v);
	}
	/* Unknown members of an operation are ignored (RFC 6902 4.). */
	v = J("[{\"op\":\"remove\",\"path\":\"/a\",\"comment\":\"x\"}]");
	cr_assert_eq(sch_task_ops_check(v), 0);
	json_decref(v);
}

/* ---- schemas ------------------------------------------------------ */

Test(task, type_accepts_names_and_arrays_of_names)
{
	assert_valid("{\"type\":\"string\"}", "\"x\"");
	assert_invalid("{\"type\":\"string\"}", "1",
		       "(root): type: expected string, found integer");
	assert_valid("{\"type\":[\"object\",\"null\"]}", "null");
	assert_invalid("{\"type\":[\"object\",\"null\"]}", "[]",
		       "expected null or object, found array");
	assert_valid("{\"type\":\"number\"}", "1");
	assert_valid("{\"type\":\"boolean\"}", "false");
	assert_valid("{\"type\":\"array\"}", "[]");
	assert_schema_refused("{\"type\":\"int\"}", "unknown type");
	assert_schema_refused("{\"type\":[]}", "keyword 'type'");
}

Test(task, integer_accepts_integral_numbers_only)
{
	assert_valid("{\"type\":\"integer\"}", "3");
	assert_valid("{\"type\":\"integer\"}", "3.0");
	assert_invalid("{\"type\":\"integer\"}", "3.5", "type");
	assert_invalid("{\"type\":\"integer\"}", "\"3\"", "type");
}

Test(task, required_names_the_object_and_the_member)
{
	assert_valid("{\"required\":[\"a\"]}", "{\"a\":null}");
	assert_invalid("{\"properties\":{\"p\":{\"required\":[\"url\"]}}}",
		       "{\"p\":{}}", "/p: required: missing property 'url'");
	/* required only applies to objects */
	assert_valid("{\"required\":[\"a\"]}", "7");
	assert_schema_refused("{\"required\":[1]}", "array of strings");
}

Test(task, properties_validate_members_by_path)
{
	const char *s = "{\"properties\":{\"a/b\":{\"properties\":{\"l\":"
			"{\"items\":{\"type\":\"integer\"}}}}}}";

	assert_valid(s, "{\"a/b\":{\"l\":[1,2]},\"other\":\"x\"}");
	assert_invalid(s, "{\"a/b\":{\"l\":[1,\"x\"]}}",
		       "/a~1b/l/1: type: expected integer, found string");
}

Test(task, additional_properties_false_or_schema)
{
	const char *closed = "{\"properties\":{\"a\":{}},"
			     "\"additionalProperties\":false}";
	const char *typed = "{\"properties\":{\"a\":{}},"
			    "\"additionalProperties\":{\"type\":\"string\"}}";

	assert_valid(closed, "{\"a\":1}");
	assert_invalid(closed, "{\"a\":1,\"b\":2}",
		       "/b: additionalProperties: property 'b' is not allowed");
	assert_valid(typed, "{\"a\":1,\"b\":\"x\"}");
	assert_invalid(typed, "{\"a\":1,\"b\":2}", "/b: type");
	assert_valid("{\"additionalProperties\":true}", "{\"z\":1}");
}

Test(task, items_validate_every_element)
{
	assert_valid("{\"items\":{\"type\":\"string\"}}", "[\"a\",\"b\"]");
	assert_invalid("{\"items\":{\"type\":\"string\"}}", "[\"a\",2]",
		       "/1: type");
	assert_schema_refused("{\"items\":[{\"type\":\"string\"}]}",
			      "tuple validation");
}

Test(task, enum_and_const_compare_json_values)
{
	assert_valid("{\"enum\":[\"html\",\"text\",1]}", "\"text\"");
	assert_valid("{\"enum\":[\"html\",\"text\",1]}", "1.0");
	assert_invalid("{\"enum\":[\"html\",\"text\"]}", "\"pdf\"",
		       "(root): enum: \"pdf\" is not one of the allowed values");
	assert_valid("{\"const\":{\"a\":[1]}}", "{\"a\":[1]}");
	assert_invalid("{\"const\":\"1.1\"}", "\"1.0\"", "const");
	assert_valid("{\"const\":null}", "null");
	assert_invalid("{\"const\":null}", "0", "const");
	assert_schema_refused("{\"enum\":\"a\"}", "must be an array");
}

Test(task, minimum_and_maximum_are_inclusive)
{
	const char *s = "{\"minimum\":1,\"maximum\":10}";

	assert_valid(s, "1");
	assert_valid(s, "10.0");
	assert_invalid(s, "0.5", "minimum: 0.5 is less than the minimum");
	assert_invalid(s, "11", "maximum");
	assert_valid(s, "\"not a number\"");
	assert_schema_refused("{\"minimum\":\"1\"}", "must be a number");
}

Test(task, exclusive_bounds_as_numbers_and_draft4_booleans)
{
	assert_valid("{\"exclusiveMinimum\":0}", "1");
	assert_invalid("{\"exclusiveMinimum\":0}", "0", "exclusiveMinimum");
	assert_invalid("{\"exclusiveMaximum\":5}", "5", "exclusiveMaximum");
	assert_valid("{\"exclusiveMaximum\":5}", "4.9");
	assert_valid("{\"minimum\":0,\"exclusiveMinimum\":true}", "0.1");
	assert_invalid("{\"minimum\":0,\"exclusiveMinimum\":true}", "0",
		       "exclusiveMinimum");
	assert_valid("{\"maximum\":5,\"exclusiveMaximum\":false}", "5");
	assert_schema_refused("{\"exclusiveMinimum\":true}", "needs 'minimum'");
}

Test(task, string_lengths_count_code_points)
{
	/* "héé" is 3 code points in 5 bytes; the emoji 1 in 4 bytes */
	assert_valid("{\"maxLength\":3}", "\"h\\u00e9\\u00e9\"");
	assert_valid("{\"minLength\":1,\"maxLength\":1}", "\"\xf0\x9f\x98\x80\"");
	assert_invalid("{\"minLength\":4}", "\"h\\u00e9\\u00e9\"",
		       "minLength: length 3 is less than 4");
	assert_invalid("{\"maxLength\":2}", "\"abc\"", "maxLength");
	assert_schema_refused("{\"minLength\":-1}", "non-negative integer");
}

Test(task, pattern_is_an_unanchored_posix_ere)
{
	assert_valid("{\"pattern\":\"^https?://\"}", "\"https://x\"");
	assert_invalid("{\"pattern\":\"^https?://\"}", "\"ftp://x\"",
		       "pattern: \"ftp://x\" does not match");
	assert_valid("{\"pattern\":\"[0-9]+\"}", "\"abc123\"");
	assert_valid("{\"pattern\":\"^[[:alpha:]_]+$\"}", "\"ab_c\"");
	assert_schema_refused("{\"pattern\":\"^\\\\d+$\"}", "'\\d'");
	assert_schema_refused("{\"pattern\":\"(?i)abc\"}", "'(?'");
	assert_schema_refused("{\"pattern\":\"a+?\"}", "lazy quantifier");
	assert_schema_refused("{\"pattern\":\"[\\\\w]\"}", "inside []");
	assert_schema_refused("{\"pattern\":\"(\"}", "is invalid");
	assert_schema_refused("{\"pattern\":\"[[\"}", "is invalid");
	assert_schema_refused("{\"pattern\":\"[[:\"}", "is invalid");
	assert_schema_refused("{\"pattern\":\"a{2,5}?\"}", "lazy quantifier");
	/* regcomp would copy the atom 2^40 or 255^3 times */
	assert_schema_refused("{\"pattern\":\"^h++++++++++++++++++++++++++++++"
			      "++++++++++x\"}",
			      "too complex");
	assert_schema_refused("{\"pattern\":\"((a{255}){255}){255}\"}",
			      "too complex");
	assert_schema_refused("{\"pattern\":\"a{1234567890123}\"}",
			      "too complex");
	assert_valid("{\"pattern\":\"^(ab|c){2,3}[0-9]{1,4}$\"}",
		     "\"abc12\"");
}

Test(task, boolean_schemas_and_annotations)
{
	assert_valid("true", "{\"anything\":1}");
	assert_invalid("false", "1", "false");
	assert_invalid("{\"properties\":{\"gone\":false}}", "{\"gone\":1}",
		       "/gone: false");
	assert_valid("{\"$schema\":\"x\",\"$id\":\"y\",\"title\":\"t\","
		     "\"description\":\"d\",\"default\":{\"oneOf\":1}}",
		     "3");
}

Test(task, unsupported_keywords_are_refused_with_their_location)
{
	assert_schema_refused("{\"properties\":{\"x\":{\"oneOf\":[]}}}",
			      "schema uses unsupported keyword 'oneOf' at "
			      "/properties/x");
	assert_schema_refused("{\"items\":{\"$ref\":\"#\"}}",
			      "'$ref' at /items");
	assert_schema_refused("{\"additionalProperties\":{\"format\":\"uri\"}}",
			      "'format' at /additionalProperties");
	assert_schema_refused("{\"multipleOf\":2}", "'multipleOf' at (root)");
	assert_schema_refused("{\"properties\":{\"a~b\":{\"not\":{}}}}",
			      "at /properties/a~0b");
	assert_schema_refused("[]", "must be an object or a boolean");
}

Test(task, validation_reports_every_violation)
{
	struct sch_task_schema *s = NULL;
	struct sch_buf report = SCH_BUF_INIT;
	json_t *js = J("{\"required\":[\"a\",\"b\"],"
		       "\"properties\":{\"c\":{\"type\":\"string\"}}}");
	json_t *jd = J("{\"c\":1}");

	cr_assert_eq(sch_task_schema_load(&s, js), 0);
	cr_assert_eq(sch_task_schema_validate(s, jd, &report), SCH_ECHECK);
	cr_assert_str_eq(report.ptr,
			 "(root): required: missing property 'a'\n"
			 "(root): required: missing property 'b'\n"
			 "/c: type: expected string, found integer\n");
	cr_assert_str_eq(sch_error_msg(),
			 "(root): required: missing property 'a' (and 2 more)");
	sch_task_schema_free(s);
	json_decref(js);
	json_decref(jd);
	sch_buf_release(&report);
}

/* ---- versions and objects ----------------------------------------- */

Test(task, versions_order_numerically)
{
	cr_assert_lt(sch_task_version_cmp("1.9", "1.10"), 0);
	cr_assert_lt(sch_task_version_cmp("1.0", "1.0.0"), 0);
	cr_assert_lt(sch_task_version_cmp("1.0.0", "1.1"), 0);
	cr_assert_gt(sch_task_version_cmp("10", "9.9"), 0);
	cr_assert_eq(sch_task_version_cmp("2.0", "2.0"), 0);
	cr_assert_eq(sch_task_check_version("1.0"), 0);
	cr_assert_eq(sch_task_check_version("0"), 0);
	cr_assert_eq(sch_task_check_version("1.01"), SCH_EINVAL);
	cr_assert_eq(sch_task_check_version("1."), SCH_EINVAL);
	cr_assert_eq(sch_task_check_version("v1"), SCH_EINVAL);
	cr_assert_eq(sch_task_check_version(""), SCH_EINVAL);
	cr_assert_eq(sch_task_check_name("scrape-v2_x.y"), 0);
	cr_assert_eq(sch_task_check_name("-x"), SCH_EINVAL);
	cr_assert_eq(sch_task_check_name("a b"), SCH_EINVAL);
}

Test(task, task_object_round_trips_and_parses_strictly)
{
	struct sch_task_obj o, p;
	struct sch_buf b = SCH_BUF_INIT, c = SCH_BUF_INIT;
	const char *body;

	sch_task_obj_init(&o);
	sch_task_obj_init(&p);
	o.name = xstrdup("scrape");
	o.version = xstrdup("1.1");
	memset(o.schema.b, 0xab, SCH_ID_LEN);
	o.nedges = 1;
	o.edges = xcalloc(1, sizeof(*o.edges));
	o.edges[0].from = xstrdup("1.0");
	memset(o.edges[0].from_id.b, 0x01, SCH_ID_LEN);
	memset(o.edges[0].up.b, 0x02, SCH_ID_LEN);
	memset(o.edges[0].down.b, 0x03, SCH_ID_LEN);
	cr_assert_eq(sch_task_obj_format(&b, &o), 0);
	body = b.ptr;
	cr_assert(!strncmp(body, "name scrape\nversion 1.1\nschema abab", 35),
		  "%s", body);
	cr_assert(strstr(body, "\nfrom 1.0 0101"), "%s", body);
	cr_assert_eq(sch_task_obj_parse(&p, b.ptr, b.len), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(sch_task_obj_format(&c, &p), 0);
	cr_assert_str_eq(c.ptr, b.ptr);
	/* a trailing blank line, upper-case hex, a missing newline */
	sch_buf_addch(&b, '\n');
	cr_assert_eq(sch_task_obj_parse(&p, b.ptr, b.len), SCH_ECORRUPT);
	sch_buf_truncate(&b, b.len - 2);
	cr_assert_eq(sch_task_obj_parse(&p, b.ptr, b.len), SCH_ECORRUPT);
	b.ptr[b.len - 1] = 'B';
	sch_buf_addch(&b, '\n');
	cr_assert_eq(sch_task_obj_parse(&p, b.ptr, b.len), SCH_ECORRUPT);
	/* an edge from the version itself cannot be written */
	free(o.edges[0].from);
	o.edges[0].from = xstrdup("1.1");
	cr_assert_eq(sch_task_obj_format(&c, &o), SCH_EINVAL);
	sch_task_obj_release(&o);
	sch_task_obj_release(&p);
	sch_buf_release(&b);
	sch_buf_release(&c);
}

/* ---- graphs and migration ----------------------------------------- */

Test(task, classic_upgrade_adds_timeout_and_sets_version)
{
	struct sch_task_graph *g = three_versions();
	json_t *doc = J("{\"schema_version\":\"1.0\",\"url\":\"https://x\"}");

	cr_assert_eq(sch_task_migrate(&doc, g, "1.1", "cfg.json", NULL), 0,
		     "%s", sch_error_msg());
	assert_json(doc, "{\"schema_version\":\"1.1\",\"url\":\"https://x\","
			 "\"timeout_seconds\":300}");
	json_decref(doc);
	sch_task_graph_free(g);
}

Test(task, path_goes_up_across_three_versions)
{
	struct sch_task_graph *g = three_versions();
	struct sch_task_path p;
	json_t *doc = J("{\"schema_version\":\"1.0\",\"url\":\"https://x\"}");

	sch_task_path_init(&p);
	cr_assert_eq(sch_task_graph_path(&p, g, "1.0", "2.0"), 0);
	cr_assert_eq(p.n, 2);
	cr_assert_str_eq(p.steps[0].from, "1.0");
	cr_assert_str_eq(p.steps[0].to, "1.1");
	cr_assert_str_eq(p.steps[1].to, "2.0");
	cr_assert(!p.steps[0].backwards && !p.steps[1].backwards);
	sch_task_path_release(&p);

	/* no target: the newest version */
	cr_assert_eq(sch_task_migrate(&doc, g, NULL, "cfg.json", NULL), 0,
		     "%s", sch_error_msg());
	assert_json(doc, "{\"schema_version\":\"2.0\",\"timeout_seconds\":300,"
			 "\"source\":{\"url\":\"https://x\"}}");
	json_decref(doc);
	sch_task_graph_free(g);
}

Test(task, path_goes_down_with_down_ops)
{
	struct sch_task_graph *g = three_versions();
	struct sch_task_path p;
	json_t *doc = J("{\"schema_version\":\"2.0\",\"timeout_seconds\":60,"
			"\"source\":{\"url\":\"https://x\"}}");

	sch_task_path_init(&p);
	cr_assert_eq(sch_task_graph_path(&p, g, "2.0", "1.0"), 0);
	cr_assert_eq(p.n, 2);
	cr_assert(p.steps[0].backwards && p.steps[1].backwards);
	cr_assert_str_eq(p.steps[0].to, "1.1");
	sch_task_path_release(&p);
	cr_assert_eq(sch_task_graph_path(&p, g, "1.1", "1.1"), 0);
	cr_assert_eq(p.n, 0);
	sch_task_path_release(&p);

	cr_assert_eq(sch_task_migrate(&doc, g, "1.0", "cfg.json", NULL), 0,
		     "%s", sch_error_msg());
	assert_json(doc, "{\"schema_version\":\"1.0\",\"url\":\"https://x\"}");
	json_decref(doc);
	sch_task_graph_free(g);
}

Test(task, down_inverts_up_for_valid_documents)
{
	struct sch_task_graph *g = three_versions();
	json_t *orig = J("{\"schema_version\":\"1.0\",\"url\":\"https://x\"}");
	json_t *doc = json_deep_copy(orig);

	cr_assert_eq(sch_task_migrate(&doc, g, "2.0", "d", NULL), 0);
	cr_assert_eq(sch_task_migrate(&doc, g, "1.0", "d", NULL), 0);
	cr_assert(sch_json_equal(doc, orig));
	json_decref(doc);
	json_decref(orig);
	sch_task_graph_free(g);
}

Test(task, migration_errors_name_the_document)
{
	struct sch_task_graph *g = three_versions();
	json_t *doc, *before;

	doc = J("{\"url\":\"https://x\"}");
	cr_assert_eq(sch_task_migrate(&doc, g, NULL, "cfg.json", NULL),
		     SCH_EINVAL);
	cr_assert_str_eq(sch_error_msg(), "cfg.json: no schema_version");
	json_decref(doc);

	doc = J("{\"schema_version\":1.0}");
	cr_assert_eq(sch_task_migrate(&doc, g, NULL, "cfg.json", NULL),
		     SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "must be a string"));
	json_decref(doc);

	doc = J("{\"schema_version\":\"0.9\"}");
	cr_assert_eq(sch_task_migrate(&doc, g, NULL, "cfg.json", NULL),
		     SCH_ENOTFOUND);
	cr_assert_str_eq(sch_error_msg(),
			 "cfg.json: task fetch has no version 0.9");
	cr_assert_eq(sch_task_migrate(&doc, g, "1.0", "cfg.json", NULL),
		     SCH_ENOTFOUND);
	json_decref(doc);

	/* an op that does not apply: 1.1 -> 2.0 moves /url, absent here */
	doc = J("{\"schema_version\":\"1.1\",\"timeout_seconds\":5}");
	before = doc;
	cr_assert_eq(sch_task_migrate(&doc, g, "2.0", "cfg.json", NULL),
		     SCH_ECHECK);
	cr_assert(strstr(sch_error_msg(),
			 "cfg.json: 1.1 -> 2.0 (up): operation 1 (move "
			 "/source/url)"),
		  "%s", sch_error_msg());
	cr_assert_eq(doc, before);
	assert_json(doc, "{\"schema_version\":\"1.1\",\"timeout_seconds\":5}");
	json_decref(doc);
	sch_task_graph_free(g);
}

Test(task, migration_validates_against_the_target)
{
	struct sch_task_graph *g = three_versions();
	struct sch_buf report = SCH_BUF_INIT;
	json_t *doc = J("{\"schema_version\":\"1.0\",\"url\":7}");

	cr_assert_eq(sch_task_migrate(&doc, g, "1.1", "cfg.json", &report),
		     SCH_ECHECK);
	cr_assert_str_eq(sch_error_msg(),
			 "cfg.json: does not validate against fetch 1.1: "
			 "/url: type: expected string, found integer");
	cr_assert_str_eq(report.ptr,
			 "/url: type: expected string, found integer\n");
	assert_json(doc, "{\"schema_version\":\"1.0\",\"url\":7}");
	json_decref(doc);
	sch_buf_release(&report);
	sch_task_graph_free(g);
}

Test(task, validate_uses_the_declared_version)
{
	struct sch_task_graph *g = three_versions();
	json_t *doc = J("{\"schema_version\":\"1.1\",\"url\":\"u\"}");

	cr_assert_eq(sch_task_validate(g, doc, NULL, "c.json", NULL),
		     SCH_ECHECK);
	cr_assert(strstr(sch_error_msg(), "c.json: does not validate against "
					  "fetch 1.1: (root): required: "
					  "missing property 'timeout_seconds'"),
		  "%s", sch_error_msg());
	json_decref(doc);
	sch_task_graph_free(g);
}

Test(task, batch_migration_is_all_or_nothing)
{
	struct sch_task_graph *g = three_versions();
	json_t *docs[3], *orig[3];
	size_t failed = 99;

	docs[0] = J("{\"schema_version\":\"1.0\",\"url\":\"a\"}");
	docs[1] = J("{\"schema_version\":\"2.0\",\"timeout_seconds\":1,"
		    "\"source\":{\"url\":\"b\"}}");
	docs[2] = J("{\"schema_version\":\"1.1\",\"timeout_seconds\":1}");
	memcpy(orig, docs, sizeof(docs));
	cr_assert_eq(sch_task_migrate_batch(docs, 3, g, "1.1", "row", &failed,
					    NULL),
		     SCH_ECHECK);
	cr_assert_eq(failed, 2);
	cr_assert(!strncmp(sch_error_msg(), "row 2: ", 7), "%s",
		  sch_error_msg());
	cr_assert(!memcmp(orig, docs, sizeof(docs)));
	assert_json(docs[0], "{\"schema_version\":\"1.0\",\"url\":\"a\"}");

	json_decref(docs[2]);
	docs[2] = J("{\"schema_version\":\"1.1\",\"timeout_seconds\":1,"
		    "\"url\":\"c\"}");
	cr_assert_eq(sch_task_migrate_batch(docs, 3, g, "1.1", "row", &failed,
					    NULL),
		     0, "%s", sch_error_msg());
	assert_json(docs[0], "{\"schema_version\":\"1.1\",\"url\":\"a\","
			     "\"timeout_seconds\":300}");
	assert_json(docs[1], "{\"schema_version\":\"1.1\",\"url\":\"b\","
			     "\"timeout_seconds\":1}");
	for (int i = 0; i < 3; i++)
		json_decref(docs[i]);
	sch_task_graph_free(g);
}

Test(task, graph_refuses_bad_edges_and_conflicts)
{
	struct sch_task_graph *g = three_versions();
	json_t *s = J("{}"), *ops = J("[]"), *other = J("[{\"op\":\"test\","
							"\"path\":\"\",\"value\":1}]");
	struct sch_id before = sch_task_graph_get(g, "1.1")->id;

	cr_assert_eq(sch_task_graph_add(g, "3.0", s, "2.5", ops, ops),
		     SCH_ENOTFOUND);
	cr_assert_str_eq(sch_error_msg(), "task fetch has no version 2.5");
	cr_assert_eq(sch_task_graph_add(g, "3.0", s, "3.0", ops, ops),
		     SCH_EINVAL);
	cr_assert_eq(sch_task_graph_add(g, "3.0", s, "2.0", ops, NULL),
		     SCH_EINVAL);
	cr_assert_eq(sch_task_graph_add(g, "3.0", s, "2.0", ops, s),
		     SCH_EINVAL);
	cr_assert_eq(sch_task_graph_add(g, "1.1", s, NULL, NULL, NULL),
		     SCH_EEXISTS);
	cr_assert_eq(sch_task_graph_count(g), 3);
	/* same schema: an edge from 2.0 joins 1.1's edges */
	cr_assert_eq(sch_task_graph_add(g, "1.1",
					sch_task_graph_get(g, "1.1")->schema,
					"2.0", ops, ops),
		     0, "%s", sch_error_msg());
	cr_assert_eq(sch_task_graph_get(g, "1.1")->obj.nedges, 2);
	cr_assert_neq(sch_id_cmp(&before, &sch_task_graph_get(g, "1.1")->id), 0);
	cr_assert_eq(sch_task_graph_add(g, "1.1",
					sch_task_graph_get(g, "1.1")->schema,
					"2.0", other, ops),
		     SCH_EEXISTS);
	json_decref(s);
	json_decref(ops);
	json_decref(other);
	sch_task_graph_free(g);
}

Test(task, newest_is_the_highest_numeric_version)
{
	struct sch_task_graph *g = NULL;
	json_t *s = J("{}");

	cr_assert_eq(sch_task_graph_new(&g, "t"), 0);
	cr_assert_null(sch_task_graph_newest(g));
	cr_assert_eq(sch_task_graph_add(g, "1.10", s, NULL, NULL, NULL), 0);
	cr_assert_eq(sch_task_graph_add(g, "1.9", s, NULL, NULL, NULL), 0);
	cr_assert_eq(sch_task_graph_add(g, "1.2", s, NULL, NULL, NULL), 0);
	cr_assert_str_eq(sch_task_graph_newest(g), "1.10");
	cr_assert_str_eq(sch_task_graph_at(g, 0)->obj.version, "1.2");
	json_decref(s);
	sch_task_graph_free(g);
}

Test(task, disconnected_versions_have_no_path)
{
	struct sch_task_graph *g = three_versions();
	struct sch_task_path p;
	json_t *s = J("{}");

	sch_task_path_init(&p);
	cr_assert_eq(sch_task_graph_add(g, "3.0", s, NULL, NULL, NULL), 0);
	cr_assert_eq(sch_task_graph_path(&p, g, "1.0", "3.0"), SCH_ENOTFOUND);
	cr_assert_str_eq(sch_error_msg(),
			 "task fetch has no path from 1.0 to 3.0");
	json_decref(s);
	sch_task_graph_free(g);
}

/* ---- example data ------------------------------------------------- */

#define SCRAPE "migrations/tasks/scrape/"

Test(task, example_scrape_configs_migrate_up_and_back)
{
	struct sch_task_graph *g = NULL;
	json_t *s10, *s11, *s20, *u1, *d1, *u2, *d2, *orig, *doc;
	json_t *v = NULL;

	if (access(SCRAPE "example-1.0.json", R_OK))
		cr_skip_test("run from the repository root");
	s10 = read_json(SCRAPE "1.0.schema.json");
	s11 = read_json(SCRAPE "1.1.schema.json");
	s20 = read_json(SCRAPE "2.0.schema.json");
	u1 = read_json(SCRAPE "1.0-1.1.up.json");
	d1 = read_json(SCRAPE "1.0-1.1.down.json");
	u2 = read_json(SCRAPE "1.1-2.0.up.json");
	d2 = read_json(SCRAPE "1.1-2.0.down.json");
	orig = read_json(SCRAPE "example-1.0.json");
	cr_assert_eq(sch_task_graph_new(&g, "scrape"), 0);
	cr_assert_eq(sch_task_graph_add(g, "1.0", s10, NULL, NULL, NULL), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_task_graph_add(g, "1.1", s11, "1.0", u1, d1), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_task_graph_add(g, "2.0", s20, "1.1", u2, d2), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_task_validate(g, orig, NULL, "example", NULL), 0,
		     "%s", sch_error_msg());

	doc = json_deep_copy(orig);
	cr_assert_eq(sch_task_migrate(&doc, g, NULL, "example", NULL), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/extract/selectors/item"),
		     0);
	cr_assert_str_eq(json_string_value(v), "article.product_pod");
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/timeout_seconds"), 0);
	cr_assert_eq(json_integer_value(v), 300);
	cr_assert_eq(sch_json_pointer_get(&v, doc, "/start_url"), 0);
	cr_assert_eq(sch_task_migrate(&doc, g, "1.0", "example", NULL), 0, "%s",
		     sch_error_msg());
	cr_assert(sch_json_equal(doc, orig));

	json_decref(doc);
	json_decref(orig);
	json_decref(s10);
	json_decref(s11);
	json_decref(s20);
	json_decref(u1);
	json_decref(d1);
	json_decref(u2);
	json_decref(d2);
	sch_task_graph_free(g);
}

/* ---- the store ---------------------------------------------------- */

Test(task, store_round_trip_keeps_ids_and_refs)
{
	char dir[] = "/tmp/schema-test-task-XXXXXX";
	struct sch_task_graph *mem = three_versions(), *g = NULL;
	struct sch_store *st = NULL;
	struct sch_txn *t = NULL;
	struct sch_id id;
	const void *val;
	size_t vlen, i;
	json_t *s = J("{}");

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(sch_store_open(&st, dir, 1), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_txn_begin(&t, st, 1), 0);
	for (i = 0; i < sch_task_graph_count(mem); i++) {
		const struct sch_task_version *v = sch_task_graph_at(mem, i);
		const struct sch_task_version *f =
			v->obj.nedges ? sch_task_graph_get(
						mem, v->obj.edges[0].from)
				      : NULL;

		cr_assert_eq(sch_task_add(&id, t, "fetch", v->obj.version,
					  v->schema, f ? f->obj.version : NULL,
					  f ? v->up[0] : NULL,
					  f ? v->down[0] : NULL),
			     0, "%s", sch_error_msg());
		cr_assert_eq(sch_id_cmp(&id, &v->id), 0);
	}
	/* a second add of the same version changes nothing */
	cr_assert_eq(sch_task_add(&id, t, "fetch", "1.0",
				  sch_task_graph_get(mem, "1.0")->schema, NULL,
				  NULL, NULL),
		     0);
	cr_assert_eq(sch_task_add(NULL, t, "fetch", "1.0", s, NULL, NULL, NULL),
		     SCH_EEXISTS);
	cr_assert_eq(sch_task_add(NULL, t, "fetch", "3.0", s, "2.5",
				  sch_task_graph_get(mem, "1.1")->up[0],
				  sch_task_graph_get(mem, "1.1")->down[0]),
		     SCH_ENOTFOUND);
	cr_assert_eq(sch_txn_commit(t), 0);

	cr_assert_eq(sch_txn_begin(&t, st, 0), 0);
	cr_assert_eq(sch_kv_get(t, SCH_DB_TASKS, "fetch\0" "1.1", 9, &val,
				&vlen),
		     0);
	cr_assert_eq(vlen, SCH_ID_LEN);
	cr_assert_eq(memcmp(val, sch_task_graph_get(mem, "1.1")->id.b,
			    SCH_ID_LEN),
		     0);
	cr_assert_eq(sch_task_graph_load(&g, t, "fetch"), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(sch_task_graph_count(g), 3);
	for (i = 0; i < 3; i++)
		cr_assert_eq(sch_id_cmp(&sch_task_graph_at(g, i)->id,
					&sch_task_graph_at(mem, i)->id),
			     0);
	sch_task_graph_free(g);
	cr_assert_eq(sch_task_graph_load(&g, t, "other"), SCH_ENOTFOUND);
	cr_assert_null(g);
	/* "fetch" must not see versions of "fetch2" */
	sch_txn_abort(t);
	cr_assert_eq(sch_txn_begin(&t, st, 1), 0);
	cr_assert_eq(sch_task_add(NULL, t, "fetch2", "9.0", s, NULL, NULL, NULL),
		     0);
	cr_assert_eq(sch_task_graph_load(&g, t, "fetch"), 0);
	cr_assert_eq(sch_task_graph_count(g), 3);
	sch_task_graph_free(g);
	sch_txn_abort(t);

	sch_store_close(st);
	rm_tree(dir);
	json_decref(s);
	sch_task_graph_free(mem);
}
