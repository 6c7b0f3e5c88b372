/* suggest.c - the nearest names to a mistyped one (suggest.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/suggest.h"

/* Longer words are compared by their first SCH_DIST_MAX bytes only: a
 * name that long is never a typo we can help with. */
#define SCH_DIST_MAX 64

size_t sch_edit_distance(const char *a, const char *b)
{
	size_t la = strnlen(a, SCH_DIST_MAX), lb = strnlen(b, SCH_DIST_MAX);
	/* Three rows of the optimal-string-alignment table. */
	size_t r0[SCH_DIST_MAX + 1], r1[SCH_DIST_MAX + 1], r2[SCH_DIST_MAX + 1];
	size_t *pp = r0, *p = r1, *c = r2;

	for (size_t j = 0; j <= lb; j++)
		p[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;
		c[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = p[j] + 1;
			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (p[j - 1] + cost < v)
				v = p[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
		t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb];
}

void sch_suggest_init(struct sch_suggest *s, const char *word)
{
	memset(s, 0, sizeof(*s));
	s->word = xstrdup(word ? word : "");
	s->best = SIZE_MAX;
}

static size_t allowed(size_t len)
{
	return len <= 4 ? 1 : len <= 8 ? 2 : 3;
}

void sch_suggest_add(struct sch_suggest *s, const char *cand)
{
	size_t wl = strlen(s->word), d;

	if (!cand || !*cand || !strcmp(cand, s->word) || !wl)
		return;
	d = sch_edit_distance(s->word, cand);
	/* A prefix ("stat" for "status") is as near as one typo. */
	if (wl >= 3 && !strncmp(cand, s->word, wl) && d > 1)
		d = 1;
	if (d > allowed(wl) || d > s->best)
		return;
	if (d < s->best) {
		for (size_t i = 0; i < s->n; i++)
			free(s->names[i]);
		s->n = 0;
		s->best = d;
	}
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], cand))
			return;
	if (s->n < SCH_SUGGEST_MAX)
		s->names[s->n++] = xstrdup(cand);
}

size_t sch_suggest_text(struct sch_buf *out, const struct sch_suggest *s)
{
	if (!s->n)
		return 0;
	sch_buf_addstr(out, " (did you mean ");
	for (size_t i = 0; i < s->n; i++)
		sch_buf_addf(out, "%s'%s'",
			     !i ? "" : i + 1 == s->n ? " or " : ", ",
			     s->names[i]);
	sch_buf_addstr(out, "?)");
	return s->n;
}

void sch_suggest_release(struct sch_suggest *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->word);
	memset(s, 0, sizeof(*s));
}
