/* tag.c - list, create and delete tags. */
#include <sodium.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/refs.h"
#include "schema/revspec.h"
#include "schema/sign.h"

static int list_cb(const char *name, const struct sch_id *id, void *arg)
{
	json_t *arr = arg;
	char hex[SCH_HEX_LEN + 1];

	if (arr) {
		json_t *o = json_object();
		sch_id_hex(hex, id);
		json_object_set_new(o, "name", json_string(name + 5));
		json_object_set_new(o, "id", json_string(hex));
		json_array_append_new(arr, o);
	} else {
		printf("%s\n", name + 5);
	}
	return 0;
}

SCH_CMD(tag)
{
	static const struct option opts[] = {
		{ "delete", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "sign", no_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int del = 0, force = 0, json = 0, sign = 0, c, rc = 0;
	const char *keyname = NULL;
	struct sch_key key;
	struct sch_buf ref = SCH_BUF_INIT;
	struct sch_id id;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":dfs", opts, NULL)) != -1) {
		switch (c) {
		case 'd': del = 1; break;
		case 's': sign = 1; break;
		case 'k': keyname = optarg; sign = 1; break;
		case 'f': force = 1; break;
		case 'j': json = 1; break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (optind == argc) {
		json_t *arr = json ? json_array() : NULL;
		rc = sch_ref_each(ctx->txn, "tags/", list_cb, arr);
		if (arr) {
			char *s = json_dumps(arr, JSON_INDENT(2));
			printf("%s\n", s);
			free(s);
			json_decref(arr);
		}
		return rc;
	}
	if (del) {
		for (int i = optind; i < argc && !rc; i++) {
			sch_buf_reset(&ref);
			sch_buf_addf(&ref, "tags/%s", argv[i]);
			rc = sch_ref_read(&id, ctx->txn, ref.ptr);
			if (rc == SCH_ENOTFOUND)
				rc = sch_error_set(SCH_ENOTFOUND,
						   "tag '%s' not found", argv[i]);
			if (!rc)
				rc = sch_ref_delete(ctx->txn, ref.ptr, "tag: deleted");
			if (!rc)
				rc = sch_sig_detach_tag(ctx->txn, argv[i]);
			if (!rc) {
				char sh[SCH_SHORT_LEN + 1];
				sch_id_short(sh, &id);
				printf("Deleted tag '%s' (was %s)\n", argv[i], sh);
			}
		}
		goto out;
	}
	if (argc - optind > 2) {
		rc = sch_error_set(SCH_EUSAGE, "tag takes a name and at most "
				   "one revision");
		goto out;
	}
	rc = sch_ref_check_name(argv[optind]);
	if (!rc && sign)
		rc = sch_cmd_signing_key(&key, keyname, ctx);
	if (rc)
		goto out;
	sch_buf_addf(&ref, "tags/%s", argv[optind]);
	if (sch_ref_read(&id, ctx->txn, ref.ptr) == 0 && !force) {
		rc = sch_error_set(SCH_EEXISTS, "tag '%s' already exists",
				   argv[optind]);
		goto out;
	}
	rc = sch_revspec_one(&id, ctx->txn,
			     optind + 1 < argc ? argv[optind + 1] : "head");
	if (!rc)
		rc = sch_ref_write(ctx->txn, ref.ptr, &id, "tag: created");
	/* A moved tag loses the signatures of where it was. */
	if (!rc)
		rc = sch_sig_detach_tag(ctx->txn, argv[optind]);
	if (!rc && sign)
		rc = sch_sig_attach(ctx->txn, &key, &id, argv[optind]);
	if (sign)
		sodium_memzero(&key, sizeof(key));
out:
	sch_buf_release(&ref);
	return rc;
}
