/* test_seal.c - the crypto envelope of encrypted snapshots: keys, key
 * files, deterministic seals, authentication. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/seal.h"
#include "testutil.h"

TestSuite(seal, .fini = leak_check);

static const char key_a[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
static const char key_b[] =
	"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

static void key(struct sch_seal_key *k, const char *text)
{
	cr_assert_eq(sch_seal_key_parse(k, text, strlen(text), "k"), 0);
}

Test(seal, box_opens_to_the_plaintext)
{
	struct sch_seal_key k;
	struct sch_buf box = SCH_BUF_INIT, pt = SCH_BUF_INIT;

	key(&k, key_a);
	sch_seal(&box, &k, NULL, "ad", 2, "hello rows", 10);
	cr_assert_eq(box.len, 10 + SCH_SEAL_OVERHEAD);
	cr_assert_eq(sch_seal_open(&pt, &k, "ad", 2, box.ptr, box.len), 0);
	cr_assert_eq(pt.len, 10);
	cr_assert(!memcmp(pt.ptr, "hello rows", 10));
	sch_buf_release(&box);
	sch_buf_release(&pt);
}

Test(seal, empty_plaintext_seals_and_opens)
{
	struct sch_seal_key k;
	struct sch_buf box = SCH_BUF_INIT, pt = SCH_BUF_INIT;

	key(&k, key_a);
	sch_seal(&box, &k, NULL, "", 0, "", 0);
	cr_assert_eq(box.len, SCH_SEAL_OVERHEAD);
	cr_assert_eq(sch_seal_open(&pt, &k, "", 0, box.ptr, box.len), 0);
	cr_assert_eq(pt.len, 0);
	sch_buf_release(&box);
	sch_buf_release(&pt);
}

Test(seal, same_plaintext_and_key_give_the_same_box)
{
	struct sch_seal_key k;
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;

	key(&k, key_a);
	sch_seal(&a, &k, NULL, "chunk", 5, "same bytes", 10);
	sch_seal(&b, &k, NULL, "chunk", 5, "same bytes", 10);
	cr_assert_eq(a.len, b.len);
	cr_assert(!memcmp(a.ptr, b.ptr, a.len));
	sch_buf_release(&a);
	sch_buf_release(&b);
}

Test(seal, different_plaintexts_get_different_headers)
{
	struct sch_seal_key k;
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;

	key(&k, key_a);
	sch_seal(&a, &k, NULL, "chunk", 5, "bytes one", 9);
	sch_seal(&b, &k, NULL, "chunk", 5, "bytes two", 9);
	cr_assert(memcmp(a.ptr, b.ptr, SCH_SEAL_HEADER_LEN));
	sch_buf_release(&a);
	sch_buf_release(&b);
}

Test(seal, other_key_or_ad_gives_another_box)
{
	struct sch_seal_key ka, kb;
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT, c = SCH_BUF_INIT;

	key(&ka, key_a);
	key(&kb, key_b);
	sch_seal(&a, &ka, NULL, "chunk", 5, "x", 1);
	sch_seal(&b, &kb, NULL, "chunk", 5, "x", 1);
	sch_seal(&c, &ka, NULL, "blob", 4, "x", 1);
	cr_assert(memcmp(a.ptr, b.ptr, a.len));
	cr_assert(memcmp(a.ptr, c.ptr, a.len));
	sch_buf_release(&a);
	sch_buf_release(&b);
	sch_buf_release(&c);
}

Test(seal, wrong_key_does_not_authenticate)
{
	struct sch_seal_key ka, kb;
	struct sch_buf box = SCH_BUF_INIT, pt = SCH_BUF_INIT;

	key(&ka, key_a);
	key(&kb, key_b);
	sch_seal(&box, &ka, NULL, "m", 1, "secret", 6);
	cr_assert_eq(sch_seal_open(&pt, &kb, "m", 1, box.ptr, box.len),
		     SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "does not authenticate"));
	cr_assert_eq(pt.len, 0);
	sch_buf_release(&box);
	sch_buf_release(&pt);
}

Test(seal, other_associated_data_does_not_authenticate)
{
	struct sch_seal_key k;
	struct sch_buf box = SCH_BUF_INIT, pt = SCH_BUF_INIT;

	key(&k, key_a);
	sch_seal(&box, &k, NULL, "chunk", 5, "secret", 6);
	cr_assert_eq(sch_seal_open(&pt, &k, "manifest", 8, box.ptr, box.len),
		     SCH_ECORRUPT);
	sch_buf_release(&box);
	sch_buf_release(&pt);
}

Test(seal, every_flipped_bit_is_caught)
{
	struct sch_seal_key k;
	struct sch_buf box = SCH_BUF_INIT, pt = SCH_BUF_INIT;

	key(&k, key_a);
	sch_seal(&box, &k, NULL, "c", 1, "0123456789abcdef", 16);
	for (size_t i = 0; i < box.len * 8; i++) {
		box.ptr[i / 8] ^= (char)(1 << (i % 8));
		cr_assert_eq(sch_seal_open(&pt, &k, "c", 1, box.ptr, box.len),
			     SCH_ECORRUPT, "bit %zu", i);
		box.ptr[i / 8] ^= (char)(1 << (i % 8));
	}
	cr_assert_eq(sch_seal_open(&pt, &k, "c", 1, box.ptr, box.len), 0);
	sch_buf_release(&box);
	sch_buf_release(&pt);
}

Test(seal, truncated_or_extended_box_is_caught)
{
	struct sch_seal_key k;
	struct sch_buf box = SCH_BUF_INIT, pt = SCH_BUF_INIT;

	key(&k, key_a);
	sch_seal(&box, &k, NULL, "c", 1, "0123456789abcdef", 16);
	for (size_t n = 0; n < box.len; n++)
		cr_assert_eq(sch_seal_open(&pt, &k, "c", 1, box.ptr, n),
			     SCH_ECORRUPT, "length %zu", n);
	sch_buf_addch(&box, 'x');
	cr_assert_eq(sch_seal_open(&pt, &k, "c", 1, box.ptr, box.len),
		     SCH_ECORRUPT);
	sch_buf_release(&box);
	sch_buf_release(&pt);
}

/* The seal relies on init_pull giving the state init_push gives for the
 * same header: a box made the library's own way opens, and equals ours
 * for the header it drew. */
Test(seal, deterministic_header_matches_libsodium_push)
{
	struct sch_seal_key k;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	unsigned char ct[5 + crypto_secretstream_xchacha20poly1305_ABYTES];
	unsigned char tag[SCH_SEAL_TAG_LEN];
	struct sch_buf box = SCH_BUF_INIT, pt = SCH_BUF_INIT;

	cr_assert_eq(SCH_SEAL_HEADER_LEN,
		     crypto_secretstream_xchacha20poly1305_HEADERBYTES);
	cr_assert_eq(SCH_SEAL_OVERHEAD - SCH_SEAL_HEADER_LEN,
		     crypto_secretstream_xchacha20poly1305_ABYTES);
	key(&k, key_a);
	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, k.enc);
	crypto_secretstream_xchacha20poly1305_push(
		&st, ct, NULL, (const unsigned char *)"abcde", 5,
		(const unsigned char *)"ad", 2,
		crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	/* our seal with the header libsodium drew */
	memset(tag, 0, sizeof(tag));
	memcpy(tag, hdr, sizeof(hdr));
	sch_seal(&box, &k, tag, "ad", 2, "abcde", 5);
	cr_assert_eq(box.len, sizeof(hdr) + sizeof(ct));
	cr_assert(!memcmp(box.ptr, hdr, sizeof(hdr)));
	cr_assert(!memcmp(box.ptr + sizeof(hdr), ct, sizeof(ct)));
	cr_assert_eq(sch_seal_open(&pt, &k, "ad", 2, box.ptr, box.len), 0);
	sch_buf_release(&box);
	sch_buf_release(&pt);
}

Test(seal, header_is_the_keyed_tag_of_ad_and_data)
{
	struct sch_seal_key k;
	struct sch_buf box = SCH_BUF_INIT;
	unsigned char tag[SCH_SEAL_TAG_LEN], want[SCH_SEAL_TAG_LEN];
	unsigned char msg[8 + 2 + 3] = { 2, 0, 0, 0, 0, 0, 0, 0, 'a', 'd',
					 'x', 'y', 'z' };

	key(&k, key_a);
	sch_seal_tag(tag, &k, "ad", 2, "xyz", 3);
	crypto_generichash(want, sizeof(want), msg, sizeof(msg), k.mac,
			   sizeof(k.mac));
	cr_assert(!memcmp(tag, want, sizeof(tag)));
	sch_seal(&box, &k, NULL, "ad", 2, "xyz", 3);
	cr_assert(!memcmp(box.ptr, tag, SCH_SEAL_HEADER_LEN));
	sch_buf_release(&box);
}

Test(seal, subkeys_are_the_kdf_of_the_master_key)
{
	struct sch_seal_key k;
	unsigned char master[32], sub[32];

	for (int i = 0; i < 32; i++)
		master[i] = (unsigned char)i;
	key(&k, key_a);
	crypto_kdf_derive_from_key(sub, 32, 1, "schsnap1", master);
	cr_assert(!memcmp(sub, k.enc, 32));
	crypto_kdf_derive_from_key(sub, 32, 2, "schsnap1", master);
	cr_assert(!memcmp(sub, k.mac, 32));
	crypto_kdf_derive_from_key(sub, 32, 3, "schsnap1", master);
	cr_assert(!memcmp(sub, k.id.b, 32));
	cr_assert(memcmp(k.enc, k.mac, 32));
}

Test(seal, key_text_is_strict)
{
	struct sch_seal_key k;

	cr_assert_eq(sch_seal_key_parse(&k, key_a, strlen(key_a) - 1, "f"), 0,
		     "no final newline is fine");
	cr_assert_eq(sch_seal_key_parse(&k, key_a, strlen(key_a) - 2, "f"),
		     SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "'f'"));
	cr_assert_eq(sch_seal_key_parse(&k, "", 0, "f"), SCH_EINVAL);
	{
		char bad[sizeof(key_a)];
		memcpy(bad, key_a, sizeof(key_a));
		bad[7] = 'g';
		cr_assert_eq(sch_seal_key_parse(&k, bad, strlen(bad), "f"),
			     SCH_EINVAL);
		memcpy(bad, key_a, sizeof(key_a));
		bad[64] = ' ';
		cr_assert_eq(sch_seal_key_parse(&k, bad, strlen(bad), "f"),
			     SCH_EINVAL);
	}
}

Test(seal, generated_key_file_is_private_and_loads)
{
	char dir[] = "/tmp/seal-test.XXXXXX", path[64];
	struct sch_seal_key made, loaded;
	struct stat st;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/backup.key", dir);
	cr_assert_eq(sch_seal_key_generate(&made, path), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 65);
	cr_assert_eq(sch_seal_key_load(&loaded, path), 0);
	cr_assert(!memcmp(&made, &loaded, sizeof(made)));
	cr_assert_eq(sch_seal_key_generate(NULL, path), SCH_EEXISTS,
		     "never overwrites");
	chmod(path, 0640);
	cr_assert_eq(sch_seal_key_load(&loaded, path), SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "accessible by others"));
	unlink(path);
	cr_assert_eq(sch_seal_key_load(&loaded, path), SCH_EINVAL);
	cr_assert(strstr(sch_error_msg(), "cannot read key file"));
	rm_tree(dir);
}
