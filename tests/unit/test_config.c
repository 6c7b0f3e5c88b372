/* test_config.c - .schema/config in git-config syntax. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "schema/config.h"
#include "schema/error.h"
#include "unit/testutil.h"


static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-config.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
	rm_tree(tmpdir);
	leak_check();
}

TestSuite(config, .init = setup, .fini = teardown);

static int parse(struct sch_config *c, const char *text)
{
	return sch_config_parse(c, text, strlen(text), "cfg");
}

/* Parses text that must fail and checks the message. */
static void parse_error(const char *text, const char *msg)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, text), SCH_EPARSE, "%s", text);
	cr_assert_str_eq(sch_error_msg(), msg, "for %s", text);
	cr_assert_eq(c.n, 0);
	cr_assert_null(c.e);
	sch_config_release(&c);
}

static char *path_in_tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(config, sections_and_subsections)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "[core]\n"
			       "\tregistry = schema_registry\n"
			       "[env \"production\"]\n"
			       "\turl = postgresql://app@db/app\n"
			       "\tconfirm = true\n"
			       "[env \"staging\"]\n"
			       "\turl = postgresql://app@stage/app\n"
			       "[my-section_2]\n"
			       "\tsome-key_1 = v\n"), 0, "%s", sch_error_msg());
	cr_assert_eq(c.n, 5);
	cr_assert_str_eq(sch_config_get(&c, "core.registry"), "schema_registry");
	cr_assert_str_eq(sch_config_get(&c, "env.production.url"),
			 "postgresql://app@db/app");
	cr_assert_str_eq(sch_config_get(&c, "env.staging.url"),
			 "postgresql://app@stage/app");
	cr_assert_str_eq(sch_config_get(&c, "my-section_2.some-key_1"), "v");
	cr_assert_null(sch_config_get(&c, "env.url"));
	cr_assert_null(sch_config_get(&c, "core.missing"));
	cr_assert_null(sch_config_get(&c, "registry"));
	cr_assert_str_eq(c.e[1].key, "env.production.url");
	cr_assert_eq(c.e[1].line, 4);
	cr_assert_str_eq(c.path, "cfg");
	sch_config_release(&c);
}

Test(config, section_and_key_are_case_insensitive_subsection_is_not)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "[Core]\n"
			       "Registry = X\n"
			       "[ENV \"Prod\"]\n"
			       "URL = u\n"), 0, "%s", sch_error_msg());
	cr_assert_str_eq(c.e[0].key, "core.registry");
	cr_assert_str_eq(c.e[1].key, "env.Prod.url");
	cr_assert_str_eq(sch_config_get(&c, "core.registry"), "X");
	cr_assert_str_eq(sch_config_get(&c, "CORE.REGISTRY"), "X");
	cr_assert_str_eq(sch_config_get(&c, "env.Prod.url"), "u");
	cr_assert_str_eq(sch_config_get(&c, "Env.Prod.Url"), "u");
	cr_assert_null(sch_config_get(&c, "env.prod.url"));
	cr_assert_null(sch_config_get(&c, "env.PROD.url"));
	sch_config_release(&c);
}

Test(config, last_value_wins_and_set_overrides)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "[core]\nx = 1\n[other]\nx = 9\n[core]\nx = 2\n"),
		     0);
	cr_assert_str_eq(sch_config_get(&c, "core.x"), "2");
	sch_config_set(&c, "core.x", "3");
	cr_assert_str_eq(sch_config_get(&c, "core.x"), "3");
	cr_assert_str_eq(sch_config_get(&c, "other.x"), "9");
	sch_config_release(&c);
}

Test(config, subsection_with_dots_and_escapes)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "[env \"eu.west\"]\nurl = a\n"
			       "[env \"we\\\"ird\\\\\"]\nurl = b\n"), 0, "%s",
		     sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "env.eu.west.url"), "a");
	cr_assert_str_eq(c.e[1].key, "env.we\"ird\\.url");
	cr_assert_str_eq(sch_config_get(&c, "env.we\"ird\\.url"), "b");
	sch_config_release(&c);
}

Test(config, values_lose_surrounding_blanks_unless_quoted)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "[s]\n"
			       "a =   spaced value  \t\n"
			       "b = \"  padded  \"\n"
			       "c=tight\n"
			       "d = \n"
			       "e = mixed\"quoted  part\"  tail  \n"
			       "f = \"a\" \"b\"\n"), 0, "%s", sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "s.a"), "spaced value");
	cr_assert_str_eq(sch_config_get(&c, "s.b"), "  padded  ");
	cr_assert_str_eq(sch_config_get(&c, "s.c"), "tight");
	cr_assert_str_eq(sch_config_get(&c, "s.d"), "");
	cr_assert_str_eq(sch_config_get(&c, "s.e"), "mixedquoted  part  tail");
	cr_assert_str_eq(sch_config_get(&c, "s.f"), "a b");
	sch_config_release(&c);
}

Test(config, escapes_in_values)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "[s]\n"
			       "a = say \\\"hi\\\"\n"
			       "b = \"tab\\there\\nnl\\\\back\"\n"
			       "c = trailing\\t\n"), 0, "%s", sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "s.a"), "say \"hi\"");
	cr_assert_str_eq(sch_config_get(&c, "s.b"), "tab\there\nnl\\back");
	cr_assert_str_eq(sch_config_get(&c, "s.c"), "trailing\t",
			 "an escaped blank is kept");
	sch_config_release(&c);
}

Test(config, comments_and_blank_lines)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "# leading comment\n"
			       "; another\n"
			       "\n"
			       "   \t\n"
			       "[core] # after a header\n"
			       "  # indented comment\n"
			       "a = v # comment\n"
			       "b = v;comment\n"
			       "c = \"v # kept\" ; comment\n"
			       "d = url#frag\n"), 0, "%s", sch_error_msg());
	cr_assert_eq(c.n, 4);
	cr_assert_str_eq(sch_config_get(&c, "core.a"), "v");
	cr_assert_str_eq(sch_config_get(&c, "core.b"), "v");
	cr_assert_str_eq(sch_config_get(&c, "core.c"), "v # kept");
	cr_assert_str_eq(sch_config_get(&c, "core.d"), "url",
			 "an unquoted # starts a comment");
	sch_config_release(&c);
}

Test(config, crlf_line_ends)
{
	struct sch_config c;

	cr_assert_eq(parse(&c, "[core]\r\na = v\r\nflag\r\nq = \"x\"\r\n"), 0,
		     "%s", sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "core.a"), "v");
	cr_assert_str_eq(sch_config_get(&c, "core.flag"), "true");
	cr_assert_str_eq(sch_config_get(&c, "core.q"), "x");
	sch_config_release(&c);
}

Test(config, booleans)
{
	struct sch_config c;
	int v = -1;
	static const char *const yes[] = { "t1", "t2", "t3", "t4", "t5", "t6" };
	static const char *const no[] = { "f1", "f2", "f3", "f4", "f5", "f6" };

	cr_assert_eq(parse(&c, "[b]\n"
			       "t1 = true\nt2 = yes\nt3 = on\nt4 = 1\nt5 = TRUE\n"
			       "t6\n"
			       "f1 = false\nf2 = no\nf3 = off\nf4 = 0\nf5 = Off\n"
			       "f6 =\n"
			       "bad = maybe\ntwo = 2\n"), 0, "%s",
		     sch_error_msg());
	for (size_t i = 0; i < 6; i++) {
		char *k = xasprintf("b.%s", yes[i]);
		cr_assert_eq(sch_config_bool(&c, k, 0, &v), 0, "%s", k);
		cr_assert_eq(v, 1, "%s", k);
		free(k);
		k = xasprintf("b.%s", no[i]);
		cr_assert_eq(sch_config_bool(&c, k, 1, &v), 0, "%s", k);
		cr_assert_eq(v, 0, "%s", k);
		free(k);
	}
	cr_assert_eq(sch_config_bool(&c, "b.unset", 1, &v), 0);
	cr_assert_eq(v, 1, "default when unset");
	cr_assert_eq(sch_config_bool(&c, "b.unset", 0, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(sch_config_bool(&c, "b.bad", 1, &v), SCH_EPARSE);
	cr_assert_eq(v, 1, "the default is left on error");
	cr_assert_str_eq(sch_error_msg(), "cfg: 'maybe' is not a boolean for b.bad");
	cr_assert_eq(sch_config_bool(&c, "b.two", 0, &v), SCH_EPARSE);
	sch_config_release(&c);
}

Test(config, header_errors_name_file_and_line)
{
	parse_error("[core]\n[]\n", "cfg:2: bad section header");
	parse_error("[core\n", "cfg:1: bad section header");
	parse_error("[co re]\n", "cfg:1: subsection must be quoted");
	parse_error("[env prod]\n", "cfg:1: subsection must be quoted");
	parse_error("\n\n[env \"prod]\n", "cfg:3: unterminated subsection");
	parse_error("[env \"prod\"\n", "cfg:1: bad section header");
	parse_error("[core] x = 1\n", "cfg:1: text after section header");
	parse_error("[a.b]\n", "cfg:1: bad section header");
}

Test(config, key_errors_name_file_and_line)
{
	parse_error("x = 1\n", "cfg:1: key outside a section");
	parse_error("[s]\n1abc = x\n", "cfg:2: bad key");
	parse_error("[s]\n= x\n", "cfg:2: bad key");
	parse_error("[s]\n-a = x\n", "cfg:2: bad key");
	parse_error("[s]\nkey value\n", "cfg:2: expected '=' after key");
	parse_error("[s]\nk.x = 1\n", "cfg:2: expected '=' after key");
}

Test(config, value_errors_name_file_and_line)
{
	struct sch_config c;

	parse_error("[s]\nok = 1\nk = \"abc\n", "cfg:3: unterminated quote");
	parse_error("[s]\nk = a\\qb\n", "cfg:2: bad escape");
	parse_error("[s]\nk = a\\\n", "cfg:2: bad escape");
	cr_assert_eq(sch_config_parse(&c, "[s]\nk = a\0b\n", 12, "cfg"),
		     SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(), "cfg:2: NUL byte");
	sch_config_release(&c);
}

Test(config, load_of_missing_file_is_empty)
{
	struct sch_config c;
	char *p = path_in_tmp("nope");

	cr_assert_eq(sch_config_load(&c, p), 0, "%s", sch_error_msg());
	cr_assert_eq(c.n, 0);
	cr_assert_str_eq(c.path, p);
	cr_assert_null(sch_config_get(&c, "core.x"));
	sch_config_release(&c);
	free(p);
}

Test(config, load_reports_errors_with_the_path)
{
	struct sch_config c;
	char *p = path_in_tmp("config");
	char *want = xasprintf("%s:2: key outside a section", p);

	write_text(p, "# x\nkey = 1\n");
	cr_assert_eq(sch_config_load(&c, p), SCH_EPARSE);
	cr_assert_str_eq(sch_error_msg(), want);
	sch_config_release(&c);
	free(want);
	free(p);
}

Test(config, write_value_then_reload)
{
	struct sch_config c;
	char *p = path_in_tmp("config");
	const char *tricky = "a \"quoted\" \\path\\ # not a comment\nline2\t;x";

	cr_assert_eq(sch_config_write_value(p, "core.registry", "reg"), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(sch_config_write_value(p, "env.production.url", tricky),
		     0);
	cr_assert_eq(sch_config_write_value(p, "env.eu.west.url", "  x  "), 0);
	cr_assert_eq(sch_config_write_value(p, "core.empty", ""), 0);
	cr_assert_eq(sch_config_load(&c, p), 0, "%s", sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "core.registry"), "reg");
	cr_assert_str_eq(sch_config_get(&c, "env.production.url"), tricky);
	cr_assert_str_eq(sch_config_get(&c, "env.eu.west.url"), "  x  ");
	cr_assert_str_eq(sch_config_get(&c, "core.empty"), "");
	sch_config_release(&c);

	/* Overwriting keeps the rest; the new value wins. */
	cr_assert_eq(sch_config_write_value(p, "core.registry", "other"), 0);
	cr_assert_eq(sch_config_load(&c, p), 0, "%s", sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "core.registry"), "other");
	cr_assert_str_eq(sch_config_get(&c, "env.production.url"), tricky);
	sch_config_release(&c);
	free(p);
}

Test(config, write_value_keeps_hand_written_text)
{
	struct sch_config c;
	struct sch_buf b = SCH_BUF_INIT;
	char *p = path_in_tmp("config");
	const char *orig = "# my notes\n[core]\n\tregistry = mine"; /* no \n */

	write_text(p, orig);
	cr_assert_eq(sch_config_write_value(p, "env.dev.url", "u"), 0);
	cr_assert_eq(sch_buf_read_file(&b, p), 0);
	cr_assert_eq(strncmp(b.ptr, orig, strlen(orig)), 0);
	cr_assert_eq(b.ptr[strlen(orig)], '\n');
	cr_assert_eq(sch_config_load(&c, p), 0, "%s", sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "core.registry"), "mine");
	cr_assert_str_eq(sch_config_get(&c, "env.dev.url"), "u");
	sch_config_release(&c);
	sch_buf_release(&b);
	free(p);
}

/*
 * BUG: sch_config_write_value() writes the subsection between quotes
 * without escaping '"' and '\', so a subsection holding one gives a file
 * that sch_config_load() refuses ("bad section header"), though the
 * parser reads such escapes in subsections.
 */
Test(config, write_value_escapes_the_subsection)
{
	struct sch_config c;
	char *p = path_in_tmp("config");

	cr_assert_eq(sch_config_write_value(p, "env.we\"ird\\.url", "x"), 0);
	cr_assert_eq(sch_config_load(&c, p), 0, "%s", sch_error_msg());
	cr_assert_str_eq(sch_config_get(&c, "env.we\"ird\\.url"), "x");
	sch_config_release(&c);
	free(p);
}

/*
 * BUG: sch_config_write_value() with a key that has no '.' returns
 * SCH_EINVAL (undocumented: the header says 0 or SCH_EIO) straight after
 * reading the file, without releasing the buffer it read it into: the
 * file's content leaks. Only fails under ASan.
 */
Test(config, write_value_refuses_a_key_without_section)
{
	char *p = path_in_tmp("config");
	struct sch_buf b = SCH_BUF_INIT;

	write_text(p, "[core]\n\tx = 1\n");
	cr_assert_eq(sch_config_write_value(p, "nodot", "v"), SCH_EINVAL);
	cr_assert_eq(sch_buf_read_file(&b, p), 0);
	cr_assert_str_eq(b.ptr, "[core]\n\tx = 1\n", "file unchanged");
	sch_buf_release(&b);
	free(p);
}

static long dur(const char *s)
{
	long ms = -2;
	return sch_duration_parse(s, &ms) ? -1 : ms;
}

Test(config, durations_have_one_syntax)
{
	cr_assert_eq(dur("500ms"), 500);
	cr_assert_eq(dur("5s"), 5000);
	cr_assert_eq(dur("5"), 5000);
	cr_assert_eq(dur("1.5"), 1500);
	cr_assert_eq(dur("2min"), 120000);
	cr_assert_eq(dur("1h"), 3600000);
	cr_assert_eq(dur("15min"), 900000);
	cr_assert_eq(dur("0"), 0);
	cr_assert_eq(dur(" 5 s"), 5000);
	cr_assert_eq(dur("5x"), -1);
	cr_assert_eq(dur("-1s"), -1);
	cr_assert_eq(dur(""), -1);
	cr_assert_eq(dur("s"), -1);
	cr_assert_eq(dur("5s5"), -1);
	cr_assert_eq(dur("1e10"), -1);
	cr_assert_eq(dur("nan"), -1);
	cr_assert_eq(dur("inf"), -1);
}
