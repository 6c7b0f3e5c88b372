/* switch.c - make another branch the current one. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/refs.h"
#include "schema/revspec.h"

SCH_CMD(switch)
{
	static const struct option opts[] = {
		{ "create", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *create = NULL, *name;
	struct sch_buf ref = SCH_BUF_INIT;
	struct sch_id id;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': create = optarg; break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (create ? argc - optind > 1 : argc - optind != 1)
		return sch_error_set(SCH_EUSAGE, "usage: schema switch <branch> "
				     "| schema switch -c <new-branch> [<spec>]");
	name = create ? create : argv[optind];
	rc = sch_ref_check_name(name);
	if (rc)
		return rc;
	sch_buf_addf(&ref, "heads/%s", name);
	if (create) {
		if (sch_ref_read(&id, ctx->txn, ref.ptr) == 0) {
			rc = sch_error_set(SCH_EEXISTS,
					   "branch '%s' already exists", name);
			goto out;
		}
		rc = sch_revspec_one(&id, ctx->txn,
				     optind < argc ? argv[optind] : "head");
		if (!rc)
			rc = sch_ref_write(ctx->txn, ref.ptr, &id,
					   "switch: created");
	} else {
		rc = sch_ref_read(&id, ctx->txn, ref.ptr);
		if (rc == SCH_ENOTFOUND)
			rc = sch_error_set(SCH_ENOTFOUND,
					   "branch '%s' not found", name);
	}
	if (!rc)
		rc = sch_ref_write_symbolic(ctx->txn, "HEAD", ref.ptr, "switch");
	if (!rc)
		printf("Switched to %sbranch '%s'\n", create ? "a new " : "",
		       name);
out:
	sch_buf_release(&ref);
	return rc;
}
