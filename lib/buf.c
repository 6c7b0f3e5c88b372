/* buf.c - growable buffers, allocation that aborts on failure, files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"

char sch_buf_empty[1];

static void oom(size_t n)
{
	fprintf(stderr, "schema: fatal: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct sch_buf b = SCH_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sch_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return sch_buf_detach(&b, NULL);
}

void sch_buf_init(struct sch_buf *b)
{
	b->ptr = sch_buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = 0;
}

void sch_buf_release(struct sch_buf *b)
{
	size_t max = b->max;

	if (b->cap)
		free(b->ptr);
	sch_buf_init(b);
	b->max = max;
}

void sch_buf_reset(struct sch_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->ptr[0] = '\0';
}

void sch_buf_grow(struct sch_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need < b->len)
		oom(SIZE_MAX);
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
	if (b->cap) {
		b->ptr = xrealloc(b->ptr, cap);
	} else {
		b->ptr = xmalloc(cap);
		b->ptr[0] = '\0';
	}
	b->cap = cap;
}

int sch_buf_add(struct sch_buf *b, const void *data, size_t len)
{
	if (b->max && (len > b->max || b->len > b->max - len))
		return sch_error_set(SCH_ETOOBIG, "data exceeds %zu bytes",
				     b->max);
	if (!len) {
		return 0;
	}
	sch_buf_grow(b, len);
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int sch_buf_addstr(struct sch_buf *b, const char *s)
{
	return sch_buf_add(b, s, strlen(s));
}

int sch_buf_addch(struct sch_buf *b, char c)
{
	return sch_buf_add(b, &c, 1);
}

int sch_buf_vaddf(struct sch_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return sch_error_set(SCH_EINVAL, "bad format");
	if (b->max && b->len + (size_t)n > b->max)
		return sch_error_set(SCH_ETOOBIG, "data exceeds %zu bytes",
				     b->max);
	sch_buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int sch_buf_addf(struct sch_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sch_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void sch_buf_truncate(struct sch_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}

char *sch_buf_detach(struct sch_buf *b, size_t *len)
{
	char *p = b->cap ? b->ptr : xstrdup("");

	if (len)
		*len = b->len;
	sch_buf_init(b);
	return p;
}

int sch_buf_read_file(struct sch_buf *b, const char *path)
{
	char tmp[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;
	ssize_t n;

	if (fd < 0) {
		if (errno == ENOENT)
			return sch_error_set(SCH_ENOTFOUND, "%s: no such file",
					     path);
		return sch_error_set(SCH_EIO, "cannot open %s: %s", path,
				     strerror(errno));
	}
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sch_error_set(SCH_EIO, "cannot read %s: %s", path,
					   strerror(errno));
			break;
		}
		if (n == 0)
			break;
		rc = sch_buf_add(b, tmp, (size_t)n);
		if (rc) {
			rc = sch_error_set(rc, "%s: larger than %zu bytes",
					   path, b->max);
			break;
		}
	}
	close(fd);
	return rc;
}

int sch_write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0) {
		rc = sch_error_set(SCH_EIO, "cannot create %s: %s", tmp,
				   strerror(errno));
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sch_error_set(SCH_EIO, "cannot write %s: %s", path,
					   strerror(errno));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!rc && fsync(fd) < 0)
		rc = sch_error_set(SCH_EIO, "cannot write %s: %s", path,
				   strerror(errno));
	if (close(fd) < 0 && !rc)
		rc = sch_error_set(SCH_EIO, "cannot write %s: %s", path,
				   strerror(errno));
	if (!rc && rename(tmp, path) < 0)
		rc = sch_error_set(SCH_EIO, "cannot rename %s: %s", tmp,
				   strerror(errno));
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

void sch_hex(char *out, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Hex digit values, 0xff for anything else (ids are parsed by the
 * hundred thousand when a long history is read). */
static const unsigned char hexval[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,
	['5'] = 6,  ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14,
	['E'] = 15, ['F'] = 16,
};

int sch_unhex(void *out, const char *hex, size_t len)
{
	unsigned char *o = out;
	const unsigned char *h = (const unsigned char *)hex;

	for (size_t i = 0; i < len; i++) {
		unsigned hi = hexval[h[2 * i]], lo;
		if (!hi)
			return SCH_EINVAL;
		lo = hexval[h[2 * i + 1]];
		if (!lo)
			return SCH_EINVAL;
		o[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return 0;
}
