/* fuzz_object.c - sch_object_decode() on raw bytes, and sch_rev_parse() on
 * the body of whatever decodes as a `rev`.
 *
 * Invariants checked beyond "no crash, no leak":
 *  - a decoded body lies inside the input and ends where the input ends;
 *  - a revision that parses formats back to exactly its bytes (the parser
 *    is strict: one revision, one encoding, one id).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/revision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void check_rev(const char *body, size_t len)
{
	struct sch_rev r;
	struct sch_buf back = SCH_BUF_INIT;

	if (sch_rev_parse(&r, body, len) == 0) {
		if (!r.message || r.nparents > SCH_REV_MAX_PARENTS)
			abort();
		sch_rev_format(&back, &r);
		if ((back.len != len || memcmp(back.ptr, body, len))) {
			fprintf(stderr, "revision does not round-trip:\n"
					"--- input (%zu bytes)\n%.*s\n"
					"--- formatted (%zu bytes)\n%s\n",
				len, (int)len, body, back.len, back.ptr);
			abort();
		}
	} else if (sch_error_code() != SCH_ECORRUPT) {
		abort();
	}
	sch_buf_release(&back);
	sch_rev_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sch_otype type = SCH_OBJ_NONE;
	const void *body = NULL;
	size_t len = 0;

	if (sch_object_decode(&type, &body, &len, data, size) != 0)
		return 0;
	if ((const uint8_t *)body < data || (const uint8_t *)body > data + size ||
	    (const uint8_t *)body + len != data + size ||
	    type == SCH_OBJ_NONE)
		abort();
	if (type == SCH_OBJ_REV)
		check_rev(body, len);
	return 0;
}
