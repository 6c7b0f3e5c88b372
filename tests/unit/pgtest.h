/*
 * pgtest.h - a real PostgreSQL for unit tests (header-only: the Makefile
 * builds each tests/unit/test_*.c alone).
 *
 * Before any test runs, the runner process clears the libpq environment
 * (PGHOST, PGPORT, PGOPTIONS, PGSERVICE, ...: see pgtest_unset), takes
 * the server from
 * SCHEMA_TEST_PG_URL (tests/run.sh starts one cluster per run and exports
 * it) or, when unset, starts a private one with tests/pg-cluster.sh
 * ($PG_CLUSTER) and exports its URL for the test processes; it stops that
 * one at the end.
 *
 * A test that needs a database names pgtest_setup/pgtest_teardown as its
 * .init/.fini: each test then gets its own fresh database, whose connection
 * string is pgtest_conninfo (key=value form, no password).
 */
#ifndef SCH_PGTEST_H
#define SCH_PGTEST_H

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/pg.h"

#define PGTEST_ENV "SCHEMA_TEST_PG_URL"

static char pgtest_cluster_dir[256];	/* set when this binary started one */
static struct sch_buf pgtest_conninfo_buf = SCH_BUF_INIT;
static char pgtest_dbname[32];
/* The current test's database; valid between setup and teardown. */
#define pgtest_conninfo (pgtest_conninfo_buf.ptr)

/*
 * Runs argv (no shell) and captures its standard output into out.
 * Returns the exit status, or -1 when it could not run.
 */
static inline int pgtest_run(struct sch_buf *out, char *const argv[])
{
	int fds[2], status = 0;
	pid_t pid;
	char chunk[512];
	ssize_t n;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		if (out)
			sch_buf_add(out, chunk, (size_t)n);
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The cluster script: $PG_CLUSTER (tests/run.sh sets it) or the one
 * under the working directory. */
static inline char *pgtest_script(void)
{
	char *s = getenv("PG_CLUSTER");

	return s && *s ? s : "tests/pg-cluster.sh";
}

/* The admin URL of the cluster (the runner exported it). */
static inline const char *pgtest_url(void)
{
	const char *u = getenv(PGTEST_ENV);

	return u ? u : "";
}

static const char *const pgtest_unset[] = {
	"PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS",
	"PGSERVICE", "PGSERVICEFILE", "PGSSLMODE", "PGTARGETSESSIONATTRS",
	"PGPASSWORD", "PGCONNECT_TIMEOUT", "PGCLIENTENCODING", "PGTZ",
	"PGDATESTYLE", "PGGSSENCMODE", "PGCHANNELBINDING", "PGAPPNAME",
};

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	struct sch_buf url = SCH_BUF_INIT;
	char *argv[] = { "sh", pgtest_script(), "start", pgtest_cluster_dir,
			 NULL };
	const char *tmp = getenv("TMPDIR");

	(void)set;
	/* the tests connect where SCHEMA_TEST_PG_URL says (host and port
	 * in it), whatever the caller's libpq environment points at */
	for (size_t i = 0; i < sizeof(pgtest_unset) / sizeof(*pgtest_unset); i++)
		unsetenv(pgtest_unset[i]);
	if (getenv(PGTEST_ENV) && *getenv(PGTEST_ENV))
		return;
	snprintf(pgtest_cluster_dir, sizeof(pgtest_cluster_dir),
		 "%s/schema-pgtest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(pgtest_cluster_dir)) {
		perror("pgtest: mkdtemp");
		exit(1);
	}
	if (pgtest_run(&url, argv) != 0 || !url.len) {
		fprintf(stderr, "pgtest: %s start %s failed (run from the "
			"repository root or set %s)\n", pgtest_script(),
			pgtest_cluster_dir, PGTEST_ENV);
		rmdir(pgtest_cluster_dir);
		exit(1);
	}
	while (url.len && (url.ptr[url.len - 1] == '\n' ||
			   url.ptr[url.len - 1] == '\r'))
		sch_buf_truncate(&url, url.len - 1);
	/* the last line is the URL */
	setenv(PGTEST_ENV, strrchr(url.ptr, '\n') ? strrchr(url.ptr, '\n') + 1
						  : url.ptr, 1);
	sch_buf_release(&url);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char *argv[] = { "sh", pgtest_script(), "stop", pgtest_cluster_dir,
			 NULL };

	(void)stats;
	if (!pgtest_cluster_dir[0])
		return;
	pgtest_run(NULL, argv);
	pgtest_cluster_dir[0] = '\0';
}

/* Runs one statement on the admin connection; aborts the test on failure. */
static inline void pgtest_admin(const char *sql)
{
	struct sch_pg *pg = NULL;

	cr_assert_eq(sch_pg_open(&pg, pgtest_url()), 0,
		     "pgtest: cannot connect to %s: %s", PGTEST_ENV,
		     sch_error_msg());
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_COMMAND, sql, 0, NULL), 0,
		     "pgtest: %s: %s", sql, sch_error_msg());
	sch_pg_close(pg);
}

static inline void pgtest_setup(void)
{
	unsigned char rnd[6];
	char hex[13], sql[96];
	int fd = open("/dev/urandom", O_RDONLY);

	cr_assert(fd >= 0 && read(fd, rnd, sizeof(rnd)) == sizeof(rnd));
	close(fd);
	sch_hex(hex, rnd, sizeof(rnd));
	snprintf(pgtest_dbname, sizeof(pgtest_dbname), "t_%s", hex);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pgtest_dbname);
	pgtest_admin(sql);
	sch_buf_reset(&pgtest_conninfo_buf);
	cr_assert_eq(sch_pg_conninfo_set(&pgtest_conninfo_buf, pgtest_url(),
					 "dbname", pgtest_dbname), 0);
}

static inline void pgtest_teardown(void)
{
	char sql[96];

	if (!pgtest_dbname[0])
		return;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 pgtest_dbname);
	pgtest_admin(sql);
	pgtest_dbname[0] = '\0';
	sch_buf_release(&pgtest_conninfo_buf);
}

/* Opens a connection to the test's database; aborts the test on failure. */
static inline struct sch_pg *pgtest_open(void)
{
	struct sch_pg *pg = NULL;

	cr_assert_eq(sch_pg_open(&pg, pgtest_conninfo), 0, "connect: %s",
		     sch_error_msg());
	return pg;
}

#endif
