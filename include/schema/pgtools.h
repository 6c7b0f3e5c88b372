/*
 * pgtools.h - the PostgreSQL client programs schema runs (pg_dump), found
 * for a server's major before any work: a pg_dump refuses a server newer
 * than itself, so a backup of PostgreSQL 18 needs pg_dump 18 or later.
 *
 * Candidates, in this order: the directory `bindir` (config
 * core.pg-bindir), $PG_BINDIR, pg_dump in PATH, /usr/lib/postgresql/N/bin
 * (Debian, highest N first). The first whose major is at least the
 * server's is taken.
 */
#ifndef SCH_PGTOOLS_H
#define SCH_PGTOOLS_H

#include "schema/buf.h"

/* The major of program `path` from `path --version` ("pg_dump
 * (PostgreSQL) 15.18 ..." gives 15), or -1 when it does not run. */
int sch_pgtools_major(const char *path);

/*
 * The path of a `prog` (pg_dump) that can work with a server of `major`,
 * into out. Returns 0, or SCH_EDB: none found, or only older ones
 * ("pg_dump 15 (/usr/bin/pg_dump) cannot dump PostgreSQL 18: pg_dump 18
 * or later is needed"), with a hint naming PG_BINDIR and core.pg-bindir.
 */
int sch_pgtools_find(struct sch_buf *out, const char *prog, int major,
		     const char *bindir);

#endif
