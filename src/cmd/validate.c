/* validate.c - check the whole history: scripts parse, every revision
 * applies up and down on the scratch database and comes back to its
 * parents' state, recorded states match, committed directories are
 * unmodified, and (given a database) its registry rows match the
 * revisions they name and its schema has not drifted. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/registry.h"
#include "schema/catalog.h"
#include "schema/revspec.h"
#include "schema/scratch.h"
#include "schema/statediff.h"
#include "schema/sqlparse.h"
#include "schema/target.h"
#include "schema/worktree.h"

struct problems {
	json_t *arr;
	size_t n;
	int json;
};

/* A problem; diff (may be NULL) is a unified text shown below it,
 * indented, and as "diff" in JSON. */
static void problem_diff(struct problems *p, const char *what,
			 const char *where, const char *msg, const char *diff)
{
	json_t *o = json_object();

	json_object_set_new(o, "check", json_string(what));
	json_object_set_new(o, "where", json_string(where));
	json_object_set_new(o, "message", json_string(msg));
	if (diff && *diff)
		json_object_set_new(o, "diff", json_string(diff));
	json_array_append_new(p->arr, o);
	p->n++;
	if (p->json)
		return;
	printf("%s: %s: %s\n", what, where, msg);
	for (const char *l = diff; l && *l;) {
		const char *nl = strchr(l, '\n');
		int n = nl ? (int)(nl - l) : (int)strlen(l);
		printf("    %.*s\n", n, l);
		l = nl ? nl + 1 : l + n;
	}
}

static void problem(struct problems *p, const char *what, const char *where,
		    const char *msg)
{
	problem_diff(p, what, where, msg, NULL);
}

static void check_script(struct problems *p, struct sch_txn *t,
			 const struct sch_id *blob, const char *name,
			 const char *file)
{
	struct sch_buf b = SCH_BUF_INIT;
	char *where = xasprintf("%s/%s", name, file);

	if (sch_object_get_typed(&b, t, blob, SCH_OBJ_BLOB))
		problem(p, "store", where, sch_error_msg());
	else if (sch_sql_check(where, b.ptr, b.len))
		problem(p, "syntax", where, sch_error_msg());
	free(where);
	sch_buf_release(&b);
}

/*
 * Every revision, parents first, up and down on the scratch database:
 * it applies, comes back to its parents' state (unless flagged
 * irreversible), reaches the state recorded for it, and a merge's sides
 * reach one state in either order. Returns 0 or a scratch database error
 * (problems are recorded, not returned).
 */
static int check_states(struct problems *p, struct sch_ctx *ctx,
			struct sch_graph *g, const uint8_t *current,
			int strict_columns, size_t *nchecked)
{
	struct sch_scratch s;
	uint32_t *order = NULL;
	size_t n;
	int rc = sch_scratch_open(&s, &ctx->config, ctx->repo);

	if (rc) {
		sch_scratch_close(&s);
		return rc;
	}
	n = sch_graph_topo(g, current, 0, &order);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct sch_gnode *nd = &g->nodes[order[i]];
		struct sch_revcheck c;
		struct sch_mergecheck mc;
		struct sch_buf msg = SCH_BUF_INIT;
		struct sch_id rec;
		char sh[SCH_SHORT_LEN + 1];
		char *dir = sch_wt_dir_name(ctx->txn, &nd->id);
		const char *where;
		int merged = 0;

		sch_id_short(sh, &nd->id);
		where = dir ? dir : sh;
		if (nd->rev.nparents == 2) {
			rc = sch_scratch_mergecheck(&mc, &s, ctx->txn,
						    &nd->rev.parents[0],
						    &nd->rev.parents[1], &nd->id);
			if (rc)
				goto next;
			merged = 1;
			if (mc.failed) {
				problem(p, "merge", where, mc.why.ptr);
			} else if (mc.differ) {
				sch_buf_addstr(&msg, "the two orders of its sides "
					       "and its script end in different "
					       "states: ");
				sch_strlist_join(&msg, &mc.orders, 5);
				problem(p, "merge", where, msg.ptr);
			}
		}
		rc = sch_scratch_revcheck(&c, &s, ctx->txn, &nd->id);
		if (rc == SCH_ECHECK) {
			problem(p, "apply", where, sch_error_msg());
			rc = 0;
			goto next;
		}
		if (rc)
			goto next;
		(*nchecked)++;
		if (!c.reversible && merged &&
		    (!sch_id_cmp(&c.back, &mc.pre[0]) ||
		     !sch_id_cmp(&c.back, &mc.pre[1])))
			c.reversible = 1;
		if (!c.reversible && c.column_order && !strict_columns &&
		    !sch_rev_has_flag(&nd->rev, "irreversible")) {
			fprintf(stderr, "schema: warning: %s: after up.sql and "
				"down.sql only the order of columns differs "
				"from the parent's state: %s\n", where,
				c.orders.ptr);
		} else if (!c.reversible && c.column_order &&
			   !sch_rev_has_flag(&nd->rev, "irreversible")) {
			sch_buf_reset(&msg);
			sch_buf_addf(&msg, "down.sql brings back the parent's "
				     "state but for the order of columns: %s",
				     c.orders.ptr);
			problem(p, "column-order", where, msg.ptr);
		} else if (!c.reversible &&
			   !sch_rev_has_flag(&nd->rev, "irreversible")) {
			sch_buf_reset(&msg);
			sch_buf_addstr(&msg, "down.sql does not bring back the "
				       "parent's state: ");
			sch_strlist_join(&msg, &c.differ, 5);
			sch_statediff_clip(&c.diff, 20);
			problem_diff(p, "reversible", where, msg.ptr,
				     c.diff.ptr);
		}
		if (sch_state_lookup(&rec, ctx->txn, &nd->id,
				     sch_pg_server_major(s.pg)) == 1 &&
		    sch_id_cmp(&rec, &c.after)) {
			char a[SCH_SHORT_LEN + 1], b[SCH_SHORT_LEN + 1];
			sch_id_short(a, &rec);
			sch_id_short(b, &c.after);
			sch_buf_reset(&msg);
			sch_buf_addf(&msg, "recorded state %s, recomputed %s", a,
				     b);
			problem(p, "state", where, msg.ptr);
		}
		sch_revcheck_release(&c);
next:
		if (merged)
			sch_mergecheck_release(&mc);
		sch_buf_release(&msg);
		free(dir);
	}
	free(order);
	sch_scratch_close(&s);
	return rc;
}

/* The live database's state against the one recorded for its heads. */
static int check_drift(struct problems *p, struct sch_ctx *ctx,
		       struct sch_pg *pg, struct sch_reg *reg,
		       const struct sch_applied_set *applied)
{
	struct sch_idlist heads = { 0 };
	struct sch_id rec, live;
	struct sch_buf msg = SCH_BUF_INIT;
	struct sch_strlist changed = { 0 };
	int rc = sch_cmd_applied_heads(&heads, ctx, applied);

	if (!rc && heads.n)
		rc = sch_cmd_drift(&changed, &rec, &live, ctx, reg, &heads);
	if (rc == 1 && sch_id_cmp(&live, &rec)) {
		sch_buf_addstr(&msg, "the database differs from the state "
			       "recorded for its revisions");
		if (changed.n) {
			sch_buf_addstr(&msg, ": ");
			sch_strlist_join(&msg, &changed, 5);
		}
		problem(p, "drift", sch_pg_dbname(pg), msg.ptr);
	}
	sch_idlist_release(&heads);
	sch_strlist_release(&changed);
	sch_buf_release(&msg);
	return rc < 0 ? rc : 0;
}

SCH_CMD(validate)
{
	struct sch_target_args ta;
	const char *url = NULL, *env = NULL;
	int json = 0, rc;
	struct problems p = { json_array(), 0, 0 };
	struct sch_graph g;
	struct sch_wt wt;
	size_t nrev = 0, nchecked = 0, nsuperseded = 0;
	uint8_t *current = NULL;
	struct sch_strlist unchecked = { 0 };
	int no_scratch = 0;

	memset(&wt, 0, sizeof(wt));
	sch_graph_init(&g, ctx->txn);
	rc = sch_cmd_target_args(&ta, argc, argv, ctx->verb,
				 SCH_ARGS_NOSTATES | SCH_ARGS_STRICTCOLS);
	if (rc)
		goto out;
	url = ta.url;
	env = ta.env;
	json = ta.json;
	p.json = json;
	/* Every stored revision's scripts parse, but those another revision
	 * supersedes: they are history, not something to apply. */
	rc = sch_graph_add_all(&g);
	if (rc)
		goto out;
	current = xmalloc(g.n + 1);
	memset(current, 1, g.n + 1);
	for (size_t i = 0; i < g.n; i++)
		for (size_t k = 0; k < g.nodes[i].rev.nsupersedes; k++) {
			long old = sch_graph_find(&g,
						  &g.nodes[i].rev.supersedes[k]);
			if (old >= 0)
				current[old] = 0;
		}
	for (size_t i = 0; i < g.n; i++) {
		const struct sch_gnode *nd = &g.nodes[i];
		char sh[SCH_SHORT_LEN + 1];
		char *name;
		if (!current[i]) {
			nsuperseded++;
			continue;
		}
		name = sch_wt_dir_name(ctx->txn, &nd->id);
		sch_id_short(sh, &nd->id);
		check_script(&p, ctx->txn, &nd->rev.up, name ? name : sh, "up.sql");
		check_script(&p, ctx->txn, &nd->rev.down, name ? name : sh,
			     "down.sql");
		if (nd->rev.has_verify)
			check_script(&p, ctx->txn, &nd->rev.verify,
				     name ? name : sh, "verify.sql");
		free(name);
		nrev++;
	}
	/* States, on the scratch database. */
	if (!ta.no_states && g.n) {
		rc = check_states(&p, ctx, &g, current, ta.strict_column_order,
				  &nchecked);
		if (rc == SCH_ENOTFOUND) {
			/* nothing to check on: say what never was */
			sch_cmd_unchecked_warning("states were not checked");
			no_scratch = 1;
			rc = 0;
		}
		if (rc) {
			sch_error_wrap(rc, "cannot check states");
			if (!*sch_error_hint_msg())
				sch_error_hint("validate --no-states skips the "
					       "checks that need the scratch "
					       "cluster");
			goto out;
		}
	}
	/* Revisions no scratch check ever recorded a state for. */
	if (ta.no_states || no_scratch) {
		for (size_t i = 0; i < g.n; i++) {
			struct sch_id rec;
			char sh[SCH_SHORT_LEN + 1];
			char *name;
			if (sch_state_lookup(&rec, ctx->txn, &g.nodes[i].id, -1))
				continue;
			sch_id_short(sh, &g.nodes[i].id);
			name = sch_wt_dir_name(ctx->txn, &g.nodes[i].id);
			sch_strlist_push(&unchecked, name ? name : sh);
			if (no_scratch)
				problem(&p, "unchecked", name ? name : sh,
					"never checked on a scratch database");
			free(name);
		}
		if (ta.no_states && unchecked.n && !json) {
			struct sch_buf l = SCH_BUF_INIT;
			sch_strlist_join(&l, &unchecked, 5);
			fprintf(stderr, "schema: note: %zu revision%s never "
				"checked on a scratch database: %s\n",
				unchecked.n, unchecked.n == 1 ? "" : "s", l.ptr);
			sch_buf_release(&l);
		}
	}
	/* The working tree: parses, and committed directories unmodified. */
	if (sch_wt_load(&wt, ctx->migrations) || sch_wt_resolve(&wt, ctx->txn)) {
		problem(&p, "worktree", ctx->migrations, sch_error_msg());
	} else {
		for (size_t i = 0; i < wt.n; i++) {
			const void *v;
			size_t vl;
			int own;
			if (sch_kv_get(ctx->txn, SCH_DB_WORKTREE, wt.e[i].name,
				       strlen(wt.e[i].name), &v, &vl) == 0) {
				if (sch_wt_edited(ctx->txn, &wt.e[i], &own) && own)
					problem(&p, "edited", wt.e[i].name,
						"changed after it was committed");
			} else {
				problem(&p, "uncommitted", wt.e[i].name,
					"not committed yet");
			}
		}
	}
	/* The database, when one is named. */
	if (url || env || getenv("DATABASE_URL") || getenv("SCHEMA_DB_HOST") ||
	    getenv("SCHEMA_DB_NAME")) {
		struct sch_envpol pol;
		struct sch_pg *pg = NULL;
		struct sch_reg reg;
		struct sch_applied_set applied = { 0 };
		struct sch_event_list ev = { 0 };
		memset(&reg, 0, sizeof(reg));
		rc = sch_target_policy(&pol, &ctx->config, env, url);
		if (!rc)
			rc = sch_target_connect(&pg, &pol);
		if (!rc) {
			sch_reg_init(&reg, pg,
				     sch_config_get(&ctx->config, "core.registry"));
			rc = sch_reg_load(&reg, &applied, 1);
		}
		if (!rc)
			rc = sch_reg_events(&reg, &ev);
		if (!rc) {
			for (size_t i = 0; i < applied.n; i++) {
				char hex[SCH_HEX_LEN + 1];
				sch_id_hex(hex, &applied.v[i].id);
				if (!applied.v[i].body_ok)
					problem(&p, "registry", hex,
						"the applied row does not match "
						"its revision id (edited by hand)");
			}
			if (ev.broken)
				problem(&p, "audit", reg.schema,
					"the events' hash chain does not verify");
			rc = check_drift(&p, ctx, pg, &reg, &applied);
		}
		sch_event_list_release(&ev);
		sch_applied_set_release(&applied);
		sch_reg_release(&reg);
		sch_pg_close(pg);
		sch_target_release(&pol);
		if (rc)
			goto out;
	}
	if (json) {
		json_t *o = json_object();
		char *s;
		json_object_set_new(o, "revisions", json_integer((json_int_t)nrev));
		json_object_set_new(o, "superseded",
				    json_integer((json_int_t)nsuperseded));
		json_object_set_new(o, "states_checked",
				    ta.no_states || no_scratch ? json_null()
						 : json_integer((json_int_t)nchecked));
		if (ta.no_states || no_scratch) {
			json_t *u = json_array();
			for (size_t i = 0; i < unchecked.n; i++)
				json_array_append_new(u, json_string(unchecked.v[i]));
			json_object_set_new(o, "unchecked", u);
		} else {
			json_object_set_new(o, "unchecked", json_array());
		}
		json_object_set_new(o, "ok", json_boolean(p.n == 0));
		json_object_set_new(o, "problems", json_incref(p.arr));
		s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		fprintf(stderr, "validated %zu revisions%s: %zu problem%s",
			nrev, ta.no_states || no_scratch ?
			" (states not checked)" : "",
			p.n, p.n == 1 ? "" : "s");
		if (nsuperseded)
			fprintf(stderr, " (%zu superseded, not checked)",
				nsuperseded);
		fputc('\n', stderr);
	}
	rc = p.n ? 1 : 0;
out:
	sch_strlist_release(&unchecked);
	json_decref(p.arr);
	free(current);
	sch_wt_release(&wt);
	sch_graph_release(&g);
	return rc;
}
