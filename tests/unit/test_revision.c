/* test_revision.c - the `rev` object format: format, strict parse. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/revision.h"
#include "unit/testutil.h"


TestSuite(revision, .fini = leak_check);

static struct sch_id id_of(const char *s)
{
	struct sch_id id;

	sch_object_hash(&id, SCH_OBJ_BLOB, s, strlen(s));
	return id;
}

static const char *hex_of(const char *s)
{
	static char hex[4][SCH_HEX_LEN + 1];
	static int k;
	struct sch_id id = id_of(s);

	k = (k + 1) % 4;
	sch_id_hex(hex[k], &id);
	return hex[k];
}

/* A revision with every kind of line. */
static void full_rev(struct sch_rev *r)
{
	struct sch_id p1 = id_of("p1"), p2 = id_of("p2"), d = id_of("d");
	struct sch_id s1 = id_of("s1"), s2 = id_of("s2");

	sch_rev_init(r);
	sch_rev_add_parent(r, &p1);
	sch_rev_add_parent(r, &p2);
	sch_rev_add_depends(r, &d);
	sch_rev_add_supersedes(r, &s1);
	sch_rev_add_supersedes(r, &s2);
	r->up = id_of("up");
	r->down = id_of("down");
	r->verify = id_of("verify");
	r->has_verify = 1;
	sch_rev_add_label(r, "billing");
	sch_rev_add_label(r, "core/v2");
	sch_rev_add_flag(r, "notx");
	sch_rev_add_flag(r, "irreversible");
	cr_assert_eq(sch_rev_parse_author(r, "Ada Lovelace <ada@example.org> "
					  "1700000000 -0130", 47), 0);
	free(r->message);
	r->message = xstrdup("Add invoices\n\nWith a body.\n");
}

/* "up X\ndown Y\n" for the usual up and down ids. */
static void add_scripts(struct sch_buf *b)
{
	sch_buf_addf(b, "up %s\n", hex_of("up"));
	sch_buf_addf(b, "down %s\n", hex_of("down"));
}

static int parse_text(const char *text)
{
	struct sch_rev r;
	int rc = sch_rev_parse(&r, text, strlen(text));

	sch_rev_release(&r);
	return rc;
}

static int parse_buf(const struct sch_buf *b)
{
	struct sch_rev r;
	int rc = sch_rev_parse(&r, b->ptr, b->len);

	sch_rev_release(&r);
	return rc;
}

Test(revision, format_writes_lines_in_canonical_order)
{
	struct sch_rev r;
	struct sch_buf got = SCH_BUF_INIT, want = SCH_BUF_INIT;

	full_rev(&r);
	sch_rev_format(&got, &r);
	sch_buf_addf(&want, "parent %s\n", hex_of("p1"));
	sch_buf_addf(&want, "parent %s\n", hex_of("p2"));
	sch_buf_addf(&want, "depends %s\n", hex_of("d"));
	sch_buf_addf(&want, "supersedes %s\n", hex_of("s1"));
	sch_buf_addf(&want, "supersedes %s\n", hex_of("s2"));
	add_scripts(&want);
	sch_buf_addf(&want, "verify %s\n", hex_of("verify"));
	sch_buf_addstr(&want, "label billing\nlabel core/v2\n"
			      "flag notx\nflag irreversible\n"
			      "author Ada Lovelace <ada@example.org> "
			      "1700000000 -0130\n\n"
			      "Add invoices\n\nWith a body.\n");
	cr_assert_str_eq(got.ptr, want.ptr);
	sch_rev_release(&r);
	sch_buf_release(&got);
	sch_buf_release(&want);
}

Test(revision, every_line_kind_round_trips)
{
	struct sch_rev r, back;
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT;

	full_rev(&r);
	sch_rev_format(&a, &r);
	cr_assert_eq(sch_rev_parse(&back, a.ptr, a.len), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(back.nparents, 2);
	cr_assert_eq(sch_id_cmp(&back.parents[1], &r.parents[1]), 0);
	cr_assert_eq(back.ndepends, 1);
	cr_assert_eq(back.nsupersedes, 2);
	cr_assert_eq(sch_id_cmp(&back.supersedes[1], &r.supersedes[1]), 0);
	cr_assert(sch_rev_supersedes(&back, &r.supersedes[0]));
	cr_assert_not(sch_rev_supersedes(&back, &r.depends[0]));
	cr_assert_eq(sch_id_cmp(&back.up, &r.up), 0);
	cr_assert_eq(sch_id_cmp(&back.down, &r.down), 0);
	cr_assert(back.has_verify);
	cr_assert_eq(sch_id_cmp(&back.verify, &r.verify), 0);
	cr_assert_eq(back.nlabels, 2);
	cr_assert_str_eq(back.labels[1], "core/v2");
	cr_assert_eq(back.nflags, 2);
	cr_assert(sch_rev_has_flag(&back, "irreversible"));
	cr_assert_str_eq(back.author, "Ada Lovelace <ada@example.org>");
	cr_assert_eq(back.time, 1700000000);
	cr_assert_str_eq(back.tz, "-0130");
	cr_assert_str_eq(back.message, r.message);
	sch_rev_format(&b, &back);
	cr_assert_eq(a.len, b.len);
	cr_assert_eq(memcmp(a.ptr, b.ptr, a.len), 0, "format(parse(x)) == x");
	sch_rev_release(&r);
	sch_rev_release(&back);
	sch_buf_release(&a);
	sch_buf_release(&b);
}

Test(revision, minimal_root_revision_round_trips)
{
	struct sch_rev r, back;
	struct sch_buf a = SCH_BUF_INIT;

	sch_rev_init(&r);
	r.up = id_of("up");
	r.down = id_of("down");
	sch_rev_format(&a, &r);
	cr_assert_eq(sch_rev_parse(&back, a.ptr, a.len), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(back.nparents, 0);
	cr_assert_not(back.has_verify);
	cr_assert_null(back.author);
	cr_assert_str_eq(back.message, "");
	sch_rev_release(&r);
	sch_rev_release(&back);
	sch_buf_release(&a);
}

Test(revision, subject_is_the_first_message_line)
{
	struct sch_rev r;
	struct sch_buf s = SCH_BUF_INIT;

	full_rev(&r);
	sch_buf_addstr(&s, "old");
	sch_rev_subject(&s, &r);
	cr_assert_str_eq(s.ptr, "Add invoices");
	free(r.message);
	r.message = xstrdup("no newline");
	sch_rev_subject(&s, &r);
	cr_assert_str_eq(s.ptr, "no newline");
	sch_rev_release(&r);
	sch_buf_release(&s);
}

Test(revision, known_flags)
{
	cr_assert(sch_rev_flag_known("notx"));
	cr_assert(sch_rev_flag_known("irreversible"));
	cr_assert_not(sch_rev_flag_known("NOTX"));
	cr_assert_not(sch_rev_flag_known("tx"));
	cr_assert_not(sch_rev_flag_known(""));
}

Test(revision, lines_out_of_order_are_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;

	/* parent after up */
	add_scripts(&b);
	sch_buf_addf(&b, "parent %s\n\nm\n", hex_of("p1"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "line 3"), "%s", sch_error_msg());
	/* depends before parent */
	sch_buf_reset(&b);
	sch_buf_addf(&b, "depends %s\nparent %s\n", hex_of("d"), hex_of("p1"));
	add_scripts(&b);
	sch_buf_addstr(&b, "\nm\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	/* supersedes before depends, or after up */
	sch_buf_reset(&b);
	sch_buf_addf(&b, "supersedes %s\ndepends %s\n", hex_of("s1"),
		     hex_of("d"));
	add_scripts(&b);
	sch_buf_addstr(&b, "\nm\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addf(&b, "supersedes %s\n\nm\n", hex_of("s1"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	/* down before up */
	sch_buf_reset(&b);
	sch_buf_addf(&b, "down %s\nup %s\n\n", hex_of("down"), hex_of("up"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	/* flag before label */
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addstr(&b, "flag notx\nlabel x\n\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	/* author before flag */
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addstr(&b, "author A <a@b> 1 +0000\nflag notx\n\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	/* verify after label */
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addf(&b, "label x\nverify %s\n\n", hex_of("verify"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	sch_buf_release(&b);
}

Test(revision, single_lines_may_not_repeat)
{
	struct sch_buf b = SCH_BUF_INIT;

	add_scripts(&b);
	sch_buf_addf(&b, "down %s\n\n", hex_of("down"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "two down lines");
	sch_buf_reset(&b);
	sch_buf_addf(&b, "up %s\n", hex_of("up"));
	add_scripts(&b);
	sch_buf_addstr(&b, "\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "two up lines");
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addf(&b, "verify %s\nverify %s\n\n", hex_of("v"), hex_of("v"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "two verify lines");
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addstr(&b, "author A <a@b> 1 +0000\nauthor A <a@b> 1 +0000\n\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "two author lines");
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addstr(&b, "label x\nlabel x\nflag notx\nflag notx\n\n");
	cr_assert_eq(parse_buf(&b), 0, "labels and flags repeat: %s",
		     sch_error_msg());
	sch_buf_release(&b);
}

Test(revision, missing_up_or_down_is_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_buf_addf(&b, "down %s\n\nm\n", hex_of("down"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "no up");
	sch_buf_reset(&b);
	sch_buf_addf(&b, "up %s\n\nm\n", hex_of("up"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "no down");
	cr_assert(strstr(sch_error_msg(), "lacks up, down"), "%s",
		  sch_error_msg());
	sch_buf_reset(&b);
	sch_buf_addf(&b, "up %s\nlabel x\n\n", hex_of("up"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "label with no down");
	cr_assert_eq(parse_text("\nmessage only\n"), SCH_ECORRUPT);
	cr_assert_eq(parse_text(""), SCH_ECORRUPT);
	sch_buf_release(&b);
}

Test(revision, missing_blank_line_is_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;

	add_scripts(&b);
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "headers only");
	sch_buf_reset(&b);
	sch_buf_addf(&b, "up %s\ndown %s", hex_of("up"), hex_of("down"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "unterminated last line");
	cr_assert(strstr(sch_error_msg(), "not terminated"), "%s",
		  sch_error_msg());
	sch_buf_release(&b);
}

Test(revision, bad_ids_are_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;
	char shrt[SCH_HEX_LEN];

	memcpy(shrt, hex_of("p1"), SCH_HEX_LEN - 1);
	shrt[SCH_HEX_LEN - 1] = '\0';
	sch_buf_addf(&b, "parent %s\n", shrt);
	add_scripts(&b);
	sch_buf_addstr(&b, "\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "63 digits");
	cr_assert(strstr(sch_error_msg(), "bad id"), "%s", sch_error_msg());

	sch_buf_reset(&b);
	sch_buf_addf(&b, "parent %sa\n", hex_of("p1"));
	add_scripts(&b);
	sch_buf_addstr(&b, "\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "65 digits");

	sch_buf_reset(&b);
	sch_buf_addf(&b, "up %.63sz\ndown %s\n\n", hex_of("up"),
		     hex_of("down"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "not hex");

	sch_buf_reset(&b);
	sch_buf_addf(&b, "up  %s\ndown %s\n\n", hex_of("up"), hex_of("down"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "two spaces");

	sch_buf_reset(&b);
	sch_buf_addf(&b, "up %s \ndown %s\n\n", hex_of("up"), hex_of("down"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "trailing space");

	sch_buf_reset(&b);
	sch_buf_addstr(&b, "up\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "no value");
	cr_assert(strstr(sch_error_msg(), "has no value"), "%s",
		  sch_error_msg());
	sch_buf_release(&b);
}

Test(revision, unknown_key_or_flag_is_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;

	add_scripts(&b);
	sch_buf_addstr(&b, "flag fast\n\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "unknown flag");
	cr_assert(strstr(sch_error_msg(), "line 3: bad value"), "%s",
		  sch_error_msg());
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addstr(&b, "flag NOTX\n\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "flags are case-sensitive");
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addstr(&b, "state abc\n\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "unknown key");
	cr_assert(strstr(sch_error_msg(), "unexpected 'state'"), "%s",
		  sch_error_msg());
	sch_buf_reset(&b);
	sch_buf_addf(&b, "Parent %s\n", hex_of("p"));
	add_scripts(&b);
	sch_buf_addstr(&b, "\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "keys are case-sensitive");
	sch_buf_release(&b);
}

Test(revision, bad_label_is_rejected)
{
	static const char *const bad[] = { "a b", "head", "-x", "a..b",
					   "x.lock", "a~1" };
	struct sch_buf b = SCH_BUF_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sch_buf_reset(&b);
		add_scripts(&b);
		sch_buf_addf(&b, "label %s\n\n", bad[i]);
		cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "%s", bad[i]);
	}
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_addstr(&b, "label \n\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "empty label");
	sch_buf_release(&b);
}

Test(revision, author_syntax)
{
	static const char *const good[] = {
		"A <a@b> 0 +0000",
		"Ada Lovelace <ada@example.org> 1700000000 -0130",
		"Jos\xc3\xa9 <j@x> 1 +1400",
		"A <a@b> -5 +0000",
	};
	static const char *const bad[] = {
		"A a@b 1 +0000",      /* no brackets */
		"<a@b> 1 +0000",      /* no name */
		"A<a@b> 1 +0000",     /* no space before < */
		"A <a@b>1 +0000",     /* no space after > */
		"A <a@b> 1",          /* no zone */
		"A <a@b> +0000",      /* no time */
		"A <a@b> x +0000",    /* time not a number */
		"A <a@b> 1 0000",     /* zone without sign */
		"A <a@b> 1 +000",     /* zone too short */
		"A <a@b> 1 +00000",   /* zone too long */
		"A <a@b> 1 +00a0",    /* zone not digits */
		"A <a@b> 1 +0000 x",  /* trailing text */
		"A >a@b< 1 +0000",    /* brackets reversed */
		"A <a@b> +5 +0000",   /* plus sign */
		"A <a@b>  5 +0000",   /* two blanks */
		"A <a@b> 5  +0000",   /* two blanks */
		"A <a@b> 5\t+0000",   /* tab */
		"A <a@b> 1234567890123456789012 +0000", /* too long */
	};
	struct sch_rev r;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		sch_rev_init(&r);
		cr_assert_eq(sch_rev_parse_author(&r, good[i], strlen(good[i])),
			     0, "%s", good[i]);
		sch_rev_release(&r);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sch_rev_init(&r);
		cr_assert_eq(sch_rev_parse_author(&r, bad[i], strlen(bad[i])),
			     SCH_EPARSE, "%s", bad[i]);
		cr_assert_null(r.author, "%s", bad[i]);
		sch_rev_release(&r);
	}
}

Test(revision, bad_author_line_is_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;

	add_scripts(&b);
	sch_buf_addstr(&b, "author nobody\n\nm\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "line 3"), "%s", sch_error_msg());
	sch_buf_release(&b);
}

/*
 * BUG: sch_rev_parse_author() accepts leading zeros and a minus zero in
 * the author time ("007", "-0", "-007"), which sch_rev_format() never
 * writes (it prints 7, 0, -7). Such a stored revision parses, but
 * format(parse(body)) != body: the same revision can exist under two ids.
 * A strict parser refuses a leading zero unless the number is "0".
 */
Test(revision, non_canonical_author_time_is_rejected)
{
	static const char *const bad[] = {
		"A <a@b> 007 +0000",
		"A <a@b> 00 +0000",
		"A <a@b> -0 +0000",
		"A <a@b> -007 +0000",
	};
	struct sch_rev r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sch_rev_init(&r);
		cr_assert_eq(sch_rev_parse_author(&r, bad[i], strlen(bad[i])),
			     SCH_EPARSE, "%s", bad[i]);
		sch_rev_release(&r);
	}
}

/*
 * BUG: ids are parsed with sch_unhex(), which takes upper-case digits, so
 * "parent ABCD..." parses while sch_rev_format() writes lower case: the
 * same revision can exist under two ids. Found by tests/fuzz/fuzz_object.
 */
Test(revision, upper_case_hex_id_is_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;
	char upper[SCH_HEX_LEN + 1];

	snprintf(upper, sizeof(upper), "%s", hex_of("up"));
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	sch_buf_addf(&b, "up %s\ndown %s\n\nm\n", upper, hex_of("down"));
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	sch_buf_release(&b);
}

Test(revision, nul_in_message_is_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;

	add_scripts(&b);
	sch_buf_add(&b, "\nsubject\0more\n", 14);
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "NUL"), "%s", sch_error_msg());
	sch_buf_release(&b);
}

Test(revision, nul_in_header_value_is_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;

	add_scripts(&b);
	sch_buf_add(&b, "label a\0b\n\n", 11);
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "label");
	sch_buf_reset(&b);
	add_scripts(&b);
	sch_buf_add(&b, "author A <a@b> 1 +0000\0\n\n", 25);
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT, "author");
	sch_buf_release(&b);
}

Test(revision, too_many_parents_are_rejected)
{
	struct sch_buf b = SCH_BUF_INIT;
	char name[16];

	for (int i = 0; i <= SCH_REV_MAX_PARENTS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		sch_buf_addf(&b, "parent %s\n", hex_of(name));
	}
	add_scripts(&b);
	sch_buf_addstr(&b, "\n");
	cr_assert_eq(parse_buf(&b), SCH_ECORRUPT);
	cr_assert(strstr(sch_error_msg(), "too many parents"), "%s",
		  sch_error_msg());
	sch_buf_release(&b);
}

/* A failed parse leaves a zeroed revision: nothing to release, and
 * releasing it anyway is harmless. */
Test(revision, failed_parse_leaves_a_zeroed_revision)
{
	struct sch_buf b = SCH_BUF_INIT;
	struct sch_rev r;

	sch_buf_addf(&b, "parent %s\n", hex_of("p"));
	add_scripts(&b);
	sch_buf_addstr(&b, "label ok\nflag bogus\n\n");
	cr_assert_eq(sch_rev_parse(&r, b.ptr, b.len), SCH_ECORRUPT);
	cr_assert_eq(r.nparents, 0);
	cr_assert_eq(r.nlabels, 0);
	cr_assert_null(r.message);
	sch_rev_release(&r);
	sch_buf_release(&b);
}
