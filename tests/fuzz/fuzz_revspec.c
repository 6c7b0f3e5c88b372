/* fuzz_revspec.c - sch_revspec_resolve() on arbitrary spec text, against a
 * small store made once in a temporary directory:
 *
 *   R (label core) -- A -- B ------ M   heads/main, HEAD, tags/v2
 *    \                \            /
 *     S                 F ---------'    heads/feature (label feat)
 *
 * tags/v1 -> A, heads/dup -> A, tags/dup -> B, migration 0002_a -> A.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/object.h"
#include "schema/refs.h"
#include "schema/revision.h"
#include "schema/revspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[64];
static struct sch_store *store;
static struct sch_id revs[6];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_revspec: %s: %s\n", what, sch_error_msg());
	abort();
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	sch_store_close(store);
	store = NULL;
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct sch_id mkrev(struct sch_txn *t, const char *msg,
			   const struct sch_id *parents, size_t np,
			   const char *label, const struct sch_id *blob)
{
	struct sch_rev r;
	struct sch_buf body = SCH_BUF_INIT;
	struct sch_id id;

	sch_rev_init(&r);
	for (size_t i = 0; i < np; i++)
		sch_rev_add_parent(&r, &parents[i]);
	if (label)
		sch_rev_add_label(&r, label);
	r.up = *blob;
	r.down = *blob;
	free(r.message);
	r.message = xasprintf("%s\n", msg);
	sch_rev_format(&body, &r);
	if (sch_object_put(&id, t, SCH_OBJ_REV, body.ptr, body.len, -1) ||
	    sch_graph_note_stored(t, &id, &r))
		die("storing a revision");
	sch_rev_release(&r);
	sch_buf_release(&body);
	return id;
}

static void make_store(void)
{
	struct sch_txn *t = NULL;
	struct sch_id blob, p[2];
	char *dir;
	enum { R, A, B, F, M, S };

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-fuzz-revspec.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		die("mkdtemp");
	}
	atexit(cleanup);
	dir = xasprintf("%s/store", tmpdir);
	if (sch_store_open(&store, dir, 1) || sch_txn_begin(&t, store, 1))
		die("opening the store");
	free(dir);
	if (sch_object_put(&blob, t, SCH_OBJ_BLOB, "select 1;\n", 10, -1))
		die("storing a blob");
	revs[R] = mkrev(t, "R", NULL, 0, "core", &blob);
	revs[A] = mkrev(t, "A", &revs[R], 1, NULL, &blob);
	revs[B] = mkrev(t, "B", &revs[A], 1, NULL, &blob);
	revs[F] = mkrev(t, "F", &revs[A], 1, "feat", &blob);
	p[0] = revs[B];
	p[1] = revs[F];
	revs[M] = mkrev(t, "M", p, 2, NULL, &blob);
	revs[S] = mkrev(t, "S", &revs[R], 1, NULL, &blob);
	if (sch_ref_write(t, "heads/main", &revs[M], NULL) ||
	    sch_ref_write(t, "heads/feature", &revs[F], NULL) ||
	    sch_ref_write(t, "heads/dup", &revs[A], NULL) ||
	    sch_ref_write(t, "tags/dup", &revs[B], NULL) ||
	    sch_ref_write(t, "tags/v1", &revs[A], NULL) ||
	    sch_ref_write(t, "tags/v2", &revs[M], NULL) ||
	    sch_ref_write_symbolic(t, "HEAD", "heads/main", NULL) ||
	    sch_kv_put(t, SCH_DB_WORKTREE, "0002_a", 6, revs[A].b,
		       SCH_ID_LEN) ||
	    sch_txn_commit(t))
		die("writing refs");
}

/* -N and +N name R and M. */
static int relative(struct sch_idlist *out, const char *spec, void *arg)
{
	(void)arg;
	sch_idlist_push(out, &revs[spec[0] == '-' ? 0 : 4]);
	return 0;
}

static int known(const struct sch_id *id)
{
	for (size_t i = 0; i < sizeof(revs) / sizeof(revs[0]); i++)
		if (!sch_id_cmp(id, &revs[i]))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch_txn *t = NULL;
	struct sch_idlist l = { 0 };
	struct sch_id one;
	char *spec;
	int rc;

	if (!store)
		make_store();
	if (size > 4096)
		return 0;
	spec = xstrndup((const char *)data, size);
	if (sch_txn_begin(&t, store, 0))
		die("starting a transaction");
	rc = sch_revspec_resolve(&l, t, spec, size % 2 ? relative : NULL, NULL);
	if (rc == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (!known(&l.v[i]))
				abort(); /* only stored revisions come out */
	} else if (rc != SCH_EINVAL && rc != SCH_ENOTFOUND &&
		   rc != SCH_EAMBIGUOUS) {
		fprintf(stderr, "unexpected error %d: %s\n", rc,
			sch_error_msg());
		abort();
	}
	sch_idlist_release(&l);
	if (sch_revspec_one(&one, t, spec) == 0 && !known(&one))
		abort();
	sch_txn_abort(t);
	free(spec);
	return 0;
}
