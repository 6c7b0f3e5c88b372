/* lmdb.c - the LMDB environment, transactions and named databases. */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "schema/env.h"
#include "schema/error.h"

#define DEFAULT_MAP_SIZE ((size_t)64 << 30)

static const char *const db_names[SCH_DB__COUNT] = {
	[SCH_DB_OBJECTS] = "objects",     [SCH_DB_REFS] = "refs",
	[SCH_DB_REFLOG] = "reflog",       [SCH_DB_STATES] = "states",
	[SCH_DB_WORKTREE] = "worktree",   [SCH_DB_HEADS] = "heads",
	[SCH_DB_SNAPSHOTS] = "snapshots", [SCH_DB_TASKS] = "tasks",
	[SCH_DB_META] = "meta",           [SCH_DB_WTSTAT] = "wtstat",
	[SCH_DB_SIGS] = "sigs",           [SCH_DB_SEALED] = "sealed",
};

struct sch_store {
	char *dir;
	MDB_env *env;
	MDB_dbi dbi[SCH_DB__COUNT];
};

struct sch_txn {
	struct sch_store *store;
	MDB_txn *txn;
	int write;
};

struct sch_cursor {
	MDB_cursor *cur;
};

static int lmdb_error(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return sch_error_set(SCH_EFULL,
				     "store is full: the LMDB map size is reached "
				     "while %s", what);
	if (rc == ENOSPC || rc == EFBIG || rc == EDQUOT)
		return sch_error_set(SCH_EFULL, "store is full: %s while %s",
				     mdb_strerror(rc), what);
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
	    rc == MDB_INVALID)
		return sch_error_set(SCH_ECORRUPT, "store is damaged: %s",
				     mdb_strerror(rc));
	return sch_error_set(SCH_EIO, "store: %s while %s", mdb_strerror(rc),
			     what);
}

static size_t map_size_for(const char *dir)
{
	const char *env = getenv("SCHEMA_MAP_SIZE");
	size_t size = DEFAULT_MAP_SIZE;
	char path[4096];
	struct stat st;

	if (env && *env) {
		char *end;
		unsigned long long v = strtoull(env, &end, 10);
		if (*end == '\0' && v >= 65536)
			size = (size_t)v;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) == 0 && (size_t)st.st_size > size / 2)
		size = (size_t)st.st_size * 2;
	return size;
}

int sch_store_open(struct sch_store **out, const char *dir, int create)
{
	struct sch_store *s = xcalloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	char path[4096];
	struct stat st;
	int rc;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) != 0) {
		if (!create) {
			free(s);
			return sch_error_set(SCH_ENOREPO,
					     "no object store in '%s'", dir);
		}
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			free(s);
			return sch_error_set(SCH_EIO, "cannot create '%s': %s",
					     dir, strerror(errno));
		}
	}
	rc = mdb_env_create(&s->env);
	if (rc)
		goto fail;
	rc = mdb_env_set_maxdbs(s->env, SCH_DB__COUNT + 4);
	if (rc)
		goto fail;
	rc = mdb_env_set_mapsize(s->env, map_size_for(dir));
	if (rc)
		goto fail;
	rc = mdb_env_set_maxreaders(s->env, 126);
	if (rc)
		goto fail;
	rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0644);
	if (rc)
		goto fail;
	/* LMDB leaves the data file open across exec: hooks, pg_dump and
	 * the scratch cluster's server (another user's daemon) must not
	 * inherit a descriptor of the store. */
	{
		mdb_filehandle_t fd;
		if (mdb_env_get_fd(s->env, &fd) == 0 && fd >= 0)
			fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	}
	/* Open the databases in a read transaction, so that a reading
	 * command never waits for a writer; create them (a new store, or one
	 * from before a database was added) in a write transaction. */
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		goto fail;
	for (int i = 0; i < SCH_DB__COUNT && !rc; i++)
		rc = mdb_dbi_open(txn, db_names[i], 0, &s->dbi[i]);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc) {
			txn = NULL;
			goto fail;
		}
		for (int i = 0; i < SCH_DB__COUNT && !rc; i++)
			rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
	}
	if (rc)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto fail;
	s->dir = xstrdup(dir);
	*out = s;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	rc = lmdb_error(rc, "opening the store");
	sch_error_wrap(rc, "cannot open '%s'", dir);
	if (s->env)
		mdb_env_close(s->env);
	free(s);
	return rc;
}

void sch_store_close(struct sch_store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	free(s->dir);
	free(s);
}

int sch_txn_begin(struct sch_txn **out, struct sch_store *s, int write)
{
	struct sch_txn *t = xcalloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	t->store = s;
	t->write = write;
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc) {
		free(t);
		return lmdb_error(rc, "starting a transaction");
	}
	*out = t;
	return 0;
}

/* LMDB reports a short write as EIO: tell a full disk or a file size
 * limit from a real I/O error. */
static int no_room(const struct sch_store *s)
{
	char path[4096];
	struct statvfs sv;
	struct rlimit rl;
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", s->dir);
	if (stat(path, &st) != 0)
		return 0;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)st.st_size + (1 << 20) >= rl.rlim_cur)
		return 1;
	if (statvfs(s->dir, &sv) == 0 &&
	    (unsigned long long)sv.f_bavail * sv.f_frsize < (1ULL << 20))
		return 1;
	return 0;
}

int sch_txn_commit(struct sch_txn *t)
{
	int rc = mdb_txn_commit(t->txn);
	struct sch_store *s = t->store;

	free(t);
	if (rc == EIO && no_room(s))
		rc = ENOSPC;
	if (rc)
		return lmdb_error(rc, "committing");
	return 0;
}

void sch_txn_abort(struct sch_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

int sch_txn_is_write(const struct sch_txn *t)
{
	return t->write;
}

int sch_kv_get(struct sch_txn *t, enum sch_db db, const void *key,
	       size_t klen, const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc = mdb_get(t->txn, t->store->dbi[db], &k, &v);

	if (rc == MDB_NOTFOUND)
		return SCH_ENOTFOUND;
	if (rc)
		return lmdb_error(rc, "reading");
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int sch_kv_put(struct sch_txn *t, enum sch_db db, const void *key,
	       size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (!t->write)
		return sch_error_set(SCH_EIO, "write in a read transaction");
	rc = mdb_put(t->txn, t->store->dbi[db], &k, &v, 0);
	if (rc)
		return lmdb_error(rc, "writing");
	return 0;
}

int sch_kv_del(struct sch_txn *t, enum sch_db db, const void *key,
	       size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_del(t->txn, t->store->dbi[db], &k, NULL);

	if (rc == MDB_NOTFOUND)
		return SCH_ENOTFOUND;
	if (rc)
		return lmdb_error(rc, "deleting");
	return 0;
}

int sch_cursor_open(struct sch_cursor **out, struct sch_txn *t,
		    enum sch_db db)
{
	struct sch_cursor *c = xcalloc(1, sizeof(*c));
	int rc = mdb_cursor_open(t->txn, t->store->dbi[db], &c->cur);

	*out = NULL;
	if (rc) {
		free(c);
		return lmdb_error(rc, "opening a cursor");
	}
	*out = c;
	return 0;
}

void sch_cursor_close(struct sch_cursor *c)
{
	if (!c)
		return;
	mdb_cursor_close(c->cur);
	free(c);
}

static int cursor_get(struct sch_cursor *c, MDB_val *k, MDB_cursor_op op,
		      const void **kp, size_t *kl, const void **vp, size_t *vl)
{
	MDB_val v;
	int rc = mdb_cursor_get(c->cur, k, &v, op);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return lmdb_error(rc, "iterating");
	if (kp)
		*kp = k->mv_data;
	if (kl)
		*kl = k->mv_size;
	if (vp)
		*vp = v.mv_data;
	if (vl)
		*vl = v.mv_size;
	return 1;
}

int sch_cursor_seek(struct sch_cursor *c, const void *key, size_t klen,
		    const void **k, size_t *kl, const void **v, size_t *vl)
{
	MDB_val mk = { klen, (void *)key };

	if (!klen)
		return cursor_get(c, &mk, MDB_FIRST, k, kl, v, vl);
	return cursor_get(c, &mk, MDB_SET_RANGE, k, kl, v, vl);
}

int sch_cursor_next(struct sch_cursor *c, const void **k, size_t *kl,
		    const void **v, size_t *vl)
{
	MDB_val mk;

	return cursor_get(c, &mk, MDB_NEXT, k, kl, v, vl);
}

int sch_cursor_last(struct sch_cursor *c, const void **k, size_t *kl,
		    const void **v, size_t *vl)
{
	MDB_val mk;

	return cursor_get(c, &mk, MDB_LAST, k, kl, v, vl);
}

int sch_kv_count(struct sch_txn *t, enum sch_db db, size_t *out)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->store->dbi[db], &st);

	if (rc)
		return lmdb_error(rc, "counting");
	*out = st.ms_entries;
	return 0;
}

int sch_kv_reserve(struct sch_txn *t, enum sch_db db, const void *key,
		   size_t klen, size_t vlen, void **val)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, NULL };
	int rc;

	if (!t->write)
		return sch_error_set(SCH_EIO, "write in a read transaction");
	rc = mdb_put(t->txn, t->store->dbi[db], &k, &v, MDB_RESERVE);
	if (rc)
		return lmdb_error(rc, "writing");
	*val = v.mv_data;
	return 0;
}
