/* proc.c - a program's standard output, run without a shell (proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema/proc.h"

int sch_proc_output(struct sch_buf *out, char *const argv[], size_t max)
{
	char buf[4096];
	size_t n = 0;
	ssize_t r;
	int fd[2], status;
	pid_t pid;

	sch_buf_reset(out);
	if (pipe2(fd, O_CLOEXEC))
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
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		r = read(fd[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n < max)
			sch_buf_add(out, buf, (size_t)r < max - n ? (size_t)r
								  : max - n);
		n += (size_t)r;
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
