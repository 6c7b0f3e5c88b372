/* rollback.c - seed-compatible `rollback <env> <target>`: down only. The
 * target's applied descendants are reverted, nothing on other branches;
 * -N reverts the last N applied revisions. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/plan.h"

SCH_CMD(rollback)
{
	struct sch_run_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.mode = SCH_PLAN_ROLLBACK;
	rc = sch_run_parse(&o, argc, argv, ctx->verb);
	if (rc)
		return rc;
	if (o.nspecs != 2)
		return sch_error_set(SCH_EUSAGE,
				     "usage: schema rollback <env> <target>  "
				     "(target: a revision, base, or -N)");
	if (o.env && strcmp(o.env, o.specs[0]))
		return sch_error_set(SCH_EUSAGE, "rollback names its environment "
				     "once: '%s' or --env %s", o.specs[0], o.env);
	o.env = o.specs[0];
	o.specs++;
	o.nspecs = 1;
	if (o.specs[0][0] == '-' && isdigit((unsigned char)o.specs[0][1])) {
		char *end;
		o.last_n = strtol(o.specs[0] + 1, &end, 10);
		if (*end || o.last_n < 1)
			return sch_error_set(SCH_EUSAGE, "bad rollback target "
					     "'%s'", o.specs[0]);
		o.nspecs = 0;
	}
	return sch_checkout_run(ctx, &o);
}
