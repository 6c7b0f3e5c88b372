/* show.c - a revision's header lines, state, message and scripts. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/refs.h"
#include "schema/revision.h"
#include "schema/revspec.h"
#include "schema/sign.h"
#include "schema/ui.h"

/* The state recorded for a revision on any server version, or 0. */
static int find_state(struct sch_id *out, struct sch_txn *t,
		      const struct sch_id *rev)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc, found = 0;

	if (sch_cursor_open(&c, t, SCH_DB_STATES))
		return 0;
	for (rc = sch_cursor_seek(c, rev->b, SCH_ID_LEN, &k, &kl, &v, &vl);
	     rc == 1; rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl < SCH_ID_LEN || memcmp(k, rev->b, SCH_ID_LEN))
			break;
		if (vl == SCH_ID_LEN) {
			memcpy(out->b, v, SCH_ID_LEN);
			found = 1;
		}
	}
	sch_cursor_close(c);
	return found;
}

static int show_blob(struct sch_txn *t, const char *name,
		     const struct sch_id *id, json_t *o)
{
	struct sch_buf b = SCH_BUF_INIT;
	int rc = sch_object_get_typed(&b, t, id, SCH_OBJ_BLOB);

	if (rc)
		return rc;
	if (o) {
		json_object_set_new(o, name, json_stringn(b.ptr, b.len));
	} else {
		printf("\n--- %s\n", name);
		fwrite(b.ptr, 1, b.len, stdout);
		if (b.len && b.ptr[b.len - 1] != '\n')
			putchar('\n');
	}
	sch_buf_release(&b);
	return 0;
}

SCH_CMD(show)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-scripts", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, scripts = 1, c, rc = 0;
	struct sch_rev r;
	struct sch_buf body = SCH_BUF_INIT, deco = SCH_BUF_INIT;
	struct sch_id id, state;
	char hex[SCH_HEX_LEN + 1];
	const char *spec = "head";
	json_t *o = NULL;
	struct sch_trusted tr = { 0 };

	sch_rev_init(&r);
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': scripts = 0; break;
		default:
			rc = sch_cmd_optfail(c, argv, ctx->verb, opts);
			goto out;
		}
	}
	if (argc - optind > 1) {
		rc = sch_error_set(SCH_EUSAGE, "show takes one revision");
		goto out;
	}
	if (optind < argc)
		spec = argv[optind];
	rc = sch_revspec_one(&id, ctx->txn, spec);
	if (rc)
		goto out;
	rc = sch_object_get_typed(&body, ctx->txn, &id, SCH_OBJ_REV);
	if (!rc) {
		sch_rev_release(&r);
		rc = sch_rev_load(&r, ctx->txn, &id);
	}
	if (rc)
		goto out;
	rc = sch_trusted_load(&tr, ctx->repo);
	if (rc)
		goto out;
	sch_cmd_decoration(&deco, ctx->txn, &id);
	sch_id_hex(hex, &id);
	if (json) {
		o = sch_rev_json(&id, &r, deco.len ? deco.ptr : NULL);
		if (find_state(&state, ctx->txn, &id)) {
			sch_id_hex(hex, &state);
			json_object_set_new(o, "state", json_string(hex));
		}
		rc = sch_cmd_sigs_json(o, ctx->txn, &tr, &id);
		if (rc)
			goto out;
	} else {
		const char *msg_start = strstr(body.ptr, "\n\n");
		size_t hlen = msg_start ? (size_t)(msg_start - body.ptr) + 1
					: body.len;
		printf("%srevision %s%s", sch_ui_c(stdout, "\033[33m"), hex,
		       sch_ui_c(stdout, "\033[0m"));
		if (deco.len)
			printf(" (%s)", deco.ptr);
		putchar('\n');
		fwrite(body.ptr, 1, hlen, stdout);
		if (find_state(&state, ctx->txn, &id)) {
			sch_id_hex(hex, &state);
			printf("state %s\n", hex);
		}
		rc = sch_cmd_print_sigs("", ctx->txn, &tr, &id, NULL);
		if (rc >= 0) {
			/* A tag named as the spec: its own signatures. */
			struct sch_buf tref = SCH_BUF_INIT, pre = SCH_BUF_INIT;
			struct sch_id tid;
			sch_buf_addf(&tref, "tags/%s", spec);
			if (!sch_ref_read(&tid, ctx->txn, tref.ptr) &&
			    !sch_id_cmp(&tid, &id)) {
				sch_buf_addf(&pre, "tag %s ", spec);
				rc = sch_cmd_print_sigs(pre.ptr, ctx->txn, &tr, &id,
							spec);
			}
			sch_buf_release(&tref);
			sch_buf_release(&pre);
		}
		if (rc < 0)
			goto out;
		rc = 0;
		putchar('\n');
		for (const char *m = r.message, *nl; *m; m = nl + 1) {
			nl = strchr(m, '\n');
			if (!nl) {
				printf("    %s\n", m);
				break;
			}
			printf("    %.*s\n", (int)(nl - m), m);
		}
	}
	if (scripts) {
		rc = show_blob(ctx->txn, "up.sql", &r.up, o);
		if (!rc)
			rc = show_blob(ctx->txn, "down.sql", &r.down, o);
		if (!rc && r.has_verify)
			rc = show_blob(ctx->txn, "verify.sql", &r.verify, o);
		if (rc)
			goto out;
	}
	if (o) {
		char *s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
out:
	sch_trusted_release(&tr);
	if (o)
		json_decref(o);
	sch_rev_release(&r);
	sch_buf_release(&body);
	sch_buf_release(&deco);
	return rc;
}
