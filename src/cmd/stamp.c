/* stamp.c - record revisions as applied (or not) without running them. */
#include <sodium.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/catalog.h"
#include "schema/worktree.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/plan.h"
#include "schema/registry.h"
#include "schema/scratch.h"
#include "schema/sign.h"
#include "schema/revspec.h"
#include "schema/statediff.h"
#include "schema/target.h"
#include "schema/ui.h"

/* How the live state compared with the state of what is stamped. */
enum verdict { V_MATCH, V_MISMATCH, V_UNKNOWN };

/*
 * The state the stamped set should have: the one recorded in the store
 * for its head on this server's major, else (several heads, or none
 * recorded) the one the scratch database reaches, when the checks are on
 * and it runs the same major. Returns 1 with *out (and its text into
 * text when the store or the scratch database has it), 0 when there is
 * none, or an error of the scratch database.
 */
static int expected_state(struct sch_id *out, struct sch_buf *text,
			  struct sch_ctx *ctx, const struct sch_idlist *heads,
			  int major, struct sch_buf *why)
{
	struct sch_scratch sc;
	int on = 0, rc;

	if (heads->n == 1 &&
	    sch_state_lookup(out, ctx->txn, &heads->v[0], major) == 1) {
		if (sch_object_get_typed(text, ctx->txn, out, SCH_OBJ_STATE))
			sch_buf_reset(text);
		return 1;
	}
	rc = sch_scratch_enabled(&on, &ctx->config);
	if (rc)
		return rc;
	if (!on) {
		sch_buf_addf(why, "no state is recorded for %s on PostgreSQL "
			     "%d and the scratch checks are off",
			     heads->n == 1 ? "it" : "these heads together",
			     major);
		return 0;
	}
	rc = sch_scratch_open(&sc, &ctx->config, ctx->repo);
	if (!rc && sch_pg_server_major(sc.pg) != major) {
		sch_buf_addf(why, "no state is recorded for PostgreSQL %d, and "
			     "the scratch server runs %d", major,
			     sch_pg_server_major(sc.pg));
		sch_scratch_close(&sc);
		return 0;
	}
	if (!rc)
		rc = sch_scratch_apply(&sc, ctx->txn, heads, SCH_PLAN_CHECKOUT);
	if (!rc)
		rc = sch_scratch_state(&sc, out, text, NULL);
	sch_scratch_close(&sc);
	if (rc)
		return sch_error_wrap(rc, "cannot compute the state to compare "
				      "the database with");
	return 1;
}

/*
 * Compares the live state of pg with the state of the set the plan
 * leaves recorded (the closure of targets). *v says how it went; the
 * live and expected ids go into the event's detail. On a mismatch or an
 * unknown state, without force, returns SCH_ECHECK with the differing
 * lines; with force, warns and returns 0.
 */
static int verify_state(enum verdict *v, json_t *detail, struct sch_ctx *ctx,
			struct sch_pg *pg, const struct sch_graph *g,
			const struct sch_idlist *targets, int force)
{
	struct sch_catalog_opts co;
	struct sch_idlist heads = { 0 };
	struct sch_buf live_text = SCH_BUF_INIT, exp_text = SCH_BUF_INIT,
		       why = SCH_BUF_INIT, diff = SCH_BUF_INIT, what = SCH_BUF_INIT;
	struct sch_strlist changed = { 0 };
	struct sch_id live, exp;
	uint32_t *idx = xmalloc((targets->n + 1) * sizeof(uint32_t));
	uint8_t *set;
	char hex[SCH_HEX_LEN + 1];
	int major = sch_pg_server_major(pg), rc, have;

	for (size_t i = 0; i < targets->n; i++)
		idx[i] = (uint32_t)sch_graph_find(g, &targets->v[i]);
	set = sch_graph_ancestors(g, idx, targets->n, 1);
	sch_plan_set_heads(&heads, g, set);
	for (size_t i = 0; i < heads.n; i++) {
		char sh[SCH_SHORT_LEN + 1];
		char *dir = sch_wt_dir_name(ctx->txn, &heads.v[i]);
		sch_id_short(sh, &heads.v[i]);
		sch_buf_addf(&what, "%s%s", i ? ", " : "", dir ? dir : sh);
		free(dir);
	}
	sch_catalog_opts_config(&co, &ctx->config);
	rc = sch_catalog_state(&live, &live_text, NULL, pg, &co);
	if (rc)
		goto out;
	sch_id_hex(hex, &live);
	json_object_set_new(detail, "live_state", json_string(hex));
	have = expected_state(&exp, &exp_text, ctx, &heads, major, &why);
	if (have < 0) {
		rc = have;
		goto out;
	}
	if (have) {
		sch_id_hex(hex, &exp);
		json_object_set_new(detail, "expected_state", json_string(hex));
	} else {
		json_object_set_new(detail, "expected_state", json_null());
	}
	*v = !have ? V_UNKNOWN : sch_id_cmp(&exp, &live) ? V_MISMATCH : V_MATCH;
	json_object_set_new(detail, "verified", json_boolean(*v == V_MATCH));
	json_object_set_new(detail, "forced", json_boolean(force && *v != V_MATCH));
	if (*v == V_MATCH)
		goto out;
	if (*v == V_MISMATCH && exp_text.len) {
		sch_statediff(&diff, &changed, exp_text.ptr, exp_text.len,
			      live_text.ptr, live_text.len, 1);
		sch_statediff_clip(&diff, 20);
		while (diff.len && diff.ptr[diff.len - 1] == '\n')
			sch_buf_truncate(&diff, diff.len - 1);
	}
	if (force) {
		if (*v == V_MISMATCH)
			sch_ui_warn("the database does not match the state of %s; "
				    "stamped anyway (--force)", what.ptr);
		else
			sch_ui_warn("the database cannot be compared with %s: "
				    "%s; stamped anyway (--force)", what.ptr,
				    why.ptr);
		goto out;
	}
	if (*v == V_UNKNOWN) {
		rc = sch_error_set(SCH_ECHECK, "cannot verify that the database "
				   "matches %s: %s", what.ptr, why.ptr);
		sch_error_hint("turn the scratch checks on (SCHEMA_CHECK=1), or "
			       "pass --force to stamp without comparing");
		goto out;
	}
	{
		struct sch_buf names = SCH_BUF_INIT;
		if (changed.n)
			sch_strlist_join(&names, &changed, 5);
		rc = sch_error_set(SCH_ECHECK, "the database does not match the "
				   "state of %s%s%s%s%s", what.ptr,
				   names.len ? ": " : "", names.ptr,
				   diff.len ? ":\n" : "", diff.ptr);
		sch_buf_release(&names);
	}
	sch_error_hint("stamp the revisions the database matches, or pass "
		       "--force to record these anyway");
out:
	free(idx);
	free(set);
	sch_idlist_release(&heads);
	sch_strlist_release(&changed);
	sch_buf_release(&live_text);
	sch_buf_release(&exp_text);
	sch_buf_release(&why);
	sch_buf_release(&diff);
	sch_buf_release(&what);
	return rc;
}

SCH_CMD(stamp)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "yes", no_argument, NULL, 'y' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *env = NULL;
	int yes = 0, force = 0, c, rc;
	enum verdict verdict = V_UNKNOWN;
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_reg reg;
	struct sch_applied_set applied = { 0 };
	struct sch_idlist targets = { 0 };
	struct sch_graph g;
	struct sch_plan plan = { 0 };
	char *actor = NULL;
	json_t *detail = NULL, *added, *removed;
	size_t nst = 0;
	struct sch_pg_stmt *stmts = NULL;
	struct sch_reg_stmt *rs = NULL;
	struct sch_buf *bufs = NULL;
	char **own = NULL;
	size_t nown = 0;

	memset(&pol, 0, sizeof(pol));
	memset(&reg, 0, sizeof(reg));
	sch_graph_init(&g, ctx->txn);
	optind = 0;
	while ((c = getopt_long(argc, argv, ":y", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'e': env = optarg; break;
		case 'y': yes = 1; break;
		case 'f': force = 1; break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (optind == argc)
		return sch_error_set(SCH_EUSAGE, "usage: schema stamp <spec>... "
				     "(base: nothing applied)");
	rc = sch_target_policy(&pol, &ctx->config, env, url);
	if (!rc)
		rc = sch_target_connect(&pg, &pol);
	if (rc)
		goto out;
	sch_reg_init(&reg, pg, sch_config_get(&ctx->config, "core.registry"));
	{
		struct sch_key k;
		if (sch_cmd_operator_key(&k, ctx))
			sch_reg_set_signer(&reg, &k);
		sodium_memzero(&k, sizeof(k));
	}
	actor = sch_reg_actor(&reg);
	rc = sch_reg_lock(&reg, 60000);
	if (!rc)
		rc = sch_reg_load(&reg, &applied, 0);
	for (int i = optind; i < argc && !rc; i++)
		rc = sch_revspec_resolve(&targets, ctx->txn, argv[i], NULL, NULL);
	if (!rc)
		rc = sch_plan_graph(&g, ctx->txn, &applied, &targets);
	if (!rc)
		rc = sch_plan_make(&plan, &g, &applied, &targets, SCH_PLAN_CHECKOUT);
	if (rc)
		goto out;
	if (!plan.ndown && !plan.nup) {
		printf("already stamped so: nothing to do\n");
		goto out;
	}
	/* What is stamped must be what the database is, unless --force:
	 * base records nothing applied and is not compared. */
	detail = json_object();
	if (targets.n) {
		rc = verify_state(&verdict, detail, ctx, pg, &g, &targets, force);
		if (rc)
			goto out;
	}
	rc = sch_cmd_confirm(&pol, yes, "stamp");
	if (!rc)
		rc = sch_reg_ensure(&reg);
	if (rc)
		goto out;
	stmts = xcalloc(plan.ndown + plan.nup + 1, sizeof(*stmts));
	rs = xcalloc(plan.ndown + plan.nup + 1, sizeof(*rs));
	bufs = xcalloc(3 * plan.nup + 1, sizeof(*bufs));
	own = xcalloc(2 * plan.nup + 1, sizeof(*own));
	added = json_array();
	removed = json_array();
	for (size_t i = 0; i < plan.ndown; i++) {
		char hex[SCH_HEX_LEN + 1];
		const struct sch_gnode *nd = &g.nodes[plan.down[i]];
		sch_reg_stmt_unapplied(&rs[nst], &reg, &nd->id);
		sch_id_hex(hex, &nd->id);
		json_array_append_new(removed, json_string(hex));
		stmts[nst].sql = rs[nst].sql.ptr;
		stmts[nst].nparams = rs[nst].nparams;
		stmts[nst].params = rs[nst].params;
		stmts[nst].expect = SCH_PG_COMMAND;
		nst++;
	}
	for (size_t i = 0; i < plan.nup && !rc; i++) {
		const struct sch_gnode *nd = &g.nodes[plan.up[i]];
		struct sch_buf *up = &bufs[3 * i], *down = up + 1, *ver = up + 2;
		char hex[SCH_HEX_LEN + 1];
		struct sch_buf body = SCH_BUF_INIT;
		rc = sch_object_get_typed(up, ctx->txn, &nd->rev.up, SCH_OBJ_BLOB);
		if (!rc)
			rc = sch_object_get_typed(down, ctx->txn, &nd->rev.down,
						  SCH_OBJ_BLOB);
		if (!rc && nd->rev.has_verify)
			rc = sch_object_get_typed(ver, ctx->txn, &nd->rev.verify,
						  SCH_OBJ_BLOB);
		if (rc)
			break;
		sch_rev_format(&body, &nd->rev);
		own[nown++] = sch_buf_detach(&body, NULL);
		own[nown++] = sch_rev_parents_array(&nd->rev);
		sch_reg_stmt_applied(&rs[nst], &reg, &nd->id, own[nown - 2],
				     up->ptr, down->ptr,
				     nd->rev.has_verify ? ver->ptr : NULL,
				     own[nown - 1]);
		sch_id_hex(hex, &nd->id);
		json_array_append_new(added, json_string(hex));
		stmts[nst].sql = rs[nst].sql.ptr;
		stmts[nst].nparams = rs[nst].nparams;
		stmts[nst].params = rs[nst].params;
		stmts[nst].expect = SCH_PG_COMMAND;
		nst++;
	}
	json_object_set_new(detail, "added", added);
	json_object_set_new(detail, "removed", removed);
	if (rc)
		goto out;
	{
		char *d = json_dumps(detail, JSON_SORT_KEYS);
		sch_reg_stmt_event(&rs[nst], &reg, actor, "stamp", NULL, d);
		own = xrealloc(own, (nown + 1) * sizeof(*own));
		own[nown++] = d;
		stmts[nst].sql = rs[nst].sql.ptr;
		stmts[nst].nparams = rs[nst].nparams;
		stmts[nst].params = rs[nst].params;
		stmts[nst].expect = SCH_PG_COMMAND;
		nst++;
	}
	rc = sch_pg_batch(pg, stmts, nst);
	if (!rc)
		printf("stamped: %zu recorded as applied, %zu removed%s\n",
		       plan.nup, plan.ndown,
		       !targets.n ? ""
		       : verdict == V_MATCH ? " (the database matches their state)"
					    : " (unverified: --force)");
out:
	if (detail)
		json_decref(detail);
	for (size_t i = 0; rs && i < plan.ndown + plan.nup + 1; i++)
		sch_reg_stmt_release(&rs[i]);
	free(rs);
	for (size_t i = 0; bufs && i < 3 * plan.nup; i++)
		sch_buf_release(&bufs[i]);
	free(bufs);
	for (size_t i = 0; i < nown; i++)
		free(own[i]);
	free(own);
	free(stmts);
	free(actor);
	sch_plan_release(&plan);
	sch_graph_release(&g);
	sch_idlist_release(&targets);
	sch_applied_set_release(&applied);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	return rc;
}
