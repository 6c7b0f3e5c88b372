/* pgtools.c - finding a client program for a server's major (pgtools.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema/error.h"
#include "schema/pgtools.h"
#include "schema/proc.h"

int sch_pgtools_major(const char *path)
{
	char *argv[] = { (char *)path, "--version", NULL };
	struct sch_buf b = SCH_BUF_INIT;
	const char *p;
	int major = -1;

	/* path holds a '/', so it is run as it is, never searched. */
	if (!strchr(path, '/') || access(path, X_OK) ||
	    sch_proc_output(&b, argv, 255)) {
		sch_buf_release(&b);
		return -1;
	}
	/* "pg_dump (PostgreSQL) 15.18 (Debian ...)": after the ')' */
	p = strchr(b.ptr, ')');
	p = strpbrk(p ? p : b.ptr, "0123456789");
	if (p)
		major = atoi(p);
	sch_buf_release(&b);
	return major > 0 ? major : -1;
}

/* Adds dir/prog to the candidates when it is there. */
static void candidate(char ***v, size_t *n, const char *dir, const char *prog)
{
	char *p;

	if (!dir || !*dir)
		return;
	p = xasprintf("%s/%s", dir, prog);
	if (access(p, X_OK)) {
		free(p);
		return;
	}
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = p;
}

int sch_pgtools_find(struct sch_buf *out, const char *prog, int major,
		     const char *bindir)
{
	char **v = NULL, *best = NULL;
	size_t n = 0;
	int rc = 0, best_major = -1;
	const char *path = getenv("PATH");

	candidate(&v, &n, bindir, prog);
	candidate(&v, &n, getenv("PG_BINDIR"), prog);
	if (path) {
		char *copy = xstrdup(path), *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d;
		     d = strtok_r(NULL, ":", &save)) {
			size_t before = n;
			candidate(&v, &n, d, prog);
			if (n > before)
				break;	/* the one PATH would run */
		}
		free(copy);
	}
	for (int m = 40; m >= 9; m--) {
		char d[64];
		snprintf(d, sizeof(d), "/usr/lib/postgresql/%d/bin", m);
		candidate(&v, &n, d, prog);
	}
	for (size_t i = 0; i < n; i++) {
		int m = sch_pgtools_major(v[i]);
		if (m >= major) {
			sch_buf_reset(out);
			sch_buf_addstr(out, v[i]);
			goto out;
		}
		if (m > best_major) {
			best_major = m;
			best = v[i];
		}
	}
	if (best)
		rc = sch_error_set(SCH_EDB, "%s %d (%s) cannot work with "
				   "PostgreSQL %d: %s %d or later is needed",
				   prog, best_major, best, major, prog, major);
	else
		rc = sch_error_set(SCH_EDB, "cannot find %s (PostgreSQL "
				   "%d or later) for a PostgreSQL %d server",
				   prog, major, major);
	sch_error_hint("install the PostgreSQL %d client programs (Debian: "
		       "postgresql-client-%d) and point PG_BINDIR or "
		       "core.pg-bindir in .schema/config at their bin "
		       "directory", major, major);
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return rc;
}
