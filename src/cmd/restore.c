/* restore.c - recreate a database from a snapshot. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/seal.h"
#include "schema/snapshot.h"
#include "schema/target.h"

SCH_CMD(restore)
{
	static const struct option opts[] = {
		{ "into", required_argument, NULL, 'u' },
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "force", no_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *env = NULL;
	struct sch_restore_opts o;
	struct sch_envpol pol;
	struct sch_manifest m;
	struct sch_seal_key key;
	struct sch_id id;
	char hex[SCH_HEX_LEN + 1];
	int c, rc, force = 0, yes = 0, quiet = 0, have_key = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":fyq", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'e': env = optarg; break;
		case 'f': force = 1; break;
		case 'y': yes = 1; break;
		case 'q': quiet = 1; break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (optind + 1 != argc)
		return sch_error_set(SCH_EUSAGE, "restore takes one snapshot id");
	if (url && env)
		return sch_error_set(SCH_EUSAGE, "--into and --env exclude each "
				     "other");
	rc = sch_snapshot_resolve(&id, ctx->txn, argv[optind]);
	if (rc)
		return rc;
	sch_id_hex(hex, &id);
	memset(&pol, 0, sizeof(pol));
	sch_manifest_init(&m);
	rc = sch_snapshot_load(&m, ctx->txn, &id);
	/* the store is read by threads with their own transactions */
	sch_txn_abort(ctx->txn);
	ctx->txn = NULL;
	if (!rc)
		rc = sch_target_policy(&pol, &ctx->config, env, url);
	if (rc)
		goto out;
	/* an encrypted snapshot: the key is found and checked against its
	 * manifest before the target is asked about or connected to */
	if (m.sealed) {
		rc = sch_cmd_backup_key(&key, ctx, &pol);
		if (rc < 0)
			goto out;
		have_key = rc;
		rc = sch_snapshot_open(&m, &id, have_key ? &key : NULL);
		if (rc)
			goto out;
	}
	{
		char *what = xasprintf("restore snapshot %.12s%s", hex,
				       force ? " over its content" : "");
		rc = sch_cmd_confirm(&pol, yes, what);
		free(what);
		if (rc)
			goto out;
	}
	memset(&o, 0, sizeof(o));
	o.conninfo = pol.conninfo;
	o.force = force;
	o.key = have_key ? &key : NULL;
	o.progress = quiet ? NULL : sch_cmd_progress;
	rc = sch_snapshot_restore(ctx->store, &id, &o);
	if (rc)
		goto out;
	if (!quiet)
		printf("restored %.12s into %s\n", hex,
		       pol.shown[0] ? pol.shown : "the default database");
out:
	if (have_key)
		sch_seal_key_wipe(&key);
	sch_manifest_release(&m);
	sch_target_release(&pol);
	return rc;
}
