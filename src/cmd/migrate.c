/* migrate.c - seed-compatible `migrate <env> [target]`: up only, to the
 * current branch head by default, with that environment's policy. */
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/plan.h"

SCH_CMD(migrate)
{
	struct sch_run_opts o;
	static char *head[] = { "head" };
	int rc;

	memset(&o, 0, sizeof(o));
	o.mode = SCH_PLAN_MIGRATE;
	rc = sch_run_parse(&o, argc, argv, ctx->verb);
	if (rc)
		return rc;
	if (o.nspecs < 1 || o.nspecs > 2)
		return sch_error_set(SCH_EUSAGE,
				     "usage: schema migrate <env> [<target>]");
	if (o.env && strcmp(o.env, o.specs[0]))
		return sch_error_set(SCH_EUSAGE, "migrate names its environment "
				     "once: '%s' or --env %s", o.specs[0], o.env);
	o.env = o.specs[0];
	if (o.nspecs == 2) {
		o.specs++;
		o.nspecs = 1;
	} else {
		o.specs = head;
		o.nspecs = 1;
	}
	return sch_checkout_run(ctx, &o);
}
