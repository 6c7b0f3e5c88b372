/* test_suggest.c - the nearest names to a mistyped one. */
#include <criterion/criterion.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/suggest.h"

TestSuite(suggest);

static char *near(const char *word, const char *const *cands)
{
	struct sch_suggest s;
	struct sch_buf b = SCH_BUF_INIT;

	sch_suggest_init(&s, word);
	for (size_t i = 0; cands[i]; i++)
		sch_suggest_add(&s, cands[i]);
	sch_suggest_text(&b, &s);
	sch_suggest_release(&s);
	return sch_buf_detach(&b, NULL);
}

static const char *const envs[] = { "development", "staging", "production",
				    NULL };
static const char *const cmds[] = { "status", "state", "stamp", "switch",
				    "checkout", "commit", NULL };

Test(suggest, distance_counts_edits_and_swaps)
{
	cr_assert_eq(sch_edit_distance("", ""), 0);
	cr_assert_eq(sch_edit_distance("abc", ""), 3);
	cr_assert_eq(sch_edit_distance("status", "stauts"), 1);
	cr_assert_eq(sch_edit_distance("production", "prodution"), 1);
	cr_assert_eq(sch_edit_distance("kitten", "sitting"), 3);
}

Test(suggest, a_typo_names_the_nearest)
{
	char *t = near("prodution", envs);
	cr_assert_str_eq(t, " (did you mean 'production'?)");
	free(t);
	t = near("stauts", cmds);
	cr_assert_str_eq(t, " (did you mean 'status'?)");
	free(t);
}

Test(suggest, ties_are_all_named)
{
	char *t = near("stat", cmds);
	cr_assert_str_eq(t, " (did you mean 'status' or 'state'?)");
	free(t);
}

Test(suggest, a_prefix_is_near)
{
	char *t = near("dev", envs);
	cr_assert_str_eq(t, " (did you mean 'development'?)");
	free(t);
}

Test(suggest, nothing_near_says_nothing)
{
	char *t = near("frobnicate", cmds);
	cr_assert_str_eq(t, "");
	free(t);
	t = near("", cmds);
	cr_assert_str_eq(t, "");
	free(t);
}

Test(suggest, long_words_do_not_overflow)
{
	char w[300];
	memset(w, 'a', sizeof(w) - 1);
	w[sizeof(w) - 1] = '\0';
	cr_assert_eq(sch_edit_distance(w, w), 0);
	cr_assert_eq(sch_edit_distance(w, "a"), 63);
}
