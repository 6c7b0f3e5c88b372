/* audit.c - the registry's events, with their hash chain verified. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/registry.h"
#include "schema/target.h"
#include "schema/ui.h"

SCH_CMD(audit)
{
	struct sch_target_args ta;
	const char *url = NULL, *env = NULL;
	int json = 0, rc;
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_reg reg;
	struct sch_event_list ev = { 0 };
	json_t *arr = NULL;

	memset(&pol, 0, sizeof(pol));
	memset(&reg, 0, sizeof(reg));
	rc = sch_cmd_target_args(&ta, argc, argv, ctx->verb, 0);
	if (rc)
		return rc;
	url = ta.url;
	env = ta.env;
	json = ta.json;
	rc = sch_target_policy(&pol, &ctx->config, env, url);
	if (!rc)
		rc = sch_target_connect(&pg, &pol);
	if (rc)
		goto out;
	sch_reg_init(&reg, pg, sch_config_get(&ctx->config, "core.registry"));
	rc = sch_reg_events(&reg, &ev);
	if (rc)
		goto out;
	if (json)
		arr = json_array();
	for (size_t i = 0; i < ev.n; i++) {
		struct sch_event *e = &ev.v[i];
		const char *mark = e->hash_ok && e->link_ok ? "" :
			!e->hash_ok ? "  << ALTERED: hash does not match the row" :
			"  << BROKEN CHAIN: a row before it was removed or altered";
		if (arr) {
			json_t *o = json_object();
			json_object_set_new(o, "seq", json_integer(e->seq));
			json_object_set_new(o, "at", json_string(e->at));
			json_object_set_new(o, "actor", json_string(e->actor));
			json_object_set_new(o, "action", json_string(e->action));
			json_object_set_new(o, "revision", e->revision
					    ? json_string(e->revision) : json_null());
			json_object_set_new(o, "detail", json_string(e->detail));
			json_object_set_new(o, "hash", json_string(e->hash));
			json_object_set_new(o, "verified",
					    json_boolean(e->hash_ok && e->link_ok));
			json_array_append_new(arr, o);
			continue;
		}
		printf("%4ld %s %-8s %-12.12s %s  %.60s%s%s\n", e->seq, e->at,
		       e->action, e->revision ? e->revision : "-", e->actor,
		       e->detail, strlen(e->detail) > 60 ? "..." : "", mark);
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
	if (ev.broken) {
		fprintf(stderr, "schema: audit: %zu event%s fail%s verification: "
			"the registry was edited outside schema\n", ev.broken,
			ev.broken == 1 ? "" : "s", ev.broken == 1 ? "s" : "");
		rc = 1;
	} else if (!json) {
		fprintf(stderr, "%zu events, hash chain verified\n", ev.n);
	}
out:
	if (arr)
		json_decref(arr);
	sch_event_list_release(&ev);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	return rc;
}
