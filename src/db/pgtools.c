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

int sch_pgtools_major(const char *path)
{
	char buf[256];
	size_t n = 0;
	ssize_t r;
	int fd[2], status, major = -1;
	pid_t pid;
	const char *p;

	if (access(path, X_OK) || pipe2(fd, O_CLOEXEC))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 2);
		}
		dup2(fd[1], 1);
		execl(path, path, "--version", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while (n < sizeof(buf) - 1 &&
	       (r = read(fd[0], buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
	}
	close(fd[0]);
	buf[n] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	/* "pg_dump (PostgreSQL) 15.18 (Debian ...)": after the ')' */
	p = strchr(buf, ')');
	p = strpbrk(p ? p : buf, "0123456789");
	if (p)
		major = atoi(p);
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
