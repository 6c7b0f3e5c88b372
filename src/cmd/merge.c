/* merge.c - create a merge revision of two revisions, with its directory. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/author.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/hooks.h"
#include "schema/revspec.h"
#include "schema/sign.h"
#include "schema/worktree.h"

static char *ref_name(const struct sch_wt *wt, const struct sch_id *id)
{
	struct sch_wt_entry *e = sch_wt_find_id(wt, id);
	char hex[SCH_HEX_LEN + 1];

	if (e)
		return xstrdup(e->name);
	sch_id_hex(hex, id);
	return xstrdup(hex);
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = { "meta", "up.sql", "down.sql" };

	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

SCH_CMD(merge)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "sign", no_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *message = NULL, *keyname = NULL;
	struct sch_key key;
	int sign = 0;
	struct sch_id a, b;
	struct sch_graph g;
	struct sch_wt wt;
	struct sch_meta m;
	struct sch_buf name = SCH_BUF_INIT, up = SCH_BUF_INIT;
	char *dir = NULL;
	int c, rc;

	sch_graph_init(&g, ctx->txn);
	sch_meta_init(&m);
	memset(&wt, 0, sizeof(wt));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":m:S", opts, NULL)) != -1) {
		switch (c) {
		case 'm': message = optarg; break;
		case 'S': sign = 1; break;
		case 'k': keyname = optarg; sign = 1; break;
		default:
			rc = sch_cmd_optfail(c, argv, ctx->verb);
			goto out;
		}
	}
	if (argc - optind != 2) {
		rc = sch_error_set(SCH_EUSAGE,
				   "usage: schema merge <a> <b> -m <message>");
		goto out;
	}
	if (!message || !*message || message[0] == ' ' || message[0] == '\n') {
		rc = sch_error_set(SCH_EUSAGE, "merge needs a message: -m <message>");
		goto out;
	}
	if (sign) {
		rc = sch_cmd_signing_key(&key, keyname, ctx);
		if (rc)
			goto out;
	}
	rc = sch_revspec_one(&a, ctx->txn, argv[optind]);
	if (!rc)
		rc = sch_revspec_one(&b, ctx->txn, argv[optind + 1]);
	if (rc)
		goto out;
	if (!sch_id_cmp(&a, &b)) {
		rc = sch_error_set(SCH_EUSAGE, "'%s' and '%s' are the same "
				   "revision", argv[optind], argv[optind + 1]);
		goto out;
	}
	{
		uint32_t ia, ib;
		uint8_t *anc;
		rc = sch_graph_add(&ia, &g, &a);
		if (!rc)
			rc = sch_graph_add(&ib, &g, &b);
		if (rc)
			goto out;
		anc = sch_graph_ancestors(&g, &ia, 1, 0);
		if (anc[ib]) {
			free(anc);
			rc = sch_error_set(SCH_EREFUSED, "'%s' already contains "
					   "'%s': nothing to merge",
					   argv[optind], argv[optind + 1]);
			goto out;
		}
		free(anc);
		anc = sch_graph_ancestors(&g, &ib, 1, 0);
		if (anc[ia]) {
			free(anc);
			rc = sch_error_set(SCH_EREFUSED, "'%s' already contains "
					   "'%s': nothing to merge",
					   argv[optind + 1], argv[optind]);
			goto out;
		}
		free(anc);
	}
	rc = sch_wt_load(&wt, ctx->migrations);
	if (!rc)
		rc = sch_wt_resolve(&wt, ctx->txn);
	if (rc)
		goto out;
	m.parents = xmalloc(2 * sizeof(char *));
	m.parents[0] = ref_name(&wt, &a);
	m.parents[1] = ref_name(&wt, &b);
	m.nparents = 2;
	rc = sch_author_now(&m.author, &m.time, m.tz, &ctx->config);
	if (rc)
		goto out;
	free(m.message);
	m.message = xasprintf("%s\n", message);
	sch_wt_next_name(&name, &wt, message);
	sch_buf_addf(&up, "-- Merge of %s and %s: nothing to reconcile.\n",
		     m.parents[0], m.parents[1]);
	rc = sch_wt_create(ctx->migrations, name.ptr, &m, up.ptr, up.ptr);
	if (rc)
		goto out;
	dir = xasprintf("%s/%s", ctx->migrations, name.ptr);
	rc = sch_commit_worktree(ctx, 0, 0, sign ? &key : NULL);
	if (rc) {
		remove_dir(dir);
		goto out;
	}
	rc = sch_hook_run(ctx, "post-merge", name.ptr, name.len);
	if (rc) {
		/* The merge stands; a failing post-hook is reported only. */
		fprintf(stderr, "schema: warning: %s\n", "post-merge hook failed");
		rc = 0;
	}
out:
	memset(&key, 0, sizeof(key));
	free(dir);
	sch_meta_release(&m);
	sch_wt_release(&wt);
	sch_graph_release(&g);
	sch_buf_release(&name);
	sch_buf_release(&up);
	return rc;
}
