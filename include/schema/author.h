/* author.h - who and when, for new revisions. */
#ifndef SCH_AUTHOR_H
#define SCH_AUTHOR_H

#include <stdint.h>

#include "schema/config.h"

/*
 * Fills "Name <email>", the time and the "+hhmm" offset for a new
 * revision: SCHEMA_AUTHOR_NAME / SCHEMA_AUTHOR_EMAIL, else user.name /
 * user.email from the config, else the login name and user@host.
 * SCHEMA_AUTHOR_DATE (unix seconds) overrides the clock. *who is malloc'd.
 */
int sch_author_now(char **who, int64_t *time, char tz[6],
		   const struct sch_config *cfg);
/* Returns 0, or SCH_EUSAGE when SCHEMA_AUTHOR_DATE is not unix seconds. */

#endif
