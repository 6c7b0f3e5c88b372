/* branch.c - list, create and delete branches. */
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
#include "schema/ui.h"

struct list_ctx {
	struct sch_txn *txn;
	const char *current;
	int verbose;
	json_t *arr;
	int seen_current;
};

static int list_cb(const char *name, const struct sch_id *id, void *arg)
{
	struct list_ctx *l = arg;
	const char *b = name + 6;
	int cur = l->current && !strcmp(l->current, b);
	char sh[SCH_SHORT_LEN + 1], hex[SCH_HEX_LEN + 1];

	if (cur)
		l->seen_current = 1;
	if (l->arr) {
		json_t *o = json_object();
		sch_id_hex(hex, id);
		json_object_set_new(o, "name", json_string(b));
		json_object_set_new(o, "id", json_string(hex));
		json_object_set_new(o, "current", json_boolean(cur));
		json_array_append_new(l->arr, o);
		return 0;
	}
	printf("%s%s%s%s", cur ? "* " : "  ",
	       cur ? sch_ui_c(stdout, "\033[32m") : "", b,
	       cur ? sch_ui_c(stdout, "\033[0m") : "");
	if (l->verbose) {
		struct sch_rev r;
		struct sch_buf s = SCH_BUF_INIT;
		sch_id_short(sh, id);
		if (sch_rev_load(&r, l->txn, id) == 0) {
			sch_rev_subject(&s, &r);
			sch_rev_release(&r);
		}
		printf(" %s %s", sh, s.ptr);
		sch_buf_release(&s);
	}
	putchar('\n');
	return 0;
}

SCH_CMD(branch)
{
	static const struct option opts[] = {
		{ "delete", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int del = 0, force = 0, json = 0, verbose = 0, c, rc = 0;
	struct sch_buf cur = SCH_BUF_INIT, ref = SCH_BUF_INIT;
	struct sch_id id;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":dfv", opts, NULL)) != -1) {
		switch (c) {
		case 'd': del = 1; break;
		case 'f': force = 1; break;
		case 'j': json = 1; break;
		case 'v': verbose = 1; break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	sch_cmd_current_branch(&cur, ctx->txn);
	if (optind == argc) {
		struct list_ctx l = { ctx->txn, cur.len ? cur.ptr : NULL,
				      verbose, json ? json_array() : NULL, 0 };
		rc = sch_ref_each(ctx->txn, "heads/", list_cb, &l);
		if (!rc && !l.seen_current && cur.len && !json)
			printf("* %s (no revision yet)\n", cur.ptr);
		if (l.arr) {
			char *s = json_dumps(l.arr, JSON_INDENT(2));
			printf("%s\n", s);
			free(s);
			json_decref(l.arr);
		}
		goto out;
	}
	if (del) {
		for (int i = optind; i < argc && !rc; i++) {
			sch_buf_reset(&ref);
			sch_buf_addf(&ref, "heads/%s", argv[i]);
			if (cur.len && !strcmp(cur.ptr, argv[i]) && !force) {
				rc = sch_error_set(SCH_EREFUSED,
						   "cannot delete branch '%s': it "
						   "is the current branch", argv[i]);
				break;
			}
			rc = sch_ref_read(&id, ctx->txn, ref.ptr);
			if (rc == SCH_ENOTFOUND)
				rc = sch_error_set(SCH_ENOTFOUND,
						   "branch '%s' not found", argv[i]);
			if (!rc)
				rc = sch_ref_delete(ctx->txn, ref.ptr,
						    "branch: deleted");
			if (!rc) {
				char sh[SCH_SHORT_LEN + 1];
				sch_id_short(sh, &id);
				printf("Deleted branch %s (was %s)\n", argv[i], sh);
			}
		}
		goto out;
	}
	if (argc - optind > 2) {
		rc = sch_error_set(SCH_EUSAGE, "branch takes a name and at most "
				   "one revision");
		goto out;
	}
	rc = sch_ref_check_name(argv[optind]);
	if (rc)
		goto out;
	sch_buf_addf(&ref, "heads/%s", argv[optind]);
	if (sch_ref_read(&id, ctx->txn, ref.ptr) == 0 && !force) {
		rc = sch_error_set(SCH_EEXISTS, "branch '%s' already exists",
				   argv[optind]);
		goto out;
	}
	rc = sch_revspec_one(&id, ctx->txn,
			     optind + 1 < argc ? argv[optind + 1] : "head");
	if (rc)
		goto out;
	rc = sch_ref_write(ctx->txn, ref.ptr, &id, "branch: created");
out:
	sch_buf_release(&cur);
	sch_buf_release(&ref);
	return rc;
}
