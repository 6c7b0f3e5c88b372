/* fuzz_trusted_keys.c - sch_trusted_parse() on .schema/trusted_keys and
 * sch_sig_parse() on sig object bodies.
 *
 * Invariants beyond "no crash, no leak": a failure is SCH_EPARSE naming
 * the file and a line; what parses re-formats (one publine a key) to a
 * text that parses to the same keys.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch_trusted t, again;
	struct sch_buf text = SCH_BUF_INIT;
	struct sch_sig s;
	int rc;

	if (sch_sig_parse(&s, (const char *)data, size) == 0) {
		struct sch_buf b = SCH_BUF_INIT;
		sch_sig_format(&b, &s);
		if (b.len != size || memcmp(b.ptr, data, size))
			abort(); /* the sig format has one spelling */
		sch_buf_release(&b);
	}
	rc = sch_trusted_parse(&t, (const char *)data, size, "fuzz/tk");
	if (rc) {
		if (rc != SCH_EPARSE || !strstr(sch_error_msg(), "fuzz/tk:"))
			abort();
		return 0;
	}
	for (size_t i = 0; i < t.n; i++)
		sch_key_publine(&text, &t.v[i]);
	if (sch_trusted_parse(&again, text.ptr, text.len, "fuzz/again"))
		abort();
	if (again.n != t.n)
		abort();
	for (size_t i = 0; i < t.n; i++)
		if (memcmp(again.v[i].pk, t.v[i].pk, SCH_KEY_PUB) ||
		    strcmp(again.v[i].name, t.v[i].name))
			abort();
	sch_trusted_release(&again);
	sch_trusted_release(&t);
	sch_buf_release(&text);
	return 0;
}
