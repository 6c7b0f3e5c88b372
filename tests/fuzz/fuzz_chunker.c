/* fuzz_chunker.c - the chunker on arbitrary bytes.
 *
 * The first two input bytes choose the average size (1 KiB << (b0 % 4))
 * and the piece size the stream is fed in (1 + b1 * 37); the rest is the
 * stream. Invariants beyond "no crash": every cut lies within the piece
 * fed, every chunk but the last is within [min, max], and feeding in
 * pieces cuts exactly where one call over the whole stream does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/chunker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t run(size_t **out, const uint8_t *p, size_t len, size_t avg,
		  size_t piece)
{
	struct sch_chunker c;
	size_t n = 0, cap = 16, off = 0, start = 0;

	*out = xmalloc(cap * sizeof(**out));
	sch_chunker_init(&c, avg);
	while (off < len) {
		size_t k = len - off < piece ? len - off : piece, cut;
		const uint8_t *q = p + off;
		size_t left = k;
		while (left && sch_chunker_feed(&c, q, left, &cut)) {
			size_t end;
			if (cut < 1 || cut > left)
				abort();
			q += cut;
			left -= cut;
			end = (size_t)(q - p);
			if (end - start < c.min || end - start > c.max)
				abort();
			start = end;
			if (n == cap) {
				cap *= 2;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			(*out)[n++] = end;
		}
		off += k;
	}
	if (len - start > c.max)
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t avg, piece, n, m, *a, *b;

	if (size < 2)
		return 0;
	avg = (size_t)1024 << (data[0] % 4);
	piece = 1 + (size_t)data[1] * 37;
	data += 2;
	size -= 2;
	n = run(&a, data, size, avg, size ? size : 1);
	m = run(&b, data, size, avg, piece);
	if (n != m || memcmp(a, b, n * sizeof(*a)))
		abort();
	free(a);
	free(b);
	return 0;
}
