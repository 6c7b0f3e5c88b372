/* commit.c - store new or changed migrations/ directories as revisions and
 * advance the current branch. */
#include <sodium.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/hooks.h"
#include "schema/refs.h"
#include "schema/revspec.h"
#include "schema/scratch.h"
#include "schema/sign.h"
#include "schema/sqlparse.h"
#include "schema/statediff.h"
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

/* The revision directory `name` was committed as; 1 when there is one. */
static int recorded_id(struct sch_id *out, struct sch_txn *t, const char *name)
{
	const void *v;
	size_t vl;

	if (sch_kv_get(t, SCH_DB_WORKTREE, name, strlen(name), &v, &vl) ||
	    vl != SCH_ID_LEN)
		return 0;
	memcpy(out->b, v, SCH_ID_LEN);
	return 1;
}

static int meta_add_line(const char *dir, const char *name, const char *line);

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

/*
 * Every script of a revision this commit stores must be UTF-8 and parse
 * with the server's grammar, whatever the checks (--no-check, SCHEMA_CHECK
 * =0): a broken script is never stored. A script that holds no statement
 * (still the template of `schema new`) is stored with a warning, except
 * in a merge, whose scripts often have nothing to do.
 */
static int check_scripts(const struct sch_ctx *ctx,
			 const struct sch_wt_entry *e)
{
	static const char *const files[] = { "up.sql", "down.sql",
					     "verify.sql" };
	const struct sch_buf *text[] = { &e->up, &e->down, &e->verify };
	int rc = 0;

	for (int i = 0; i < 3 && !rc; i++) {
		struct sch_sql_script s;
		char *path;
		if (i == 2 && !e->has_verify)
			continue;
		path = xasprintf("%s/%s/%s", ctx->migrations, e->name, files[i]);
		rc = sch_sql_split(&s, path, text[i]->ptr, text[i]->len);
		if (rc)
			sch_error_hint("fix %s/%s and commit again", e->name,
				       files[i]);
		else if (!s.n && i < 2 && e->rev.nparents < 2)
			sch_ui_warn("%s holds no statement (still the template "
				    "of 'schema new'?): committed as a no-op",
				    path);
		sch_sql_script_release(&s);
		free(path);
	}
	return rc;
}

/* How many lines of the two states an irreversibility message shows. */
#define DIFF_LINES 20

/* The objects a check names, at most three. */
static void name_objects(struct sch_buf *out, const struct sch_strlist *l)
{
	if (l->n)
		sch_strlist_join(out, l, 3);
	else
		sch_buf_addstr(out, "(no object named)");
}

/* A merge revision's check: its sides in both orders, then its script,
 * must end in one state. */
static int check_merge(struct sch_mergecheck *out, struct sch_scratch *s,
		       struct sch_txn *t, const struct sch_wt_entry *e)
{
	struct sch_mergecheck mc;
	struct sch_buf what = SCH_BUF_INIT;
	int rc = sch_scratch_mergecheck(&mc, s, t, &e->rev.parents[0],
					&e->rev.parents[1], &e->id);

	if (rc)
		return rc;
	out->pre[0] = mc.pre[0];
	out->pre[1] = mc.pre[1];
	if (mc.failed) {
		rc = sch_error_set(SCH_ECONFLICT, "merge %s cannot resolve its "
				   "sides: %s", e->name, mc.why.ptr);
		sch_error_hint("a merge script runs after both sides; change "
			       "one side with a new revision so that both "
			       "orders apply");
	} else if (mc.column_order) {
		sch_ui_warn("merge %s: the two orders of its sides give "
			    "columns in different orders: %s", e->name,
			    mc.column_orders.ptr);
	} else if (mc.differ) {
		name_objects(&what, &mc.orders);
		rc = sch_error_set(SCH_ECONFLICT, "merge %s does not resolve the "
				   "conflict of its sides: the two orders end "
				   "in different states (%s)", e->name,
				   what.ptr);
		sch_error_hint("make %s/up.sql bring both orders to the same "
			       "schema", e->name);
	}
	sch_buf_release(&what);
	sch_mergecheck_release(&mc);
	return rc;
}

/* The scratch checks of the revisions this commit stores, in order. */
static int check_new(struct sch_ctx *ctx, const struct sch_wt *wt,
		     const size_t *order, size_t norder, const uint8_t *stored,
		     const struct sch_commit_opts *o, struct sch_strlist *irrev)
{
	struct sch_scratch s;
	struct sch_strlist bad = { 0 };
	struct sch_buf first = SCH_BUF_INIT, diff = SCH_BUF_INIT;
	int rc = sch_scratch_open(&s, &ctx->config, ctx->repo);

	if (rc == SCH_ENOTFOUND && o->check != SCH_CHECK_REQUIRE) {
		/* nothing to check on: stored unchecked, and said so */
		sch_cmd_unchecked_warning("the new revisions were not checked");
		sch_scratch_close(&s);
		return 0;
	}
	if (rc) {
		/* required and impossible: a database matter (exit 3) */
		if (rc == SCH_ENOTFOUND)
			rc = SCH_EDB;
		sch_error_wrap(rc, "cannot check the new revisions");
		if (!*sch_error_hint_msg())
			sch_error_hint("commit with --no-check to store them "
				       "unchecked");
		sch_scratch_close(&s);
		return rc;
	}
	for (size_t i = 0; i < norder && !rc; i++) {
		const struct sch_wt_entry *e = &wt->e[order[i]];
		struct sch_revcheck c;
		struct sch_mergecheck mc;
		int merged = 0;
		if (!stored[order[i]])
			continue;
		if (e->rev.nparents == 2 && o->mergecheck) {
			rc = check_merge(&mc, &s, ctx->txn, e);
			if (rc)
				break;
			merged = 1;
		}
		rc = sch_scratch_revcheck(&c, &s, ctx->txn, &e->id);
		if (rc == SCH_ECHECK) {
			rc = sch_error_wrap(SCH_ECHECK, "%s does not apply on "
					    "the scratch database", e->name);
			sch_error_hint("fix the script and commit again");
		}
		if (!rc)
			rc = sch_state_record(ctx->txn, &e->id,
					      sch_pg_server_major(s.pg),
					      &c.after, 1);
		/* A merge that resolves a conflict has two states before it,
		 * one for each order of its sides: its down may restore either. */
		if (!rc && !c.reversible && merged &&
		    (!sch_id_cmp(&c.back, &mc.pre[0]) ||
		     !sch_id_cmp(&c.back, &mc.pre[1])))
			c.reversible = 1;
		if (!rc && !c.reversible && c.column_order &&
		    !sch_rev_has_flag(&e->rev, "irreversible")) {
			/* a column dropped and added back comes last: nothing
			 * in PostgreSQL puts it back in its place */
			sch_ui_warn("%s: after up.sql and down.sql only the "
				    "order of columns differs from the parent's "
				    "state: %s", e->name, c.orders.ptr);
		} else if (!rc && !c.reversible &&
			   !sch_rev_has_flag(&e->rev, "irreversible")) {
			sch_strlist_push(&bad, e->name);
			if (!first.len) {
				sch_buf_addf(&first, "%s is not reversible: "
					     "after up.sql and down.sql, ",
					     e->name);
				name_objects(&first, &c.differ);
				sch_buf_addf(&first, " differ%s from the "
					     "parent's state",
					     c.differ.n == 1 ? "s" : "");
				sch_buf_add(&diff, c.diff.ptr, c.diff.len);
				sch_statediff_clip(&diff, DIFF_LINES);
			}
		}
		sch_revcheck_release(&c);
	}
	sch_scratch_close(&s);
	if (!rc && bad.n) {
		if (bad.n > 1)
			sch_buf_addf(&first, " (and %zu more revision%s)",
				     bad.n - 1, bad.n == 2 ? "" : "s");
		/* the differing lines of the two states, below the message */
		while (diff.len && diff.ptr[diff.len - 1] == '\n')
			sch_buf_truncate(&diff, diff.len - 1);
		if (diff.len)
			sch_buf_addf(&first, ":\n%s", diff.ptr);
		rc = sch_error_set(SCH_ECHECK, "%s", first.ptr);
		if (o->irreversible && irrev) {
			for (size_t i = 0; i < bad.n; i++)
				sch_strlist_push(irrev, bad.v[i]);
		} else {
			sch_error_hint("make down.sql undo up.sql, or record it "
				       "as irreversible with 'schema commit "
				       "--irreversible'");
		}
	}
	sch_strlist_release(&bad);
	sch_buf_release(&first);
	sch_buf_release(&diff);
	return rc;
}

struct branch_tip {
	char *name;
	struct sch_id id;
};
struct branch_tips {
	struct branch_tip *v;
	size_t n;
};

static int collect_tip(const char *name, const struct sch_id *id, void *arg)
{
	struct branch_tips *l = arg;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n].name = xstrdup(name);
	l->v[l->n++].id = *id;
	return 0;
}

/*
 * A branch whose tip a revision stored now supersedes moves to that
 * revision, as the current branch does: the superseded one is on no
 * branch any more.
 */
static int move_superseded(struct sch_txn *t, const struct sch_wt *wt,
			   const uint8_t *stored, int quiet)
{
	struct branch_tips tips = { 0 };
	int rc = sch_ref_each(t, "heads/", collect_tip, &tips);

	for (size_t i = 0; i < tips.n && !rc; i++)
		for (size_t k = 0; k < wt->n; k++) {
			char sh[SCH_SHORT_LEN + 1], old[SCH_SHORT_LEN + 1];
			if (!stored[k] ||
			    !sch_rev_supersedes(&wt->e[k].rev, &tips.v[i].id))
				continue;
			rc = sch_ref_write(t, tips.v[i].name, &wt->e[k].id,
					   "commit: supersedes its tip");
			sch_id_short(sh, &wt->e[k].id);
			sch_id_short(old, &tips.v[i].id);
			if (!rc && !quiet)
				printf("%s -> %s (supersedes %s)\n",
				       tips.v[i].name + 6, sh, old);
			break;
		}
	for (size_t i = 0; i < tips.n; i++)
		free(tips.v[i].name);
	free(tips.v);
	return rc;
}

int sch_commit_worktree(struct sch_ctx *ctx, const struct sch_commit_opts *o,
			struct sch_strlist *irrev)
{
	int new_revision = o->new_revision, quiet = o->quiet;
	const struct sch_key *sign = o->sign;
	struct sch_buf lines = SCH_BUF_INIT;
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

	/* Directories edited after their commit: refused, or with
	 * --new-revision recorded as revisions that supersede the ones they
	 * were committed as. A directory whose meta already supersedes its
	 * committed revision (re-recorded in another clone) is not edited. */
	{
		struct sch_wt_entry *first = NULL, *direct = NULL;
		size_t nedit = 0;
		for (size_t i = 0; i < wt.n; i++) {
			struct sch_wt_entry *e = &wt.e[i];
			struct sch_id old;
			int own;
			if (!sch_wt_edited(t, e, &own) ||
			    (recorded_id(&old, t, e->name) &&
			     sch_rev_supersedes(&e->rev, &old)))
				continue;
			nedit++;
			if (!first)
				first = e;
			if (!direct && own)
				direct = e;
			if (new_revision && recorded_id(&old, t, e->name)) {
				char hex[SCH_HEX_LEN + 1], *line;
				sch_id_hex(hex, &old);
				line = xasprintf("supersedes %s", hex);
				rc = meta_add_line(ctx->migrations, e->name, line);
				free(line);
				if (rc)
					goto out;
				fprintf(stderr, "schema: note: %s/%s/meta: "
					"supersedes %.12s\n", ctx->migrations,
					e->name, hex);
			}
		}
		if (nedit && new_revision) {
			/* the supersedes lines change the ids: read again */
			sch_wt_release(&wt);
			rc = sch_wt_load(&wt, ctx->migrations);
			if (!rc)
				rc = sch_wt_resolve(&wt, t);
			if (rc)
				goto out;
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
			rc = check_scripts(ctx, e);
			if (!rc)
				rc = sch_wt_store(t, e);
			if (!rc)
				rc = sch_graph_note_stored(t, &e->id, &e->rev);
			if (!rc && sign)
				rc = sch_sig_attach(t, sign, &e->id, NULL);
			if (rc)
				goto out;
			nstored++;
			stored[order[i]] = 1;
			sch_id_short(sh, &e->id);
			sch_rev_subject(&subj, &e->rev);
			sch_buf_addf(&lines, "%s %s %s\n", sh, e->name, subj.ptr);
		}
		rc = sch_kv_put(t, SCH_DB_WORKTREE, e->name, strlen(e->name),
				e->id.b, SCH_ID_LEN);
		if (!rc)
			rc = sch_wt_record_stat(t, ctx->migrations, e->name);
		if (rc)
			goto out;
	}

	if (o->check && nstored) {
		rc = check_new(ctx, &wt, order, norder, stored, o, irrev);
		if (rc)
			goto out;
	}
	if (!quiet)
		fputs(lines.ptr, stdout);

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
	rc = move_superseded(t, &wt, stored, quiet);
	if (rc)
		goto out;
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
	sch_buf_release(&lines);
	return rc;
}

/* Adds the header line `line` (without its newline) at the end of the
 * headers of dir/name/meta, through a temporary file renamed into place. */
static int meta_add_line(const char *dir, const char *name, const char *line)
{
	char *path = xasprintf("%s/%s/meta", dir, name);
	char *tmp = xasprintf("%s/%s/.meta.tmp", dir, name);
	struct sch_buf in = SCH_BUF_INIT, out = SCH_BUF_INIT;
	FILE *f = fopen(path, "rb");
	const char *sep;
	char chunk[4096];
	size_t n;
	int rc = 0;

	if (!f) {
		rc = sch_error_set(SCH_EIO, "cannot read '%s'", path);
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sch_buf_add(&in, chunk, n);
	fclose(f);
	/* headers end at the first empty line (a lone CR counts as empty,
	 * as in sch_meta_parse) */
	for (sep = in.ptr; sep < in.ptr + in.len;) {
		const char *nl = memchr(sep, '\n', in.len - (size_t)(sep - in.ptr));
		if (!nl)
			break;
		if (nl == sep || (nl == sep + 1 && *sep == '\r'))
			break;
		sep = nl + 1;
	}
	if (sep < in.ptr + in.len) {
		size_t at = (size_t)(sep - in.ptr);
		sch_buf_add(&out, in.ptr, at);
		sch_buf_addf(&out, "%s\n", line);
		sch_buf_add(&out, in.ptr + at, in.len - at);
	} else {
		sch_buf_add(&out, in.ptr, in.len);
		if (in.len && in.ptr[in.len - 1] != '\n')
			sch_buf_addch(&out, '\n');
		sch_buf_addf(&out, "%s\n", line);
	}
	f = fopen(tmp, "wb");
	if (!f || fwrite(out.ptr, 1, out.len, f) != out.len) {
		if (f)
			fclose(f);
		unlink(tmp);
		rc = sch_error_set(SCH_EIO, "cannot write '%s'", tmp);
		goto out;
	}
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		rc = sch_error_set(SCH_EIO, "cannot replace '%s'", path);
	}
out:
	free(path);
	free(tmp);
	sch_buf_release(&in);
	sch_buf_release(&out);
	return rc;
}

SCH_CMD(commit)
{
	static const struct option opts[] = {
		{ "new-revision", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "sign", no_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "no-check", no_argument, NULL, 'C' },
		{ "irreversible", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	int c, sign = 0, rc;
	const char *keyname = NULL;
	struct sch_key key;
	struct sch_commit_opts o;
	struct sch_strlist irrev = { 0 };

	memset(&o, 0, sizeof(o));
	rc = sch_scratch_enabled(&o.check, &ctx->config);
	if (rc)
		return rc;
	o.mergecheck = 1;
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
			o.new_revision = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'C':
			o.check = 0;
			break;
		case 'I':
			o.irreversible = 1;
			break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "commit takes no arguments "
				     "(got '%s')", argv[optind]);
	if (o.irreversible && !o.check)
		return sch_error_set(SCH_EUSAGE, "--irreversible needs the "
				     "check that --no-check turns off");
	if (sign) {
		rc = sch_cmd_signing_key(&key, keyname, ctx);
		if (rc)
			return rc;
		o.sign = &key;
	}
	rc = sch_hook_run(ctx->repo, ctx->root, "pre-commit", NULL, 0);
	if (!rc)
		rc = sch_commit_worktree(ctx, &o, &irrev);
	if (rc == SCH_ECHECK && irrev.n) {
		/* Flag what the check found irreversible, and start over in a
		 * new transaction: the flag changes those revisions' ids. */
		sch_txn_abort(ctx->txn);
		ctx->txn = NULL;
		rc = sch_txn_begin(&ctx->txn, ctx->store, 1);
		for (size_t i = 0; i < irrev.n && !rc; i++) {
			rc = meta_add_line(ctx->migrations, irrev.v[i],
					   "flag irreversible");
			if (!rc)
				fprintf(stderr, "schema: note: %s/%s/meta: flagged "
					"irreversible\n", ctx->migrations,
					irrev.v[i]);
		}
		if (!rc)
			rc = sch_commit_worktree(ctx, &o, NULL);
	}
	sch_strlist_release(&irrev);
	sodium_memzero(&key, sizeof(key));
	return rc;
}
