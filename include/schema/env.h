/*
 * env.h - the LMDB environment under .schema/store, its transactions and
 * its named databases. Wraps LMDB (store/lmdb.c); nothing else includes
 * lmdb.h.
 *
 * A command runs in one write transaction: everything it changes becomes
 * visible at sch_txn_commit() or not at all. Write transactions of
 * different processes are serialised by LMDB's writer lock: a second
 * writer waits in sch_txn_begin() until the first commits or aborts.
 */
#ifndef SCH_ENV_H
#define SCH_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"

/* The named databases of one environment. */
enum sch_db {
	SCH_DB_OBJECTS,   /* 32-byte id -> method byte + payload */
	SCH_DB_REFS,      /* ref name -> "64hex" or "ref: <name>" */
	SCH_DB_REFLOG,    /* be64 sequence -> "name\0old new time msg" */
	SCH_DB_STATES,    /* rev id + 1 byte server major -> state id */
	SCH_DB_WORKTREE,  /* migrations/ directory name -> rev id */
	SCH_DB_HEADS,     /* rev id -> "" for every revision without child */
	SCH_DB_SNAPSHOTS, /* snap id -> "" for every stored snapshot */
	SCH_DB_TASKS,     /* task refs: "name\0version" -> task id */
	SCH_DB_META,      /* store-wide settings: "format" -> "1" */
	SCH_DB_WTSTAT,    /* migrations/ directory name -> stat signature */
	SCH_DB_SIGS,      /* 'r'+rev id or 't'+tag -> sig entries (sign.h) */
	SCH_DB_SEALED,    /* keyed tag of a chunk's plaintext -> sealed chunk id */
	SCH_DB__COUNT
};

struct sch_store;
struct sch_txn;

/*
 * Opens the environment in directory `dir` (creating the directory and the
 * environment when `create` is set). The map size is taken from
 * SCHEMA_MAP_SIZE (bytes) when set, else 64 GiB, and is raised to twice the
 * data file's size when the file has grown past half of it.
 * Returns 0, SCH_ENOREPO (no environment and !create), SCH_EIO.
 */
int sch_store_open(struct sch_store **out, const char *dir, int create);
/* Closes the environment; accepts NULL. No transaction may be open. */
void sch_store_close(struct sch_store *s);

/*
 * Begins a transaction; a write transaction waits for any other writer.
 * Returns 0 or SCH_EIO.
 */
int sch_txn_begin(struct sch_txn **out, struct sch_store *s, int write);
/* Commits and frees t. Returns 0, SCH_EFULL (map or disk full), SCH_EIO;
 * on error nothing of t is visible. */
int sch_txn_commit(struct sch_txn *t);
/* Aborts and frees t; accepts NULL. */
void sch_txn_abort(struct sch_txn *t);
int sch_txn_is_write(const struct sch_txn *t);

/*
 * Key/value access. Data returned by sch_kv_get() and cursors points into
 * the map and stays valid until the transaction ends or writes.
 * sch_kv_get returns 0, SCH_ENOTFOUND or SCH_EIO.
 * sch_kv_put returns 0, SCH_EFULL or SCH_EIO.
 * sch_kv_del returns 0, SCH_ENOTFOUND or SCH_EIO.
 */
int sch_kv_get(struct sch_txn *t, enum sch_db db, const void *key,
	       size_t klen, const void **val, size_t *vlen);
int sch_kv_put(struct sch_txn *t, enum sch_db db, const void *key,
	       size_t klen, const void *val, size_t vlen);
int sch_kv_del(struct sch_txn *t, enum sch_db db, const void *key,
	       size_t klen);
/* Reserves vlen bytes for key's value and returns where to write them
 * (valid until the next write). Returns 0, SCH_EFULL or SCH_EIO. */
int sch_kv_reserve(struct sch_txn *t, enum sch_db db, const void *key,
		   size_t klen, size_t vlen, void **val);

struct sch_cursor;
int sch_cursor_open(struct sch_cursor **out, struct sch_txn *t,
		    enum sch_db db);
void sch_cursor_close(struct sch_cursor *c);
/*
 * Positions the cursor at the first key >= key (klen 0: the first key)
 * and returns it. sch_cursor_next() moves on; sch_cursor_last() goes to the
 * last key. Each returns 1 with the entry, 0 at the end, or SCH_EIO.
 */
int sch_cursor_seek(struct sch_cursor *c, const void *key, size_t klen,
		    const void **k, size_t *kl, const void **v, size_t *vl);
int sch_cursor_next(struct sch_cursor *c, const void **k, size_t *kl,
		    const void **v, size_t *vl);
int sch_cursor_last(struct sch_cursor *c, const void **k, size_t *kl,
		    const void **v, size_t *vl);

/* Number of entries in a database. */
int sch_kv_count(struct sch_txn *t, enum sch_db db, size_t *out);

#endif
