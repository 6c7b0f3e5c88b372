/* zip.c - zlib deflate/inflate into sch_buf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "schema/error.h"
#include "zip.h"

/*
 * One deflate and one inflate stream a thread, reset between uses:
 * deflateInit allocates and clears about 256 KiB, which would otherwise
 * dominate the cost of storing small objects.
 */
static _Thread_local z_stream dstream, istream;
static _Thread_local int dready, dlevel, iready;
void sch_zip_thread_cleanup(void);

static int cleanup_registered;

static z_stream *get_deflate(int level)
{
	if (!cleanup_registered) {
		cleanup_registered = 1;
		atexit(sch_zip_thread_cleanup);
	}
	if (!dready) {
		memset(&dstream, 0, sizeof(dstream));
		if (deflateInit(&dstream, level) != Z_OK)
			return NULL;
		dready = 1;
		dlevel = level;
	} else {
		deflateReset(&dstream);
		if (level != dlevel && deflateParams(&dstream, level,
						     Z_DEFAULT_STRATEGY) != Z_OK)
			return NULL;
		dlevel = level;
	}
	return &dstream;
}

static z_stream *get_inflate(void)
{
	if (!cleanup_registered) {
		cleanup_registered = 1;
		atexit(sch_zip_thread_cleanup);
	}
	if (!iready) {
		memset(&istream, 0, sizeof(istream));
		if (inflateInit(&istream) != Z_OK)
			return NULL;
		iready = 1;
	} else {
		inflateReset(&istream);
	}
	return &istream;
}

void sch_zip_thread_cleanup(void)
{
	if (dready)
		deflateEnd(&dstream);
	if (iready)
		inflateEnd(&istream);
	dready = iready = 0;
}

int sch_zip_deflate(struct sch_buf *out, const void *data, size_t len,
		    int level)
{
	uLong bound = compressBound((uLong)len);
	z_stream *zs = get_deflate(level);
	int rc;

	if (!zs)
		return sch_error_set(SCH_EIO, "zlib: cannot initialise");
	sch_buf_grow(out, bound);
	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)len;
	zs->next_out = (Bytef *)out->ptr + out->len;
	zs->avail_out = (uInt)bound;
	rc = deflate(zs, Z_FINISH);
	if (rc != Z_STREAM_END)
		return sch_error_set(SCH_EIO, "zlib: compression failed (%d)",
				     rc);
	out->len += zs->total_out;
	out->ptr[out->len] = '\0';
	return 0;
}

int sch_zip_inflate(struct sch_buf *out, const void *data, size_t len,
		    size_t max)
{
	z_stream zs;
	int rc;
	size_t start = out->len;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return sch_error_set(SCH_EIO, "zlib: cannot initialise");
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	sch_buf_grow(out, max);
	zs.next_out = (Bytef *)out->ptr + start;
	zs.avail_out = (uInt)max;
	rc = inflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END || zs.avail_in != 0) {
		inflateEnd(&zs);
		out->ptr[start] = '\0';
		return sch_error_set(SCH_ECORRUPT, "zlib stream is damaged");
	}
	out->len = start + zs.total_out;
	out->ptr[out->len] = '\0';
	inflateEnd(&zs);
	return 0;
}

int sch_zip_inflate_prefix(void *outp, size_t want, size_t *got,
			   const void *data, size_t len)
{
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return sch_error_set(SCH_EIO, "zlib: cannot initialise");
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = outp;
	zs.avail_out = (uInt)want;
	rc = inflate(&zs, Z_SYNC_FLUSH);
	*got = zs.total_out;
	inflateEnd(&zs);
	if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
		return sch_error_set(SCH_ECORRUPT, "zlib stream is damaged");
	return 0;
}

/* Length of the header `type SP digits NUL` in p[0..n), or 0 if none yet. */
static size_t header_total(const unsigned char *p, size_t n, size_t *body)
{
	size_t i = 0, v = 0;

	while (i < n && p[i] != ' ')
		i++;
	if (i >= n || i == 0 || i > 16)
		return 0;
	i++;
	if (i >= n || p[i] < '0' || p[i] > '9')
		return 0;
	while (i < n && p[i] >= '0' && p[i] <= '9') {
		if (v > (SIZE_MAX - 9) / 10)
			return 0;
		v = v * 10 + (size_t)(p[i] - '0');
		i++;
	}
	if (i >= n || p[i] != '\0')
		return 0;
	*body = v;
	return i + 1;
}

int sch_zip_inflate_object(struct sch_buf *out, const void *data, size_t len,
			   size_t max)
{
	unsigned char head[40];
	size_t hlen, blen = 0, total;
	z_stream *zp = get_inflate();
	int rc, ret = 0;

	sch_buf_reset(out);
	if (!zp)
		return sch_error_set(SCH_EIO, "zlib: cannot initialise");
#define zs (*zp)
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = head;
	zs.avail_out = sizeof(head);
	rc = inflate(&zs, Z_SYNC_FLUSH);
	if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
		ret = sch_error_set(SCH_ECORRUPT, "zlib stream is damaged");
		goto out;
	}
	hlen = header_total(head, zs.total_out, &blen);
	if (!hlen || blen > max) {
		ret = sch_error_set(SCH_ECORRUPT, "object header is damaged");
		goto out;
	}
	total = hlen + blen;
	if (zs.total_out > total) {
		ret = sch_error_set(SCH_ECORRUPT, "object is longer than stated");
		goto out;
	}
	sch_buf_grow(out, total);
	memcpy(out->ptr, head, zs.total_out);
	if (rc != Z_STREAM_END) {
		zs.next_out = (Bytef *)out->ptr + zs.total_out;
		zs.avail_out = (uInt)(total - zs.total_out);
		rc = inflate(&zs, Z_FINISH);
		if (rc == Z_BUF_ERROR && zs.avail_out == 0) {
			/* Output full: the stream must end right here. */
			unsigned char extra;
			zs.next_out = &extra;
			zs.avail_out = 1;
			rc = inflate(&zs, Z_FINISH);
			if (zs.avail_out == 0)
				rc = Z_DATA_ERROR;
		}
	}
	if (rc != Z_STREAM_END || zs.total_out != total || zs.avail_in != 0) {
		ret = sch_error_set(SCH_ECORRUPT,
				    "object size or zlib stream is damaged");
		goto out;
	}
	out->len = total;
	out->ptr[total] = '\0';
out:
#undef zs
	return ret;
}
