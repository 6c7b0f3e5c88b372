/* hooks.c - run repository hooks. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/hooks.h"
#include "schema/pg.h"

/* A hook never sees a database password: the password variables are
 * dropped and DATABASE_URL is replaced by its redacted form, computed by
 * the parent (safe_url NULL: nothing to hide). Runs in the child. */
static void scrub_env(const char *safe_url)
{
	unsetenv("PGPASSWORD");
	unsetenv("SCHEMA_DB_PASSWORD");
	if (safe_url)
		setenv("DATABASE_URL", safe_url, 1);
}

int sch_hook_run(const char *repo, const char *root, const char *name,
		 const void *input, size_t len)
{
	char *path = xasprintf("%s/hooks/%s", repo, name);
	struct stat st;
	int pipefd[2] = { -1, -1 };
	pid_t pid;
	int status, rc = 0;
	void (*old)(int);
	struct sch_buf safe = SCH_BUF_INIT;
	const char *safe_url = NULL;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(path, X_OK) != 0) {
		free(path);
		return 0;
	}
	if (pipe(pipefd) != 0) {
		rc = sch_error_set(SCH_EIO, "cannot run hook %s: %s", name,
				   strerror(errno));
		goto out;
	}
	{
		const char *u = getenv("DATABASE_URL");
		if (u && sch_pg_redact(&safe, u) == 0 && strcmp(safe.ptr, u))
			safe_url = safe.ptr;
	}
	pid = fork();
	if (pid < 0) {
		rc = sch_error_set(SCH_EIO, "cannot run hook %s: %s", name,
				   strerror(errno));
		goto out;
	}
	if (pid == 0) {
		char *argv[] = { path, NULL };
		dup2(pipefd[0], 0);
		close(pipefd[0]);
		close(pipefd[1]);
		dup2(2, 1); /* hook output goes to stderr, stdout stays ours */
		scrub_env(safe_url);
		setenv("SCHEMA_DIR", repo, 1);
		setenv("SCHEMA_HOOK", name, 1);
		if (chdir(root) != 0)
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	close(pipefd[0]);
	pipefd[0] = -1;
	old = signal(SIGPIPE, SIG_IGN);
	{
		const char *p = input;
		while (len) {
			ssize_t n = write(pipefd[1], p, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* the hook need not read its input */
			p += n;
			len -= (size_t)n;
		}
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	signal(SIGPIPE, old);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (WIFEXITED(status))
		rc = sch_error_set(SCH_EREFUSED, "%s hook exited with status %d",
				   name, WEXITSTATUS(status));
	else
		rc = sch_error_set(SCH_EREFUSED, "%s hook was killed by signal %d",
				   name, WTERMSIG(status));
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	sch_buf_release(&safe);
	free(path);
	return rc;
}
