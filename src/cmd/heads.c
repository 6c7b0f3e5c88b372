/* heads.c - revisions that no other revision names as parent. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/revision.h"
#include "schema/ui.h"

SCH_CMD(heads)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, full = 0, c, rc;
	struct sch_id *h = NULL;
	size_t n = 0;
	struct sch_buf subj = SCH_BUF_INIT, deco = SCH_BUF_INIT;
	json_t *arr = NULL;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'F': full = 1; break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "heads takes no arguments");
	rc = sch_graph_heads(ctx->txn, &h, &n);
	if (rc)
		goto out;
	if (json)
		arr = json_array();
	for (size_t i = 0; i < n; i++) {
		struct sch_rev r;
		char hex[SCH_HEX_LEN + 1];
		rc = sch_rev_load(&r, ctx->txn, &h[i]);
		if (rc)
			goto out;
		sch_rev_subject(&subj, &r);
		sch_cmd_decoration(&deco, ctx->txn, &h[i]);
		if (json) {
			json_t *o = json_object();
			sch_id_hex(hex, &h[i]);
			json_object_set_new(o, "id", json_string(hex));
			json_object_set_new(o, "subject", json_string(subj.ptr));
			json_object_set_new(o, "refs", json_string(deco.ptr));
			json_array_append_new(arr, o);
		} else {
			if (full)
				sch_id_hex(hex, &h[i]);
			else
				sch_id_short(hex, &h[i]);
			printf("%s%s%s", sch_ui_c(stdout, "\033[33m"), hex,
			       sch_ui_c(stdout, "\033[0m"));
			if (deco.len)
				printf(" (%s)", deco.ptr);
			printf(" %s\n", subj.ptr);
		}
		sch_rev_release(&r);
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
out:
	if (arr)
		json_decref(arr);
	free(h);
	sch_buf_release(&subj);
	sch_buf_release(&deco);
	return rc;
}
