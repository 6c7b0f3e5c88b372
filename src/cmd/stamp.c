/* stamp.c - record revisions as applied (or not) without running them. */
#include <sodium.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/plan.h"
#include "schema/registry.h"
#include "schema/sign.h"
#include "schema/revspec.h"
#include "schema/target.h"

SCH_CMD(stamp)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *env = NULL;
	int yes = 0, c, rc;
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
	rc = sch_target_confirm(&pol, yes, "stamp");
	if (!rc)
		rc = sch_reg_ensure(&reg);
	if (rc)
		goto out;
	stmts = xcalloc(plan.ndown + plan.nup + 1, sizeof(*stmts));
	rs = xcalloc(plan.ndown + plan.nup + 1, sizeof(*rs));
	bufs = xcalloc(3 * plan.nup + 1, sizeof(*bufs));
	own = xcalloc(2 * plan.nup + 1, sizeof(*own));
	detail = json_object();
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
		printf("stamped: %zu recorded as applied, %zu removed\n", plan.nup,
		       plan.ndown);
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
