/* test_chunker.c - content-defined chunking: fixed cut points, bounds,
 * locality of changes, streaming equal to one call. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/chunker.h"

/* Deterministic pseudo-random bytes (xorshift64*), the same everywhere. */
static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (unsigned char)((x * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

/* Cut points (chunk end offsets) of data fed in pieces of `piece` bytes. */
static size_t cuts(size_t *out, size_t cap, const unsigned char *data,
		   size_t len, size_t avg, size_t piece)
{
	struct sch_chunker c;
	size_t n = 0, off = 0;

	sch_chunker_init(&c, avg);
	while (off < len) {
		size_t k = len - off < piece ? len - off : piece;
		const unsigned char *p = data + off;
		size_t left = k, cut;
		while (left && sch_chunker_feed(&c, p, left, &cut)) {
			cr_assert(cut >= 1 && cut <= left);
			p += cut;
			left -= cut;
			cr_assert(n < cap);
			out[n++] = (size_t)(p - data);
		}
		off += k;
	}
	if (n == 0 || out[n - 1] != len) {
		cr_assert(n < cap);
		out[n++] = len;
	}
	return n;
}

TestSuite(chunker);

Test(chunker, average_is_rounded_to_a_power_of_two_and_clamped)
{
	struct sch_chunker c;

	sch_chunker_init(&c, 0);
	cr_assert_eq(c.avg, SCH_CHUNK_AVG_DEFAULT);
	cr_assert_eq(c.min, c.avg / 4);
	cr_assert_eq(c.max, c.avg * 4);
	sch_chunker_init(&c, 100000);
	cr_assert_eq(c.avg, 131072);
	sch_chunker_init(&c, 90000);
	cr_assert_eq(c.avg, 65536);
	sch_chunker_init(&c, 1);
	cr_assert_eq(c.avg, SCH_CHUNK_AVG_MIN);
	sch_chunker_init(&c, (size_t)1 << 40);
	cr_assert_eq(c.avg, SCH_CHUNK_AVG_MAX);
}

Test(chunker, same_bytes_give_the_same_known_cut_points)
{
	size_t len = 1 << 20, a[64], b[64], n, m;
	unsigned char *d = xmalloc(len);

	fill(d, len, 42);
	n = cuts(a, 64, d, len, 64 << 10, len);
	m = cuts(b, 64, d, len, 64 << 10, len);
	cr_assert_eq(n, m);
	cr_assert_eq(memcmp(a, b, n * sizeof(a[0])), 0);
	/* Known answer: pins the gear table and the masks (see chunker.h). */
	{
		struct sch_buf s = SCH_BUF_INIT;
		for (size_t i = 0; i < n && i < 4; i++)
			sch_buf_addf(&s, "%zu ", a[i]);
		cr_assert_str_eq(s.ptr, "95159 189357 280531 372311 ", "cut points: %s", s.ptr);
		sch_buf_release(&s);
	}
	free(d);
}

Test(chunker, feeding_in_pieces_cuts_like_one_call)
{
	size_t len = 3 << 20, a[256], b[256], n, m;
	unsigned char *d = xmalloc(len);
	size_t pieces[] = { 1, 7, 4096, 65537, 1 << 20 };

	fill(d, len, 7);
	n = cuts(a, 256, d, len, 32 << 10, len);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		if (pieces[i] == 1 && len > (1 << 20))
			m = cuts(b, 256, d, 1 << 20, 32 << 10, 1);
		else
			m = cuts(b, 256, d, len, 32 << 10, pieces[i]);
		if (pieces[i] == 1) {
			/* compare the cut points below 1 MiB */
			size_t k = 0;
			while (k < m && b[k] < (1 << 20)) {
				cr_assert_eq(a[k], b[k]);
				k++;
			}
			continue;
		}
		cr_assert_eq(n, m, "piece %zu", pieces[i]);
		cr_assert_eq(memcmp(a, b, n * sizeof(a[0])), 0);
	}
	free(d);
}

Test(chunker, sizes_stay_within_bounds)
{
	size_t len = 8 << 20, a[2048], n;
	unsigned char *d = xmalloc(len);
	struct sch_chunker c;

	sch_chunker_init(&c, 16 << 10);
	fill(d, len, 3);
	n = cuts(a, 2048, d, len, 16 << 10, 100000);
	for (size_t i = 0; i < n; i++) {
		size_t sz = a[i] - (i ? a[i - 1] : 0);
		if (i + 1 < n)
			cr_assert(sz >= c.min && sz <= c.max, "chunk %zu: %zu",
				  i, sz);
		else
			cr_assert(sz >= 1 && sz <= c.max);
	}
	/* the mean stays near the average (normalized chunking) */
	cr_assert(len / n > (16 << 10) / 2 && len / n < (16 << 10) * 2,
		  "mean %zu", len / n);
	free(d);
}

Test(chunker, uniform_bytes_are_cut_at_the_maximum)
{
	size_t len = 1 << 20, a[64], n;
	unsigned char *d = xcalloc(1, len);

	n = cuts(a, 64, d, len, 16 << 10, len);
	/* all zeros never match the mask: every cut is forced at 64 KiB */
	cr_assert_eq(n, 16);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(a[i], (i + 1) * (64 << 10));
	free(d);
}

Test(chunker, inserting_bytes_near_the_start_changes_only_nearby_chunks)
{
	size_t len = 4 << 20, a[1024], b[1024], n, m, same = 0;
	unsigned char *d = xmalloc(len + 100);

	fill(d, len, 11);
	n = cuts(a, 1024, d, len, 16 << 10, len);
	/* insert 100 bytes at offset 1000 */
	memmove(d + 1100, d + 1000, len - 1000);
	fill(d + 1000, 100, 99);
	m = cuts(b, 1024, d, len + 100, 16 << 10, len);
	/* every cut point after the first two reappears shifted by 100 */
	for (size_t i = 0, j = 0; i < n && j < m;) {
		if (a[i] + 100 == b[j]) {
			same++;
			i++;
			j++;
		} else if (a[i] + 100 < b[j]) {
			i++;
		} else {
			j++;
		}
	}
	cr_assert(same + 2 >= n, "%zu of %zu cut points kept", same, n);
	free(d);
}

Test(chunker, empty_input_has_no_cut)
{
	struct sch_chunker c;
	size_t cut = 99;

	sch_chunker_init(&c, 0);
	cr_assert_eq(sch_chunker_feed(&c, "", 0, &cut), 0);
	cr_assert_eq(cut, 99);
}
