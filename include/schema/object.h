/*
 * object.h - content-addressed objects.
 *
 * An object is the bytes `type SP decimal-length NUL body`; its id is the
 * BLAKE2b-256 of those bytes. In the `objects` database the value is one
 * method byte ('z' zlib, 'r' raw) and the encoded object, compressed or
 * not. Every read inflates to exactly the stated size and re-hashes.
 */
#ifndef SCH_OBJECT_H
#define SCH_OBJECT_H

#include <stddef.h>

#include "schema/buf.h"
#include "schema/env.h"

#define SCH_ID_LEN 32
#define SCH_HEX_LEN 64
#define SCH_SHORT_LEN 12
#define SCH_OBJECT_MAX ((size_t)256 << 20) /* 256 MiB */
#define SCH_OBJECT_RAW_BELOW 512 /* encoded objects shorter are stored raw */

struct sch_id {
	unsigned char b[SCH_ID_LEN];
};

enum sch_otype {
	SCH_OBJ_NONE = 0,
	SCH_OBJ_BLOB,
	SCH_OBJ_STATE,
	SCH_OBJ_REV,
	SCH_OBJ_SNAP,
	SCH_OBJ_CHUNK,
	SCH_OBJ_TASK,
	SCH_OBJ_SIG, /* a signature naming a revision or tag (sign.h) */
};

const char *sch_otype_name(enum sch_otype type);
/* Returns SCH_OBJ_NONE for an unknown name. */
enum sch_otype sch_otype_parse(const char *name, size_t len);

/* Hex forms: out holds 65 bytes (full) or SCH_SHORT_LEN+1 (short). */
void sch_id_hex(char *out, const struct sch_id *id);
void sch_id_short(char *out, const struct sch_id *id);
/* Parses exactly 64 hex digits. Returns 0 or SCH_EINVAL. */
int sch_id_parse(struct sch_id *out, const char *hex, size_t len);
int sch_id_cmp(const struct sch_id *a, const struct sch_id *b);
int sch_id_is_zero(const struct sch_id *id);

/* Computes the id of an object without storing it. */
void sch_object_hash(struct sch_id *out, enum sch_otype type,
		     const void *body, size_t len);

/*
 * Stores an object (nothing happens when it exists) and returns its id.
 * level: zlib level 1-9, -1 for the default (6), 0 to store raw. With a
 * level, the object is stored raw anyway when it is shorter than
 * SCH_OBJECT_RAW_BELOW encoded or when compression saves nothing.
 * Returns 0, SCH_ETOOBIG, SCH_EFULL, SCH_EIO.
 */
int sch_object_put(struct sch_id *out, struct sch_txn *t, enum sch_otype type,
		   const void *body, size_t len, int level);

/*
 * Encodes an object for storage without touching the store, so that any
 * thread can do the costly part (compression) while one thread writes:
 * `value` (replacing its content) receives what sch_object_put_value()
 * stores under the object's id, which is sch_object_hash() of the same
 * type and body (computed by the caller, often to skip stored objects
 * before encoding them). level as for sch_object_put(); with a level, a
 * body of more than 64 KiB whose 16 KiB sample from its middle does not
 * shrink by 3% at level 1 is stored raw without compressing the rest
 * (random or already-compressed data: zlib would spend its time for
 * nothing). Returns 0, SCH_ETOOBIG, SCH_EIO.
 */
int sch_object_encode(struct sch_buf *value, enum sch_otype type,
		      const void *body, size_t len, int level);
/*
 * Stores a value made by sch_object_encode() under its id; nothing happens
 * when the id is stored already. The value is trusted, not re-verified.
 * Returns 0, SCH_EINVAL (not an encoded value), SCH_EFULL, SCH_EIO.
 */
int sch_object_put_value(struct sch_txn *t, const struct sch_id *id,
			 const void *value, size_t len);
/* Lets libsodium pick the fastest BLAKE2b (and ChaCha20, Poly1305) of
 * this CPU; main() calls it once. Without it hashing is correct but runs
 * the portable code. */
void sch_object_lib_init(void);
/* Frees the calling thread's cached zlib streams: a thread that read or
 * encoded objects calls it before it ends (the main thread need not). */
void sch_object_thread_cleanup(void);
/* Deletes a stored object. Returns 0, SCH_ENOTFOUND, SCH_EIO. */
int sch_object_delete(struct sch_txn *t, const struct sch_id *id);

/*
 * Reads and verifies an object; body receives its body (replacing what it
 * held), type (may be NULL) its type. Returns 0, SCH_ENOTFOUND,
 * SCH_ECORRUPT (bad header, size, inflation or hash), SCH_EIO.
 */
int sch_object_get(struct sch_buf *body, enum sch_otype *type,
		   struct sch_txn *t, const struct sch_id *id);
/* Like get, and fails with SCH_ECORRUPT if the type is not `want`. */
int sch_object_get_typed(struct sch_buf *body, struct sch_txn *t,
			 const struct sch_id *id, enum sch_otype want);
/*
 * Decodes and verifies a stored value (as found by a cursor over the
 * objects database) for id. *body points into v for raw values and into
 * scratch for compressed ones; valid while both are. Returns 0 or
 * SCH_ECORRUPT.
 */
int sch_object_read_value(enum sch_otype *type, const void **body,
			  size_t *len, struct sch_buf *scratch,
			  const struct sch_id *id, const void *v, size_t vl);
/*
 * Decodes a value made by sch_object_encode() like
 * sch_object_read_value(), without an id to check it against: for values
 * whose integrity something else vouches for (the plaintext inside an
 * authenticated seal, schema/seal.h). Returns 0 or SCH_ECORRUPT.
 */
int sch_object_unpack_value(enum sch_otype *type, const void **body,
			    size_t *len, struct sch_buf *scratch,
			    const void *v, size_t vl);
/* The type a stored value declares, read without verification
 * (SCH_OBJ_NONE when unreadable). */
enum sch_otype sch_object_peek_type(const void *v, size_t vl);

/* 1 if stored, 0 if not (no verification). */
int sch_object_exists(struct sch_txn *t, const struct sch_id *id);
/* Stored size (method byte + payload) or 0 when absent. */
size_t sch_object_stored_size(struct sch_txn *t, const struct sch_id *id);

/*
 * Parses the encoded form `type SP len NUL body` strictly (no leading
 * zeros, length equal to what follows). Returns 0 or SCH_ECORRUPT.
 */
int sch_object_decode(enum sch_otype *type, const void **body, size_t *len,
		      const void *raw, size_t rawlen);

/*
 * Resolves a hex prefix of 4 to 64 digits to the one stored object it
 * names, of type `want` (SCH_OBJ_NONE: any type). Returns 0,
 * SCH_EINVAL (not hex or too short), SCH_ENOTFOUND, SCH_EAMBIGUOUS (the
 * message lists the candidates), SCH_ECORRUPT, SCH_EIO.
 */
int sch_object_resolve_prefix(struct sch_id *out, struct sch_txn *t,
			      const char *hex, enum sch_otype want);

#endif
