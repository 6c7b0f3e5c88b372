/* fuzz_manifest.c - sch_manifest_parse() on arbitrary bytes.
 *
 * Invariants beyond "no crash, no leak": a failure is SCH_ECORRUPT, and a
 * manifest that parses formats back to exactly its bytes (one manifest,
 * one encoding, one snapshot id).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch_manifest m;
	struct sch_buf back = SCH_BUF_INIT;

	if (sch_manifest_parse(&m, data, size) == 0) {
		sch_manifest_format(&back, &m);
		if (back.len != size || memcmp(back.ptr, data, size)) {
			fprintf(stderr, "manifest does not round-trip:\n"
					"--- input (%zu bytes)\n%.*s\n"
					"--- formatted (%zu bytes)\n%s\n",
				size, (int)size, (const char *)data, back.len,
				back.ptr);
			abort();
		}
	} else if (sch_error_code() != SCH_ECORRUPT) {
		abort();
	}
	sch_buf_release(&back);
	sch_manifest_release(&m);
	return 0;
}
