/* main.c - the program: hides passwords given on the command line from
 * ps, then runs the command line (cli.h). */
#include <string.h>

#include "schema/buf.h"
#include "schema/cli.h"
#include "schema/devcluster.h"

/*
 * A password given on the command line (--url postgresql://u:pw@h/db, or
 * password=... in a conninfo) stays readable in /proc/<pid>/cmdline for
 * the whole run. Keep a private copy of such arguments and blank the
 * password in the original memory, which is what `ps` shows.
 */
static void hide_passwords(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *scheme = strstr(a, "://");
		char *pw = NULL, *end = NULL;
		if (scheme) {
			char *at = strchr(scheme + 3, '@');
			char *colon = strchr(scheme + 3, ':');
			if (at && colon && colon < at) {
				pw = colon + 1;
				end = at;
			}
		} else if ((pw = strstr(a, "password="))) {
			pw += 9;
			end = pw + strcspn(pw, " ");
		}
		if (!pw || end <= pw)
			continue;
		argv[i] = xstrdup(a);
		memset(pw, '*', (size_t)(end - pw));
	}
}

int main(int argc, char **argv)
{
	/* the scratch cluster's watcher: this binary started again by
	 * sch_dev_start() under that name */
	if (argc == 2 && !strcmp(argv[0], SCH_DEV_WATCH_NAME))
		return sch_dev_watch(argv[1]);
	hide_passwords(argc, argv);
	return sch_cli_main(argc, argv);
}
