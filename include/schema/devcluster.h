/*
 * devcluster.h - the scratch cluster: a private PostgreSQL server under
 * .schema/dev/ that commit, merge and validate apply revisions to.
 *
 * Layout: dev/data (PGDATA), dev/server.log, dev/initdb.log, dev/lock (held
 * while starting or stopping), dev/.s.PGSQL.5432 (the socket; no TCP).
 * Server programs: $PG_BINDIR, else `pg_config --bindir`, else the highest
 * /usr/lib/postgresql/N/bin, else PATH. Under uid 0 the server runs as the
 * user $SCHEMA_DEV_USER (default postgres), since initdb refuses root.
 */
#ifndef SCH_DEVCLUSTER_H
#define SCH_DEVCLUSTER_H

#include "schema/buf.h"

/* The directory of the server programs (initdb, pg_ctl) into out.
 * Returns 0 or SCH_EDB with a hint. */
int sch_dev_bindir(struct sch_buf *out);

/* The URL of database `db` on the cluster of repo (the .schema directory),
 * appended to out. */
void sch_dev_url(struct sch_buf *out, const char *repo, const char *db);

/* 1 when the cluster of repo is running, else 0; *pid its postmaster. */
int sch_dev_running(const char *repo, long *pid);

/*
 * Starts the cluster (initdb first when there is none), saying so on
 * stderr unless quiet. *started (may be NULL) is set when it was not
 * running. Returns 0, SCH_EDB (no server programs, initdb
 * or the server failed; the log named), SCH_EIO.
 */
int sch_dev_start(const char *repo, int quiet, int *started);

/* Stops the cluster when it runs; remove: also deletes its data.
 * Returns 0, SCH_EDB, SCH_EIO. */
int sch_dev_stop(const char *repo, int remove);

#endif
