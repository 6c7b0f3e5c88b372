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

#include <sodium.h>
#include <time.h>

#include "schema/config.h"
#include "schema/devcluster.h"
#include "schema/proc.h"
#include "schema/error.h"
#include "schema/pg.h"

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
	char *argv[] = { "pg_config", "--bindir", NULL };
	size_t n;

	if (sch_proc_output(out, argv, 4096))
		return -1;
	n = out->len;
	while (n && (out->ptr[n - 1] == '\n' || out->ptr[n - 1] == '\r'))
		n--;
	sch_buf_truncate(out, n);
	return n ? 0 : -1;
}

int sch_dev_bindir(struct sch_buf *out)
{
	const char *env = getenv("PG_BINDIR");
	long best = -1;
	char bestdir[64] = "";

	if (env && *env) {
		if (!is_exe(env, "initdb") || !is_exe(env, "pg_ctl"))
			return sch_error_set(SCH_ENOTFOUND, "no initdb and pg_ctl "
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
	sch_error_set(SCH_ENOTFOUND, "cannot find the PostgreSQL server "
		      "programs (initdb, pg_ctl) for the scratch cluster");
	sch_error_hint("install the server (Debian: postgresql), set PG_BINDIR, "
		       "or name a server with SCHEMA_DEV_URL");
	return SCH_ENOTFOUND;
}

/* ---- where the cluster lives ---- */

/* .schema/dev: the lock and use files, and the cluster itself unless it
 * lives in a runtime directory (cluster_dir()). */
static char *dev_dir(const char *repo)
{
	return xasprintf("%s/dev", repo);
}

static char *abs_path(const char *p)
{
	char *r = realpath(p, NULL);

	return r ? r : xstrdup(p);
}

static int sock_fits(const char *dir)
{
	return strlen(dir) + sizeof("/.s.PGSQL." DEV_PORT) - 1 <= SOCK_MAX;
}

/* The root-owned runtime directory: $SCHEMA_DEV_ROOT, else
 * /var/tmp/schema-<uid>. */
static char *runtime_base(void)
{
	const char *e = getenv("SCHEMA_DEV_ROOT");

	if (e && *e)
		return xstrdup(e);
	return xasprintf("/var/tmp/schema-%ld", (long)geteuid());
}

/*
 * The cluster's directory (absolute): .schema/dev itself when the server
 * runs as this user and the socket path fits, or when a cluster was made
 * there before; otherwise <runtime base>/<16 hex digits of the BLAKE2b
 * of the repository's path>, found again from the path alone. Under root
 * the server's user could not reach a private .schema/dev without our
 * changing the permissions of the user's directories.
 */
static char *cluster_dir(const char *repo)
{
	char *dev = dev_dir(repo), *abs, *old, *base, *real, *out;
	unsigned char h[8];
	char hex[17];

	abs = abs_path(dev);
	old = xasprintf("%s/data/PG_VERSION", abs);
	if (access(old, F_OK) == 0 || (geteuid() != 0 && sock_fits(abs))) {
		free(old);
		free(dev);
		return abs;
	}
	free(old);
	free(abs);
	free(dev);
	real = abs_path(repo);
	crypto_generichash(h, sizeof(h), (const unsigned char *)real,
			   strlen(real), NULL, 0);
	sch_hex(hex, h, sizeof(h));
	base = runtime_base();
	out = xasprintf("%s/%s", base, hex);
	free(base);
	free(real);
	return out;
}

static int in_runtime_dir(const char *repo, const char *cdir)
{
	char *dev = dev_dir(repo), *abs = abs_path(dev);
	int r = strcmp(abs, cdir) != 0;

	free(dev);
	free(abs);
	return r;
}

/* Makes the runtime base: ours, a real directory, writable by us alone,
 * traversable (not listable) by the server's user. */
static int make_runtime_base(void)
{
	char *base = runtime_base();
	struct stat st;
	int rc = 0;

	if (mkdir(base, 0711) && errno != EEXIST) {
		rc = sch_error_set(SCH_EIO, "cannot create '%s': %s", base,
				   strerror(errno));
		goto out;
	}
	if (lstat(base, &st) || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022)) {
		rc = sch_error_set(SCH_EIO, "'%s' is not a directory that only "
				   "this user owns and may write", base);
		sch_error_hint("remove it, or set SCHEMA_DEV_ROOT to another "
			       "directory");
		goto out;
	}
	if ((st.st_mode & 0777) != 0711 && chmod(base, 0711))
		rc = sch_error_set(SCH_EIO, "cannot chmod '%s': %s", base,
				   strerror(errno));
out:
	free(base);
	return rc;
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

void sch_dev_dir(struct sch_buf *out, const char *repo)
{
	char *c = cluster_dir(repo);

	sch_buf_addstr(out, c);
	free(c);
}

void sch_dev_url(struct sch_buf *out, const char *repo, const char *db)
{
	char *c = cluster_dir(repo);

	sch_buf_addf(out, "postgresql://postgres@/");
	url_encode(out, db);
	sch_buf_addstr(out, "?host=");
	url_encode(out, c);
	sch_buf_addstr(out, "&port=" DEV_PORT);
	free(c);
}

int sch_dev_conninfo(struct sch_buf *out, const char *repo, const char *db)
{
	char *c = cluster_dir(repo);
	int rc = sch_pg_conninfo_sealed(out, c, DEV_PORT, "postgres", db);

	free(c);
	return rc;
}

/* The postmaster's pid from dir/data/postmaster.pid when it is alive and
 * its socket is there, else 0. */
static long running_in(const char *dir)
{
	char *p = xasprintf("%s/data/postmaster.pid", dir);
	char *sock = xasprintf("%s/.s.PGSQL." DEV_PORT, dir);
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
	free(p);
	free(sock);
	return up ? v : 0;
}

int sch_dev_running(const char *repo, long *pid)
{
	char *c = cluster_dir(repo);
	long v = running_in(c);

	free(c);
	if (pid)
		*pid = v;
	return v != 0;
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
		/* argv[0] the full path: initdb and pg_ctl find postgres
		 * beside themselves through it, not through PATH */
		{
			size_t n = 0;
			char **av;
			while (argv[n])
				n++;
			av = xcalloc(n + 1, sizeof(*av));
			av[0] = path;
			for (size_t i = 1; i < n; i++)
				av[i] = argv[i];
			execv(path, av);
		}
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

/* Under root the cluster's directory belongs to the server's user, mode
 * 0700; nothing above it changes. */
static int chown_tree(const char *dir)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(dev_user());
	if (!pw)
		return prog_failed(125, "", dir, "");
	if (chown(dir, pw->pw_uid, pw->pw_gid) || chmod(dir, 0700))
		return sch_error_set(SCH_EIO, "cannot give '%s' to user %s: %s",
				     dir, dev_user(), strerror(errno));
	return 0;
}

/*
 * data/schema.conf, rewritten at every start and included last by
 * postgresql.conf, so that a cluster made by an older schema gets today's
 * settings too. The lock table holds max_locks_per_transaction x
 * max_connections entries: 20 x 320 is the 100 x 64 of a default server,
 * so that one transaction may lock as many objects as it could there (a
 * migration creating 1,000 tables with their keys and indexes).
 */
static const char conf_text[] =
	"# written by schema at every start of the scratch cluster\n"
	"listen_addresses = ''\n"
	"port = " DEV_PORT "\n"
	"fsync = off\n"
	"synchronous_commit = off\n"
	"full_page_writes = off\n"
	"max_connections = 20\n"
	"max_locks_per_transaction = 320\n"
	"max_pred_locks_per_transaction = 320\n"
	"shared_buffers = 32MB\n"
	"log_min_messages = warning\n";

static const char include_line[] = "\ninclude_if_exists = 'schema.conf'\n";

static int write_conf(const char *dir, int fresh)
{
	char *conf = xasprintf("%s/data/schema.conf", dir);
	char *main_conf = xasprintf("%s/data/postgresql.conf", dir);
	struct sch_buf text = SCH_BUF_INIT, cur = SCH_BUF_INIT;
	FILE *f;
	int rc = 0;

	sch_buf_addstr(&text, conf_text);
	sch_buf_addstr(&text, "unix_socket_directories = '");
	for (const char *p = dir; *p; p++)
		sch_buf_addstr(&text, *p == '\'' ? "''" : (char[]){ *p, 0 });
	sch_buf_addstr(&text, "'\n");
	f = fopen(conf, "w");
	if (!f || fputs(text.ptr, f) < 0 || fclose(f)) {
		rc = sch_error_set(SCH_EIO, "cannot write '%s': %s", conf,
				   strerror(errno));
		f = NULL;
		goto out;
	}
	if (!fresh && sch_buf_read_file(&cur, main_conf) == 0 &&
	    strstr(cur.ptr, include_line + 1))
		goto out;
	f = fopen(main_conf, "a");
	if (!f || fputs(include_line, f) < 0 || fclose(f))
		rc = sch_error_set(SCH_EIO, "cannot write '%s': %s", main_conf,
				   strerror(errno));
out:
	sch_buf_release(&text);
	sch_buf_release(&cur);
	free(conf);
	free(main_conf);
	return rc;
}

/* Opens .schema/dev/name (made when missing) and takes a flock on it:
 * op LOCK_SH, LOCK_EX, maybe | LOCK_NB. Returns 0, 1 (LOCK_NB: held
 * elsewhere), or SCH_EIO. */
static int lock_file(const char *repo, const char *name, int op, int *fd)
{
	char *dev = dev_dir(repo), *p = xasprintf("%s/%s", dev, name);
	int rc = 0;

	if (mkdir(dev, 0700) && errno != EEXIST) {
		*fd = -1;
		rc = sch_error_set(SCH_EIO, "cannot create '%s': %s", dev,
				   strerror(errno));
		goto out;
	}
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		rc = sch_error_set(SCH_EIO, "cannot open '%s': %s", p,
				   strerror(errno));
		goto out;
	}
	while (flock(*fd, op)) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			rc = 1;
		} else {
			rc = sch_error_set(SCH_EIO, "cannot lock '%s': %s", p,
					   strerror(errno));
		}
		close(*fd);
		*fd = -1;
		break;
	}
out:
	free(dev);
	free(p);
	return rc;
}

static int file_exists(const char *repo, const char *name)
{
	char *p = xasprintf("%s/dev/%s", repo, name);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static int spawn_watcher(const char *repo);

int sch_dev_start(const char *repo, int quiet, int *started)
{
	struct sch_buf bin = SCH_BUF_INIT;
	char *rel = dev_dir(repo), *dir = NULL, *data = NULL, *log = NULL,
	     *ilog = NULL;
	int fd = -1, rc, st, fresh = 0;

	if (started)
		*started = 0;
	if (sch_dev_running(repo, NULL)) {
		free(rel);
		return spawn_watcher(repo);
	}
	rc = sch_dev_bindir(&bin);
	if (rc)
		goto out;
	rc = lock_file(repo, "lock", LOCK_EX, &fd);
	if (rc)
		goto out;
	/* Another process may have started it while we waited. */
	if (sch_dev_running(repo, NULL))
		goto watch;
	dir = cluster_dir(repo);
	if (!sock_fits(dir)) {
		rc = sch_error_set(SCH_EDB, "'%s' is too long a path for the "
				   "scratch cluster's socket (%zu bytes, at "
				   "most %d)", dir,
				   strlen(dir) + sizeof("/.s.PGSQL." DEV_PORT) - 1,
				   SOCK_MAX);
		sch_error_hint("set SCHEMA_DEV_ROOT to a shorter directory, or "
			       "name a server with SCHEMA_DEV_URL");
		goto out;
	}
	if (in_runtime_dir(repo, dir) && (rc = make_runtime_base()))
		goto out;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = sch_error_set(SCH_EIO, "cannot create '%s': %s", dir,
				   strerror(errno));
		goto out;
	}
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
				"cluster in %s\n", dir);
		st = run_prog(bin.ptr, argv, dir, ilog);
		if (st) {
			char *tmp = xasprintf("%s/data.failed", dir);
			rc = prog_failed(st, "initdb", dir, ilog);
			/* keep nothing half-made: a rerun starts over */
			rename(data, tmp);
			free(tmp);
			goto out;
		}
		fresh = 1;
	}
	rc = write_conf(dir, fresh);
	if (rc)
		goto out;
	if (!quiet)
		fprintf(stderr, "schema: note: starting the scratch cluster in "
			"%s\n", dir);
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
watch:
	rc = spawn_watcher(repo);
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

static int remove_tree(const char *dir)
{
	if (access(dir, F_OK) == 0 &&
	    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
		return sch_error_set(SCH_EIO, "cannot remove '%s': %s", dir,
				     strerror(errno));
	return 0;
}

int sch_dev_stop(const char *repo, int remove_data)
{
	struct sch_buf bin = SCH_BUF_INIT;
	char *rel = dev_dir(repo), *dir = NULL, *data = NULL, *log = NULL;
	char *keep = xasprintf("%s/keep", rel);
	int fd = -1, rc = 0, st;

	if (access(rel, F_OK) != 0)
		goto out;
	rc = lock_file(repo, "lock", LOCK_EX, &fd);
	if (rc)
		goto out;
	unlink(keep);
	dir = cluster_dir(repo);
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
	if (remove_data && in_runtime_dir(repo, dir))
		rc = remove_tree(dir);
	if (!rc && remove_data)
		rc = remove_tree(rel);
out:
	if (fd >= 0)
		close(fd);
	sch_buf_release(&bin);
	free(rel);
	free(keep);
	free(dir);
	free(data);
	free(log);
	return rc;
}

/* ---- use, idleness and the watcher ---- */

/* .schema/dev/used: its mtime the last use, its text the idle-stop. */
static void mark_used(const char *repo, long idle)
{
	char *p = xasprintf("%s/dev/used", repo);
	char *tmp = xasprintf("%s/dev/used.%ld", repo, (long)getpid());
	FILE *f = fopen(tmp, "w");

	if (f) {
		fprintf(f, "idle-stop %ld\n", idle);
		if (fclose(f) == 0 && rename(tmp, p) == 0)
			tmp[0] = '\0';
	}
	if (tmp[0])
		unlink(tmp);
	free(p);
	free(tmp);
}

int sch_dev_acquire(struct sch_dev_use *u, const char *repo, long idle,
		    int quiet, int *started)
{
	int rc;

	u->fd = -1;
	u->idle = idle;
	/* shared: the watcher takes it alone only to stop the server */
	rc = lock_file(repo, "use", LOCK_SH, &u->fd);
	if (rc)
		return rc;
	mark_used(repo, idle);
	rc = sch_dev_start(repo, quiet, started);
	if (rc) {
		close(u->fd);
		u->fd = -1;
	}
	return rc;
}

void sch_dev_release(struct sch_dev_use *u, const char *repo)
{
	if (u->fd < 0)
		return;
	mark_used(repo, u->idle);
	close(u->fd);
	u->fd = -1;
}

int sch_dev_keep(const char *repo, int on)
{
	char *p = xasprintf("%s/dev/keep", repo);
	int rc = 0, fd;

	if (on) {
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = sch_error_set(SCH_EIO, "cannot create '%s': %s",
					   p, strerror(errno));
		else
			close(fd);
	} else if (unlink(p) && errno != ENOENT) {
		rc = sch_error_set(SCH_EIO, "cannot remove '%s': %s", p,
				   strerror(errno));
	}
	free(p);
	return rc;
}

int sch_dev_info(struct sch_dev_info *out, const char *repo)
{
	char *p = xasprintf("%s/dev/used", repo);
	struct sch_buf text = SCH_BUF_INIT;
	struct stat st;
	int fd = -1;

	memset(out, 0, sizeof(*out));
	out->running = sch_dev_running(repo, &out->pid);
	out->kept = file_exists(repo, "keep");
	out->idle = -1;
	if (stat(p, &st) == 0) {
		out->last_use = st.st_mtime;
		if (sch_buf_read_file(&text, p) == 0)
			sscanf(text.ptr, "idle-stop %ld", &out->idle);
	}
	if (file_exists(repo, "watch")) {
		int r = lock_file(repo, "watch", LOCK_EX | LOCK_NB, &fd);
		out->watched = r == 1;
		if (r == 0)
			close(fd);
	}
	sch_buf_release(&text);
	free(p);
	return 0;
}

/* The start time of process pid (/proc/pid/stat field 22), or 0. */
static unsigned long long start_time(long pid)
{
	char *p = xasprintf("/proc/%ld/stat", pid);
	struct sch_buf b = SCH_BUF_INIT;
	unsigned long long t = 0;
	const char *s;

	if (sch_buf_read_file(&b, p) == 0 && (s = strrchr(b.ptr, ')'))) {
		/* after ") ": state is field 3; skip to field 22 */
		s += 2;
		for (int f = 3; f < 22 && s; f++) {
			s = strchr(s, ' ');
			if (s)
				s++;
		}
		if (s)
			t = strtoull(s, NULL, 10);
	}
	sch_buf_release(&b);
	free(p);
	return t;
}

static int alive(long pid, unsigned long long since)
{
	return (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
	       start_time(pid) == since;
}

/* Fast shutdown, then immediate, then kill: the postmaster is gone when
 * this returns (or was never ours). */
static void stop_postmaster(long pid, unsigned long long since)
{
	static const struct {
		int sig, wait_ds;
	} steps[] = { { SIGINT, 600 }, { SIGQUIT, 100 }, { SIGKILL, 100 } };

	for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
		if (!alive(pid, since))
			return;
		kill((pid_t)pid, steps[i].sig);
		for (int k = 0; k < steps[i].wait_ds && alive(pid, since); k++)
			usleep(100000);
	}
}

static int same_file(const char *p, const struct stat *was)
{
	struct stat st;

	return stat(p, &st) == 0 && st.st_dev == was->st_dev &&
	       st.st_ino == was->st_ino;
}

int sch_dev_watch(const char *repo)
{
	char *dev = dev_dir(repo), *used = xasprintf("%s/used", dev);
	char *dir = cluster_dir(repo);
	struct stat repo_st, dev_st;
	unsigned long long since;
	int fd = -1, rc = 0, runtime = in_runtime_dir(repo, dir);
	long pid;

	if (stat(repo, &repo_st) || stat(dev, &dev_st))
		goto out;
	/* one watcher a cluster: the one holding dev/watch */
	if (lock_file(repo, "watch", LOCK_EX | LOCK_NB, &fd))
		goto out;
	pid = running_in(dir);
	since = pid ? start_time(pid) : 0;
	if (!pid || !since)
		goto out;
	for (;;) {
		struct stat st;
		long idle = SCH_DEV_IDLE_DEFAULT;
		int ufd, n;
		FILE *f;

		sleep(1);
		if (!alive(pid, since))
			break;
		if (!same_file(repo, &repo_st) || !same_file(dev, &dev_st)) {
			/* the repository is gone: nothing can find or use
			 * the cluster again */
			stop_postmaster(pid, since);
			if (runtime)
				remove_tree(dir);
			break;
		}
		if (file_exists(repo, "keep"))
			continue;
		/* never stamped (an older schema started it): from now */
		if (stat(used, &st)) {
			mark_used(repo, SCH_DEV_IDLE_DEFAULT);
			continue;
		}
		f = fopen(used, "r");
		if (f) {
			n = fscanf(f, "idle-stop %ld", &idle);
			fclose(f);
			if (n != 1)
				idle = SCH_DEV_IDLE_DEFAULT;
		}
		if (idle <= 0 || time(NULL) - st.st_mtime < idle)
			continue;
		/* idle, unless a user holds it: then it is in use */
		if (lock_file(repo, "use", LOCK_EX | LOCK_NB, &ufd))
			continue;
		if (stat(used, &st) == 0 && time(NULL) - st.st_mtime >= idle)
			stop_postmaster(pid, since);
		close(ufd);
		if (!alive(pid, since))
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	free(dev);
	free(used);
	free(dir);
	return rc;
}

/* Starts the watcher unless one holds dev/watch: /proc/self/exe again
 * under the name SCH_DEV_WATCH_NAME, in a session of its own, with
 * nothing of ours open. */
static int spawn_watcher(const char *repo)
{
	char *abs = abs_path(repo);
	pid_t pid;
	int fd, rc, status;

	rc = lock_file(repo, "watch", LOCK_EX | LOCK_NB, &fd);
	if (rc) {
		free(abs);
		return rc == 1 ? 0 : rc;
	}
	close(fd);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		free(abs);
		return sch_error_set(SCH_EIO, "cannot start the scratch "
				     "cluster's watcher: %s", strerror(errno));
	}
	if (pid == 0) {
		char *argv[] = { SCH_DEV_WATCH_NAME, abs, NULL };
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		setsid();
		if (fork() != 0)
			_exit(0);
		if (chdir("/"))
			_exit(1);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		close_range(3, ~0U, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	free(abs);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

int sch_dev_idle_stop(const struct sch_config *cfg, long *secs)
{
	long ms;
	int rc = sch_config_duration(cfg, "dev.idle-stop",
				     SCH_DEV_IDLE_DEFAULT * 1000L, &ms);

	/* whole seconds, a fraction rounded up: 500ms is not "never" */
	*secs = rc ? SCH_DEV_IDLE_DEFAULT : (ms + 999) / 1000;
	return rc;
}
