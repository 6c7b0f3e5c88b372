/* test_statediff.c - unified differences between state texts. */
#include <criterion/criterion.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/statediff.h"

TestSuite(statediff);

static size_t diff(struct sch_buf *out, struct sch_strlist *ch,
		   const char *a, const char *b)
{
	return sch_statediff(out, ch, a, strlen(a), b, strlen(b), 3);
}

Test(statediff, equal_texts_give_nothing)
{
	struct sch_buf out = SCH_BUF_INIT;
	const char *a = "table public.a\n  column x int\ntable public.b\n";

	cr_assert_eq(diff(&out, NULL, a, a), 0);
	cr_assert_eq(out.len, 0);
	sch_buf_release(&out);
}

Test(statediff, a_changed_line_is_shown_with_context)
{
	struct sch_buf out = SCH_BUF_INIT;
	struct sch_strlist ch = { 0 };
	const char *a = "table public.a\n  column x int\n  column y int\n"
			"table public.b\n  column z int\n";
	const char *b = "table public.a\n  column x bigint\n  column y int\n"
			"table public.b\n  column z int\n";

	cr_assert_eq(diff(&out, &ch, a, b), 1);
	cr_assert_str_eq(out.ptr, "--- a/table public.a\n+++ b/table public.a\n"
			 "@@ -1,3 +1,3 @@\n table public.a\n-  column x int\n"
			 "+  column x bigint\n   column y int\n");
	cr_assert_eq(ch.n, 1);
	cr_assert_str_eq(ch.v[0], "table public.a");
	sch_strlist_release(&ch);
	sch_buf_release(&out);
}

Test(statediff, added_and_removed_objects_use_dev_null)
{
	struct sch_buf out = SCH_BUF_INIT;
	struct sch_strlist ch = { 0 };
	const char *a = "table public.a\n  column x int\n";
	const char *b = "table public.b\n";

	cr_assert_eq(diff(&out, &ch, a, b), 2);
	cr_assert_str_eq(out.ptr,
			 "--- a/table public.a\n+++ /dev/null\n@@ -1,2 +0,0 @@\n"
			 "-table public.a\n-  column x int\n"
			 "--- /dev/null\n+++ b/table public.b\n@@ -0,0 +1 @@\n"
			 "+table public.b\n");
	cr_assert_str_eq(ch.v[0], "table public.a");
	cr_assert_str_eq(ch.v[1], "table public.b");
	sch_strlist_release(&ch);
	sch_buf_release(&out);
}

Test(statediff, distant_changes_make_two_hunks)
{
	struct sch_buf a = SCH_BUF_INIT, b = SCH_BUF_INIT, out = SCH_BUF_INIT;

	sch_buf_addstr(&a, "table t\n");
	sch_buf_addstr(&b, "table t\n");
	for (int i = 1; i <= 20; i++) {
		sch_buf_addf(&a, "  line %d\n", i);
		sch_buf_addf(&b, "  line %d%s\n", i, i == 2 || i == 18 ? "!" : "");
	}
	cr_assert_eq(sch_statediff(&out, NULL, a.ptr, a.len, b.ptr, b.len, 3), 1);
	cr_assert(strstr(out.ptr, "@@ -1,6 +1,6 @@\n"), "%s", out.ptr);
	cr_assert(strstr(out.ptr, "@@ -16,6 +16,6 @@\n"), "%s", out.ptr);
	sch_buf_release(&a);
	sch_buf_release(&b);
	sch_buf_release(&out);
}

Test(statediff, column_order_alone_is_told_apart)
{
	const char *a = "table public.t\n  column id integer\n  column b int\n"
			"  column c int\n  constraint k PRIMARY KEY (id)\n"
			"view public.v\n  select 1\n";
	const char *b = "table public.t\n  column id integer\n  column c int\n"
			"  column b int\n  constraint k PRIMARY KEY (id)\n"
			"view public.v\n  select 1\n";
	const char *c = "table public.t\n  column id integer\n  column c text\n"
			"  column b int\n  constraint k PRIMARY KEY (id)\n"
			"view public.v\n  select 1\n";
	const char *d = "table public.t\n  column id integer\n  column c int\n"
			"  column b int\n  constraint k PRIMARY KEY (id)\n";

	cr_assert(sch_statediff_column_order_only(a, strlen(a), a, strlen(a)));
	cr_assert(sch_statediff_column_order_only(a, strlen(a), b, strlen(b)));
	cr_assert_not(sch_statediff_column_order_only(a, strlen(a), c,
						      strlen(c)));
	cr_assert_not(sch_statediff_column_order_only(a, strlen(a), d,
						      strlen(d)));
}

Test(statediff, column_orders_name_each_table_and_both_orders)
{
	const char *a = "table public.t\n  column id integer\n  column \"b c\" int\n"
			"  column c int\n"
			"table public.u\n  column x int\n"
			"table public.w\n  column p int\n  column q int\n";
	const char *b = "table public.t\n  column id integer\n  column c int\n"
			"  column \"b c\" int\n"
			"table public.u\n  column x int\n"
			"table public.w\n  column q int\n  column p int\n";
	struct sch_buf out = SCH_BUF_INIT;

	cr_assert_eq(sch_statediff_column_orders(&out, a, strlen(a), b,
						 strlen(b)), 2);
	cr_assert_str_eq(out.ptr, "table public.t (id, \"b c\", c -> id, c, "
				  "\"b c\"); table public.w (p, q -> q, p)");
	sch_buf_release(&out);
}

Test(statediff, clip_keeps_the_first_lines_and_counts_the_rest)
{
	struct sch_buf d = SCH_BUF_INIT;

	sch_buf_addstr(&d, "1\n2\n3\n4\n5\n");
	sch_statediff_clip(&d, 5);
	cr_assert_str_eq(d.ptr, "1\n2\n3\n4\n5\n");
	sch_statediff_clip(&d, 2);
	cr_assert_str_eq(d.ptr, "1\n2\n... (3 more lines)\n");
	sch_buf_reset(&d);
	sch_buf_addstr(&d, "1\n2\n");
	sch_statediff_clip(&d, 1);
	cr_assert_str_eq(d.ptr, "1\n... (1 more line)\n");
	sch_buf_release(&d);
}
