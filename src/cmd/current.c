/* current.c - the revisions a database has applied (its heads). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/worktree.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/plan.h"
#include "schema/registry.h"
#include "schema/target.h"
#include "schema/ui.h"


SCH_CMD(current)
{
	struct sch_target_args ta;
	const char *url = NULL, *env = NULL;
	int json = 0, full = 0, rc;
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_reg reg;
	struct sch_applied_set applied;
	struct sch_graph g;
	struct sch_idlist none = { 0 }, heads = { 0 };
	uint8_t *set = NULL;
	json_t *arr = NULL;

	sch_graph_init(&g, ctx->txn);
	memset(&pol, 0, sizeof(pol));
	rc = sch_cmd_target_args(&ta, argc, argv, ctx->verb, SCH_ARGS_FULL);
	if (rc)
		return rc;
	url = ta.url;
	env = ta.env;
	json = ta.json;
	full = ta.full;
	rc = sch_target_read(&ctx->config, url, env, &pol, &pg, &reg, &applied, 0);
	if (!rc)
		rc = sch_plan_graph(&g, ctx->txn, &applied, &none);
	if (rc)
		goto out;
	set = sch_plan_applied_mark(&g, &applied);
	sch_plan_set_heads(&heads, &g, set);
	if (json)
		arr = json_array();
	for (size_t i = 0; i < heads.n; i++) {
		const struct sch_gnode *nd = &g.nodes[sch_graph_find(&g, &heads.v[i])];
		struct sch_buf subj = SCH_BUF_INIT;
		char hex[SCH_HEX_LEN + 1];
		char *name = sch_wt_dir_name(ctx->txn, &nd->id);
		sch_rev_subject(&subj, &nd->rev);
		if (json) {
			json_t *o = json_object();
			sch_id_hex(hex, &nd->id);
			json_object_set_new(o, "id", json_string(hex));
			json_object_set_new(o, "name", name ? json_string(name)
							    : json_null());
			json_object_set_new(o, "subject", json_string(subj.ptr));
			json_array_append_new(arr, o);
		} else {
			if (full)
				sch_id_hex(hex, &nd->id);
			else
				sch_id_short(hex, &nd->id);
			printf("%s %s  %s\n", hex, name ? name : "-", subj.ptr);
		}
		free(name);
		sch_buf_release(&subj);
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	} else if (!heads.n) {
		printf("base (nothing applied)\n");
	}
out:
	if (arr)
		json_decref(arr);
	free(set);
	sch_idlist_release(&heads);
	sch_graph_release(&g);
	sch_applied_set_release(&applied);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	return rc;
}
