/* test_sign.c - keys, signatures of revisions and tags, key files,
 * trusted keys, the sigs database and its seals. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/sign.h"
#include "unit/testutil.h"

static char tmpdir[64];
static struct sch_store *store;

static void setup(void)
{
	char *dir;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-sign.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	dir = xasprintf("%s/cfg", tmpdir);
	setenv("XDG_CONFIG_HOME", dir, 1);
	free(dir);
	unsetenv("SCHEMA_SIGNING_KEY");
	dir = xasprintf("%s/store", tmpdir);
	cr_assert_eq(sch_store_open(&store, dir, 1), 0, "%s", sch_error_msg());
	free(dir);
}

static void teardown(void)
{
	sch_store_close(store);
	store = NULL;
	rm_tree(tmpdir);
	leak_check();
}

TestSuite(sign, .init = setup, .fini = teardown);

static void some_id(struct sch_id *id, const char *s)
{
	sch_object_hash(id, SCH_OBJ_BLOB, s, strlen(s));
}

Test(sign, signature_verifies_over_the_revision_id)
{
	struct sch_key k;
	struct sch_id id;
	struct sch_buf m = SCH_BUF_INIT;
	unsigned char sig[SCH_SIG_LEN];

	cr_assert_eq(sch_key_generate(&k, "alice"), 0, "%s", sch_error_msg());
	some_id(&id, "rev");
	sch_sign_msg_rev(&m, &id);
	cr_assert_eq(m.len, 18 + SCH_ID_LEN);
	cr_assert_eq(memcmp(m.ptr, "schema-rev-sig-v1\0", 18), 0);
	sch_sign_bytes(sig, &k, m.ptr, m.len);
	cr_assert(sch_sign_verify(sig, k.pk, m.ptr, m.len));
	sch_buf_release(&m);
}

Test(sign, tampered_id_fails)
{
	struct sch_key k;
	struct sch_id id;
	struct sch_buf m = SCH_BUF_INIT;
	unsigned char sig[SCH_SIG_LEN];

	cr_assert_eq(sch_key_generate(&k, "alice"), 0);
	some_id(&id, "rev");
	sch_sign_msg_rev(&m, &id);
	sch_sign_bytes(sig, &k, m.ptr, m.len);
	m.ptr[m.len - 1] ^= 1;
	cr_assert_not(sch_sign_verify(sig, k.pk, m.ptr, m.len));
	sch_buf_release(&m);
}

Test(sign, wrong_key_fails)
{
	struct sch_key a, b;
	struct sch_id id;
	struct sch_buf m = SCH_BUF_INIT;
	unsigned char sig[SCH_SIG_LEN];

	cr_assert_eq(sch_key_generate(&a, "alice"), 0);
	cr_assert_eq(sch_key_generate(&b, "bob"), 0);
	some_id(&id, "rev");
	sch_sign_msg_rev(&m, &id);
	sch_sign_bytes(sig, &a, m.ptr, m.len);
	cr_assert_not(sch_sign_verify(sig, b.pk, m.ptr, m.len));
	sch_buf_release(&m);
}

Test(sign, rev_and_tag_messages_differ)
{
	struct sch_id id;
	struct sch_buf r = SCH_BUF_INIT, t = SCH_BUF_INIT;

	some_id(&id, "x");
	sch_sign_msg_rev(&r, &id);
	sch_sign_msg_tag(&t, "v1", &id);
	cr_assert(r.len != t.len || memcmp(r.ptr, t.ptr, r.len));
	cr_assert_eq(memcmp(t.ptr, "schema-tag-sig-v1\0v1\0", 21), 0);
	sch_buf_release(&r);
	sch_buf_release(&t);
}

Test(sign, generate_refuses_to_overwrite_and_uses_private_modes)
{
	struct sch_key k;
	struct sch_buf dir = SCH_BUF_INIT;
	struct stat st;
	char *p;

	cr_assert_eq(sch_key_generate(&k, "alice"), 0);
	cr_assert_eq(sch_key_generate(&k, "alice"), SCH_EEXISTS);
	sch_key_dir(&dir);
	cr_assert_eq(stat(dir.ptr, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	p = xasprintf("%s/alice.key", dir.ptr);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	free(p);
	sch_buf_release(&dir);
}

Test(sign, key_file_round_trips)
{
	struct sch_key k, l;

	cr_assert_eq(sch_key_generate(&k, "alice"), 0);
	cr_assert_eq(sch_key_load(&l, "alice"), 0, "%s", sch_error_msg());
	cr_assert_eq(memcmp(k.pk, l.pk, SCH_KEY_PUB), 0);
	cr_assert_eq(memcmp(k.sk, l.sk, SCH_KEY_SEC), 0);
	cr_assert_str_eq(l.name, "alice");
}

Test(sign, key_file_parsing_is_strict)
{
	struct sch_key k, out;
	struct sch_buf good = SCH_BUF_INIT;
	char pk[65], sk[129];
	char *bad;

	cr_assert_eq(sch_key_generate(&k, "alice"), 0);
	sch_hex(pk, k.pk, 32);
	sch_hex(sk, k.sk, 64);
	sch_buf_addf(&good, "schema-ed25519-secret-key v1\nname alice\n"
		     "public %s\nsecret %s\n", pk, sk);
	cr_assert_eq(sch_key_parse(&out, good.ptr, good.len, "f"), 0);
	cr_assert_eq(sch_key_parse(&out, good.ptr, good.len - 1, "f"), 0);
	/* no magic */
	cr_assert_eq(sch_key_parse(&out, good.ptr + 5, good.len - 5, "f"),
		     SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "f:1:"));
	/* trailing text */
	bad = xasprintf("%sextra\n", good.ptr);
	cr_assert_eq(sch_key_parse(&out, bad, strlen(bad), "f"), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "f:5:"), "%s", sch_error_msg());
	free(bad);
	/* a public key that is not the secret's */
	pk[0] = pk[0] == '0' ? '1' : '0';
	bad = xasprintf("schema-ed25519-secret-key v1\nname alice\npublic %s\n"
			"secret %s\n", pk, sk);
	cr_assert_eq(sch_key_parse(&out, bad, strlen(bad), "f"), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "does not belong"));
	free(bad);
	bad = xasprintf("schema-ed25519-secret-key v1\nname ../x\n");
	cr_assert_eq(sch_key_parse(&out, bad, strlen(bad), "f"), SCH_EPARSE);
	cr_assert(strstr(sch_error_msg(), "f:2:"));
	free(bad);
	sch_buf_release(&good);
}

Test(sign, trusted_keys_parse_with_file_and_line)
{
	struct sch_trusted t;
	const char *ok = "# team\n\ned25519 "
		"0000000000000000000000000000000000000000000000000000000000000001"
		" ann\r\ned25519 "
		"0000000000000000000000000000000000000000000000000000000000000002"
		" bob\n";
	const char *bad[] = {
		"rsa 00 ann\n",
		"ed25519 0001 ann\n",
		"ed25519 "
		"000000000000000000000000000000000000000000000000000000000000000g"
		" ann\n",
		"ed25519 "
		"0000000000000000000000000000000000000000000000000000000000000001\n",
		"ed25519 "
		"0000000000000000000000000000000000000000000000000000000000000001"
		" a b\n",
		"ed25519 "
		"0000000000000000000000000000000000000000000000000000000000000001"
		" a\ned25519 "
		"0000000000000000000000000000000000000000000000000000000000000001"
		" b\n",
	};
	unsigned char pk[32] = { 0 };

	cr_assert_eq(sch_trusted_parse(&t, ok, strlen(ok), "tk"), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(t.n, 2);
	pk[31] = 2;
	cr_assert_str_eq(sch_trusted_find(&t, pk)->name, "bob");
	pk[31] = 3;
	cr_assert_null(sch_trusted_find(&t, pk));
	sch_trusted_release(&t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(sch_trusted_parse(&t, bad[i], strlen(bad[i]), "tk"),
			     SCH_EPARSE, "case %zu", i);
		cr_assert(strstr(sch_error_msg(), i == 5 ? "tk:2:" : "tk:1:"),
			  "case %zu: %s", i, sch_error_msg());
	}
}

Test(sign, attached_signatures_check_good_untrusted_and_none)
{
	struct sch_key a, b;
	struct sch_trusted tr = { 0 };
	struct sch_sig_result res[4];
	struct sch_txn *t;
	struct sch_id id, other;
	size_t n;

	cr_assert_eq(sch_key_generate(&a, "alice"), 0);
	cr_assert_eq(sch_key_generate(&b, "bob"), 0);
	tr.v = &a;
	tr.n = 1;
	some_id(&id, "rev");
	some_id(&other, "other");
	cr_assert_eq(sch_txn_begin(&t, store, 1), 0);
	cr_assert_eq(sch_sig_attach(t, &a, &id, NULL), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_sig_attach(t, &b, &id, NULL), 0);
	cr_assert_eq(sch_sig_attach(t, &a, &id, NULL), 0); /* replaces */
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &id, NULL, 0), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(res[0].status, SCH_SIG_UNTRUSTED);
	cr_assert_str_eq(res[0].name, "bob");
	cr_assert_eq(res[1].status, SCH_SIG_GOOD);
	cr_assert_str_eq(res[1].name, "alice");
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &id, NULL, 1), 0);
	cr_assert_eq(res[n - 1].status, SCH_SIG_GOOD);
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &other, NULL, 0), 0);
	cr_assert_eq(n, 0);
	/* a tag signature is not a signature of the revision */
	cr_assert_eq(sch_sig_attach(t, &a, &other, "v1"), 0);
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &other, NULL, 0), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &other, "v1", 0), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(res[0].status, SCH_SIG_GOOD);
	cr_assert_eq(sch_sig_detach_tag(t, "v1"), 0);
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &other, "v1", 0), 0);
	cr_assert_eq(n, 0);
	sch_txn_abort(t);
}

Test(sign, an_entry_moved_to_another_revision_is_bad)
{
	struct sch_key a;
	struct sch_trusted tr = { 0 };
	struct sch_sig_result res[4];
	struct sch_txn *t;
	struct sch_id id, other;
	const void *v;
	size_t vl, n;
	void *copy;

	cr_assert_eq(sch_key_generate(&a, "alice"), 0);
	tr.v = &a;
	tr.n = 1;
	some_id(&id, "rev");
	some_id(&other, "other");
	cr_assert_eq(sch_txn_begin(&t, store, 1), 0);
	cr_assert_eq(sch_sig_attach(t, &a, &id, NULL), 0);
	{
		unsigned char k[33] = { 'r' };
		memcpy(k + 1, id.b, 32);
		cr_assert_eq(sch_kv_get(t, SCH_DB_SIGS, k, 33, &v, &vl), 0);
		copy = xmalloc(vl);
		memcpy(copy, v, vl);
		memcpy(k + 1, other.b, 32);
		cr_assert_eq(sch_kv_put(t, SCH_DB_SIGS, k, 33, copy, vl), 0);
		free(copy);
	}
	/* neither the seal (fast) nor the signature (full) holds there */
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &other, NULL, 1), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(res[0].status, SCH_SIG_BAD);
	cr_assert_eq(sch_sig_check(res, 4, &n, t, &tr, &other, NULL, 0), 0);
	cr_assert_eq(res[0].status, SCH_SIG_BAD);
	sch_txn_abort(t);
}

Test(sign, sig_object_round_trips)
{
	struct sch_sig s, p;
	struct sch_buf b = SCH_BUF_INIT, c = SCH_BUF_INIT;

	memset(&s, 0, sizeof(s));
	some_id(&s.target, "x");
	s.is_tag = 1;
	snprintf(s.tag, sizeof(s.tag), "release-1");
	snprintf(s.key.name, sizeof(s.key.name), "ann");
	memset(s.sig, 7, sizeof(s.sig));
	sch_sig_format(&b, &s);
	cr_assert_eq(sch_sig_parse(&p, b.ptr, b.len), 0, "%s", sch_error_msg());
	sch_sig_format(&c, &p);
	cr_assert_str_eq(b.ptr, c.ptr);
	cr_assert_not(sch_sig_valid(&p));
	cr_assert_eq(sch_sig_parse(&p, b.ptr, b.len - 1), SCH_ECORRUPT);
	sch_buf_release(&b);
	sch_buf_release(&c);
}
