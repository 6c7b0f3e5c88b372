/* audit.c - the registry's events, with their hash chain verified. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/registry.h"
#include "schema/sign.h"
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
	struct sch_trusted tr = { 0 };
	size_t nsigned = 0, nuntrusted = 0;

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
	rc = sch_trusted_load(&tr, ctx->repo);
	if (!rc)
		rc = sch_reg_events(&reg, &ev);
	if (rc)
		goto out;
	if (json)
		arr = json_array();
	for (size_t i = 0; i < ev.n; i++) {
		struct sch_event *e = &ev.v[i];
		const struct sch_key *tk = e->sig_state > 0
			? sch_trusted_find(&tr, e->sig_pk) : NULL;
		char fpr[SCH_FPR_LEN + 1] = "";
		const char *mark = e->hash_ok && e->link_ok ? "" :
			!e->hash_ok ? "  << ALTERED: hash does not match the row" :
			"  << BROKEN CHAIN: a row before it was removed or altered";
		if (e->sig_state)
			sch_key_fingerprint(fpr, e->sig_pk);
		if (e->sig_state < 0 && !*mark)
			mark = "  << BAD SIGNATURE: the row was altered or forged";
		else if (e->sig_state > 0 && !tk && !*mark) {
			mark = "  << UNTRUSTED SIGNER: key not in trusted_keys";
			nuntrusted++;
		}
		nsigned += e->sig_state != 0;
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
					    json_boolean(e->hash_ok && e->link_ok &&
							 e->sig_state >= 0 &&
							 (!e->sig_state || tk)));
			json_object_set_new(o, "signature", !e->sig_state ? json_null()
					    : json_string(e->sig_state < 0 ? "BAD"
							  : tk ? "good" : "untrusted"));
			if (e->sig_state)
				json_object_set_new(o, "signer", json_string(
						    tk ? tk->name : fpr));
			json_array_append_new(arr, o);
			continue;
		}
		printf("%4ld %s %-8s %-12.12s %s  %.60s%s%s\n", e->seq, e->at,
		       e->action, e->revision ? e->revision : "-", e->actor,
		       e->detail, strlen(e->detail) > 60 ? "..." : "", mark);
		if (tk)
			printf("     signed by %s (%s): good\n", tk->name, fpr);
		else if (e->sig_state)
			printf("     signed by ? (%s): %s\n", fpr,
			       e->sig_state < 0 ? "BAD" : "untrusted");
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
	if (nuntrusted) {
		fprintf(stderr, "schema: audit: %zu event%s signed by a key not in "
			"%s/trusted_keys\n", nuntrusted, nuntrusted == 1 ? " is" :
			"s are", ctx->repo);
		rc = 1;
	}
	if (ev.broken) {
		fprintf(stderr, "schema: audit: %zu event%s fail%s verification: "
			"the registry was edited outside schema\n", ev.broken,
			ev.broken == 1 ? "" : "s", ev.broken == 1 ? "s" : "");
		rc = 1;
	} else if (!json && !nuntrusted) {
		fprintf(stderr, "%zu events, hash chain verified, %zu signed "
			"event%s verified\n", ev.n, nsigned, nsigned == 1 ? "" : "s");
	}
out:
	sch_trusted_release(&tr);
	if (arr)
		json_decref(arr);
	sch_event_list_release(&ev);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	return rc;
}
