/* hooks.c - run repository hooks. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/hooks.h"

/* A hook never sees a database password: drop the password variables
 * and blank the password of a DATABASE_URL (runs in the child). */
static void scrub_env(void)
{
	const char *u = getenv("DATABASE_URL");

	unsetenv("PGPASSWORD");
	unsetenv("SCHEMA_DB_PASSWORD");
	if (u) {
		char *c = xstrdup(u), *pw = NULL, *end = NULL;
		char *scheme = strstr(c, "://");
		if (scheme) {
			char *at = strchr(scheme + 3, '@');
			char *colon = strchr(scheme + 3, ':');
			if (at && colon && colon < at) {
				pw = colon + 1;
				end = at;
			}
		} else if ((pw = strstr(c, "password="))) {
			pw += 9;
			end = pw + strcspn(pw, " ");
		}
		if (pw && end > pw) {
			memset(pw, '*', (size_t)(end - pw));
			setenv("DATABASE_URL", c, 1);
		}
		free(c);
	}
}

int sch_hook_run(struct sch_ctx *ctx, const char *name, const void *input,
		 size_t len)
{
	char *path = xasprintf("%s/hooks/%s", ctx->repo, name);
	struct stat st;
	int pipefd[2] = { -1, -1 };
	pid_t pid;
	int status, rc = 0;
	void (*old)(int);

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
		scrub_env();
		setenv("SCHEMA_DIR", ctx->repo, 1);
		setenv("SCHEMA_HOOK", name, 1);
		if (chdir(ctx->root) != 0)
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
	free(path);
	return rc;
}
