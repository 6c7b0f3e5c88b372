/* test_object.c - object encoding, ids, storage, verification, prefixes. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/object.h"
#include "unit/testutil.h"


static char tmpdir[64];
static struct sch_store *store;

static void setup(void)
{
	char *dir;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-object.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
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

TestSuite(object, .init = setup, .fini = teardown);

static struct sch_txn *begin(int write)
{
	struct sch_txn *t = NULL;

	cr_assert_eq(sch_txn_begin(&t, store, write), 0, "%s", sch_error_msg());
	return t;
}

static void commit(struct sch_txn *t)
{
	cr_assert_eq(sch_txn_commit(t), 0, "%s", sch_error_msg());
}

/* Deterministic bytes that zlib cannot shrink. */
static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

static struct sch_id put(struct sch_txn *t, enum sch_otype type,
			 const void *body, size_t len)
{
	struct sch_id id;

	cr_assert_eq(sch_object_put(&id, t, type, body, len, -1), 0, "%s",
		     sch_error_msg());
	return id;
}

static void hex_of(char *out, const struct sch_id *id)
{
	sch_id_hex(out, id);
}

/* ---- ids and hashing ---- */

Test(object, ids_match_b2sum_256_known_answers)
{
	/* printf 'blob 3\0abc' | b2sum -l 256; printf 'blob 0\0' | ... */
	static const char abc[] =
		"bf7c9069d129d96bdc3714e268e3beecd8a7b3fde66b93eeea44f79882f95f68";
	static const char empty[] =
		"c7207ed4aeba8e7d55617d32dd232c8466953b1a582f9c3548958d198813319c";
	struct sch_id id;
	char hex[SCH_HEX_LEN + 1];

	sch_object_hash(&id, SCH_OBJ_BLOB, "abc", 3);
	hex_of(hex, &id);
	cr_assert_str_eq(hex, abc);
	sch_object_hash(&id, SCH_OBJ_BLOB, "", 0);
	hex_of(hex, &id);
	cr_assert_str_eq(hex, empty);
}

Test(object, same_bytes_give_same_id)
{
	struct sch_txn *t = begin(1);
	char *x = xstrdup("create table t (id int);\n");
	struct sch_id a, b, c;

	sch_object_hash(&a, SCH_OBJ_BLOB, "create table t (id int);\n", 25);
	sch_object_hash(&b, SCH_OBJ_BLOB, x, 25);
	cr_assert_eq(sch_id_cmp(&a, &b), 0);
	c = put(t, SCH_OBJ_BLOB, x, 25);
	cr_assert_eq(sch_id_cmp(&a, &c), 0, "put returns the computed id");
	sch_txn_abort(t);
	free(x);
}

Test(object, different_type_or_bytes_give_different_id)
{
	struct sch_id a, b, c;

	sch_object_hash(&a, SCH_OBJ_BLOB, "abc", 3);
	sch_object_hash(&b, SCH_OBJ_STATE, "abc", 3);
	sch_object_hash(&c, SCH_OBJ_BLOB, "abd", 3);
	cr_assert_neq(sch_id_cmp(&a, &b), 0);
	cr_assert_neq(sch_id_cmp(&a, &c), 0);
}

Test(object, id_hex_parse_round_trip_and_short_form)
{
	struct sch_id a, b;
	char hex[SCH_HEX_LEN + 1], shrt[SCH_SHORT_LEN + 1];

	sch_object_hash(&a, SCH_OBJ_BLOB, "abc", 3);
	hex_of(hex, &a);
	cr_assert_eq(sch_id_parse(&b, hex, SCH_HEX_LEN), 0);
	cr_assert_eq(sch_id_cmp(&a, &b), 0);
	sch_id_short(shrt, &a);
	cr_assert_str_eq(shrt, "bf7c9069d129");
	cr_assert_eq(sch_id_parse(&b, hex, SCH_HEX_LEN - 1), SCH_EINVAL);
	hex[10] = 'x';
	cr_assert_eq(sch_id_parse(&b, hex, SCH_HEX_LEN), SCH_EINVAL);
	cr_assert_not(sch_id_is_zero(&a));
	memset(&b, 0, sizeof(b));
	cr_assert(sch_id_is_zero(&b));
}

Test(object, type_names_round_trip)
{
	static const enum sch_otype all[] = {
		SCH_OBJ_BLOB, SCH_OBJ_STATE, SCH_OBJ_REV,
		SCH_OBJ_SNAP, SCH_OBJ_CHUNK, SCH_OBJ_TASK,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *n = sch_otype_name(all[i]);
		cr_assert_eq(sch_otype_parse(n, strlen(n)), all[i], "%s", n);
	}
	cr_assert_str_eq(sch_otype_name(SCH_OBJ_REV), "rev");
	cr_assert_eq(sch_otype_parse("blo", 3), SCH_OBJ_NONE);
	cr_assert_eq(sch_otype_parse("blobs", 5), SCH_OBJ_NONE);
	cr_assert_eq(sch_otype_parse("BLOB", 4), SCH_OBJ_NONE);
	cr_assert_eq(sch_otype_parse("", 0), SCH_OBJ_NONE);
	cr_assert_str_eq(sch_otype_name(SCH_OBJ_NONE), "unknown");
}

/* ---- put and get ---- */

static void round_trip(const void *body, size_t len, enum sch_otype type)
{
	struct sch_txn *t = begin(1);
	struct sch_buf got = SCH_BUF_INIT;
	enum sch_otype gt = SCH_OBJ_NONE;
	struct sch_id id = put(t, type, body, len);

	commit(t);
	t = begin(0);
	cr_assert(sch_object_exists(t, &id));
	cr_assert_eq(sch_object_get(&got, &gt, t, &id), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(gt, type);
	cr_assert_eq(got.len, len);
	cr_assert_eq(memcmp(got.ptr, body, len), 0);
	cr_assert_eq(got.ptr[got.len], '\0');
	sch_txn_abort(t);
	sch_buf_release(&got);
}

Test(object, small_empty_and_binary_objects_round_trip)
{
	round_trip("create table t (id int);\n", 25, SCH_OBJ_BLOB);
	round_trip("x", 1, SCH_OBJ_STATE);
	round_trip("", 0, SCH_OBJ_BLOB);
	round_trip("", 0, SCH_OBJ_TASK);
	round_trip("a\0b\0\xff", 5, SCH_OBJ_CHUNK);
}

Test(object, compressible_mib_round_trips_and_is_stored_compressed)
{
	size_t len = 1 << 20;
	char *body = xmalloc(len);
	struct sch_txn *t;
	struct sch_id id;
	const void *v;
	size_t vl;

	for (size_t i = 0; i < len; i++)
		body[i] = "create table t (id int);\n"[i % 25];
	round_trip(body, len, SCH_OBJ_BLOB);
	sch_object_hash(&id, SCH_OBJ_BLOB, body, len);
	t = begin(0);
	cr_assert_lt(sch_object_stored_size(t, &id), len / 10);
	cr_assert_eq(sch_kv_get(t, SCH_DB_OBJECTS, id.b, SCH_ID_LEN, &v, &vl),
		     0);
	cr_assert_eq(((const char *)v)[0], 'z');
	sch_txn_abort(t);
	free(body);
}

Test(object, random_mib_is_stored_raw)
{
	size_t len = 1 << 20;
	unsigned char *body = xmalloc(len);
	const size_t hdr = strlen("blob 1048576") + 1;
	struct sch_txn *t;
	struct sch_id id;
	const void *v;
	size_t vl;

	fill_random(body, len, 1);
	round_trip(body, len, SCH_OBJ_BLOB);
	sch_object_hash(&id, SCH_OBJ_BLOB, body, len);
	t = begin(0);
	cr_assert_eq(sch_object_stored_size(t, &id), 1 + hdr + len);
	cr_assert_eq(sch_kv_get(t, SCH_DB_OBJECTS, id.b, SCH_ID_LEN, &v, &vl),
		     0);
	cr_assert_eq(((const char *)v)[0], 'r');
	sch_txn_abort(t);
	free(body);
}

Test(object, level_zero_stores_raw)
{
	struct sch_txn *t = begin(1);
	const char body[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	struct sch_id id;

	cr_assert_eq(sch_object_put(&id, t, SCH_OBJ_BLOB, body,
				    sizeof(body) - 1, 0), 0);
	cr_assert_eq(sch_object_stored_size(t, &id),
		     1 + strlen("blob 50") + 1 + 50);
	sch_txn_abort(t);
}

Test(object, putting_twice_is_a_no_op)
{
	struct sch_txn *t = begin(1);
	struct sch_id a, b;
	size_t n = 0;

	a = put(t, SCH_OBJ_BLOB, "same", 4);
	b = put(t, SCH_OBJ_BLOB, "same", 4);
	cr_assert_eq(sch_id_cmp(&a, &b), 0);
	cr_assert_eq(sch_kv_count(t, SCH_DB_OBJECTS, &n), 0);
	cr_assert_eq(n, 1);
	sch_txn_abort(t);
}

Test(object, oversized_object_is_refused_before_reading)
{
	struct sch_txn *t = begin(1);
	struct sch_id id;

	cr_assert_eq(sch_object_put(&id, t, SCH_OBJ_BLOB, "x",
				    SCH_OBJECT_MAX + 1, -1), SCH_ETOOBIG);
	sch_txn_abort(t);
}

Test(object, missing_object_is_not_found)
{
	struct sch_txn *t = begin(0);
	struct sch_buf b = SCH_BUF_INIT;
	struct sch_id id;

	sch_object_hash(&id, SCH_OBJ_BLOB, "never stored", 12);
	cr_assert_eq(sch_object_get(&b, NULL, t, &id), SCH_ENOTFOUND);
	cr_assert_not(sch_object_exists(t, &id));
	cr_assert_eq(sch_object_stored_size(t, &id), 0);
	sch_txn_abort(t);
	sch_buf_release(&b);
}

Test(object, typed_get_refuses_another_type)
{
	struct sch_txn *t = begin(1);
	struct sch_buf b = SCH_BUF_INIT;
	struct sch_id id = put(t, SCH_OBJ_BLOB, "abc", 3);

	cr_assert_eq(sch_object_get_typed(&b, t, &id, SCH_OBJ_BLOB), 0);
	cr_assert_str_eq(b.ptr, "abc");
	cr_assert_eq(sch_object_get_typed(&b, t, &id, SCH_OBJ_REV),
		     SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "is a blob, not a rev"), "%s",
		  sch_error_msg());
	sch_txn_abort(t);
	sch_buf_release(&b);
}

/* ---- decode ---- */

static int decode(const char *raw, size_t len)
{
	enum sch_otype type;
	const void *body;
	size_t blen;

	return sch_object_decode(&type, &body, &blen, raw, len);
}

#define RAW(s) (s), sizeof(s) - 1

Test(object, decode_accepts_canonical_encoding)
{
	enum sch_otype type;
	const void *body;
	size_t blen;
	static const char raw[] = "state 3\0abc";

	cr_assert_eq(sch_object_decode(&type, &body, &blen, raw,
				       sizeof(raw) - 1), 0);
	cr_assert_eq(type, SCH_OBJ_STATE);
	cr_assert_eq(blen, 3);
	cr_assert_eq(body, raw + 8);
	cr_assert_eq(decode(RAW("blob 0\0")), 0);
	cr_assert_eq(decode(RAW("blob 10\0" "0123456789")), 0);
}

Test(object, decode_refuses_leading_zero)
{
	cr_assert_eq(decode(RAW("blob 03\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob 00\0")), SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "leading zero"), "%s",
		  sch_error_msg());
}

Test(object, decode_refuses_length_mismatch)
{
	cr_assert_eq(decode(RAW("blob 4\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob 2\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob 0\0x")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob 99999999999999999999999\0")),
		     SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob 268435457\0")), SCH_ECORRUPT);
}

Test(object, decode_refuses_unknown_type)
{
	cr_assert_eq(decode(RAW("blub 3\0abc")), SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "unknown object type 'blub'"), "%s",
		  sch_error_msg());
	cr_assert_eq(decode(RAW(" 3\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("Blob 3\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob3\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("averyveryverylongtypename 3\0abc")),
		     SCH_ECORRUPT);
}

Test(object, decode_refuses_missing_nul_or_size)
{
	cr_assert_eq(decode(RAW("blob 3abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob 3")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob \0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob ")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob -3\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob +3\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob  3\0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("blob 3 \0abc")), SCH_ECORRUPT);
	cr_assert_eq(decode(RAW("")), SCH_ECORRUPT);
}

/* ---- verification on read ---- */

/* Rewrites the stored value of id with byte `at` (negative: from the end)
 * xor'ed with `mask`. */
static void damage(const struct sch_id *id, long at, unsigned char mask)
{
	struct sch_txn *t = begin(1);
	const void *v;
	size_t vl;
	unsigned char *copy;
	size_t pos;

	cr_assert_eq(sch_kv_get(t, SCH_DB_OBJECTS, id->b, SCH_ID_LEN, &v, &vl),
		     0);
	copy = xmalloc(vl);
	memcpy(copy, v, vl);
	pos = at < 0 ? vl - (size_t)-at : (size_t)at;
	cr_assert_lt(pos, vl);
	copy[pos] ^= mask;
	cr_assert_eq(sch_kv_put(t, SCH_DB_OBJECTS, id->b, SCH_ID_LEN, copy,
				vl), 0);
	commit(t);
	free(copy);
}

static void expect_corrupt(const struct sch_id *id)
{
	struct sch_txn *t = begin(0);
	struct sch_buf b = SCH_BUF_INIT;
	char hex[SCH_HEX_LEN + 1];

	sch_buf_addstr(&b, "stale");
	cr_assert_eq(sch_object_get(&b, NULL, t, id), SCH_ECORRUPT);
	hex_of(hex, id);
	cr_assert(strstr(sch_error_msg(), hex), "message names the object: %s",
		  sch_error_msg());
	cr_assert_eq(b.len, 0, "no partial body is returned");
	sch_txn_abort(t);
	sch_buf_release(&b);
}

static struct sch_id store_one(const void *body, size_t len)
{
	struct sch_txn *t = begin(1);
	struct sch_id id = put(t, SCH_OBJ_BLOB, body, len);

	commit(t);
	return id;
}

Test(object, flipped_byte_in_raw_value_is_corrupt)
{
	struct sch_id id = store_one("abc", 3);

	damage(&id, -1, 0x01); /* the body */
	expect_corrupt(&id);
	damage(&id, -1, 0x01);
	damage(&id, 6, 0x01); /* "r" "blob 3": the '3' becomes '2' */
	expect_corrupt(&id);
}

Test(object, flipped_byte_in_compressed_payload_is_corrupt)
{
	char body[4096];
	struct sch_id id;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = "select 1;\n"[i % 10];
	id = store_one(body, sizeof(body));
	damage(&id, 12, 0x40);
	expect_corrupt(&id);
	damage(&id, 12, 0x40); /* restored */
	damage(&id, -2, 0x01); /* the adler32 trailer */
	expect_corrupt(&id);
}

Test(object, unknown_storage_method_is_corrupt)
{
	struct sch_id id = store_one("abc", 3);

	damage(&id, 0, 'r' ^ 'q');
	expect_corrupt(&id);
}

Test(object, value_under_another_key_fails_the_hash_check)
{
	struct sch_txn *t = begin(1);
	struct sch_id a = put(t, SCH_OBJ_BLOB, "one", 3);
	struct sch_id b;
	const void *v;
	size_t vl;
	char *copy;

	sch_object_hash(&b, SCH_OBJ_BLOB, "two", 3);
	cr_assert_eq(sch_kv_get(t, SCH_DB_OBJECTS, a.b, SCH_ID_LEN, &v, &vl),
		     0);
	copy = xstrndup(v, vl);
	cr_assert_eq(sch_kv_put(t, SCH_DB_OBJECTS, b.b, SCH_ID_LEN, copy, vl),
		     0);
	free(copy);
	commit(t);
	expect_corrupt(&b);
}

/* ---- prefixes ---- */

/* Finds i != j with bodies "<tag>-i" / "<tag>-j" whose ids share their
 * first two bytes; types[k] gives the type of body k. When cross is set,
 * the two must have different types. Deterministic. */
static void find_collision(struct sch_id *a, struct sch_id *b, char *ba,
			   char *bb, const char *tag,
			   enum sch_otype (*type_of)(int), int cross)
{
	int *seen = xmalloc(65536 * sizeof(int));

	for (int i = 0; i < 65536; i++)
		seen[i] = -1;
	for (int i = 0; i < 1000000; i++) {
		char body[32];
		struct sch_id id;
		unsigned key;
		snprintf(body, sizeof(body), "%s-%d", tag, i);
		sch_object_hash(&id, type_of(i), body, strlen(body));
		key = (unsigned)id.b[0] << 8 | id.b[1];
		if (seen[key] >= 0 &&
		    (!cross || type_of(seen[key]) != type_of(i))) {
			snprintf(ba, 32, "%s-%d", tag, seen[key]);
			snprintf(bb, 32, "%s-%d", tag, i);
			sch_object_hash(a, type_of(seen[key]), ba, strlen(ba));
			*b = id;
			free(seen);
			return;
		}
		seen[key] = i;
	}
	free(seen);
	cr_assert_fail("no collision found");
}

static enum sch_otype all_blobs(int i)
{
	(void)i;
	return SCH_OBJ_BLOB;
}

static enum sch_otype blob_or_state(int i)
{
	return i % 2 ? SCH_OBJ_STATE : SCH_OBJ_BLOB;
}

Test(object, unique_prefix_resolves)
{
	struct sch_txn *t = begin(1);
	struct sch_id id = put(t, SCH_OBJ_BLOB, "abc", 3), got;
	char hex[SCH_HEX_LEN + 1];

	put(t, SCH_OBJ_BLOB, "abd", 3);
	hex_of(hex, &id);
	for (size_t n = 4; n <= SCH_HEX_LEN; n += 3) {
		char p[SCH_HEX_LEN + 1];
		memcpy(p, hex, n);
		p[n] = '\0';
		memset(&got, 0, sizeof(got));
		cr_assert_eq(sch_object_resolve_prefix(&got, t, p,
						       SCH_OBJ_NONE), 0,
			     "%s: %s", p, sch_error_msg());
		cr_assert_eq(sch_id_cmp(&got, &id), 0, "%s", p);
	}
	cr_assert_eq(sch_object_resolve_prefix(&got, t, hex, SCH_OBJ_BLOB), 0);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "BF7C90", SCH_OBJ_NONE),
		     0, "upper case digits: %s", sch_error_msg());
	cr_assert_eq(sch_id_cmp(&got, &id), 0);
	sch_txn_abort(t);
}

Test(object, ambiguous_prefix_lists_candidates)
{
	struct sch_txn *t = begin(1);
	struct sch_id a, b, got;
	char ba[32], bb[32], ha[SCH_HEX_LEN + 1], hb[SCH_HEX_LEN + 1];
	char p4[5], p5[6];

	find_collision(&a, &b, ba, bb, "amb", all_blobs, 0);
	put(t, SCH_OBJ_BLOB, ba, strlen(ba));
	put(t, SCH_OBJ_BLOB, bb, strlen(bb));
	hex_of(ha, &a);
	hex_of(hb, &b);
	snprintf(p4, sizeof(p4), "%.4s", ha);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, p4, SCH_OBJ_NONE),
		     SCH_EAMBIGUOUS);
	ha[SCH_SHORT_LEN] = hb[SCH_SHORT_LEN] = '\0';
	cr_assert(strstr(sch_error_msg(), ha), "%s", sch_error_msg());
	cr_assert(strstr(sch_error_msg(), hb), "%s", sch_error_msg());
	cr_assert(strstr(sch_error_msg(), "2 candidates"), "%s",
		  sch_error_msg());
	/* One more digit separates them unless the fifth digit matches too. */
	hex_of(ha, &a);
	hex_of(hb, &b);
	if (ha[4] != hb[4]) {
		snprintf(p5, sizeof(p5), "%.5s", ha);
		cr_assert_eq(sch_object_resolve_prefix(&got, t, p5,
						       SCH_OBJ_NONE), 0);
		cr_assert_eq(sch_id_cmp(&got, &a), 0);
	}
	sch_txn_abort(t);
}

Test(object, type_filter_disambiguates_prefix)
{
	struct sch_txn *t = begin(1);
	struct sch_id a, b, got;
	char ba[32], bb[32], ha[SCH_HEX_LEN + 1], p4[5];
	enum sch_otype ta;

	find_collision(&a, &b, ba, bb, "typ", blob_or_state, 1);
	/* a was generated first: its index decides its type. */
	ta = blob_or_state(atoi(strrchr(ba, '-') + 1));
	put(t, ta, ba, strlen(ba));
	put(t, ta == SCH_OBJ_BLOB ? SCH_OBJ_STATE : SCH_OBJ_BLOB, bb,
	    strlen(bb));
	hex_of(ha, &a);
	snprintf(p4, sizeof(p4), "%.4s", ha);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, p4, SCH_OBJ_NONE),
		     SCH_EAMBIGUOUS);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, p4, ta), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(sch_id_cmp(&got, &a), 0);
	cr_assert_eq(sch_object_resolve_prefix(
			     &got, t, p4,
			     ta == SCH_OBJ_BLOB ? SCH_OBJ_STATE : SCH_OBJ_BLOB),
		     0);
	cr_assert_eq(sch_id_cmp(&got, &b), 0);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, p4, SCH_OBJ_REV),
		     SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "no rev matches"), "%s",
		  sch_error_msg());
	sch_txn_abort(t);
}

Test(object, type_filter_reads_compressed_headers)
{
	struct sch_txn *t = begin(1);
	char body[2000];
	struct sch_id id, got;
	char hex[SCH_HEX_LEN + 1];

	memset(body, 'a', sizeof(body));
	id = put(t, SCH_OBJ_STATE, body, sizeof(body));
	cr_assert_lt(sch_object_stored_size(t, &id), sizeof(body));
	hex_of(hex, &id);
	hex[8] = '\0';
	cr_assert_eq(sch_object_resolve_prefix(&got, t, hex, SCH_OBJ_STATE), 0);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, hex, SCH_OBJ_BLOB),
		     SCH_ENOTFOUND);
	sch_txn_abort(t);
}

Test(object, odd_length_prefix_matches_on_the_half_byte)
{
	struct sch_txn *t = begin(1);
	struct sch_id id = put(t, SCH_OBJ_BLOB, "abc", 3), got;

	/* bf7c9069...: "bf7c9" matches, "bf7c8" and "bf7ca" do not. */
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "bf7c9", SCH_OBJ_NONE),
		     0);
	cr_assert_eq(sch_id_cmp(&got, &id), 0);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "bf7c8", SCH_OBJ_NONE),
		     SCH_ENOTFOUND);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "bf7ca", SCH_OBJ_NONE),
		     SCH_ENOTFOUND);
	sch_txn_abort(t);
}

Test(object, prefix_not_found)
{
	struct sch_txn *t = begin(1);
	struct sch_id got;

	put(t, SCH_OBJ_BLOB, "abc", 3); /* bf7c... */
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "0000", SCH_OBJ_NONE),
		     SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "'0000'"), "%s", sch_error_msg());
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "ffff", SCH_OBJ_NONE),
		     SCH_ENOTFOUND);
	sch_txn_abort(t);
}

Test(object, prefix_too_short_or_too_long_is_invalid)
{
	struct sch_txn *t = begin(0);
	struct sch_id got;
	char long_hex[SCH_HEX_LEN + 2];

	cr_assert_eq(sch_object_resolve_prefix(&got, t, "bf7", SCH_OBJ_NONE),
		     SCH_EINVAL);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "", SCH_OBJ_NONE),
		     SCH_EINVAL);
	memset(long_hex, 'a', SCH_HEX_LEN + 1);
	long_hex[SCH_HEX_LEN + 1] = '\0';
	cr_assert_eq(sch_object_resolve_prefix(&got, t, long_hex,
					       SCH_OBJ_NONE), SCH_EINVAL);
	sch_txn_abort(t);
}

Test(object, prefix_with_non_hex_digit_is_invalid)
{
	struct sch_txn *t = begin(0);
	struct sch_id got;

	cr_assert_eq(sch_object_resolve_prefix(&got, t, "bf7g", SCH_OBJ_NONE),
		     SCH_EINVAL);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "head", SCH_OBJ_NONE),
		     SCH_EINVAL);
	cr_assert_eq(sch_object_resolve_prefix(&got, t, "bf7c ", SCH_OBJ_NONE),
		     SCH_EINVAL);
	sch_txn_abort(t);
}

/* ---- a full map ---- */

Test(object, full_map_fails_the_put_and_abort_leaves_nothing)
{
	struct sch_store *small = NULL;
	struct sch_txn *t = NULL;
	char *dir = xasprintf("%s/small", tmpdir);
	unsigned char *body = xmalloc(64 << 10);
	struct sch_id first, id, last;
	struct sch_buf b = SCH_BUF_INIT;
	size_t n = 0;
	int rc = 0, i;

	setenv("SCHEMA_MAP_SIZE", "1048576", 1);
	rc = sch_store_open(&small, dir, 1);
	unsetenv("SCHEMA_MAP_SIZE");
	cr_assert_eq(rc, 0, "%s", sch_error_msg());

	cr_assert_eq(sch_txn_begin(&t, small, 1), 0);
	cr_assert_eq(sch_object_put(&first, t, SCH_OBJ_BLOB, "kept", 4, -1), 0);
	cr_assert_eq(sch_txn_commit(t), 0);

	cr_assert_eq(sch_txn_begin(&t, small, 1), 0);
	for (i = 0; i < 64; i++) {
		fill_random(body, 64 << 10, (uint64_t)i + 100);
		rc = sch_object_put(&id, t, SCH_OBJ_BLOB, body, 64 << 10, -1);
		if (rc)
			break;
		last = id;
	}
	cr_assert_eq(rc, SCH_EFULL, "got %d: %s", rc, sch_error_msg());
	cr_assert_gt(i, 0, "some objects fit before the map is full");
	cr_assert(strstr(sch_error_msg(), "full"), "%s", sch_error_msg());
	sch_txn_abort(t);

	cr_assert_eq(sch_txn_begin(&t, small, 0), 0);
	cr_assert_eq(sch_kv_count(t, SCH_DB_OBJECTS, &n), 0);
	cr_assert_eq(n, 1, "only the committed object remains");
	cr_assert_not(sch_object_exists(t, &last));
	cr_assert_eq(sch_object_get(&b, NULL, t, &first), 0);
	cr_assert_str_eq(b.ptr, "kept");
	sch_txn_abort(t);

	/* The store still takes a small write afterwards. */
	cr_assert_eq(sch_txn_begin(&t, small, 1), 0);
	cr_assert_eq(sch_object_put(&id, t, SCH_OBJ_BLOB, "after", 5, -1), 0);
	cr_assert_eq(sch_txn_commit(t), 0, "%s", sch_error_msg());

	sch_store_close(small);
	sch_buf_release(&b);
	free(body);
	free(dir);
}
