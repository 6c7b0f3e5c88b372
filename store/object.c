/* object.c - encoding, hashing, compression and verification of objects. */
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "schema/error.h"
#include "schema/object.h"
#include "zip.h"

static const char *const type_names[] = {
	[SCH_OBJ_NONE] = NULL,	     [SCH_OBJ_BLOB] = "blob",
	[SCH_OBJ_STATE] = "state",   [SCH_OBJ_REV] = "rev",
	[SCH_OBJ_SNAP] = "snap",     [SCH_OBJ_CHUNK] = "chunk",
	[SCH_OBJ_TASK] = "task",     [SCH_OBJ_SIG] = "sig",
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *sch_otype_name(enum sch_otype type)
{
	if ((size_t)type >= NTYPES || !type_names[type])
		return "unknown";
	return type_names[type];
}

enum sch_otype sch_otype_parse(const char *name, size_t len)
{
	for (size_t i = 1; i < NTYPES; i++)
		if (strlen(type_names[i]) == len &&
		    !memcmp(type_names[i], name, len))
			return (enum sch_otype)i;
	return SCH_OBJ_NONE;
}

void sch_id_hex(char *out, const struct sch_id *id)
{
	sch_hex(out, id->b, SCH_ID_LEN);
}

void sch_id_short(char *out, const struct sch_id *id)
{
	sch_hex(out, id->b, SCH_SHORT_LEN / 2);
}

int sch_id_parse(struct sch_id *out, const char *hex, size_t len)
{
	if (len != SCH_HEX_LEN || sch_unhex(out->b, hex, SCH_ID_LEN))
		return sch_error_set(SCH_EINVAL, "'%.*s' is not a full id",
				     (int)(len > 80 ? 80 : len), hex);
	return 0;
}

int sch_id_cmp(const struct sch_id *a, const struct sch_id *b)
{
	return memcmp(a->b, b->b, SCH_ID_LEN);
}

int sch_id_is_zero(const struct sch_id *id)
{
	static const struct sch_id zero;

	return !memcmp(id->b, zero.b, SCH_ID_LEN);
}

static size_t encode_header(char *out, size_t cap, enum sch_otype type,
			    size_t len)
{
	int n = snprintf(out, cap, "%s %zu", sch_otype_name(type), len);

	return (size_t)n + 1; /* the NUL is part of the header */
}

static void hash_parts(struct sch_id *out, const void *a, size_t alen,
		       const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, SCH_ID_LEN);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out->b, SCH_ID_LEN);
}

void sch_object_hash(struct sch_id *out, enum sch_otype type,
		     const void *body, size_t len)
{
	char hdr[32];
	size_t hlen = encode_header(hdr, sizeof(hdr), type, len);

	hash_parts(out, hdr, hlen, body, len);
}

int sch_object_put(struct sch_id *out, struct sch_txn *t, enum sch_otype type,
		   const void *body, size_t len, int level)
{
	char hdr[32];
	size_t hlen;
	struct sch_buf z = SCH_BUF_INIT;
	void *dst;
	int rc = 0;

	if (len > SCH_OBJECT_MAX)
		return sch_error_set(SCH_ETOOBIG,
				     "%s object of %zu bytes exceeds %zu",
				     sch_otype_name(type), len, SCH_OBJECT_MAX);
	hlen = encode_header(hdr, sizeof(hdr), type, len);
	hash_parts(out, hdr, hlen, body, len);
	if (sch_object_exists(t, out))
		return 0;
	/* Small objects are stored raw: for a few hundred bytes of mostly hex
	 * ids zlib saves little, and inflating them would dominate reading a
	 * long history. */
	if (level != 0 && hlen + len >= SCH_OBJECT_RAW_BELOW) {
		struct sch_buf raw = SCH_BUF_INIT;
		sch_buf_grow(&raw, hlen + len);
		sch_buf_add(&raw, hdr, hlen);
		sch_buf_add(&raw, body, len);
		sch_buf_addch(&z, 'z');
		rc = sch_zip_deflate(&z, raw.ptr, raw.len,
				     level < 0 ? 6 : level);
		sch_buf_release(&raw);
		if (rc)
			goto out;
		if (z.len >= hlen + len + 1) {
			/* Compression saves nothing: store raw. */
			sch_buf_release(&z);
		} else {
			rc = sch_kv_put(t, SCH_DB_OBJECTS, out->b, SCH_ID_LEN,
					z.ptr, z.len);
			goto out;
		}
	}
	rc = sch_kv_reserve(t, SCH_DB_OBJECTS, out->b, SCH_ID_LEN,
			    1 + hlen + len, &dst);
	if (rc)
		goto out;
	((char *)dst)[0] = 'r';
	memcpy((char *)dst + 1, hdr, hlen);
	memcpy((char *)dst + 1 + hlen, body, len);
out:
	sch_buf_release(&z);
	return rc;
}

/* 1 when a sample from the middle of a large body shrinks by at least
 * 3% at level 1: cheap evidence that compressing the whole is worth it. */
static int worth_compressing(const void *body, size_t len)
{
	const size_t sample = 16 << 10;
	struct sch_buf z = SCH_BUF_INIT;
	int yes = 1;

	if (len <= (64 << 10))
		return 1;
	if (sch_zip_deflate(&z, (const char *)body + (len - sample) / 2, sample,
			    1) == 0)
		yes = z.len < sample - sample * 3 / 100;
	sch_buf_release(&z);
	return yes;
}

int sch_object_encode(struct sch_buf *value, enum sch_otype type,
		      const void *body, size_t len, int level)
{
	char hdr[32];
	size_t hlen;
	int rc;

	sch_buf_reset(value);
	if (len > SCH_OBJECT_MAX)
		return sch_error_set(SCH_ETOOBIG,
				     "%s object of %zu bytes exceeds %zu",
				     sch_otype_name(type), len, SCH_OBJECT_MAX);
	hlen = encode_header(hdr, sizeof(hdr), type, len);
	if (level != 0 && hlen + len >= SCH_OBJECT_RAW_BELOW &&
	    worth_compressing(body, len)) {
		struct sch_buf raw = SCH_BUF_INIT;
		sch_buf_grow(&raw, hlen + len);
		sch_buf_add(&raw, hdr, hlen);
		sch_buf_add(&raw, body, len);
		sch_buf_addch(value, 'z');
		rc = sch_zip_deflate(value, raw.ptr, raw.len,
				     level < 0 ? 6 : level);
		sch_buf_release(&raw);
		if (rc) {
			sch_buf_reset(value);
			return rc;
		}
		if (value->len < hlen + len + 1)
			return 0;
		sch_buf_reset(value); /* compression saves nothing */
	}
	sch_buf_grow(value, 1 + hlen + len);
	sch_buf_addch(value, 'r');
	sch_buf_add(value, hdr, hlen);
	sch_buf_add(value, body, len);
	return 0;
}

int sch_object_put_value(struct sch_txn *t, const struct sch_id *id,
			 const void *value, size_t len)
{
	const char *v = value;

	if (len < 2 || (v[0] != 'z' && v[0] != 'r'))
		return sch_error_set(SCH_EINVAL, "not an encoded object value");
	if (sch_object_exists(t, id))
		return 0;
	return sch_kv_put(t, SCH_DB_OBJECTS, id->b, SCH_ID_LEN, value, len);
}

void sch_object_lib_init(void)
{
	if (sodium_init() < 0)
		abort();
}

void sch_object_thread_cleanup(void)
{
	sch_zip_thread_cleanup();
}

int sch_object_delete(struct sch_txn *t, const struct sch_id *id)
{
	return sch_kv_del(t, SCH_DB_OBJECTS, id->b, SCH_ID_LEN);
}

int sch_object_decode(enum sch_otype *type, const void **body, size_t *len,
		      const void *raw, size_t rawlen)
{
	const char *p = raw, *sp, *end = p + rawlen;
	size_t v = 0;
	const char *d;

	sp = memchr(p, ' ', rawlen < 17 ? rawlen : 17);
	if (!sp)
		return sch_error_set(SCH_ECORRUPT, "object header has no type");
	*type = sch_otype_parse(p, (size_t)(sp - p));
	if (*type == SCH_OBJ_NONE)
		return sch_error_set(SCH_ECORRUPT, "unknown object type '%.*s'",
				     (int)(sp - p), p);
	d = sp + 1;
	if (d >= end || *d < '0' || *d > '9')
		return sch_error_set(SCH_ECORRUPT, "object header has no size");
	if (*d == '0' && d + 1 < end && d[1] != '\0')
		return sch_error_set(SCH_ECORRUPT,
				     "object size has a leading zero");
	while (d < end && *d >= '0' && *d <= '9') {
		if (v > SCH_OBJECT_MAX)
			return sch_error_set(SCH_ECORRUPT,
					     "object size is too large");
		v = v * 10 + (size_t)(*d - '0');
		d++;
	}
	if (d >= end || *d != '\0')
		return sch_error_set(SCH_ECORRUPT,
				     "object header is not terminated");
	d++;
	if (v > SCH_OBJECT_MAX || (size_t)(end - d) != v)
		return sch_error_set(SCH_ECORRUPT,
				     "object size %zu does not match its %zu "
				     "bytes", v, (size_t)(end - d));
	*body = d;
	*len = v;
	return 0;
}

/* Decodes a stored value; checks its hash against id unless id is NULL. */
static int read_value(enum sch_otype *type, const void **body, size_t *len,
		      struct sch_buf *scratch, const struct sch_id *id,
		      const void *v, size_t vl)
{
	const char *p = v;
	struct sch_id check;
	int rc;

	if (vl < 1)
		return sch_error_set(SCH_ECORRUPT, "empty value");
	if (p[0] == 'r') {
		rc = sch_object_decode(type, body, len, p + 1, vl - 1);
		if (rc)
			return rc;
		if (id)
			hash_parts(&check, p + 1, vl - 1 - *len, *body, *len);
	} else if (p[0] == 'z') {
		rc = sch_zip_inflate_object(scratch, p + 1, vl - 1,
					    SCH_OBJECT_MAX);
		if (!rc)
			rc = sch_object_decode(type, body, len, scratch->ptr,
					       scratch->len);
		if (rc)
			return rc;
		if (id)
			hash_parts(&check, scratch->ptr, scratch->len - *len,
				   *body, *len);
	} else {
		return sch_error_set(SCH_ECORRUPT, "unknown storage method");
	}
	if (id && sch_id_cmp(&check, id))
		return sch_error_set(SCH_ECORRUPT, "hash mismatch");
	return 0;
}

int sch_object_read_value(enum sch_otype *type, const void **body,
			  size_t *len, struct sch_buf *scratch,
			  const struct sch_id *id, const void *v, size_t vl)
{
	return read_value(type, body, len, scratch, id, v, vl);
}

int sch_object_unpack_value(enum sch_otype *type, const void **body,
			    size_t *len, struct sch_buf *scratch,
			    const void *v, size_t vl)
{
	return read_value(type, body, len, scratch, NULL, v, vl);
}

int sch_object_get(struct sch_buf *body, enum sch_otype *typep,
		   struct sch_txn *t, const struct sch_id *id)
{
	const void *v, *b;
	size_t vlen, blen;
	enum sch_otype type;
	char hex[SCH_HEX_LEN + 1];
	struct sch_buf scratch = SCH_BUF_INIT;
	int rc;

	rc = sch_kv_get(t, SCH_DB_OBJECTS, id->b, SCH_ID_LEN, &v, &vlen);
	if (rc == SCH_ENOTFOUND) {
		sch_id_hex(hex, id);
		return sch_error_set(SCH_ENOTFOUND, "object %s not found", hex);
	}
	if (rc)
		return rc;
	if (vlen && ((const char *)v)[0] == 'z') {
		/* Inflate straight into the caller's buffer. */
		rc = sch_object_read_value(&type, &b, &blen, body, id, v, vlen);
		if (!rc) {
			memmove(body->ptr, b, blen);
			sch_buf_truncate(body, blen);
		}
	} else {
		rc = sch_object_read_value(&type, &b, &blen, &scratch, id, v,
					   vlen);
		if (!rc) {
			sch_buf_reset(body);
			sch_buf_add(body, b, blen);
		}
	}
	sch_buf_release(&scratch);
	if (rc) {
		sch_buf_reset(body);
		sch_id_hex(hex, id);
		return sch_error_wrap(SCH_ECORRUPT, "object %s is corrupt", hex);
	}
	if (typep)
		*typep = type;
	return 0;
}

int sch_object_get_typed(struct sch_buf *body, struct sch_txn *t,
			 const struct sch_id *id, enum sch_otype want)
{
	enum sch_otype type;
	char hex[SCH_HEX_LEN + 1];
	int rc = sch_object_get(body, &type, t, id);

	if (rc)
		return rc;
	if (type != want) {
		sch_id_hex(hex, id);
		return sch_error_set(SCH_ECORRUPT, "object %s is a %s, not a %s",
				     hex, sch_otype_name(type),
				     sch_otype_name(want));
	}
	return 0;
}

int sch_object_exists(struct sch_txn *t, const struct sch_id *id)
{
	const void *v;
	size_t vlen;

	return sch_kv_get(t, SCH_DB_OBJECTS, id->b, SCH_ID_LEN, &v, &vlen) == 0;
}

size_t sch_object_stored_size(struct sch_txn *t, const struct sch_id *id)
{
	const void *v;
	size_t vlen;

	if (sch_kv_get(t, SCH_DB_OBJECTS, id->b, SCH_ID_LEN, &v, &vlen))
		return 0;
	return vlen;
}

enum sch_otype sch_object_peek_type(const void *v, size_t vlen)
{
	char head[24];
	size_t got = 0;
	const char *p = v;
	const char *sp;

	if (vlen < 2)
		return SCH_OBJ_NONE;
	if (p[0] == 'r') {
		got = vlen - 1 < sizeof(head) ? vlen - 1 : sizeof(head);
		memcpy(head, p + 1, got);
	} else if (p[0] == 'z') {
		if (sch_zip_inflate_prefix(head, sizeof(head), &got, p + 1,
					   vlen - 1))
			return SCH_OBJ_NONE;
	}
	sp = memchr(head, ' ', got);
	if (!sp)
		return SCH_OBJ_NONE;
	return sch_otype_parse(head, (size_t)(sp - head));
}

int sch_object_resolve_prefix(struct sch_id *out, struct sch_txn *t,
			      const char *hex, enum sch_otype want)
{
	size_t n = strlen(hex), nfound = 0;
	unsigned char key[SCH_ID_LEN] = { 0 };
	struct sch_cursor *c = NULL;
	struct sch_buf list = SCH_BUF_INIT;
	const void *k, *v;
	size_t kl, vl;
	int rc;

	if (n < 4 || n > SCH_HEX_LEN)
		return sch_error_set(SCH_EINVAL,
				     "'%s' is not an id prefix (4 to 64 hex "
				     "digits)", hex);
	for (size_t i = 0; i < n; i++) {
		char d = hex[i];
		int val = d >= '0' && d <= '9' ? d - '0'
			: d >= 'a' && d <= 'f' ? d - 'a' + 10
			: d >= 'A' && d <= 'F' ? d - 'A' + 10 : -1;
		if (val < 0)
			return sch_error_set(SCH_EINVAL,
					     "'%s' is not an id prefix", hex);
		key[i / 2] |= (unsigned char)(i % 2 ? val : val << 4);
	}
	rc = sch_cursor_open(&c, t, SCH_DB_OBJECTS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, key, (n + 1) / 2, &k, &kl, &v, &vl);
	     rc == 1; rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		const unsigned char *kb = k;
		char khex[SCH_HEX_LEN + 1];
		if (kl != SCH_ID_LEN || memcmp(kb, key, n / 2))
			break;
		if (n % 2 && (kb[n / 2] & 0xf0) != key[n / 2])
			break;
		if (want != SCH_OBJ_NONE && sch_object_peek_type(v, vl) != want)
			continue;
		if (nfound == 0)
			memcpy(out->b, kb, SCH_ID_LEN);
		sch_hex(khex, kb, SCH_ID_LEN);
		if (nfound < 10)
			sch_buf_addf(&list, "%s%.*s", nfound ? ", " : "",
				     SCH_SHORT_LEN, khex);
		nfound++;
	}
	sch_cursor_close(c);
	if (rc < 0)
		goto out;
	if (nfound == 0)
		rc = sch_error_set(SCH_ENOTFOUND, "no %s matches '%s'",
				   want ? sch_otype_name(want) : "object", hex);
	else if (nfound > 1)
		rc = sch_error_set(SCH_EAMBIGUOUS,
				   "'%s' is ambiguous: %zu candidates: %s%s",
				   hex, nfound, list.ptr,
				   nfound > 10 ? ", ..." : "");
	else
		rc = 0;
out:
	sch_buf_release(&list);
	return rc;
}
