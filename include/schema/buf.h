/*
 * buf.h - growable byte buffers and the xmalloc family.
 *
 * A struct sch_buf is never NULL-pointered after sch_buf_init() and always
 * NUL-terminated, so b.ptr can be used as a C string when the content has no
 * NUL. Out of memory aborts. A buffer can carry a size cap: adding past it
 * returns SCH_ETOOBIG and leaves the buffer unchanged.
 */
#ifndef SCH_BUF_H
#define SCH_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a malloc'd formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct sch_buf {
	char *ptr;
	size_t len;
	size_t cap;     /* allocated bytes, 0 while ptr is the shared "" */
	size_t max;     /* size cap; 0 = unlimited */
};

#define SCH_BUF_INIT { sch_buf_empty, 0, 0, 0 }
extern char sch_buf_empty[1];

void sch_buf_init(struct sch_buf *b);
/* Frees the content and re-initialises the buffer. */
void sch_buf_release(struct sch_buf *b);
void sch_buf_reset(struct sch_buf *b);
void sch_buf_grow(struct sch_buf *b, size_t extra);
int sch_buf_add(struct sch_buf *b, const void *data, size_t len);
int sch_buf_addstr(struct sch_buf *b, const char *s);
int sch_buf_addch(struct sch_buf *b, char c);
int sch_buf_addf(struct sch_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sch_buf_vaddf(struct sch_buf *b, const char *fmt, va_list ap);
void sch_buf_truncate(struct sch_buf *b, size_t len);
/* Returns the malloc'd content (caller frees) and re-initialises b. */
char *sch_buf_detach(struct sch_buf *b, size_t *len);

/*
 * Reads a whole file into b (appending). Returns 0, SCH_ENOTFOUND when the
 * file does not exist, SCH_EIO on other errors, SCH_ETOOBIG past b->max.
 */
int sch_buf_read_file(struct sch_buf *b, const char *path);

/*
 * Writes data to path atomically (temporary file in the same directory,
 * fsync, rename). Returns 0 or SCH_EIO.
 */
int sch_write_file_atomic(const char *path, const void *data, size_t len);

/* Hex encoding of bytes; out must hold 2*len+1 bytes. */
void sch_hex(char *out, const void *data, size_t len);
/* Decodes exactly 2*len hex digits; returns 0 or SCH_EINVAL. */
int sch_unhex(void *out, const char *hex, size_t len);

#endif
