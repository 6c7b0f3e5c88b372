/*
 * snapshot.h - consistent backups of a whole database into the object
 * store, and their restore (docs/snapshots.md).
 *
 * A backup opens one connection, starts a REPEATABLE READ READ ONLY
 * transaction and exports its snapshot; a second connection and the two
 * pg_dump children (--section=pre-data and --section=post-data, schema
 * only) import it, so everything read is the database at one instant.
 * Table data is read with COPY TO STDOUT over the two connections (a table
 * larger than SCH_SNAP_RANGE_PAGES pages is read in ctid ranges, so both
 * work on it), cut by the content-defined chunker, compressed on worker
 * threads and stored as `chunk` objects; one thread writes the store, in
 * one LMDB write transaction for the whole backup, so an interrupted
 * backup leaves nothing visible. The `snap` object (schema/manifest.h)
 * names everything, and the `snapshots` database lists it.
 *
 * A restore verifies every object of the snapshot before it connects to
 * write, then runs pre-data (psql), loads the tables over two connections,
 * sets the sequences and runs post-data (psql). While it runs, the schema
 * `schema_restore` in the target holds a marker naming the snapshot; it is
 * dropped at the end, so a marker that is still there means an interrupted
 * restore, which a rerun with force completes.
 *
 * A backup also captures the schema's state (catalog.h) under the same
 * snapshot and names it in the manifest.
 *
 * With a key (schema/seal.h) every chunk, both DDL blobs, the state text
 * and the manifest are sealed before they are stored; object ids are
 * taken over the sealed bytes, so the store verifies without the key, and
 * the `snap` object is a clear envelope listing what it reaches
 * (manifest.h). The `sealed` database maps a keyed tag of each chunk's
 * plaintext to its sealed id, so a backup with the same key finds a chunk
 * it has stored before without compressing and sealing it again.
 *
 * This floor never prints: progress goes to a callback.
 */
#ifndef SCH_SNAPSHOT_H
#define SCH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/manifest.h"
#include "schema/object.h"

/* Tables larger than this many pages are read in ranges of this size (64
 * MiB of 8 KiB pages). Fixed, so the ranges and hence the chunks of an
 * unchanged table are the same from one backup to the next. */
#define SCH_SNAP_RANGE_PAGES 8192
/* zlib level of chunks unless told otherwise. Level 1 costs half the CPU
 * of level 6 on text rows for a store 7-30% larger, and on pgbench's rows
 * it is both faster and 12% smaller (level 6's lazy matching does worse on
 * long runs): backups before every production checkout favour speed, and
 * deduplication saves more than any level. */
#define SCH_SNAP_LEVEL_DEFAULT 1
/* The schema of the restore marker in a target database. */
#define SCH_SNAP_MARKER_SCHEMA "schema_restore"

struct sch_pg;
struct sch_seal_key;
struct sch_catalog_opts;

struct sch_snap_progress {
	const char *phase;	 /* "backup", "verify", "restore" */
	uint64_t bytes, rows;	 /* table data so far */
	uint64_t total_bytes;	 /* estimate; 0 when unknown */
	size_t tables_done, tables;
	double seconds;		 /* since the phase started */
	int final;		 /* the last call of the phase */
};
/* Called from the calling thread, about 5 times a second. */
typedef void sch_snap_progress_fn(void *arg,
				  const struct sch_snap_progress *p);

struct sch_backup_opts {
	const char *conninfo;	/* resolved connection string */
	const char *registry;	/* registry schema; NULL: the default */
	const char *note;	/* NULL or "": none */
	int level;		/* zlib level 1-9, 0 raw, -1 the default */
	size_t chunk_avg;	/* average chunk size; 0 the default */
	const struct sch_seal_key *key; /* NULL: not encrypted */
	const struct sch_catalog_opts *catalog; /* the state's schemas */
	const char *bindir;	/* core.pg-bindir: pg_dump there first */
	sch_snap_progress_fn *progress;
	void *progress_arg;
};

struct sch_backup_result {
	struct sch_id id;	/* the snap object */
	size_t tables;
	uint64_t rows, raw_bytes;
	uint64_t new_bytes;	/* stored bytes this backup added */
	uint64_t new_objects;
};

/*
 * Backs up the database o->conninfo names into the store, opening and
 * committing its own write transaction. Before any work it finds a
 * pg_dump of the server's major or later (pgtools.h). Returns 0, SCH_EDB
 * (connection, query, pg_dump: none new enough), SCH_EREFUSED (the database holds large objects or an
 * unfinished restore), SCH_EFULL, SCH_EIO.
 */
int sch_snapshot_backup(struct sch_backup_result *out, struct sch_store *store,
			const struct sch_backup_opts *o);

/* Reads and parses the manifest of snapshot id (a sealed one stays
 * unopened). Returns 0, SCH_ENOTFOUND, SCH_ECORRUPT. */
int sch_snapshot_load(struct sch_manifest *out, struct sch_txn *t,
		      const struct sch_id *id);

/*
 * Opens the sealed manifest m of snapshot id with key (NULL: none given),
 * filling in what the box holds; a plain or opened m is left alone.
 * Returns 0, SCH_EUSAGE (no key: "snapshot <id> is encrypted and no key
 * was given"), SCH_EREFUSED (the key's id is not the one it was sealed
 * with: "wrong key"), SCH_ECORRUPT (the box does not authenticate, or
 * the envelope does not list what the manifest names).
 */
int sch_snapshot_open(struct sch_manifest *m, const struct sch_id *id,
		      const struct sch_seal_key *key);

/*
 * The state text snapshot m (plain or opened) recorded into text and its
 * id into *state. Returns 0, SCH_ENOTFOUND (a snapshot from before states
 * were recorded: "snapshot <id> has no recorded state"), SCH_ECORRUPT.
 */
int sch_snapshot_state(struct sch_buf *text, struct sch_id *state,
		       struct sch_txn *t, const struct sch_manifest *m,
		       const struct sch_id *id, const struct sch_seal_key *key);

/*
 * Resolves a prefix to a listed snapshot. Returns 0, SCH_EINVAL,
 * SCH_ENOTFOUND, SCH_EAMBIGUOUS.
 */
int sch_snapshot_resolve(struct sch_id *out, struct sch_txn *t,
			 const char *prefix);

/* One snapshot as `schema snapshots` lists it. */
struct sch_snap_info {
	struct sch_id id;
	struct sch_manifest m;
	uint64_t rows, raw_bytes;
	uint64_t stored_bytes;	/* every object it names, once */
	uint64_t added_bytes;	/* of those, what no earlier snapshot names */
	int damaged;		/* the manifest does not read */
	int sealed;		/* encrypted: m holds the envelope only */
};
/*
 * Lists the snapshots, oldest first (by time, then id). Sealed ones that
 * key (may be NULL) opens are opened; the others keep their envelope.
 * *out is malloc'd; free with sch_snapshot_list_free(). Returns 0 or
 * SCH_EIO.
 */
int sch_snapshot_list(struct sch_snap_info **out, size_t *n,
		      struct sch_txn *t, const struct sch_seal_key *key);
void sch_snapshot_list_free(struct sch_snap_info *v, size_t n);

struct sch_restore_opts {
	const char *conninfo;	/* the target */
	const struct sch_seal_key *key; /* for a sealed snapshot */
	int force;		/* replace a non-empty target's content */
	sch_snap_progress_fn *progress;
	void *progress_arg;
};

/*
 * Restores snapshot id into the target: opens it (sealed) and verifies it
 * first (nothing is written when a key is missing or wrong or an object
 * is bad), refuses a non-empty target unless o->force, then recreates
 * pre-data, data, sequences and post-data. Returns 0, SCH_ECORRUPT /
 * SCH_ENOTFOUND (a bad snapshot), SCH_EUSAGE / SCH_EREFUSED (see
 * sch_snapshot_open), SCH_EREFUSED (a non-empty target, or one with an
 * interrupted restore), SCH_EDB.
 */
int sch_snapshot_restore(struct sch_store *store, const struct sch_id *id,
			 const struct sch_restore_opts *o);

/*
 * Whether the database of pg holds the marker of an interrupted restore:
 * 1 with the snapshot's id (hex) in snap, 0 when not. Returns SCH_EDB on
 * a query failure.
 */
int sch_snapshot_marker(struct sch_pg *pg, struct sch_buf *snap);

#endif
