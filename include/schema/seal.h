/*
 * seal.h - the crypto envelope of encrypted snapshots (docs/snapshots.md,
 * "Encrypted snapshots"; docs/formats.md, section 8.4). Wraps libsodium's
 * crypto_secretstream_xchacha20poly1305 and crypto_kdf.
 *
 * A backup key is 32 random bytes, kept in a key file as 64 lowercase hex
 * digits and one LF, mode 0600 (a file that group or others can read is
 * refused). Three subkeys are derived from it with crypto_kdf (context
 * "schsnap1"): 1 encrypts, 2 keys the synthetic header, 3 is the key id, a
 * public name of the key written in clear in sealed manifests.
 *
 * A sealed box is `header (24 bytes) || secretstream message`: one
 * message tagged FINAL, so a box cannot be truncated or extended. The
 * header is not random: it is the first 24 bytes of the tag, a BLAKE2b-256
 * keyed with subkey 2 over the associated data and the plaintext (section
 * 8.4 fixes the bytes). The same plaintext under the same key and
 * associated data therefore seals to the same box, which is what lets
 * encrypted chunks deduplicate; different plaintexts get different
 * headers, hence never a reused nonce. The price is that equal plaintexts
 * are visible as equal boxes.
 */
#ifndef SCH_SEAL_H
#define SCH_SEAL_H

#include <stddef.h>

#include "schema/buf.h"
#include "schema/object.h"

#define SCH_SEAL_KEY_LEN 32
#define SCH_SEAL_HEADER_LEN 24
#define SCH_SEAL_TAG_LEN 32
/* Bytes a box adds to its plaintext: the header and the stream's tag. */
#define SCH_SEAL_OVERHEAD (SCH_SEAL_HEADER_LEN + 17)

struct sch_seal_key {
	unsigned char enc[SCH_SEAL_KEY_LEN];	/* subkey 1 */
	unsigned char mac[SCH_SEAL_KEY_LEN];	/* subkey 2 */
	struct sch_id id;			/* subkey 3: public */
};

/* Derives the subkeys of a 32-byte master key. */
void sch_seal_key_derive(struct sch_seal_key *out,
			 const unsigned char master[SCH_SEAL_KEY_LEN]);
/* Zeroes k. */
void sch_seal_key_wipe(struct sch_seal_key *k);

/*
 * Parses the text of a key file: exactly 64 hex digits (either case) and
 * an optional final LF. `file` names it in the message. Returns 0 or
 * SCH_EINVAL.
 */
int sch_seal_key_parse(struct sch_seal_key *out, const char *text,
		       size_t len, const char *file);
/*
 * Loads a key file. Returns 0 or SCH_EINVAL: missing or unreadable, not a
 * regular file, readable or writable by group or others ("chmod 600"
 * hinted), or malformed; each message names the file.
 */
int sch_seal_key_load(struct sch_seal_key *out, const char *path);
/*
 * Makes a new key file at path: created exclusively (never overwrites),
 * mode 0600, written and synced, removed again on failure. out (may be
 * NULL) receives the key. Returns 0, SCH_EEXISTS, SCH_EIO.
 */
int sch_seal_key_generate(struct sch_seal_key *out, const char *path);

/* The tag of (ad, data) under k: keyed BLAKE2b-256. Any thread. */
void sch_seal_tag(unsigned char out[SCH_SEAL_TAG_LEN],
		  const struct sch_seal_key *k, const void *ad, size_t adlen,
		  const void *data, size_t len);

/*
 * Seals data (len bytes) with associated data ad into out (replacing its
 * content): header || ciphertext, len + SCH_SEAL_OVERHEAD bytes. tag is
 * sch_seal_tag() of the same ad and data, or NULL to compute it here.
 * Deterministic; any thread.
 */
void sch_seal(struct sch_buf *out, const struct sch_seal_key *k,
	      const unsigned char *tag, const void *ad, size_t adlen,
	      const void *data, size_t len);

/*
 * Opens a box made by sch_seal() with the same key and ad into out
 * (replacing). Returns 0 or SCH_ECORRUPT ("does not authenticate": a
 * wrong key, other associated data, or changed bytes).
 */
int sch_seal_open(struct sch_buf *out, const struct sch_seal_key *k,
		  const void *ad, size_t adlen, const void *box, size_t len);

#endif
