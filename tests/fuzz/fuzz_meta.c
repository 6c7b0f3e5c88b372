/* fuzz_meta.c - sch_meta_parse() on a migration's meta file.
 *
 * Invariants beyond "no crash, no leak": what parses formats to a text
 * that parses again to the same meta (format(parse(format(parse(x)))) ==
 * format(parse(x))), and a failure is SCH_EPARSE with the file named.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/worktree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch_meta m, again;
	struct sch_buf one = SCH_BUF_INIT, two = SCH_BUF_INIT;
	int rc;

	rc = sch_meta_parse(&m, (const char *)data, size, "fuzz/meta");
	if (rc) {
		if (rc != SCH_EPARSE || !strstr(sch_error_msg(), "fuzz/meta"))
			abort();
		sch_meta_release(&m);
		return 0;
	}
	sch_meta_format(&one, &m);
	if (sch_meta_parse(&again, one.ptr, one.len, "fuzz/formatted")) {
		fprintf(stderr, "formatted meta does not parse: %s\n%s\n",
			sch_error_msg(), one.ptr);
		abort();
	}
	sch_meta_format(&two, &again);
	if (one.len != two.len || memcmp(one.ptr, two.ptr, one.len)) {
		fprintf(stderr, "meta format is not stable:\n--- once\n%s\n"
				"--- twice\n%s\n", one.ptr, two.ptr);
		abort();
	}
	sch_buf_release(&one);
	sch_buf_release(&two);
	sch_meta_release(&again);
	sch_meta_release(&m);
	return 0;
}
