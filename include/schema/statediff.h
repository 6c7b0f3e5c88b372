/*
 * statediff.h - object-by-object differences between two state texts
 * (catalog.h describes the text: entries that start with a header line in
 * column 0, followed by indented lines).
 *
 * Entries are matched by their header line. An entry only in the first
 * text was removed, only in the second added, in both with other lines
 * changed. The unified text looks like `diff -u` run on each changed
 * entry alone:
 *
 *   --- a/table public.users
 *   +++ b/table public.users
 *   @@ -1,3 +1,4 @@
 *    table public.users
 *     column id bigint not null
 *   +  column email text
 *
 * with `--- /dev/null` for an added and `+++ /dev/null` for a removed
 * entry; line numbers count within the entry, its header being line 1.
 */
#ifndef SCH_STATEDIFF_H
#define SCH_STATEDIFF_H

#include <stddef.h>

#include "schema/buf.h"
#include "schema/worktree.h"

/*
 * Compares state texts a and b. out (may be NULL) receives the unified
 * text with `context` lines around each change; changed (may be NULL)
 * the header lines of the entries that differ, in header order (the
 * caller releases it with sch_strlist_release()). Returns the number of
 * entries that differ; 0 when the texts hold the same entries.
 */
size_t sch_statediff(struct sch_buf *out, struct sch_strlist *changed,
		     const char *a, size_t alen, const char *b, size_t blen,
		     int context);

/*
 * 1 when a and b hold the same entries and differ at most in the order of
 * the `column` lines within an entry (two branches that each add a column
 * to one table, merged in either order), else 0.
 */
int sch_statediff_column_order_only(const char *a, size_t alen, const char *b,
				    size_t blen);

/*
 * For texts that sch_statediff_column_order_only() finds equal but for the
 * order of columns: appends, for each entry that differs, its header and
 * both orders of its column names, "table public.users (id, email, name
 * -> id, name, email)", entries separated by "; ". Returns how many.
 */
size_t sch_statediff_column_orders(struct sch_buf *out, const char *a,
				   size_t alen, const char *b, size_t blen);

/* Cuts a unified text after max_lines lines, ending it with a line
 * "... (N more lines)" when anything was cut. */
void sch_statediff_clip(struct sch_buf *diff, size_t max_lines);

#endif
