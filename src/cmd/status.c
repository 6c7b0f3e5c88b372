/* status.c - where a database stands against the history. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/catalog.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/plan.h"
#include "schema/refs.h"
#include "schema/registry.h"
#include "schema/statediff.h"
#include "schema/snapshot.h"
#include "schema/target.h"
#include "schema/worktree.h"

struct branch_ctx {
	struct sch_graph *g;
	const struct sch_applied_set *applied;
	json_t *obj;
	struct sch_buf *text;
	const char *current;
};

static size_t count_pending(struct sch_graph *g,
			    const struct sch_applied_set *applied,
			    const struct sch_id *tip)
{
	uint32_t idx;
	uint8_t *C;
	size_t n = 0;

	if (sch_graph_add(&idx, g, tip) || sch_graph_relink(g))
		return 0;
	C = sch_graph_ancestors(g, &idx, 1, 1);
	for (size_t i = 0; i < applied->n; i++) {
		long k = sch_graph_find(g, &applied->v[i].id);
		if (k >= 0)
			C[k] = 0;
	}
	for (size_t i = 0; i < g->n; i++)
		n += C[i];
	free(C);
	return n;
}

/*
 * Drift: the live state against the one recorded for the applied heads.
 * *o gets "drift" (the names of the objects that differ, [] for none,
 * null when nothing is recorded), "recorded_state" and "live_state".
 * Returns 0 or a capture error.
 */
static int drift(json_t *o, struct sch_ctx *ctx, struct sch_reg *reg,
		 const struct sch_idlist *heads)
{
	struct sch_id rec, live;
	struct sch_strlist changed = { 0 };
	char hex[SCH_HEX_LEN + 1];
	json_t *names;
	int rc = sch_cmd_drift(&changed, &rec, &live, ctx, reg, heads);

	if (rc <= 0) {
		json_object_set_new(o, "drift", json_null());
		return rc;
	}
	sch_id_hex(hex, &rec);
	json_object_set_new(o, "recorded_state", json_string(hex));
	sch_id_hex(hex, &live);
	json_object_set_new(o, "live_state", json_string(hex));
	names = json_array();
	if (sch_id_cmp(&rec, &live) && !changed.n)
		json_array_append_new(names, json_string("?"));
	for (size_t i = 0; i < changed.n; i++)
		json_array_append_new(names, json_string(
			sch_catalog_entry_name(changed.v[i])));
	json_object_set_new(o, "drift", names);
	sch_strlist_release(&changed);
	return 0;
}

static int branch_cb(const char *name, const struct sch_id *id, void *arg)
{
	struct branch_ctx *b = arg;
	size_t n = count_pending(b->g, b->applied, id);

	json_object_set_new(b->obj, name + 6, json_integer((json_int_t)n));
	if (!b->current || strcmp(name + 6, b->current))
		sch_buf_addf(b->text, "  %s: %zu pending\n", name + 6, n);
	return 0;
}

SCH_CMD(status)
{
	struct sch_target_args ta;
	const char *url = NULL, *env = NULL;
	int json = 0, rc, have_head;
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_reg reg = { 0 };
	struct sch_applied_set applied = { 0 };
	struct sch_graph g;
	struct sch_idlist none = { 0 }, heads = { 0 };
	struct sch_buf branch = SCH_BUF_INIT, others = SCH_BUF_INIT,
		       ir = SCH_BUF_INIT, idir = SCH_BUF_INIT,
		       restore = SCH_BUF_INIT;
	struct sch_id head;
	uint8_t *A = NULL, *C = NULL;
	json_t *o = json_object(), *pending = json_array(), *extra = json_array(),
	       *branches = json_object(), *edited = json_array(),
	       *uncommitted = json_array();
	const char *state = "up to date";
	size_t npend = 0, nextra = 0;
	char hex[SCH_HEX_LEN + 1];

	sch_graph_init(&g, ctx->txn);
	memset(&pol, 0, sizeof(pol));
	rc = sch_cmd_target_args(&ta, argc, argv, ctx->verb, 0);
	if (rc)
		goto out;
	url = ta.url;
	env = ta.env;
	json = ta.json;
	rc = sch_target_read(&ctx->config, url, env, &pol, &pg, &reg, &applied, 0);
	if (!rc)
		rc = sch_plan_graph(&g, ctx->txn, &applied, &none);
	if (rc)
		goto out;
	A = sch_plan_applied_mark(&g, &applied);
	sch_plan_set_heads(&heads, &g, A);
	sch_cmd_current_branch(&branch, ctx->txn);
	have_head = sch_ref_read(&head, ctx->txn, "HEAD") == 0;
	if (have_head) {
		uint32_t idx;
		rc = sch_graph_add(&idx, &g, &head);
		if (!rc)
			rc = sch_graph_relink(&g);
		if (rc)
			goto out;
		/* A was sized before the branch's revisions loaded. */
		free(A);
		A = sch_plan_applied_mark(&g, &applied);
		C = sch_graph_ancestors(&g, &idx, 1, 1);
		for (size_t i = 0; i < g.n; i++) {
			if (C[i] && !A[i]) {
				npend++;
				sch_id_hex(hex, &g.nodes[i].id);
				json_array_append_new(pending, json_string(hex));
			} else if (A[i] && !C[i]) {
				nextra++;
				sch_id_hex(hex, &g.nodes[i].id);
				json_array_append_new(extra, json_string(hex));
			}
		}
		state = npend && nextra ? "diverged" : npend ? "behind"
			: nextra ? "ahead" : "up to date";
	}
	{
		struct branch_ctx b = { &g, &applied, branches, &others,
					branch.len ? branch.ptr : NULL };
		rc = sch_ref_each(ctx->txn, "heads/", branch_cb, &b);
		if (rc)
			goto out;
	}
	/* Directories edited after their commit, and new ones: only those
	 * whose files' size or time changed are read. */
	{
		struct sch_strlist ed = { 0 }, un = { 0 };
		sch_wt_scan_edits(ctx->txn, ctx->migrations, &ed, &un);
		for (size_t i = 0; i < ed.n; i++)
			json_array_append_new(edited, json_string(ed.v[i]));
		for (size_t i = 0; i < un.n; i++)
			json_array_append_new(uncommitted, json_string(un.v[i]));
		sch_strlist_release(&ed);
		sch_strlist_release(&un);
	}
	if (sch_reg_progress_any(&reg, &ir, &idir, NULL) < 0) {
		sch_buf_reset(&ir);
		sch_buf_reset(&idir);
	}
	rc = drift(o, ctx, &reg, &heads);
	if (rc)
		goto out;
	if (sch_snapshot_marker(pg, &restore) != 1)
		sch_buf_reset(&restore);
	json_object_set_new(o, "database", json_string(pol.shown));
	json_object_set_new(o, "source", json_string(pol.from));
	json_object_set_new(o, "registry", json_string(reg.schema));
	json_object_set_new(o, "applied", json_integer((json_int_t)applied.n));
	{
		json_t *h = json_array();
		for (size_t i = 0; i < heads.n; i++) {
			sch_id_hex(hex, &heads.v[i]);
			json_array_append_new(h, json_string(hex));
		}
		json_object_set_new(o, "heads", h);
	}
	json_object_set_new(o, "branch", branch.len ? json_string(branch.ptr)
						    : json_null());
	if (have_head) {
		sch_id_hex(hex, &head);
		json_object_set_new(o, "branch_head", json_string(hex));
	} else {
		json_object_set_new(o, "branch_head", json_null());
	}
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "pending", pending);
	json_object_set_new(o, "extra", extra);
	json_object_set_new(o, "branches", branches);
	json_object_set_new(o, "edited", edited);
	json_object_set_new(o, "uncommitted", uncommitted);
	json_object_set_new(o, "interrupted", ir.len ? json_string(ir.ptr)
						     : json_null());
	json_object_set_new(o, "interrupted_restore", restore.len
			    ? json_string(restore.ptr) : json_null());
	pending = extra = branches = edited = uncommitted = NULL;
	if (json) {
		char *s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		goto out;
	}
	printf("database: %s (%s)\n", pol.shown[0] ? pol.shown : "libpq defaults",
	       pol.from);
	printf("applied: %zu revision%s", applied.n, applied.n == 1 ? "" : "s");
	if (!heads.n)
		printf(" (base)\n");
	else {
		printf(", head%s", heads.n > 1 ? "s" : "");
		for (size_t i = 0; i < heads.n; i++) {
			char *name = sch_wt_dir_name(ctx->txn, &heads.v[i]);
			sch_id_short(hex, &heads.v[i]);
			printf(" %s%s%s%s", hex, name ? " (" : "", name ? name : "",
			       name ? ")" : "");
			free(name);
		}
		putchar('\n');
	}
	if (have_head) {
		sch_id_short(hex, &head);
		printf("branch %s at %s: %s", branch.ptr, hex, state);
		if (npend)
			printf(", %zu pending", npend);
		if (nextra)
			printf(", %zu applied not on the branch", nextra);
		putchar('\n');
		if (npend)
			printf("  run 'schema checkout head' or 'schema migrate "
			       "<env>' to apply\n");
	} else if (branch.len) {
		printf("branch %s has no revision yet\n", branch.ptr);
	}
	if (others.len)
		printf("other branches:\n%s", others.ptr);
	{
		json_t *ed = json_object_get(o, "edited");
		size_t k;
		json_t *v;
		json_array_foreach(ed, k, v)
			printf("edited after commit: %s\n", json_string_value(v));
		ed = json_object_get(o, "uncommitted");
		json_array_foreach(ed, k, v)
			printf("not committed: %s\n", json_string_value(v));
	}
	{
		json_t *d = json_object_get(o, "drift");
		size_t k, nd = json_array_size(d);
		json_t *v;
		if (nd == 1 && !strcmp(json_string_value(json_array_get(d, 0)),
				       "?"))
			printf("drift: the live state %.12s differs from the "
			       "recorded %.12s (not in this repository)\n",
			       json_string_value(json_object_get(o, "live_state")),
			       json_string_value(json_object_get(o,
							"recorded_state")));
		else if (nd) {
			printf("drift: %zu object%s changed:", nd,
			       nd == 1 ? "" : "s");
			json_array_foreach(d, k, v)
				printf("%s %s", k ? "," : "",
				       json_string_value(v));
			printf("\n  run 'schema diff' to see the differences\n");
		}
	}
	if (ir.len)
		printf("interrupted: a statement-by-statement %s step of %.12s "
		       "stopped midway; rerun the checkout to resume it\n",
		       idir.ptr, ir.ptr);
	if (restore.len)
		printf("interrupted: a restore of snapshot %.12s stopped "
		       "midway; run 'schema restore %.12s --force' to complete "
		       "it\n", restore.ptr, restore.ptr);
out:
	json_decref(o);
	if (pending)
		json_decref(pending);
	if (extra)
		json_decref(extra);
	if (branches)
		json_decref(branches);
	if (edited)
		json_decref(edited);
	if (uncommitted)
		json_decref(uncommitted);
	free(A);
	free(C);
	sch_idlist_release(&heads);
	sch_graph_release(&g);
	sch_applied_set_release(&applied);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	sch_buf_release(&branch);
	sch_buf_release(&others);
	sch_buf_release(&ir);
	sch_buf_release(&idir);
	sch_buf_release(&restore);
	return rc;
}
