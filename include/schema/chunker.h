/*
 * chunker.h - content-defined chunking (FastCDC with a gear hash).
 *
 * A byte stream is cut where a rolling hash of the last 64 bytes has its
 * top bits all zero, so cut points depend on the content around them and
 * not on offsets: inserting or removing bytes moves only the chunks next to
 * the change, and the rest of a stream cuts exactly as before. That is what
 * lets a second backup of a nearly unchanged table store almost nothing.
 *
 * Sizes: with an average A (a power of two, rounded), chunks are at least
 * A/4 bytes and at most 4*A bytes, except the last chunk of a stream, which
 * may be shorter. Between A/4 and A the test needs log2(A)+2 zero bits,
 * from A on log2(A)-2 ("normalized chunking", level 2), which keeps sizes
 * close to A. The first A/4 bytes of a chunk are skipped, not hashed.
 *
 * The gear table is fixed (tests/unit/test_chunker.c pins known answers):
 * changing it, the masks or the rules above changes every cut point and
 * costs every existing store its deduplication with new backups.
 *
 * Streaming use:
 *
 *	struct sch_chunker c;
 *	sch_chunker_init(&c, 256 << 10);
 *	while (more input p, n) {
 *		size_t cut;
 *		while (n && sch_chunker_feed(&c, p, n, &cut)) {
 *			append p[0..cut) to the chunk; emit it; start anew;
 *			p += cut; n -= cut;
 *		}
 *		append p[0..n) to the chunk;
 *	}
 *	emit what is left, if anything;
 */
#ifndef SCH_CHUNKER_H
#define SCH_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#define SCH_CHUNK_AVG_DEFAULT ((size_t)256 << 10) /* 256 KiB */
#define SCH_CHUNK_AVG_MIN ((size_t)1 << 10)	  /* 1 KiB */
#define SCH_CHUNK_AVG_MAX ((size_t)16 << 20)	  /* 16 MiB: max 64 MiB */

struct sch_chunker {
	size_t min, avg, max;	/* bytes */
	uint64_t mask_s, mask_l; /* before and after avg */
	size_t pos;		/* bytes of the current chunk so far */
	uint64_t h;
};

/*
 * Prepares a chunker for an average size `avg`, clamped to
 * [SCH_CHUNK_AVG_MIN, SCH_CHUNK_AVG_MAX] and rounded to the nearest power
 * of two (0: SCH_CHUNK_AVG_DEFAULT). Never fails.
 */
void sch_chunker_init(struct sch_chunker *c, size_t avg);

/*
 * Looks for the end of the current chunk in data[0..len). Returns 1 and
 * sets *cut (1..len) when the chunk ends after data[*cut - 1]: the chunker
 * is then ready for the next chunk, and the caller feeds data + *cut next.
 * Returns 0 when all len bytes belong to the current chunk.
 */
int sch_chunker_feed(struct sch_chunker *c, const void *data, size_t len,
		     size_t *cut);

/* Forgets the current chunk (the next byte starts a new one). */
void sch_chunker_reset(struct sch_chunker *c);

#endif
