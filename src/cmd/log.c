/* log.c - revision history: git-like full, --oneline, --graph, --json
 * (alias: history). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/refs.h"
#include "schema/revspec.h"
#include "schema/sign.h"
#include "schema/ui.h"

struct lanes {
	uint32_t *v;
	size_t n, cap;
	struct sch_buf row;
};

static void lanes_insert(struct lanes *l, size_t at, uint32_t x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(uint32_t));
	}
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(uint32_t));
	l->v[at] = x;
	l->n++;
}

static void lanes_remove(struct lanes *l, size_t at)
{
	memmove(l->v + at, l->v + at + 1, (l->n - at - 1) * sizeof(uint32_t));
	l->n--;
}

/*
 * Draws the moves of lanes from positions pos[i] to target[i], one column
 * a row, with '/' and '\' like git.
 */
static void draw_moves(FILE *f, long *pos, const long *target, size_t n)
{
	struct sch_buf row = SCH_BUF_INIT;

	for (;;) {
		int moving = 0;
		long width = 0;
		for (size_t i = 0; i < n; i++) {
			if (pos[i] != target[i])
				moving = 1;
			if (pos[i] > width)
				width = pos[i];
			if (target[i] > width)
				width = target[i];
		}
		if (!moving)
			break;
		sch_buf_reset(&row);
		for (long k = 0; k < 2 * width + 2; k++)
			sch_buf_addch(&row, ' ');
		for (size_t i = 0; i < n; i++) {
			if (pos[i] < target[i]) {
				row.ptr[2 * pos[i] + 1] = '\\';
				pos[i]++;
			} else if (pos[i] > target[i]) {
				row.ptr[2 * pos[i] - 1] = '/';
				pos[i]--;
			} else if (row.ptr[2 * pos[i]] == ' ') {
				row.ptr[2 * pos[i]] = '|';
			}
		}
		while (row.len && row.ptr[row.len - 1] == ' ')
			sch_buf_truncate(&row, row.len - 1);
		fprintf(f, "%s\n", row.ptr);
	}
	sch_buf_release(&row);
}

/* Before drawing commit c: merges every lane waiting for c into the first
 * one; returns the commit's column. */
static size_t graph_pre(FILE *f, struct lanes *l, uint32_t c)
{
	size_t col = l->n, n = l->n;
	long *pos, *target;
	int extra = 0;

	for (size_t i = 0; i < n; i++)
		if (l->v[i] == c) {
			if (col == n)
				col = i;
			else
				extra = 1;
		}
	if (col == n) {
		lanes_insert(l, n, c);
		return col;
	}
	if (!extra)
		return col;
	pos = xmalloc(n * sizeof(long));
	target = xmalloc(n * sizeof(long));
	for (size_t i = 0, shift = 0; i < n; i++) {
		pos[i] = (long)i;
		if (l->v[i] == c && i != col) {
			target[i] = (long)col;
			shift++;
		} else {
			target[i] = (long)(i - shift);
		}
	}
	draw_moves(f, pos, target, n);
	for (size_t i = n; i-- > 0;)
		if (l->v[i] == c && i != col)
			lanes_remove(l, i);
	free(pos);
	free(target);
	return col;
}

/* After drawing commit c at col: its lane continues with its parents. */
static void graph_post(FILE *f, struct lanes *l, size_t col,
		       const uint32_t *parents, size_t np)
{
	size_t n = l->n;
	long *pos = xmalloc((n + np + 1) * sizeof(long));
	long *target = xmalloc((n + np + 1) * sizeof(long));
	size_t m = 0;

	if (np == 0) {
		/* The lane ends; lanes to the right move left. */
		for (size_t i = 0; i < n; i++) {
			if (i == col)
				continue;
			pos[m] = (long)i;
			target[m++] = (long)(i > col ? i - 1 : i);
		}
		lanes_remove(l, col);
	} else {
		for (size_t i = 0; i < n; i++) {
			pos[m] = (long)i;
			target[m++] = (long)(i > col ? i + np - 1 : i);
		}
		for (size_t k = 1; k < np; k++) {
			pos[m] = (long)col;
			target[m++] = (long)(col + k);
		}
		l->v[col] = parents[0];
		for (size_t k = 1; k < np; k++)
			lanes_insert(l, col + k, parents[k]);
	}
	draw_moves(f, pos, target, m);
	free(pos);
	free(target);
}

static void graph_prefix(struct sch_buf *out, const struct lanes *l,
			 size_t col)
{
	sch_buf_reset(out);
	for (size_t i = 0; i < l->n; i++)
		sch_buf_addstr(out, i == col ? "* " : "| ");
}

static void format_date(char *out, size_t cap, int64_t secs, const char *tz)
{
	int sign = tz[0] == '-' ? -1 : 1;
	int hh = (tz[1] - '0') * 10 + (tz[2] - '0');
	int mm = (tz[3] - '0') * 10 + (tz[4] - '0');
	time_t t = (time_t)(secs + sign * (hh * 3600 + mm * 60));
	struct tm tm;
	char buf[64];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(out, cap, "%s %s", buf, tz);
}

/* Node of id in g, loaded without links when it is not there yet. */
static int node_of(uint32_t *out, struct sch_graph *g, const struct sch_id *id)
{
	long k = sch_graph_find(g, id);
	struct sch_rev r;
	int rc;

	if (k >= 0) {
		*out = (uint32_t)k;
		return 0;
	}
	rc = sch_rev_load(&r, g->txn, id);
	if (rc)
		return rc;
	rc = sch_graph_add_rev(out, g, id, &r);
	sch_rev_release(&r);
	return rc;
}

struct frontier {
	uint32_t *v;
	size_t n, cap;
	uint8_t *pushed; /* by node index */
	size_t npushed;
};

/*
 * Puts node idx in the frontier, once, after loading its parents: each
 * must be strictly older than it, or popping the newest would not be a
 * topological order (returns 1 then).
 */
static int push(struct frontier *f, struct sch_graph *g, uint32_t idx)
{
	int rc = 0;

	for (size_t k = 0; k < g->nodes[idx].rev.nparents && !rc; k++) {
		uint32_t p;
		rc = node_of(&p, g, &g->nodes[idx].rev.parents[k]);
		if (!rc && g->nodes[p].rev.time >= g->nodes[idx].rev.time)
			rc = 1;
	}
	if (rc)
		return rc;
	if (f->npushed < g->n) {
		f->pushed = xrealloc(f->pushed, g->n + 16);
		memset(f->pushed + f->npushed, 0, g->n + 16 - f->npushed);
		f->npushed = g->n + 16;
	}
	if (f->pushed[idx])
		return 0;
	f->pushed[idx] = 1;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->v = xrealloc(f->v, f->cap * sizeof(uint32_t));
	}
	f->v[f->n++] = idx;
	return 0;
}

/*
 * The first `limit` revisions of the history from `starts`, newest first,
 * reading only those and their parents instead of the whole history
 * (log -n N). Nodes go into g without links; *out lists them in order.
 * Popping the newest of the frontier is the full order only while every
 * parent is strictly older than its child: when one is not, returns 1
 * so that the caller orders the whole history instead.
 */
static int lazy_walk(struct sch_graph *g, const struct sch_idlist *starts,
		     long limit, uint32_t **out, size_t *n)
{
	uint32_t *order = xmalloc(((size_t)limit + 1) * sizeof(uint32_t));
	struct frontier f = { 0 };
	int rc = 0;

	*n = 0;
	for (size_t i = 0; i < starts->n && !rc; i++) {
		uint32_t idx;
		rc = node_of(&idx, g, &starts->v[i]);
		if (!rc)
			rc = push(&f, g, idx);
	}
	while (!rc && f.n && *n < (size_t)limit) {
		size_t best = 0;
		uint32_t cur;
		for (size_t i = 1; i < f.n; i++) {
			const struct sch_gnode *a = &g->nodes[f.v[i]];
			const struct sch_gnode *b = &g->nodes[f.v[best]];
			if (a->rev.time > b->rev.time ||
			    (a->rev.time == b->rev.time &&
			     sch_id_cmp(&a->id, &b->id) > 0))
				best = i;
		}
		cur = f.v[best];
		f.v[best] = f.v[--f.n];
		order[(*n)++] = cur;
		for (size_t k = 0; k < g->nodes[cur].rev.nparents && !rc; k++) {
			uint32_t p;
			rc = node_of(&p, g, &g->nodes[cur].rev.parents[k]);
			if (!rc)
				rc = push(&f, g, p);
		}
	}
	free(f.v);
	free(f.pushed);
	*out = order;
	return rc;
}

SCH_CMD(log)
{
	static const struct option opts[] = {
		{ "oneline", no_argument, NULL, 'o' },
		{ "graph", no_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "full", no_argument, NULL, 'F' },
		{ "max-count", required_argument, NULL, 'n' },
		{ "show-signature", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct sch_trusted tr = { 0 };
	int showsig = 0;
	int oneline = 0, graph = 0, json = 0, all = 0, full = 0, c, rc = 0;
	long limit = -1;
	struct sch_idlist inc = { 0 }, exc = { 0 };
	struct sch_graph g;
	uint32_t *idx = NULL, *order = NULL;
	uint8_t *subset = NULL, *hide = NULL;
	size_t n = 0;
	struct lanes lanes = { 0 };
	struct sch_buf deco = SCH_BUF_INIT, subj = SCH_BUF_INIT,
		       prefix = SCH_BUF_INIT;
	json_t *arr = NULL;
	FILE *f = stdout;
	const char *yellow = sch_ui_c(stdout, "\033[33m");
	const char *reset = sch_ui_c(stdout, "\033[0m");

	sch_graph_init(&g, ctx->txn);
	optind = 0;
	while ((c = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': oneline = 1; break;
		case 'g': graph = 1; break;
		case 'j': json = 1; break;
		case 'a': all = 1; break;
		case 'F': full = 1; break;
		case 'S': showsig = 1; break;
		case 'n':
			rc = sch_cmd_count(&limit, optarg, "-n");
			if (rc)
				goto out;
			break;
		default:
			rc = sch_cmd_optfail(c, argv, ctx->verb, opts);
			goto out;
		}
	}
	for (int i = optind; i < argc; i++) {
		const char *dots = strstr(argv[i], "..");
		if (dots) {
			char *a = xstrndup(argv[i], (size_t)(dots - argv[i]));
			const char *b = dots + 2;
			rc = sch_revspec_resolve(&exc, ctx->txn, *a ? a : "head",
						 NULL, NULL);
			free(a);
			if (!rc)
				rc = sch_revspec_resolve(&inc, ctx->txn,
							 *b ? b : "head", NULL,
							 NULL);
		} else if (argv[i][0] == '^' && argv[i][1]) {
			rc = sch_revspec_resolve(&exc, ctx->txn, argv[i] + 1,
						 NULL, NULL);
		} else {
			rc = sch_revspec_resolve(&inc, ctx->txn, argv[i], NULL,
						 NULL);
		}
		if (rc)
			goto out;
	}
	if (showsig || json) {
		rc = sch_trusted_load(&tr, ctx->repo);
		if (rc)
			goto out;
	}
	if (all) {
		struct sch_id *h = NULL;
		size_t nh = 0;
		rc = sch_graph_heads(ctx->txn, &h, &nh);
		for (size_t i = 0; i < nh; i++)
			sch_idlist_add(&inc, &h[i]);
		free(h);
		if (rc)
			goto out;
	} else if (optind >= argc) {
		rc = sch_revspec_resolve(&inc, ctx->txn, "head", NULL, NULL);
		if (rc == SCH_ENOTFOUND && inc.n == 0) {
			/* An empty branch has no history yet: say so. */
			fprintf(stderr, "schema: %s\n", sch_error_msg());
			rc = 0;
			if (json)
				printf("[]\n");
			goto out;
		}
		if (rc)
			goto out;
	}
	if (limit >= 0 && limit <= 10000 && !graph && !exc.n) {
		/* log -n N reads N revisions and their parents, not all. */
		rc = lazy_walk(&g, &inc, limit, &order, &n);
		if (!rc) {
			subset = xcalloc(g.n + 1, 1);
			goto print;
		}
		if (rc < 0)
			goto out;
		/* times that do not fall along the edges: order it all */
		free(order);
		order = NULL;
		n = 0;
		sch_graph_release(&g);
		sch_graph_init(&g, ctx->txn);
		rc = 0;
	}
	/* One sequential pass reads a long history faster than following
	 * parents one lookup at a time. */
	rc = sch_graph_add_all(&g);
	if (rc)
		goto out;
	idx = xmalloc((inc.n + exc.n + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < inc.n + exc.n; i++) {
		rc = sch_graph_add(&idx[i], &g, i < inc.n ? &inc.v[i]
							  : &exc.v[i - inc.n]);
		if (rc)
			goto out;
	}
	subset = sch_graph_ancestors(&g, idx, inc.n, 0);
	if (exc.n) {
		hide = sch_graph_ancestors(&g, idx + inc.n, exc.n, 0);
		for (size_t i = 0; i < g.n; i++)
			if (hide[i])
				subset[i] = 0;
	}
	n = sch_graph_topo(&g, subset, 1, &order);
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
print:
	if (json)
		arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct sch_gnode *nd = &g.nodes[order[i]];
		char hex[SCH_HEX_LEN + 1];
		size_t col = 0;
		uint32_t pv[SCH_REV_MAX_PARENTS];
		size_t np = 0;

		sch_cmd_decoration(&deco, ctx->txn, &nd->id);
		if (json) {
			json_t *o = sch_rev_json(&nd->id, &nd->rev,
						     deco.len ? deco.ptr : NULL);
			json_array_append_new(arr, o);
			rc = sch_cmd_sigs_json(o, ctx->txn, &tr, &nd->id);
			if (rc)
				goto out;
			continue;
		}
		if (full || !oneline)
			sch_id_hex(hex, &nd->id);
		else
			sch_id_short(hex, &nd->id);
		sch_rev_subject(&subj, &nd->rev);
		for (size_t k = 0; graph && k < nd->rev.nparents; k++)
			if (subset[nd->parents[k]])
				pv[np++] = nd->parents[k];
		if (graph) {
			col = graph_pre(f, &lanes, order[i]);
			graph_prefix(&prefix, &lanes, col);
		}
		if (oneline) {
			fprintf(f, "%s%s%s%s", prefix.ptr, yellow, hex, reset);
			if (deco.len)
				fprintf(f, " %s(%s)%s", yellow, deco.ptr, reset);
			fprintf(f, " %s\n", subj.ptr);
			if (showsig) {
				rc = sch_cmd_print_sigs(prefix.ptr, ctx->txn, &tr,
							&nd->id, NULL);
				if (rc < 0)
					goto out;
				rc = 0;
			}
		} else {
			char date[96];
			const char *msg = nd->rev.message, *nl;
			fprintf(f, "%s%srevision %s%s", prefix.ptr, yellow, hex,
				reset);
			if (deco.len)
				fprintf(f, " %s(%s)%s", yellow, deco.ptr, reset);
			fputc('\n', f);
			if (graph) /* continuation lines: '*' becomes '|' */
				prefix.ptr[2 * col] = '|';
			if (showsig) {
				rc = sch_cmd_print_sigs(prefix.ptr, ctx->txn, &tr,
							&nd->id, NULL);
				if (rc < 0)
					goto out;
				rc = 0;
			}
			if (nd->rev.nparents > 1) {
				fprintf(f, "%sMerge:", prefix.ptr);
				for (size_t k = 0; k < nd->rev.nparents; k++) {
					char sh[SCH_SHORT_LEN + 1];
					sch_id_short(sh, &nd->rev.parents[k]);
					fprintf(f, " %s", sh);
				}
				fputc('\n', f);
			}
			if (nd->rev.ndepends) {
				fprintf(f, "%sDepends:", prefix.ptr);
				for (size_t k = 0; k < nd->rev.ndepends; k++) {
					char sh[SCH_SHORT_LEN + 1];
					sch_id_short(sh, &nd->rev.depends[k]);
					fprintf(f, " %s", sh);
				}
				fputc('\n', f);
			}
			for (size_t k = 0; k < nd->rev.nsupersedes; k++) {
				char sh[SCH_SHORT_LEN + 1];
				struct sch_rev old;
				sch_id_short(sh, &nd->rev.supersedes[k]);
				fprintf(f, "%sSupersedes: %s", prefix.ptr, sh);
				/* what it replaced, when still stored */
				if (sch_rev_load(&old, ctx->txn,
						 &nd->rev.supersedes[k]) == 0) {
					sch_rev_subject(&subj, &old);
					fprintf(f, " %s", subj.ptr);
					sch_rev_release(&old);
				}
				fputc('\n', f);
			}
			sch_rev_subject(&subj, &nd->rev);
			if (nd->rev.author) {
				format_date(date, sizeof(date), nd->rev.time,
					    nd->rev.tz);
				fprintf(f, "%sAuthor: %s\n%sDate:   %s\n",
					prefix.ptr, nd->rev.author, prefix.ptr,
					date);
			}
			fprintf(f, "%s\n", prefix.ptr);
			for (; *msg; msg = nl ? nl + 1 : msg + strlen(msg)) {
				nl = strchr(msg, '\n');
				fprintf(f, "%s    %.*s\n", prefix.ptr,
					(int)(nl ? nl - msg : (long)strlen(msg)),
					msg);
				if (!nl)
					break;
			}
			if (i + 1 < n)
				fprintf(f, "%s\n", graph ? prefix.ptr : "");
		}
		if (graph)
			graph_post(f, &lanes, col, pv, np);
	}
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
out:
	sch_trusted_release(&tr);
	if (arr)
		json_decref(arr);
	free(lanes.v);
	free(idx);
	free(order);
	free(subset);
	free(hide);
	sch_idlist_release(&inc);
	sch_idlist_release(&exc);
	sch_graph_release(&g);
	sch_buf_release(&deco);
	sch_buf_release(&subj);
	sch_buf_release(&prefix);
	return rc;
}
