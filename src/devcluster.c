/* devcluster.c - the scratch cluster under .schema/dev (devcluster.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema/devcluster.h"
#include "schema/error.h"

#define DEV_PORT "5432"
#define SOCK_MAX 107

static const char *dev_user(void)
{
	const char *u = getenv("SCHEMA_DEV_USER");

	return u && *u ? u : "postgres";
}

static int is_exe(const char *dir, const char *prog)
{
	char *p = xasprintf("%s/%s", dir, prog);
	int ok = access(p, X_OK) == 0;

	free(p);
	return ok;
}

/* `pg_config --bindir`, run without a shell. */
static int pg_config_bindir(struct sch_buf *out)
{
	int fd[2];
	pid_t pid;
	char buf[4096];
	size_t n = 0;
	ssize_t r;
	int status;

	if (pipe2(fd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(fd[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execlp("pg_config", "pg_config", "--bindir", (char *)NULL);
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
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = 0;
	if (!n)
		return -1;
	sch_buf_reset(out);
	sch_buf_add(out, buf, n);
	return 0;
}

int sch_dev_bindir(struct sch_buf *out)
{
	const char *env = getenv("PG_BINDIR");
	long best = -1;
	char bestdir[64] = "";

	if (env && *env) {
		if (!is_exe(env, "initdb") || !is_exe(env, "pg_ctl"))
			return sch_error_set(SCH_EDB, "no initdb and pg_ctl "
					     "in PG_BINDIR '%s'", env);
		sch_buf_reset(out);
		sch_buf_addstr(out, env);
		return 0;
	}
	if (pg_config_bindir(out) == 0 && is_exe(out->ptr, "initdb") &&
	    is_exe(out->ptr, "pg_ctl"))
		return 0;
	/* Debian keeps the server programs out of PATH. */
	for (long v = 9; v <= 40; v++) {
		char d[64];
		snprintf(d, sizeof(d), "/usr/lib/postgresql/%ld/bin", v);
		if (is_exe(d, "initdb") && is_exe(d, "pg_ctl") && v > best) {
			best = v;
			memcpy(bestdir, d, sizeof(d));
		}
	}
	if (best >= 0) {
		sch_buf_reset(out);
		sch_buf_addstr(out, bestdir);
		return 0;
	}
	{
		const char *path = getenv("PATH");
		char *copy = xstrdup(path ? path : "/usr/bin:/bin");
		char *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d;
		     d = strtok_r(NULL, ":", &save))
			if (*d && is_exe(d, "initdb") && is_exe(d, "pg_ctl")) {
				sch_buf_reset(out);
				sch_buf_addstr(out, d);
				free(copy);
				return 0;
			}
		free(copy);
	}
	sch_error_set(SCH_EDB, "cannot find the PostgreSQL server "
		      "programs (initdb, pg_ctl) for the scratch cluster");
	sch_error_hint("install the server (Debian: postgresql), set PG_BINDIR, "
		       "or name a server with SCHEMA_DEV_URL");
	return SCH_EDB;
}

static char *dev_dir(const char *repo)
{
	return xasprintf("%s/dev", repo);
}

/* Percent-encodes a path for the query part of a URL. */
static void url_encode(struct sch_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || c == '/')
			sch_buf_addch(out, (char)c);
		else
			sch_buf_addf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

static char *abs_path(const char *p)
{
	char *r = realpath(p, NULL);

	return r ? r : xstrdup(p);
}

void sch_dev_url(struct sch_buf *out, const char *repo, const char *db)
{
	char *dir = dev_dir(repo);
	char *abs = abs_path(dir);

	sch_buf_addf(out, "postgresql://postgres@/");
	url_encode(out, db);
	sch_buf_addstr(out, "?host=");
	url_encode(out, abs);
	free(abs);
	free(dir);
}

int sch_dev_running(const char *repo, long *pid)
{
	char *p = xasprintf("%s/dev/data/postmaster.pid", repo);
	char *sock = xasprintf("%s/dev/.s.PGSQL." DEV_PORT, repo);
	FILE *f = fopen(p, "r");
	long v = 0;
	int up = 0;

	if (f) {
		if (fscanf(f, "%ld", &v) == 1 && v > 0 &&
		    (kill((pid_t)v, 0) == 0 || errno == EPERM) &&
		    access(sock, F_OK) == 0)
			up = 1;
		fclose(f);
	}
	if (pid)
		*pid = up ? v : 0;
	free(p);
	free(sock);
	return up;
}

/*
 * Runs bindir/argv[0] with stdout and stderr into `log`, as the cluster's
 * owner under uid 0. Returns the exit status, 126 when the owner cannot
 * use the directory, 127 when it cannot run, or -1.
 */
static int run_prog(const char *bindir, char *const argv[], const char *dir,
		    const char *log)
{
	struct passwd *pw = NULL;
	pid_t pid;
	int status;
	char *path = xasprintf("%s/%s", bindir, argv[0]);

	if (geteuid() == 0) {
		pw = getpwnam(dev_user());
		if (!pw) {
			free(path);
			return 125;
		}
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		free(path);
		return -1;
	}
	if (pid == 0) {
		int fd, null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		signal(SIGPIPE, SIG_DFL);
		if (pw && (setgid(pw->pw_gid) ||
			   initgroups(pw->pw_name, pw->pw_gid) ||
			   setuid(pw->pw_uid)))
			_exit(126);
		if (chdir(dir) || access(dir, W_OK | X_OK))
			_exit(126);
		/* opened as the owner: pg_ctl appends to the same log */
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* the server outlives us: it keeps nothing of ours open */
		close_range(3, ~0U, 0);
		execv(path, argv);
		_exit(127);
	}
	free(path);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int prog_failed(int st, const char *what, const char *dir,
		       const char *log)
{
	if (st == 125)
		return sch_error_set(SCH_EDB, "the scratch cluster runs as user "
				     "'%s' under root, and there is no such "
				     "user (set SCHEMA_DEV_USER)", dev_user());
	if (st == 126) {
		sch_error_set(SCH_EDB, "the scratch cluster's user '%s' cannot "
			      "use '%s'", geteuid() == 0 ? dev_user() : "you",
			      dir);
		sch_error_hint("make the directories above it traversable "
			       "(chmod o+x), or name a server with "
			       "SCHEMA_DEV_URL");
		return SCH_EDB;
	}
	return sch_error_set(SCH_EDB, "%s failed for the scratch cluster in "
			     "'%s' (log: %s)", what, dir, log);
}

static int chown_tree(const char *dir)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(dev_user());
	if (!pw)
		return prog_failed(125, "", dir, "");
	if (chown(dir, pw->pw_uid, pw->pw_gid))
		return sch_error_set(SCH_EIO, "cannot give '%s' to user %s: %s",
				     dir, dev_user(), strerror(errno));
	return 0;
}

static const char conf_text[] =
	"\n# schema: the scratch cluster, private and disposable\n"
	"listen_addresses = ''\n"
	"port = " DEV_PORT "\n"
	"fsync = off\n"
	"synchronous_commit = off\n"
	"full_page_writes = off\n"
	"max_connections = 20\n"
	"shared_buffers = 32MB\n"
	"log_min_messages = warning\n";

static int write_conf(const char *dir)
{
	char *conf = xasprintf("%s/data/postgresql.conf", dir);
	FILE *f = fopen(conf, "a");
	int rc = 0;

	if (!f || fputs(conf_text, f) < 0 ||
	    fprintf(f, "unix_socket_directories = '") < 0)
		rc = -1;
	for (const char *p = dir; !rc && *p; p++)
		if (fputs(*p == '\'' ? "''" : (char[]){ *p, 0 }, f) < 0)
			rc = -1;
	if (!rc && fputs("'\n", f) < 0)
		rc = -1;
	if (f && fclose(f))
		rc = -1;
	if (rc)
		rc = sch_error_set(SCH_EIO, "cannot write '%s': %s", conf,
				   strerror(errno));
	free(conf);
	return rc;
}

static int lock_dir(const char *dir, int *fd)
{
	char *p = xasprintf("%s/lock", dir);

	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(p);
	if (*fd < 0 || flock(*fd, LOCK_EX))
		return sch_error_set(SCH_EIO, "cannot lock '%s': %s", dir,
				     strerror(errno));
	return 0;
}

int sch_dev_start(const char *repo, int quiet, int *started)
{
	struct sch_buf bin = SCH_BUF_INIT;
	char *rel = dev_dir(repo), *dir = NULL, *data = NULL, *log = NULL,
	     *ilog = NULL;
	int fd = -1, rc, st;

	if (started)
		*started = 0;
	if (sch_dev_running(repo, NULL)) {
		free(rel);
		return 0;
	}
	rc = sch_dev_bindir(&bin);
	if (rc)
		goto out;
	if (mkdir(rel, 0700) && errno != EEXIST) {
		rc = sch_error_set(SCH_EIO, "cannot create '%s': %s", rel,
				   strerror(errno));
		goto out;
	}
	dir = abs_path(rel);
	if (strlen(dir) + sizeof("/.s.PGSQL." DEV_PORT) - 1 > SOCK_MAX) {
		rc = sch_error_set(SCH_EDB, "'%s' is too long a path for the "
				   "scratch cluster's socket (%zu bytes, at "
				   "most %d)", dir,
				   strlen(dir) + sizeof("/.s.PGSQL." DEV_PORT) - 1,
				   SOCK_MAX);
		sch_error_hint("name a server with SCHEMA_DEV_URL instead");
		goto out;
	}
	rc = lock_dir(dir, &fd);
	if (rc)
		goto out;
	/* Another process may have started it while we waited. */
	if (sch_dev_running(repo, NULL))
		goto out;
	rc = chown_tree(dir);
	if (rc)
		goto out;
	data = xasprintf("%s/data", dir);
	log = xasprintf("%s/server.log", dir);
	ilog = xasprintf("%s/initdb.log", dir);
	if (access(data, F_OK) != 0) {
		char *argv[] = { "initdb", "-D", data, "-U", "postgres",
				 "--auth=trust", "-E", "UTF8", "--locale=C",
				 "--no-sync", NULL };
		if (!quiet)
			fprintf(stderr, "schema: note: creating the scratch "
				"cluster in %s\n", rel);
		st = run_prog(bin.ptr, argv, dir, ilog);
		if (st) {
			char *tmp = xasprintf("%s/data.failed", dir);
			rc = prog_failed(st, "initdb", dir, ilog);
			/* keep nothing half-made: a rerun starts over */
			rename(data, tmp);
			free(tmp);
			goto out;
		}
		rc = write_conf(dir);
		if (rc)
			goto out;
	}
	if (!quiet)
		fprintf(stderr, "schema: note: starting the scratch cluster in "
			"%s\n", rel);
	{
		char *argv[] = { "pg_ctl", "-D", data, "-l", log, "-w", "-t",
				 "60", "-s", "start", NULL };
		st = run_prog(bin.ptr, argv, dir, log);
		if (st) {
			rc = prog_failed(st, "starting the server", dir, log);
			goto out;
		}
	}
	if (started)
		*started = 1;
out:
	if (fd >= 0)
		close(fd);
	sch_buf_release(&bin);
	free(rel);
	free(dir);
	free(data);
	free(log);
	free(ilog);
	return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

int sch_dev_stop(const char *repo, int remove_data)
{
	struct sch_buf bin = SCH_BUF_INIT;
	char *rel = dev_dir(repo), *dir = NULL, *data = NULL, *log = NULL;
	int fd = -1, rc = 0, st;

	if (access(rel, F_OK) != 0)
		goto out;
	dir = abs_path(rel);
	rc = lock_dir(dir, &fd);
	if (rc)
		goto out;
	data = xasprintf("%s/data", dir);
	log = xasprintf("%s/server.log", dir);
	if (sch_dev_running(repo, NULL)) {
		char *argv[] = { "pg_ctl", "-D", data, "-m", "fast", "-w",
				 "-t", "60", "-s", "stop", NULL };
		rc = sch_dev_bindir(&bin);
		if (rc)
			goto out;
		st = run_prog(bin.ptr, argv, dir, log);
		if (st) {
			rc = prog_failed(st, "stopping the server", dir, log);
			goto out;
		}
	}
	if (remove_data && nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) {
		rc = sch_error_set(SCH_EIO, "cannot remove '%s': %s", dir,
				   strerror(errno));
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	sch_buf_release(&bin);
	free(rel);
	free(dir);
	free(data);
	free(log);
	return rc;
}
