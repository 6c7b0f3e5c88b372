/*
 * suggest.h - "did you mean ...?" for a mistyped name (a command, an
 * option, an environment, a ref), as git does.
 *
 *   struct sch_suggest s;
 *   sch_suggest_init(&s, word);
 *   for each candidate: sch_suggest_add(&s, name);
 *   sch_suggest_text(&buf, &s);  // " (did you mean 'status'?)" or ""
 *   sch_suggest_release(&s);
 *
 * A candidate is near when its edit distance (insertions, deletions,
 * substitutions and swaps of two neighbours, each counting one) is at
 * most 1 for words of up to 4 characters, 2 up to 8 and 3 beyond, or
 * when the word is a prefix of it of at least 3 characters. Only the
 * nearest candidates are kept, at most SCH_SUGGEST_MAX of them.
 */
#ifndef SCH_SUGGEST_H
#define SCH_SUGGEST_H

#include <stddef.h>

#include "schema/buf.h"

#define SCH_SUGGEST_MAX 4

struct sch_suggest {
	char *word;
	size_t best; /* distance of the kept candidates; SIZE_MAX: none */
	char *names[SCH_SUGGEST_MAX];
	size_t n;
};

/* Distance between a and b as described above (case-sensitive). */
size_t sch_edit_distance(const char *a, const char *b);

void sch_suggest_init(struct sch_suggest *s, const char *word);
/* Considers cand (copied); the word itself and duplicates are ignored. */
void sch_suggest_add(struct sch_suggest *s, const char *cand);
/* Appends " (did you mean 'a'?)" or " (did you mean 'a' or 'b'?)" to
 * out, nothing when no candidate is near. Returns how many were named. */
size_t sch_suggest_text(struct sch_buf *out, const struct sch_suggest *s);
void sch_suggest_release(struct sch_suggest *s);

#endif
