/* zip.h - the zlib wrapper (store-internal). */
#ifndef SCH_STORE_ZIP_H
#define SCH_STORE_ZIP_H

#include <stddef.h>

#include "schema/buf.h"

/* Appends the zlib stream of data to out. Returns 0 or SCH_EIO. */
int sch_zip_deflate(struct sch_buf *out, const void *data, size_t len,
		    int level);
/*
 * Inflates a zlib stream into out (appending), producing at most `max`
 * bytes; more output, a truncated stream or trailing bytes are
 * SCH_ECORRUPT.
 */
int sch_zip_inflate(struct sch_buf *out, const void *data, size_t len,
		    size_t max);
/* Inflates only the first `want` bytes (for reading a header). */
int sch_zip_inflate_prefix(void *out, size_t want, size_t *got,
			   const void *data, size_t len);

/* Frees this thread's cached zlib streams (worker threads call it before
 * they end; the main thread's are freed at exit). */
void sch_zip_thread_cleanup(void);

#endif

/*
 * Inflates one stored object (`type SP len NUL body`, zlib-compressed) into
 * out (replacing its content): reads the header first, refuses a stated
 * size above max, then requires exactly the stated size and the end of the
 * stream. Returns 0 or SCH_ECORRUPT.
 */
int sch_zip_inflate_object(struct sch_buf *out, const void *data, size_t len,
			   size_t max);
