/*
 * sign.h - Ed25519 keys, signatures of revisions and tags, trusted keys.
 * Wraps libsodium's crypto_sign_detached. See docs/formats.md,
 * "Signatures".
 *
 * A signature is a `sig` object that names what it signs; a revision's id
 * never depends on its signatures. The LMDB database `sigs` maps
 * 'r' + 32 rev-id bytes (or 't' + tag name) to a list of 96-byte entries:
 * sig object id (32), public key (32), seal (32, zeros when unsealed).
 * A seal is a keyed BLAKE2b, under a secret of the local user, of the
 * entry and its target: it records that this user already verified the
 * signature, so a long path verifies at hashing speed.
 */
#ifndef SCH_SIGN_H
#define SCH_SIGN_H

#include <stddef.h>

#include "schema/buf.h"
#include "schema/config.h"
#include "schema/env.h"
#include "schema/object.h"

#define SCH_KEY_PUB 32
#define SCH_KEY_SEC 64
#define SCH_SIG_LEN 64
#define SCH_KEY_NAME_MAX 64
#define SCH_FPR_LEN 16 /* hex digits of a fingerprint */

struct sch_key {
	char name[SCH_KEY_NAME_MAX + 1];
	unsigned char pk[SCH_KEY_PUB];
	unsigned char sk[SCH_KEY_SEC]; /* zeros when only public */
	int has_secret;
};

/* The key directory ($XDG_CONFIG_HOME/schema/keys, else
 * ~/.config/schema/keys) into out (replacing). */
void sch_key_dir(struct sch_buf *out);
/* A key name: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'.
 * Returns 0 or SCH_EINVAL. */
int sch_key_check_name(const char *name);
/*
 * Makes a key pair `name` (dir 0700, files 0600): <name>.key (secret) and
 * <name>.pub. Returns 0, SCH_EEXISTS (refuses to overwrite), SCH_EINVAL,
 * SCH_EIO.
 */
int sch_key_generate(struct sch_key *out, const char *name);
/* Loads the secret key `name`. Returns 0, SCH_ENOTFOUND, SCH_EPARSE
 * (file:line named), SCH_EIO. */
int sch_key_load(struct sch_key *out, const char *name);
/*
 * The signing key a command uses when none is named: SCHEMA_SIGNING_KEY,
 * then config user.signingkey, then "default", then the only key there is.
 * *name receives a malloc'd name or NULL when there is none. Returns 0.
 */
void sch_key_default(char **name, const struct sch_config *cfg);
/* Names of the keys in the key directory, sorted (malloc'd array of
 * malloc'd strings). Returns 0 or SCH_EIO. */
int sch_key_list(char ***names, size_t *n);
/* Parses a secret key file. Returns 0 or SCH_EPARSE. */
int sch_key_parse(struct sch_key *out, const char *text, size_t len,
		  const char *file);
/* The public key line `ed25519 <64 hex> <name>` with a newline. */
void sch_key_publine(struct sch_buf *out, const struct sch_key *k);
/* First SCH_FPR_LEN hex digits of BLAKE2b-256(pk); out holds 17 bytes. */
void sch_key_fingerprint(char *out, const unsigned char *pk);

/* The signed bytes: "schema-rev-sig-v1\0" + 32 id bytes, or
 * "schema-tag-sig-v1\0" + name + "\0" + 32 id bytes (appended to out). */
void sch_sign_msg_rev(struct sch_buf *out, const struct sch_id *id);
void sch_sign_msg_tag(struct sch_buf *out, const char *tag,
		      const struct sch_id *id);
void sch_sign_bytes(unsigned char *sig, const struct sch_key *k,
		    const void *msg, size_t len);
/* 1 when sig is pk's signature of msg. */
int sch_sign_verify(const unsigned char *sig, const unsigned char *pk,
		    const void *msg, size_t len);

/* Trusted keys: `.schema/trusted_keys`, one `ed25519 <hex> <name>` a
 * line; blank lines and lines starting with '#' are ignored. */
struct sch_trusted {
	struct sch_key *v; /* public only */
	size_t n;
};
/* Parses strictly. Returns 0 or SCH_EPARSE ("file:line: ..."). */
int sch_trusted_parse(struct sch_trusted *out, const char *text, size_t len,
		      const char *file);
/* Loads <repo>/trusted_keys (missing: empty). Returns 0, SCH_EPARSE,
 * SCH_EIO. */
int sch_trusted_load(struct sch_trusted *out, const char *repo);
void sch_trusted_release(struct sch_trusted *t);
/* The trusted key with public key pk, or NULL. */
const struct sch_key *sch_trusted_find(const struct sch_trusted *t,
				       const unsigned char *pk);

/* A `sig` object:
 *   target rev <64 hex>         or   target tag <64 hex> <tag name>
 *   key ed25519 <64 hex> <signer name>
 *   sig <128 hex>
 */
struct sch_sig {
	int is_tag;
	struct sch_id target;
	char tag[256];
	struct sch_key key; /* public */
	unsigned char sig[SCH_SIG_LEN];
};
int sch_sig_parse(struct sch_sig *out, const char *body, size_t len);
void sch_sig_format(struct sch_buf *out, const struct sch_sig *s);
/* 1 when the signature verifies over its target. */
int sch_sig_valid(const struct sch_sig *s);

/*
 * Signs revision `id` (or tag `tag` naming id when tag is not NULL) with
 * k: stores the sig object, lists it in `sigs` (replacing a former
 * signature of the same key) and seals it. Returns 0, SCH_EFULL, SCH_EIO.
 */
int sch_sig_attach(struct sch_txn *t, const struct sch_key *k,
		   const struct sch_id *id, const char *tag);
/* Forgets the signatures of tag `tag` (tag deleted or moved). */
int sch_sig_detach_tag(struct sch_txn *t, const char *tag);

enum sch_sig_status {
	SCH_SIG_NONE = 0,  /* unsigned */
	SCH_SIG_GOOD,	   /* verifies, key trusted */
	SCH_SIG_UNTRUSTED, /* verifies, key not trusted */
	SCH_SIG_BAD,	   /* does not verify or does not name the target */
};
struct sch_sig_result {
	enum sch_sig_status status;
	char name[SCH_KEY_NAME_MAX + 1]; /* trusted name, else the claimed one */
	char fpr[SCH_FPR_LEN + 1];
};
/*
 * Checks each signature of a revision (tag NULL) or tag into res (up to
 * max; *n receives how many). fast: trust seals and stop at the first
 * good one (what require-signed needs). Returns 0 or a store error.
 */
int sch_sig_check(struct sch_sig_result *res, size_t max, size_t *n,
		  struct sch_txn *t, const struct sch_trusted *tr,
		  const struct sch_id *id, const char *tag, int fast);
const char *sch_sig_status_name(enum sch_sig_status s);

#endif
