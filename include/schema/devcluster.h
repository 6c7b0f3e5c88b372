/*
 * devcluster.h - the scratch cluster: a private PostgreSQL server that
 * commit, merge and validate apply revisions to.
 *
 * Where it lives: .schema/dev/ when the server runs as this user and its
 * socket path fits (107 bytes); under root (the server then runs as
 * $SCHEMA_DEV_USER, default postgres, since initdb refuses root) or for a
 * too long path, in <base>/<16 hex digits of the BLAKE2b of the
 * repository's path>, owned by the server's user, mode 0700, where base
 * is $SCHEMA_DEV_ROOT or /var/tmp/schema-<uid> (ours, mode 0711). Either
 * way the cluster directory holds data/ (PGDATA), server.log, initdb.log
 * and the socket .s.PGSQL.5432 (no TCP); .schema/dev/ holds lock (start
 * and stop), use (shared by every user of the server), used (its mtime
 * the last use, its text the idle-stop), keep (dev start: no idle stop)
 * and watch (held by the watcher).
 *
 * Server programs: $PG_BINDIR, else `pg_config --bindir`, else the highest
 * /usr/lib/postgresql/N/bin, else PATH.
 *
 * The watcher: the process that starts the server starts one watcher
 * (this binary again, named SCH_DEV_WATCH_NAME) that stops the server
 * after `idle` seconds without use unless keep is there, and at once,
 * removing a runtime directory, when the repository is gone; it ends with
 * the server.
 */
#ifndef SCH_DEVCLUSTER_H
#define SCH_DEVCLUSTER_H

#include <time.h>

#include "schema/buf.h"

#define SCH_DEV_IDLE_DEFAULT 900	/* [dev] idle-stop = 15min */
#define SCH_DEV_WATCH_NAME "schema-dev-watch"

/* The directory of the server programs (initdb, pg_ctl) into out.
 * Returns 0 or SCH_ENOTFOUND with a hint. */
int sch_dev_bindir(struct sch_buf *out);

/* The cluster's directory, appended to out. */
void sch_dev_dir(struct sch_buf *out, const char *repo);

/* A URL of database `db` on the cluster of repo (the .schema directory),
 * host and port stated, for people and psql; appended to out. */
void sch_dev_url(struct sch_buf *out, const char *repo, const char *db);

/* The connection string schema itself uses for database `db`: sealed
 * against the user's libpq environment (sch_pg_conninfo_sealed()).
 * Replaces out. Returns 0 or SCH_ETOOBIG. */
int sch_dev_conninfo(struct sch_buf *out, const char *repo, const char *db);

/* 1 when the cluster of repo is running, else 0; *pid its postmaster. */
int sch_dev_running(const char *repo, long *pid);

/*
 * Starts the cluster (initdb first when there is none), saying so on
 * stderr unless quiet, and its watcher when none runs. *started (may be
 * NULL) is set when it was not running. Returns 0, SCH_ENOTFOUND (no
 * server programs), SCH_EDB (initdb or the server failed; the log
 * named), SCH_EIO.
 */
int sch_dev_start(const char *repo, int quiet, int *started);

/* Stops the cluster when it runs and forgets dev start's keep; remove:
 * also deletes its data. Returns 0, SCH_EDB, SCH_EIO. */
int sch_dev_stop(const char *repo, int remove);

/* A use of the cluster: while held, the watcher does not stop it. */
struct sch_dev_use {
	int fd;
	long idle;
};

/* Marks the cluster in use, records idle (seconds, 0 = never) as its
 * idle-stop, and starts it (sch_dev_start()). Returns what that does. */
int sch_dev_acquire(struct sch_dev_use *u, const char *repo, long idle,
		    int quiet, int *started);
/* Ends the use; the idle time counts from now. */
void sch_dev_release(struct sch_dev_use *u, const char *repo);

/* dev start: on = no idle stop until dev stop. Returns 0 or SCH_EIO. */
int sch_dev_keep(const char *repo, int on);

struct sch_dev_info {
	int running, kept, watched;
	long pid;
	long idle;		/* the idle-stop last recorded; -1 unknown */
	time_t last_use;	/* 0 unknown */
};

/* What dev status shows. Returns 0. */
int sch_dev_info(struct sch_dev_info *out, const char *repo);

/* The watcher's loop (see above); returns its exit status. */
int sch_dev_watch(const char *repo);

/* [dev] idle-stop in whole seconds (0: never; default 15 min). Returns 0
 * or SCH_EPARSE (not a duration, the key named). */
struct sch_config;
int sch_dev_idle_stop(const struct sch_config *cfg, long *secs);

#endif
