/* author.c - author identity and time for new revisions. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "schema/author.h"
#include "schema/buf.h"
#include "schema/error.h"

static int clean(const char *s)
{
	return s && *s && !strpbrk(s, "<>\n");
}

int sch_author_now(char **who, int64_t *when, char tz[6],
		   const struct sch_config *cfg)
{
	const char *name = getenv("SCHEMA_AUTHOR_NAME");
	const char *email = getenv("SCHEMA_AUTHOR_EMAIL");
	const char *date = getenv("SCHEMA_AUTHOR_DATE");
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "localhost";
	char *fallback = NULL;
	time_t now = time(NULL);
	struct tm tm;
	long off;

	if (!clean(name) && cfg)
		name = sch_config_get(cfg, "user.name");
	if (!clean(email) && cfg)
		email = sch_config_get(cfg, "user.email");
	if (!clean(name))
		name = pw && clean(pw->pw_name) ? pw->pw_name : "unknown";
	if (!clean(email)) {
		gethostname(host, sizeof(host) - 1);
		fallback = xasprintf("%s@%s",
				     pw && clean(pw->pw_name) ? pw->pw_name
							      : "unknown",
				     host);
		email = fallback;
	}
	*who = xasprintf("%s <%s>", name, email);
	free(fallback);
	if (date && *date) {
		char *end;
		long long v = strtoll(date, &end, 10);
		if (*end || v < 0) {
			free(*who);
			*who = NULL;
			return sch_error_set(SCH_EUSAGE, "SCHEMA_AUTHOR_DATE must be "
					     "unix seconds, not '%s'", date);
		}
		now = (time_t)v;
	}
	*when = (int64_t)now;
	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(tz, 6, "%c%02ld%02ld", off < 0 ? '-' : '+',
		 labs(off) / 60 % 100, labs(off) % 60);
	if (date && *date) /* reproducible: a fixed date is UTC */
		memcpy(tz, "+0000", 6);
	return 0;
}
