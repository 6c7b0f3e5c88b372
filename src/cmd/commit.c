/* commit.c - store new or changed migrations/ directories as revisions and
 * advance the current branch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/hooks.h"
#include "schema/refs.h"
#include "schema/revspec.h"
#include "schema/sign.h"
#include "schema/ui.h"
#include "schema/worktree.h"

/* The directory name committed as `id`, from the worktree database. */
static char *recorded_name(struct sch_txn *t, const struct sch_id *id)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	char *name = NULL;
	int rc;

	if (sch_cursor_open(&c, t, SCH_DB_WORKTREE))
		return NULL;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl))
		if (vl == SCH_ID_LEN && !memcmp(v, id->b, SCH_ID_LEN)) {
			name = xstrndup(k, kl);
			break;
		}
	sch_cursor_close(c);
	return name;
}

/* Entries in an order where parents (within the worktree) come first. */
static size_t wt_order(const struct sch_wt *wt, size_t **out)
{
	size_t *order = xmalloc((wt->n + 1) * sizeof(size_t));
	uint8_t *state = xcalloc(wt->n + 1, 1);
	size_t *stack = xmalloc((wt->n + 1) * sizeof(size_t));
	size_t n = 0;

	for (size_t i = 0; i < wt->n; i++) {
		size_t depth = 0;
		if (state[i])
			continue;
		stack[depth++] = i;
		while (depth) {
			size_t cur = stack[depth - 1];
			const struct sch_wt_entry *e = &wt->e[cur];
			int pushed = 0;
			state[cur] = 1;
			for (size_t k = 0; k < e->rev.nparents + e->rev.ndepends &&
					   !pushed; k++) {
				const struct sch_id *p = k < e->rev.nparents
					? &e->rev.parents[k]
					: &e->rev.depends[k - e->rev.nparents];
				struct sch_wt_entry *pe = sch_wt_find_id(wt, p);
				size_t pi;
				if (!pe)
					continue;
				pi = (size_t)(pe - wt->e);
				if (!state[pi]) {
					stack[depth++] = pi;
					pushed = 1;
				}
			}
			if (pushed)
				continue;
			depth--;
			if (state[cur] != 2) {
				state[cur] = 2;
				order[n++] = cur;
			}
		}
	}
	free(stack);
	free(state);
	*out = order;
	return n;
}

/* 1 when `anc` is `id` or one of its ancestors. */
/*
 * 1 when `anc` is `id` or one of its ancestors. Walks parents from id,
 * through the worktree's revisions first and the store's after, and gives
 * up after a bounded number of revisions: a new tip builds on the branch
 * head a few steps back, and following a long history to its root to
 * prove the opposite would make commit grow with the history.
 */
#define DESCENDS_LIMIT 2000
static int descends(struct sch_txn *t, const struct sch_wt *wt,
		    const struct sch_id *id, const struct sch_id *anc)
{
	struct sch_idlist queue = { 0 };
	int hit = 0;

	sch_idlist_push(&queue, id);
	for (size_t i = 0; i < queue.n && i < DESCENDS_LIMIT && !hit; i++) {
		struct sch_id cur = queue.v[i];
		const struct sch_wt_entry *e;
		struct sch_rev r;
		const struct sch_rev *rp;
		if (!sch_id_cmp(&cur, anc)) {
			hit = 1;
			break;
		}
		e = sch_wt_find_id(wt, &cur);
		if (e) {
			rp = &e->rev;
		} else if (sch_rev_load(&r, t, &cur) == 0) {
			rp = &r;
		} else {
			continue;
		}
		for (size_t k = 0; k < rp->nparents; k++)
			if (queue.n < 4 * DESCENDS_LIMIT &&
			    !sch_idlist_has(&queue, &rp->parents[k]))
				sch_idlist_push(&queue, &rp->parents[k]);
		if (!e)
			sch_rev_release(&r);
	}
	sch_idlist_release(&queue);
	return hit;
}

int sch_commit_worktree(struct sch_ctx *ctx, int new_revision, int quiet,
			const struct sch_key *sign)
{
	struct sch_txn *t = ctx->txn;
	struct sch_wt wt;
	struct sch_buf branch = SCH_BUF_INIT, ref = SCH_BUF_INIT,
		       subj = SCH_BUF_INIT, tips = SCH_BUF_INIT;
	struct sch_id head, newhead, anchor;
	size_t *order = NULL, norder, nstored = 0, ncand = 0;
	char *head_dir = NULL;
	uint8_t *is_parent = NULL, *stored = NULL;
	int have_head, rc;

	rc = sch_wt_load(&wt, ctx->migrations);
	if (!rc)
		rc = sch_wt_resolve(&wt, t);
	if (rc)
		goto out;
	rc = sch_cmd_current_branch(&branch, t);
	if (rc) {
		rc = sch_error_set(SCH_EREFUSED, "HEAD does not name a branch; "
				   "nothing can be committed");
		goto out;
	}
	sch_buf_addf(&ref, "heads/%s", branch.ptr);
	have_head = sch_ref_read(&head, t, ref.ptr) == 0;
	if (have_head)
		head_dir = recorded_name(t, &head);

	/* Directories edited after their commit. */
	{
		struct sch_wt_entry *first = NULL, *direct = NULL;
		size_t nedit = 0;
		for (size_t i = 0; i < wt.n; i++) {
			struct sch_wt_entry *e = &wt.e[i];
			int own;
			if (!sch_wt_edited(t, e, &own))
				continue;
			nedit++;
			if (!first)
				first = e;
			if (!direct && own)
				direct = e;
		}
		if (nedit && !new_revision) {
			struct sch_wt_entry *e = direct ? direct : first;
			const void *v;
			size_t vl;
			char hex[SCH_HEX_LEN + 1] = "?";
			if (!sch_kv_get(t, SCH_DB_WORKTREE, e->name,
					strlen(e->name), &v, &vl))
				sch_hex(hex, v, SCH_SHORT_LEN / 2);
			rc = sch_error_set(SCH_EREFUSED,
					   "%s/%s was edited after it was "
					   "committed as %s%s", ctx->migrations,
					   e->name, hex,
					   nedit > 1 ? " (and directories that "
						       "build on it)" : "");
			sch_error_hint("restore it, or record the edit as a new "
				       "revision with 'schema commit "
				       "--new-revision'");
			goto out;
		}
	}

	norder = wt_order(&wt, &order);
	stored = xcalloc(wt.n + 1, 1);
	for (size_t i = 0; i < norder; i++) {
		struct sch_wt_entry *e = &wt.e[order[i]];
		char sh[SCH_SHORT_LEN + 1];
		if (!sch_object_exists(t, &e->id)) {
			rc = sch_wt_store(t, e);
			if (!rc)
				rc = sch_graph_note_stored(t, &e->id, &e->rev);
			if (!rc && sign)
				rc = sch_sig_attach(t, sign, &e->id, NULL);
			if (rc)
				goto out;
			nstored++;
			stored[order[i]] = 1;
			if (!quiet) {
				sch_id_short(sh, &e->id);
				sch_rev_subject(&subj, &e->rev);
				printf("%s %s %s\n", sh, e->name, subj.ptr);
			}
		}
		rc = sch_kv_put(t, SCH_DB_WORKTREE, e->name, strlen(e->name),
				e->id.b, SCH_ID_LEN);
		if (!rc)
			rc = sch_wt_record_stat(t, ctx->migrations, e->name);
		if (rc)
			goto out;
	}

	/* Advance the branch to the one new worktree tip that builds on it. */
	anchor = head;
	if (head_dir) {
		struct sch_wt_entry *hd = sch_wt_find(&wt, head_dir);
		if (hd)
			anchor = hd->id;
	}
	is_parent = xcalloc(wt.n + 1, 1);
	for (size_t j = 0; j < wt.n; j++)
		for (size_t k = 0; k < wt.e[j].rev.nparents; k++) {
			struct sch_wt_entry *pe =
				sch_wt_find_id(&wt, &wt.e[j].rev.parents[k]);
			if (pe)
				is_parent[pe - wt.e] = 1;
		}
	for (size_t i = 0; i < wt.n; i++) {
		struct sch_wt_entry *e = &wt.e[i];
		if (is_parent[i] || !stored[i])
			continue;
		if (have_head && !descends(t, &wt, &e->id, &anchor))
			continue;
		if (have_head && !sch_id_cmp(&e->id, &head))
			continue;
		if (ncand++ == 0)
			newhead = e->id;
		sch_buf_addf(&tips, "%s%s", tips.len ? ", " : "", e->name);
	}
	if (ncand == 1) {
		char sh[SCH_SHORT_LEN + 1];
		struct sch_buf msg = SCH_BUF_INIT;
		sch_buf_addf(&msg, "commit: %zu revision%s", nstored,
			     nstored == 1 ? "" : "s");
		rc = sch_ref_write(t, ref.ptr, &newhead, msg.ptr);
		sch_buf_release(&msg);
		if (rc)
			goto out;
		sch_id_short(sh, &newhead);
		if (!quiet)
			printf("%s -> %s\n", branch.ptr, sh);
	} else if (ncand > 1) {
		sch_ui_warn("several tips build on '%s' (%s); the branch stays "
			    "where it is", branch.ptr, tips.ptr);
		sch_ui_hint("merge them with 'schema merge A B -m MESSAGE'");
	}
	if (!nstored && ncand == 0 && !quiet)
		printf("nothing to commit\n");
	else if (nstored && ncand == 0 && !quiet)
		printf("(no branch moved: nothing new builds on %s)\n",
		       branch.ptr);
out:
	free(order);
	free(is_parent);
	free(stored);
	free(head_dir);
	sch_wt_release(&wt);
	sch_buf_release(&branch);
	sch_buf_release(&ref);
	sch_buf_release(&subj);
	sch_buf_release(&tips);
	return rc;
}

SCH_CMD(commit)
{
	static const struct option opts[] = {
		{ "new-revision", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "sign", no_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int c, newrev = 0, quiet = 0, sign = 0, rc;
	const char *keyname = NULL;
	struct sch_key key;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":qS", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			sign = 1;
			break;
		case 'k':
			keyname = optarg;
			sign = 1;
			break;
		case 'N':
			newrev = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb);
		}
	}
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "commit takes no arguments "
				     "(got '%s')", argv[optind]);
	if (sign) {
		rc = sch_cmd_signing_key(&key, keyname, ctx);
		if (rc)
			return rc;
	}
	rc = sch_hook_run(ctx, "pre-commit", NULL, 0);
	if (!rc)
		rc = sch_commit_worktree(ctx, newrev, quiet, sign ? &key : NULL);
	memset(&key, 0, sizeof(key));
	return rc;
}
