/* merge.c - create a merge revision of two revisions, with its directory. */
#include <sodium.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/author.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/hooks.h"
#include "schema/revspec.h"
#include "schema/scratch.h"
#include "schema/sign.h"
#include "schema/ui.h"
#include "schema/worktree.h"

static char *ref_name(const struct sch_wt *wt, const struct sch_id *id)
{
	struct sch_wt_entry *e = sch_wt_find_id(wt, id);
	char hex[SCH_HEX_LEN + 1];

	if (e)
		return xstrdup(e->name);
	sch_id_hex(hex, id);
	return xstrdup(hex);
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = { "meta", "up.sql", "down.sql" };

	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

static void list_lines(struct sch_buf *out, const char *title,
		       const struct sch_strlist *l)
{
	if (!l->n)
		return;
	sch_buf_addf(out, "--   %s:\n", title);
	for (size_t i = 0; i < l->n; i++)
		sch_buf_addf(out, "--     %s\n", l->v[i]);
}

/*
 * The two sides conflict: the merge's directory is written, uncommitted,
 * with the conflict described in its scripts, for the user to resolve.
 */
static int conflict(struct sch_ctx *ctx, const struct sch_buf *name,
		    const struct sch_meta *m, const struct sch_mergecheck *mc)
{
	struct sch_buf up = SCH_BUF_INIT, down = SCH_BUF_INIT,
		       what = SCH_BUF_INIT;
	const struct sch_strlist *l = mc->both.n ? &mc->both : &mc->orders;
	int rc;

	sch_buf_addf(&up, "-- Merge of %s and %s.\n-- CONFLICT: ",
		     m->parents[0], m->parents[1]);
	if (mc->failed)
		sch_buf_addf(&up, "the sides do not apply in both orders:\n"
			     "--   %s\n", mc->why.ptr);
	else
		sch_buf_addstr(&up, "applying the two sides in either order "
			       "gives different schemas.\n");
	list_lines(&up, "both sides change", &mc->both);
	list_lines(&up, "the two orders end differently in", &mc->orders);
	sch_buf_addstr(&up, "-- Write here what brings both orders to one "
		       "schema, its inverse in down.sql,\n-- then run "
		       "'schema commit'.\n");
	sch_buf_addf(&down, "-- Merge of %s and %s: the inverse of up.sql.\n",
		     m->parents[0], m->parents[1]);
	rc = sch_wt_create(ctx->migrations, name->ptr, m, up.ptr, down.ptr);
	if (!rc) {
		sch_strlist_join(&what, l, 3);
		if (mc->failed)
			rc = sch_error_set(SCH_ECONFLICT, "merge conflict: %s%s%s",
					   mc->why.ptr, what.len ? "; both "
					   "sides change " : "", what.ptr);
		else
			rc = sch_error_set(SCH_ECONFLICT, "merge conflict: %s %s",
					   mc->both.n ? "both sides change"
					   : "the two orders differ in",
					   what.ptr);
		sch_error_hint("resolve it in %s/%s/up.sql and down.sql, then "
			       "run 'schema commit'", ctx->migrations, name->ptr);
	}
	sch_buf_release(&up);
	sch_buf_release(&down);
	sch_buf_release(&what);
	return rc;
}

SCH_CMD(merge)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "sign", no_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "no-check", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *message = NULL, *keyname = NULL;
	struct sch_key key;
	int sign = 0, check = 1;
	struct sch_mergecheck mc;
	struct sch_id a, b;
	struct sch_graph g;
	struct sch_wt wt;
	struct sch_meta m;
	struct sch_buf name = SCH_BUF_INIT, up = SCH_BUF_INIT;
	char *dir = NULL;
	int c, rc;

	sch_graph_init(&g, ctx->txn);
	sch_meta_init(&m);
	memset(&mc, 0, sizeof(mc));
	memset(&wt, 0, sizeof(wt));
	rc = sch_scratch_enabled(&check, &ctx->config);
	if (rc)
		goto out;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":m:S", opts, NULL)) != -1) {
		switch (c) {
		case 'm': message = optarg; break;
		case 'S': sign = 1; break;
		case 'k': keyname = optarg; sign = 1; break;
		case 'C': check = 0; break;
		default:
			rc = sch_cmd_optfail(c, argv, ctx->verb, opts);
			goto out;
		}
	}
	if (argc - optind != 2) {
		rc = sch_error_set(SCH_EUSAGE,
				   "usage: schema merge <a> <b> -m <message>");
		goto out;
	}
	if (!message || !*message || message[0] == ' ' || message[0] == '\n') {
		rc = sch_error_set(SCH_EUSAGE, "merge needs a message: -m <message>");
		goto out;
	}
	if (sign) {
		rc = sch_cmd_signing_key(&key, keyname, ctx);
		if (rc)
			goto out;
	}
	rc = sch_revspec_one(&a, ctx->txn, argv[optind]);
	if (!rc)
		rc = sch_revspec_one(&b, ctx->txn, argv[optind + 1]);
	if (rc)
		goto out;
	if (!sch_id_cmp(&a, &b)) {
		rc = sch_error_set(SCH_EUSAGE, "'%s' and '%s' are the same "
				   "revision", argv[optind], argv[optind + 1]);
		goto out;
	}
	{
		uint32_t ia, ib;
		uint8_t *anc;
		rc = sch_graph_add(&ia, &g, &a);
		if (!rc)
			rc = sch_graph_add(&ib, &g, &b);
		if (rc)
			goto out;
		anc = sch_graph_ancestors(&g, &ia, 1, 0);
		if (anc[ib]) {
			free(anc);
			rc = sch_error_set(SCH_EREFUSED, "'%s' already contains "
					   "'%s': nothing to merge",
					   argv[optind], argv[optind + 1]);
			goto out;
		}
		free(anc);
		anc = sch_graph_ancestors(&g, &ib, 1, 0);
		if (anc[ia]) {
			free(anc);
			rc = sch_error_set(SCH_EREFUSED, "'%s' already contains "
					   "'%s': nothing to merge",
					   argv[optind + 1], argv[optind]);
			goto out;
		}
		free(anc);
	}
	rc = sch_wt_load(&wt, ctx->migrations);
	if (!rc)
		rc = sch_wt_resolve(&wt, ctx->txn);
	if (rc)
		goto out;
	/* A merge of the same two left uncommitted (a conflict being
	 * resolved) is the one to finish, not to make again. */
	for (size_t i = 0; i < wt.n; i++) {
		const struct sch_rev *r = &wt.e[i].rev;
		int same = r->nparents == 2 &&
			   ((!sch_id_cmp(&r->parents[0], &a) &&
			     !sch_id_cmp(&r->parents[1], &b)) ||
			    (!sch_id_cmp(&r->parents[0], &b) &&
			     !sch_id_cmp(&r->parents[1], &a)));
		if (same && !sch_object_exists(ctx->txn, &wt.e[i].id)) {
			rc = sch_error_set(SCH_EREFUSED, "%s/%s already merges "
					   "'%s' and '%s', uncommitted",
					   ctx->migrations, wt.e[i].name,
					   argv[optind], argv[optind + 1]);
			sch_error_hint("resolve it and run 'schema commit', or "
				       "remove it to merge again");
			goto out;
		}
	}
	m.parents = xmalloc(2 * sizeof(char *));
	m.parents[0] = ref_name(&wt, &a);
	m.parents[1] = ref_name(&wt, &b);
	m.nparents = 2;
	rc = sch_author_now(&m.author, &m.time, m.tz, &ctx->config);
	if (rc)
		goto out;
	free(m.message);
	m.message = xasprintf("%s\n", message);
	sch_wt_next_name(&name, &wt, message);
	if (check) {
		struct sch_scratch s;
		rc = sch_scratch_open(&s, &ctx->config, ctx->repo);
		if (rc == SCH_ENOTFOUND && check != SCH_CHECK_REQUIRE) {
			sch_cmd_unchecked_warning("the merge was not checked");
			rc = 0;
			check = 0;
		} else if (!rc) {
			rc = sch_scratch_mergecheck(&mc, &s, ctx->txn, &a, &b,
						    NULL);
		}
		sch_scratch_close(&s);
		if (rc == SCH_ENOTFOUND)
			rc = SCH_EDB;
		if (rc) {
			sch_error_wrap(rc, "cannot check the merge");
			if (!*sch_error_hint_msg())
				sch_error_hint("merge with --no-check to skip "
					       "the check");
			goto out;
		}
	}
	if (mc.failed || mc.differ) {
		rc = conflict(ctx, &name, &m, &mc);
		goto out;
	}
	if (mc.column_order)
		sch_ui_warn("the two orders of the sides give columns in "
			    "different orders: %s; databases upgraded through "
			    "either branch will differ in column order only",
			    mc.column_orders.ptr);
	sch_buf_addf(&up, "-- Merge of %s and %s: nothing to reconcile.\n",
		     m.parents[0], m.parents[1]);
	rc = sch_wt_create(ctx->migrations, name.ptr, &m, up.ptr, up.ptr);
	if (rc)
		goto out;
	dir = xasprintf("%s/%s", ctx->migrations, name.ptr);
	{
		struct sch_commit_opts co;
		memset(&co, 0, sizeof(co));
		co.check = check;
		co.sign = sign ? &key : NULL;
		rc = sch_commit_worktree(ctx, &co, NULL);
	}
	if (rc) {
		remove_dir(dir);
		goto out;
	}
	rc = sch_hook_run(ctx->repo, ctx->root, "post-merge", name.ptr, name.len);
	if (rc) {
		/* The merge stands; a failing post-hook is reported only. */
		fprintf(stderr, "schema: warning: %s\n", "post-merge hook failed");
		rc = 0;
	}
out:
	sch_mergecheck_release(&mc);
	sodium_memzero(&key, sizeof(key));
	free(dir);
	sch_meta_release(&m);
	sch_wt_release(&wt);
	sch_graph_release(&g);
	sch_buf_release(&name);
	sch_buf_release(&up);
	return rc;
}
