/* statediff.c - unified differences between state texts, entry by
 * entry (see statediff.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/statediff.h"

/* Past this many cells the line table is not built: a changed entry
 * that large is shown as removed and added whole. */
#define LCS_MAX_CELLS ((size_t)16 << 20)

struct span {
	const char *p;
	size_t len;
};

struct entry {
	struct span head;	/* the header line, without its newline */
	struct span all;	/* header and body, newlines included */
};

struct entries {
	struct entry *v;
	size_t n;
};

static int span_cmp(const struct span *x, const struct span *y)
{
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int entry_cmp(const void *a, const void *b)
{
	return span_cmp(&((const struct entry *)a)->head,
			&((const struct entry *)b)->head);
}

/* Splits a state text into its entries, sorted by header. Lines before
 * the first header (none in a well-formed text) form an entry whose
 * header is empty. */
static void split_entries(struct entries *out, const char *s, size_t len)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) + 1 : len;
		int header = s[i] != ' ' && s[i] != '\t';
		if (header || !out->n) {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 64;
				out->v = xrealloc(out->v, cap * sizeof(*out->v));
			}
			out->v[out->n].head.p = s + i;
			out->v[out->n].head.len = header ? end - i - (nl != NULL)
							 : 0;
			out->v[out->n].all.p = s + i;
			out->v[out->n].all.len = 0;
			out->n++;
		}
		out->v[out->n - 1].all.len = (size_t)(s + end -
						      out->v[out->n - 1].all.p);
		i = end;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
}

static size_t split_lines(struct span **out, struct span all)
{
	size_t n = 0, cap = 0;

	*out = NULL;
	for (size_t i = 0; i < all.len;) {
		const char *nl = memchr(all.p + i, '\n', all.len - i);
		size_t end = nl ? (size_t)(nl - all.p) : all.len;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[n].p = all.p + i;
		(*out)[n].len = end - i;
		n++;
		i = end + 1;
	}
	return n;
}

struct op {
	char c;		/* ' ', '-', '+' */
	size_t ai, bi;	/* positions in a and b when the op happens */
};

/* The edit script from a to b, deletions before insertions. */
static size_t edit_script(struct op **out, const struct span *a, size_t n,
			  const struct span *b, size_t m)
{
	struct op *ops = xmalloc((n + m + 1) * sizeof(*ops));
	uint32_t *L = NULL;
	size_t k = 0, i = 0, j = 0, w = m + 1;

	if ((n + 1) * (m + 1) <= LCS_MAX_CELLS) {
		L = xcalloc((n + 1) * (m + 1), sizeof(*L));
		for (size_t x = n; x-- > 0;)
			for (size_t y = m; y-- > 0;)
				L[x * w + y] = !span_cmp(&a[x], &b[y])
					? L[(x + 1) * w + y + 1] + 1
					: L[(x + 1) * w + y] > L[x * w + y + 1]
					? L[(x + 1) * w + y] : L[x * w + y + 1];
	}
	while (i < n || j < m) {
		struct op *o = &ops[k++];
		o->ai = i;
		o->bi = j;
		if (L && i < n && j < m && !span_cmp(&a[i], &b[j])) {
			o->c = ' ';
			i++;
			j++;
		} else if (i < n && (j == m || !L ||
				     L[(i + 1) * w + j] >= L[i * w + j + 1])) {
			o->c = '-';
			i++;
		} else {
			o->c = '+';
			j++;
		}
	}
	free(L);
	*out = ops;
	return k;
}

static void add_range(struct sch_buf *out, size_t start, size_t count)
{
	/* diff -u: an empty range names the line before it */
	sch_buf_addf(out, "%zu", count ? start + 1 : start);
	if (count != 1)
		sch_buf_addf(out, ",%zu", count);
}

static void hunks(struct sch_buf *out, const struct op *ops, size_t nops,
		  const struct span *a, const struct span *b, size_t ctx)
{
	size_t k = 0;

	for (;;) {
		size_t first, last, start, end, ac = 0, bc = 0;
		while (k < nops && ops[k].c == ' ')
			k++;
		if (k == nops)
			return;
		first = last = k;
		/* extend while the next change is close enough to share
		 * context */
		for (size_t q = k + 1; q < nops; q++) {
			if (ops[q].c == ' ')
				continue;
			if (q - last - 1 > 2 * ctx)
				break;
			last = q;
		}
		start = first > ctx ? first - ctx : 0;
		end = last + ctx + 1 < nops ? last + ctx + 1 : nops;
		for (size_t q = start; q < end; q++) {
			ac += ops[q].c != '+';
			bc += ops[q].c != '-';
		}
		sch_buf_addstr(out, "@@ -");
		add_range(out, ops[start].ai, ac);
		sch_buf_addstr(out, " +");
		add_range(out, ops[start].bi, bc);
		sch_buf_addstr(out, " @@\n");
		for (size_t q = start; q < end; q++) {
			const struct span *l = ops[q].c == '+' ? &b[ops[q].bi]
							       : &a[ops[q].ai];
			sch_buf_addch(out, ops[q].c);
			sch_buf_add(out, l->p, l->len);
			sch_buf_addch(out, '\n');
		}
		k = end;
	}
}

static void entry_diff(struct sch_buf *out, const struct entry *x,
		       const struct entry *y, int context)
{
	struct span *a = NULL, *b = NULL;
	struct op *ops = NULL;
	size_t n = x ? split_lines(&a, x->all) : 0;
	size_t m = y ? split_lines(&b, y->all) : 0;
	size_t nops = edit_script(&ops, a, n, b, m);
	const struct entry *e = x ? x : y;

	if (x)
		sch_buf_addf(out, "--- a/%.*s\n", (int)e->head.len, e->head.p);
	else
		sch_buf_addstr(out, "--- /dev/null\n");
	if (y)
		sch_buf_addf(out, "+++ b/%.*s\n", (int)e->head.len, e->head.p);
	else
		sch_buf_addstr(out, "+++ /dev/null\n");
	hunks(out, ops, nops, a, b, context < 0 ? 0 : (size_t)context);
	free(a);
	free(b);
	free(ops);
}

static void note(struct sch_strlist *l, const struct entry *e)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrndup(e->head.p, e->head.len);
}

size_t sch_statediff(struct sch_buf *out, struct sch_strlist *changed,
		     const char *a, size_t alen, const char *b, size_t blen,
		     int context)
{
	struct entries ea, eb;
	size_t i = 0, j = 0, n = 0;

	split_entries(&ea, a, alen);
	split_entries(&eb, b, blen);
	while (i < ea.n || j < eb.n) {
		const struct entry *x = i < ea.n ? &ea.v[i] : NULL;
		const struct entry *y = j < eb.n ? &eb.v[j] : NULL;
		int c = !x ? 1 : !y ? -1 : span_cmp(&x->head, &y->head);
		if (c < 0)
			y = NULL, i++;
		else if (c > 0)
			x = NULL, j++;
		else {
			i++, j++;
			if (!span_cmp(&x->all, &y->all))
				continue;
		}
		n++;
		if (changed)
			note(changed, x ? x : y);
		if (out)
			entry_diff(out, x, y, context);
	}
	free(ea.v);
	free(eb.v);
	return n;
}

static int line_cmp(const void *a, const void *b)
{
	return span_cmp(a, b);
}

/* 1 when a line (without its indentation) starts a column. */
static int is_column(const struct span *l)
{
	size_t i = 0;

	while (i < l->len && (l->p[i] == ' ' || l->p[i] == '\t'))
		i++;
	return i > 0 && l->len - i >= 7 && !memcmp(l->p + i, "column ", 7);
}

/* The lines of an entry with its column lines in sorted order. */
static size_t entry_lines_sorted(struct span **out, struct span all)
{
	size_t n = split_lines(out, all), k = 0;
	struct span *cols = xmalloc((n + 1) * sizeof(*cols));

	for (size_t i = 0; i < n; i++)
		if (is_column(&(*out)[i]))
			cols[k++] = (*out)[i];
	qsort(cols, k, sizeof(*cols), line_cmp);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (is_column(&(*out)[i]))
			(*out)[i] = cols[k++];
	free(cols);
	return n;
}

int sch_statediff_column_order_only(const char *a, size_t alen, const char *b,
				    size_t blen)
{
	struct entries ea, eb;
	int same = 1;

	split_entries(&ea, a, alen);
	split_entries(&eb, b, blen);
	if (ea.n != eb.n)
		same = 0;
	for (size_t i = 0; same && i < ea.n; i++) {
		struct span *la, *lb;
		size_t na, nb;
		if (span_cmp(&ea.v[i].head, &eb.v[i].head)) {
			same = 0;
			break;
		}
		if (!span_cmp(&ea.v[i].all, &eb.v[i].all))
			continue;
		na = entry_lines_sorted(&la, ea.v[i].all);
		nb = entry_lines_sorted(&lb, eb.v[i].all);
		same = na == nb;
		for (size_t k = 0; same && k < na; k++)
			same = !span_cmp(&la[k], &lb[k]);
		free(la);
		free(lb);
	}
	free(ea.v);
	free(eb.v);
	return same;
}

/* The name of the column a column line starts (quote_ident's output:
 * a bare word, or a double-quoted one with "" inside). */
static struct span column_name(const struct span *l)
{
	size_t i = 0, start;
	struct span r;

	while (i < l->len && (l->p[i] == ' ' || l->p[i] == '\t'))
		i++;
	i += 7; /* "column " */
	start = i;
	if (i < l->len && l->p[i] == '"') {
		for (i++; i < l->len; i++)
			if (l->p[i] == '"') {
				if (i + 1 < l->len && l->p[i + 1] == '"')
					i++;
				else
					break;
			}
		if (i < l->len)
			i++;
	} else {
		while (i < l->len && l->p[i] != ' ')
			i++;
	}
	r.p = l->p + start;
	r.len = i - start;
	return r;
}

static void add_columns(struct sch_buf *out, struct span all)
{
	struct span *l;
	size_t n = split_lines(&l, all), k = 0;

	for (size_t i = 0; i < n; i++)
		if (is_column(&l[i])) {
			struct span c = column_name(&l[i]);
			sch_buf_addf(out, "%s%.*s", k++ ? ", " : "", (int)c.len,
				     c.p);
		}
	free(l);
}

size_t sch_statediff_column_orders(struct sch_buf *out, const char *a,
				   size_t alen, const char *b, size_t blen)
{
	struct entries ea, eb;
	size_t i = 0, j = 0, n = 0;

	split_entries(&ea, a, alen);
	split_entries(&eb, b, blen);
	while (i < ea.n && j < eb.n) {
		const struct entry *x = &ea.v[i], *y = &eb.v[j];
		int c = span_cmp(&x->head, &y->head);
		if (c < 0) {
			i++;
			continue;
		}
		if (c > 0) {
			j++;
			continue;
		}
		i++, j++;
		if (!span_cmp(&x->all, &y->all))
			continue;
		if (n++)
			sch_buf_addstr(out, "; ");
		sch_buf_addf(out, "%.*s (", (int)x->head.len, x->head.p);
		add_columns(out, x->all);
		sch_buf_addstr(out, " -> ");
		add_columns(out, y->all);
		sch_buf_addch(out, ')');
	}
	free(ea.v);
	free(eb.v);
	return n;
}

void sch_statediff_clip(struct sch_buf *diff, size_t max_lines)
{
	size_t lines = 0, at = 0, more = 0;

	for (size_t i = 0; i < diff->len; i++)
		if (diff->ptr[i] == '\n' && ++lines == max_lines)
			at = i + 1;
	if (lines <= max_lines)
		return;
	more = lines - max_lines;
	sch_buf_truncate(diff, at);
	sch_buf_addf(diff, "... (%zu more line%s)\n", more,
		     more == 1 ? "" : "s");
}
