/*
 * fuzz_sqlsplit.c - libFuzzer target for the SQL splitter and classifier
 * (src/sqlparse.c). Any input must give either SCH_EPARSE with a
 * "file:line: " message, or statements that lie inside the input, in
 * order, without overlap, each starting on a non-blank byte at the line
 * the offset says; classifying the same input must then succeed.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "schema/error.h"
#include "schema/sqlparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch_sql_script s;
	struct sch_sql_notx notx;
	size_t i, end = 0;
	int rc;

	/* the parser's cost grows with the input; keep runs fast */
	if (size > 64 * 1024)
		return 0;
	rc = sch_sql_split(&s, "f.sql", data, size);
	if (rc) {
		assert(rc == SCH_EPARSE);
		assert(strncmp(sch_error_msg(), "f.sql:", 6) == 0);
		assert(s.n == 0 && s.stmts == NULL);
		return 0;
	}
	for (i = 0; i < s.n; i++) {
		const struct sch_sql_stmt *st = &s.stmts[i];
		char c = (char)data[st->off];

		assert(st->len > 0);
		assert(st->off >= end);
		assert(st->off + st->len <= size);
		assert(c != ' ' && c != '\t' && c != '\n' && c != '\r');
		assert(st->line == sch_sql_line_at(data, size, st->off));
		end = st->off + st->len;
	}
	rc = sch_sql_classify(&s, "f.sql", data, size, 11);
	assert(rc == 0);
	for (i = 0; i < s.n; i++)
		assert((s.stmts[i].flags == 0) == (s.stmts[i].what == NULL));
	sch_sql_script_release(&s);
	rc = sch_sql_needs_notx(&notx, "f.sql", data, size, 15);
	assert(rc == 0 || rc == SCH_EPARSE);
	return 0;
}
