/* test_manifest.c - the snap manifest: format, strict parsing, words. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/manifest.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
static void leak_check(void)
{
	if (__lsan_do_recoverable_leak_check()) {
		fputs("memory leaked (see above)\n", stderr);
		abort();
	}
}
#else
static void leak_check(void)
{
}
#endif

TestSuite(manifest, .fini = leak_check);

static void sample(struct sch_manifest *m)
{
	sch_manifest_init(m);
	m->time = 1700000000;
	m->database = xstrdup("app db");
	m->server = 150018;
	m->encoding = xstrdup("UTF8");
	m->note = xstrdup("100% before\n2.4");
	m->nheads = 1;
	m->heads = xcalloc(1, sizeof(*m->heads));
	memset(m->heads[0].b, 0xab, SCH_ID_LEN);
	memset(m->pre_data.b, 1, SCH_ID_LEN);
	memset(m->post_data.b, 2, SCH_ID_LEN);
	m->nseqs = 1;
	m->seqs = xcalloc(1, sizeof(*m->seqs));
	m->seqs[0].schema = xstrdup("public");
	m->seqs[0].name = xstrdup("s");
	m->seqs[0].last_value = -9223372036854775807LL - 1;
	m->ntables = 1;
	m->tables = xcalloc(1, sizeof(*m->tables));
	m->tables[0].schema = xstrdup("public");
	m->tables[0].name = xstrdup("naïve table");
	m->tables[0].binary = 1;
	m->tables[0].ncols = 2;
	m->tables[0].cols = xcalloc(2, sizeof(char *));
	m->tables[0].cols[0] = xstrdup("id");
	m->tables[0].cols[1] = xstrdup("a\tb");
	m->tables[0].nparts = 2;
	m->tables[0].parts = xcalloc(2, sizeof(struct sch_mf_part));
	m->tables[0].parts[0].rows = 3;
	m->tables[0].parts[0].bytes = 100;
	m->tables[0].parts[0].nchunks = 1;
	m->tables[0].parts[0].chunks = xcalloc(1, sizeof(struct sch_id));
	m->tables[0].parts[1].chunks = xcalloc(1, sizeof(struct sch_id));
	m->tables[0].rows = 3;
	m->tables[0].bytes = 100;
}

Test(manifest, formats_and_parses_back_to_the_same_bytes)
{
	struct sch_manifest m, back;
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;

	sample(&m);
	sch_manifest_format(&a, &m);
	cr_assert_eq(sch_manifest_parse(&back, a.ptr, a.len), 0, "%s",
		     sch_error_msg());
	sch_manifest_format(&b, &back);
	cr_assert_str_eq(a.ptr, b.ptr);
	cr_assert_str_eq(back.note, "100% before\n2.4");
	cr_assert_str_eq(back.tables[0].name, "naïve table");
	cr_assert_str_eq(back.tables[0].cols[1], "a\tb");
	cr_assert_eq(back.seqs[0].last_value, -9223372036854775807LL - 1);
	cr_assert_eq(back.tables[0].nparts, 2);
	cr_assert_eq(back.tables[0].parts[1].nchunks, 0);
	cr_assert(strstr(a.ptr, "note 100%25%20before%0A2.4\n"));
	cr_assert(strstr(a.ptr, "table public naïve%20table binary 3 100\n"));
	sch_manifest_release(&m);
	sch_manifest_release(&back);
	sch_buf_release(&a);
	sch_buf_release(&b);
}

static int parse_str(const char *s)
{
	struct sch_manifest m;
	int rc = sch_manifest_parse(&m, s, strlen(s));

	sch_manifest_release(&m);
	return rc;
}

#define ID64 "0000000000000000000000000000000000000000000000000000000000000000"
#define HEAD "snapshot 1\ntime 5\ndatabase d\nserver 150000\nencoding UTF8\n"
#define DDL "pre-data " ID64 "\npost-data " ID64 "\n"

Test(manifest, minimal_manifest_parses)
{
	cr_assert_eq(parse_str(HEAD DDL), 0, "%s", sch_error_msg());
}

Test(manifest, rejects_what_is_not_canonical)
{
	const char *bad[] = {
		"",
		"snapshot 2\n",
		HEAD DDL "junk\n",
		HEAD DDL "table s t binary 0 0\n",		/* no part */
		HEAD DDL "table s t binary 1 0\npart 0 0 0\n", /* sums */
		HEAD DDL "table s t binary 0 5\npart 0 5 0\n", /* no chunk */
		HEAD DDL "table s t csv 0 0\npart 0 0 0\n",
		HEAD DDL "table s t%41 text 0 0\npart 0 0 0\n", /* needless escape */
		HEAD DDL "table s t%4 text 0 0\npart 0 0 0\n",
		HEAD DDL "table s t%0a text 0 0\npart 0 0 0\n", /* lowercase hex */
		HEAD DDL "table s t%00 text 0 0\npart 0 0 0\n", /* NUL */
		HEAD DDL "sequence s q 01 t\n",
		HEAD DDL "sequence s q -0 t\n",
		HEAD DDL "sequence s q 9223372036854775808 t\n",
		HEAD DDL "sequence s q 1 x\n",
		HEAD DDL "sequence s q 1 t extra\n",
		HEAD "pre-data " ID64 "\n",
		HEAD DDL "table s t text 0 5\npart 0 5 99999999\nchunk " ID64 "\n",
		"snapshot 1\ntime 5\ndatabase d\nserver 150000\nencoding UTF8",
		HEAD "head " ID64 "0\n" DDL,
		HEAD "head ABCD" ID64 "\n" DDL,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse_str(bad[i]), SCH_ECORRUPT, "case %zu parsed",
			     i);
		cr_assert(strstr(sch_error_msg(), "snapshot manifest line"));
	}
}

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HEAD2 "snapshot 2\ntime 5\ndatabase d\nserver 150000\nencoding UTF8\n"

Test(manifest, version_2_records_the_state)
{
	struct sch_manifest m;
	struct sch_buf b = SCH_BUF_INIT;
	const char *s = HEAD2 "state " ID1 "\n" DDL;

	cr_assert_eq(sch_manifest_parse(&m, s, strlen(s)), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(m.version, 2);
	cr_assert(m.has_state && !m.has_state_blob);
	cr_assert_eq(m.state.b[0], 0x11);
	sch_manifest_format(&b, &m);
	cr_assert_str_eq(b.ptr, s);
	sch_manifest_release(&m);
	sch_buf_release(&b);
}

Test(manifest, state_line_belongs_to_version_2_only)
{
	cr_assert_eq(parse_str(HEAD "state " ID1 "\n" DDL), SCH_ECORRUPT);
	cr_assert_eq(parse_str(HEAD2 DDL), SCH_ECORRUPT, "v2 needs a state");
	cr_assert_eq(parse_str(HEAD2 "state " ID1 " " ID2 "\n" DDL),
		     SCH_ECORRUPT, "a state blob outside a sealed manifest");
}

Test(manifest, sealed_inner_manifest_names_its_state_blob)
{
	struct sch_manifest m;
	const char *ok = HEAD2 "state " ID1 " " ID2 "\n" DDL;
	const char *no = HEAD2 "state " ID1 "\n" DDL;

	cr_assert_eq(sch_manifest_parse_sealed(&m, ok, strlen(ok)), 0, "%s",
		     sch_error_msg());
	cr_assert(m.has_state_blob && m.state_blob.b[0] == 0x22);
	sch_manifest_release(&m);
	cr_assert_eq(sch_manifest_parse_sealed(&m, no, strlen(no)),
		     SCH_ECORRUPT);
	sch_manifest_release(&m);
	cr_assert_eq(sch_manifest_parse_sealed(&m, HEAD DDL,
					       strlen(HEAD DDL)),
		     SCH_ECORRUPT, "a sealed manifest is version 2");
	sch_manifest_release(&m);
}

static struct sch_buf envelope(const char *lines, size_t boxlen)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_buf_addf(&b, "sealed-snapshot 1\ntime 5\nkey " ID1 "\n%s"
		     "sealed %zu\n", lines, boxlen);
	for (size_t i = 0; i < boxlen; i++)
		sch_buf_addch(&b, (char)(i * 7));
	return b;
}

Test(manifest, envelope_parses_and_formats_back)
{
	struct sch_manifest m;
	struct sch_buf a = envelope("blob " ID1 "\nblob " ID2 "\nchunk " ID1
				    "\n", 50),
		       b = SCH_BUF_INIT;

	cr_assert_eq(sch_manifest_parse(&m, a.ptr, a.len), 0, "%s",
		     sch_error_msg());
	cr_assert(m.sealed && !m.opened);
	cr_assert_eq(m.nblobs, 2);
	cr_assert_eq(m.nchunks, 1);
	cr_assert_eq(m.boxlen, 50);
	cr_assert_eq(m.time, 5);
	sch_manifest_format(&b, &m);
	cr_assert_eq(a.len, b.len);
	cr_assert(!memcmp(a.ptr, b.ptr, a.len));
	sch_manifest_release(&m);
	sch_buf_release(&a);
	sch_buf_release(&b);
}

Test(manifest, envelope_is_strict)
{
	struct sch_manifest m;
	struct {
		const char *lines;
		size_t boxlen, cut;
	} bad[] = {
		{ "", 50, 0 },				/* no blob */
		{ "blob " ID2 "\nblob " ID1 "\n", 50, 0 },	/* unsorted */
		{ "blob " ID1 "\nblob " ID1 "\n", 50, 0 },	/* repeated */
		{ "blob " ID1 "\nchunk " ID2 "\nchunk " ID1 "\n", 50, 0 },
		{ "blob " ID1 "\n", 40, 0 },		/* box too short */
		{ "blob " ID1 "\n", 50, 1 },		/* length mismatch */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sch_buf b = envelope(bad[i].lines, bad[i].boxlen);
		cr_assert_eq(sch_manifest_parse(&m, b.ptr, b.len - bad[i].cut),
			     SCH_ECORRUPT, "case %zu parsed", i);
		sch_manifest_release(&m);
		sch_buf_release(&b);
	}
}

Test(manifest, objects_lists_blobs_and_chunks_sorted_once)
{
	struct sch_manifest m;
	struct sch_id *b, *c;
	size_t nb, nc;

	sample(&m);
	m.tables[0].parts[1].nchunks = 1; /* the same chunk twice */
	m.has_state = m.has_state_blob = 1;
	memset(m.state_blob.b, 3, SCH_ID_LEN);
	sch_manifest_objects(&m, &b, &nb, &c, &nc);
	cr_assert_eq(nb, 3);
	cr_assert(sch_id_cmp(&b[0], &b[1]) < 0 && sch_id_cmp(&b[1], &b[2]) < 0);
	cr_assert_eq(nc, 1);
	free(b);
	free(c);
	sch_manifest_release(&m);
}
