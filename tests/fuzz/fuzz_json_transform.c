/*
 * fuzz_json_transform.c - libFuzzer target for the task-config transforms.
 *
 * Input: OPS NUL DOC [NUL SCHEMA]. OPS is an operation list (JSON Patch plus
 * "default"), DOC the document it is applied to, SCHEMA an optional JSON
 * Schema the result is validated against. Any part may be invalid; the
 * target checks that nothing crashes or leaks, that a failed apply leaves
 * the document as it was, and that the canonical dump is a fixed point.
 *
 *   clang -fsanitize=fuzzer,address ... tests/fuzz/fuzz_json_transform.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/json.h"
#include "schema/task.h"

/* Canonical form, parse, canonical form again: the same bytes. */
static void check_canonical(const json_t *v)
{
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;
	json_t *again = NULL;

	if (sch_json_dump(&a, v))
		abort();
	if (sch_json_parse(&again, a.ptr, a.len, "canonical"))
		abort();
	if (sch_json_dump(&b, again) || a.len != b.len ||
	    memcmp(a.ptr, b.ptr, a.len) || !sch_json_equal(v, again))
		abort();
	json_decref(again);
	sch_buf_release(&a);
	sch_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *doc_at, *schema_at = NULL, *nul;
	json_t *ops = NULL, *doc = NULL, *before = NULL, *schema = NULL;
	struct sch_task_schema *compiled = NULL;
	struct sch_buf report = SCH_BUF_INIT;
	size_t ops_len, doc_len;

	nul = memchr(data, 0, size);
	if (!nul)
		return 0;
	ops_len = (size_t)(nul - data);
	doc_at = nul + 1;
	nul = memchr(doc_at, 0, (size_t)(end - doc_at));
	doc_len = nul ? (size_t)(nul - doc_at) : (size_t)(end - doc_at);
	if (nul)
		schema_at = nul + 1;

	if (sch_json_parse(&ops, data, ops_len, "ops") ||
	    sch_json_parse(&doc, doc_at, doc_len, "doc"))
		goto out;
	check_canonical(doc);
	before = json_deep_copy(doc);
	if (sch_task_ops_apply(&doc, ops)) {
		/* All or nothing: a failure leaves the document as it was. */
		if (!sch_json_equal(doc, before))
			abort();
		goto out;
	}
	check_canonical(doc);
	if (schema_at &&
	    !sch_json_parse(&schema, schema_at, (size_t)(end - schema_at),
			    "schema") &&
	    !sch_task_schema_load(&compiled, schema))
		sch_task_schema_validate(compiled, doc, &report);
out:
	sch_task_schema_free(compiled);
	json_decref(schema);
	json_decref(before);
	json_decref(doc);
	json_decref(ops);
	sch_buf_release(&report);
	return 0;
}
