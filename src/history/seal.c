/* seal.c - the crypto envelope of encrypted snapshots (see schema/seal.h). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/seal.h"

static const char kdf_ctx[crypto_kdf_CONTEXTBYTES] = { 's', 'c', 'h', 's',
						       'n', 'a', 'p', '1' };

void sch_seal_key_derive(struct sch_seal_key *out,
			 const unsigned char master[SCH_SEAL_KEY_LEN])
{
	/* picks the fastest chacha20, poly1305 and blake2b of this CPU;
	 * cheap after the first call */
	if (sodium_init() < 0)
		abort();
	crypto_kdf_derive_from_key(out->enc, sizeof(out->enc), 1, kdf_ctx,
				   master);
	crypto_kdf_derive_from_key(out->mac, sizeof(out->mac), 2, kdf_ctx,
				   master);
	crypto_kdf_derive_from_key(out->id.b, sizeof(out->id.b), 3, kdf_ctx,
				   master);
}

void sch_seal_key_wipe(struct sch_seal_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

int sch_seal_key_parse(struct sch_seal_key *out, const char *text,
		       size_t len, const char *file)
{
	unsigned char master[SCH_SEAL_KEY_LEN];

	memset(out, 0, sizeof(*out));
	if (len == 2 * SCH_SEAL_KEY_LEN + 1 && text[len - 1] == '\n')
		len--;
	if (len != 2 * SCH_SEAL_KEY_LEN)
		return sch_error_set(SCH_EINVAL, "key file '%s' is not a backup "
				     "key: 64 hex digits and a newline expected",
				     file);
	if (sch_unhex(master, text, SCH_SEAL_KEY_LEN)) {
		sodium_memzero(master, sizeof(master));
		return sch_error_set(SCH_EINVAL, "key file '%s' is not a backup "
				     "key: a character that is not a hex digit",
				     file);
	}
	sch_seal_key_derive(out, master);
	sodium_memzero(master, sizeof(master));
	return 0;
}

int sch_seal_key_load(struct sch_seal_key *out, const char *path)
{
	char text[2 * SCH_SEAL_KEY_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sch_error_set(SCH_EINVAL, "cannot read key file '%s': %s",
				     path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return sch_error_set(SCH_EINVAL, "key file '%s' is not a "
				     "regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		sch_error_set(SCH_EINVAL, "key file '%s' is accessible by "
			      "others (mode %04o)", path,
			      (unsigned)(st.st_mode & 07777));
		sch_error_hint("chmod 600 '%s'", path);
		return SCH_EINVAL;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0)
		return sch_error_set(SCH_EINVAL, "cannot read key file '%s': %s",
				     path, strerror(errno));
	rc = sch_seal_key_parse(out, text, (size_t)n, path);
	sodium_memzero(text, sizeof(text));
	return rc;
}

int sch_seal_key_generate(struct sch_seal_key *out, const char *path)
{
	unsigned char master[SCH_SEAL_KEY_LEN];
	char text[2 * SCH_SEAL_KEY_LEN + 2];
	ssize_t w;
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return sch_error_set(SCH_EEXISTS, "key file '%s' already "
					     "exists", path);
		return sch_error_set(SCH_EIO, "cannot create key file '%s': %s",
				     path, strerror(errno));
	}
	randombytes_buf(master, sizeof(master));
	sch_hex(text, master, sizeof(master));
	text[2 * SCH_SEAL_KEY_LEN] = '\n';
	w = write(fd, text, 2 * SCH_SEAL_KEY_LEN + 1);
	e = errno;
	if (w != 2 * SCH_SEAL_KEY_LEN + 1 || fsync(fd)) {
		if (w == 2 * SCH_SEAL_KEY_LEN + 1)
			e = errno;
		close(fd);
		unlink(path);
		sodium_memzero(master, sizeof(master));
		sodium_memzero(text, sizeof(text));
		return sch_error_set(SCH_EIO, "cannot write key file '%s': %s",
				     path, w < 0 || e ? strerror(e)
						      : "short write");
	}
	close(fd);
	if (out)
		sch_seal_key_derive(out, master);
	sodium_memzero(master, sizeof(master));
	sodium_memzero(text, sizeof(text));
	return 0;
}

void sch_seal_tag(unsigned char out[SCH_SEAL_TAG_LEN],
		  const struct sch_seal_key *k, const void *ad, size_t adlen,
		  const void *data, size_t len)
{
	crypto_generichash_state st;
	unsigned char le[8];
	uint64_t n = adlen;

	for (int i = 0; i < 8; i++, n >>= 8)
		le[i] = (unsigned char)(n & 0xff);
	crypto_generichash_init(&st, k->mac, sizeof(k->mac), SCH_SEAL_TAG_LEN);
	crypto_generichash_update(&st, le, sizeof(le));
	crypto_generichash_update(&st, ad, adlen);
	crypto_generichash_update(&st, data, len);
	crypto_generichash_final(&st, out, SCH_SEAL_TAG_LEN);
}

void sch_seal(struct sch_buf *out, const struct sch_seal_key *k,
	      const unsigned char *tag, const void *ad, size_t adlen,
	      const void *data, size_t len)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char own[SCH_SEAL_TAG_LEN];
	unsigned char *p;

	if (!tag) {
		sch_seal_tag(own, k, ad, adlen, data, len);
		tag = own;
	}
	sch_buf_reset(out);
	sch_buf_grow(out, len + SCH_SEAL_OVERHEAD);
	p = (unsigned char *)out->ptr;
	memcpy(p, tag, SCH_SEAL_HEADER_LEN);
	/*
	 * init_push would draw the header at random; init_pull derives the
	 * very same state from a header we choose (both run hchacha20 over
	 * the header's first 16 bytes and take the rest as the nonce), which
	 * makes the box a function of key, ad and data.
	 * tests/unit/test_seal.c checks that both agree.
	 */
	crypto_secretstream_xchacha20poly1305_init_pull(&st, p, k->enc);
	crypto_secretstream_xchacha20poly1305_push(
		&st, p + SCH_SEAL_HEADER_LEN, NULL, (const unsigned char *)data,
		len, (const unsigned char *)ad, adlen,
		crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	out->len = len + SCH_SEAL_OVERHEAD;
	out->ptr[out->len] = '\0';
	sodium_memzero(&st, sizeof(st));
}

int sch_seal_open(struct sch_buf *out, const struct sch_seal_key *k,
		  const void *ad, size_t adlen, const void *box, size_t len)
{
	crypto_secretstream_xchacha20poly1305_state st;
	const unsigned char *b = box;
	unsigned long long got = 0;
	unsigned char tag = 0;
	int rc;

	sch_buf_reset(out);
	if (len < SCH_SEAL_OVERHEAD)
		return sch_error_set(SCH_ECORRUPT, "sealed data too short");
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, b, k->enc))
		return sch_error_set(SCH_ECORRUPT, "sealed data has a bad header");
	sch_buf_grow(out, len - SCH_SEAL_OVERHEAD + 1);
	rc = crypto_secretstream_xchacha20poly1305_pull(
		&st, (unsigned char *)out->ptr, &got, &tag,
		b + SCH_SEAL_HEADER_LEN, len - SCH_SEAL_HEADER_LEN,
		(const unsigned char *)ad, adlen);
	sodium_memzero(&st, sizeof(st));
	if (rc || tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		sch_buf_reset(out);
		return sch_error_set(SCH_ECORRUPT, "sealed data does not "
				     "authenticate");
	}
	out->len = (size_t)got;
	out->ptr[out->len] = '\0';
	return 0;
}
