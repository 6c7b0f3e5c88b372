/* genhist: writes a synthetic history of N revisions with branches and
 * merges straight into a repository's store, the way `commit` would store
 * them (blobs, rev objects, heads index, branch refs), for benchmarks.
 * usage: genhist <.schema dir> <N> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/env.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/object.h"
#include "schema/refs.h"
#include "schema/revision.h"

static int put_rev(struct sch_id *out, struct sch_txn *t, long i,
		   const struct sch_id *p1, const struct sch_id *p2)
{
	struct sch_rev r;
	struct sch_buf up = SCH_BUF_INIT, down = SCH_BUF_INIT, body = SCH_BUF_INIT;
	int rc;

	sch_rev_init(&r);
	sch_buf_addf(&up, "CREATE TABLE t_%ld (id int PRIMARY KEY, v text);\n", i);
	sch_buf_addf(&down, "DROP TABLE t_%ld;\n", i);
	rc = sch_object_put(&r.up, t, SCH_OBJ_BLOB, up.ptr, up.len, -1);
	if (!rc)
		rc = sch_object_put(&r.down, t, SCH_OBJ_BLOB, down.ptr, down.len, -1);
	if (p1)
		sch_rev_add_parent(&r, p1);
	if (p2)
		sch_rev_add_parent(&r, p2);
	r.author = xstrdup("Bench <bench@example.com>");
	r.time = 1700000000 + i;
	memcpy(r.tz, "+0000", 6);
	free(r.message);
	r.message = xasprintf("revision %ld: create table t_%ld\n", i, i);
	sch_rev_format(&body, &r);
	if (!rc)
		rc = sch_object_put(out, t, SCH_OBJ_REV, body.ptr, body.len, -1);
	if (!rc)
		rc = sch_graph_note_stored(t, out, &r);
	sch_rev_release(&r);
	sch_buf_release(&up);
	sch_buf_release(&down);
	sch_buf_release(&body);
	return rc;
}

int main(int argc, char **argv)
{
	struct sch_store *s = NULL;
	struct sch_txn *t = NULL;
	struct sch_id main_tip, side_tip, id;
	char *dir;
	long n, i;
	int rc, side = 0;

	if (argc != 3)
		return 2;
	n = atol(argv[2]);
	dir = xasprintf("%s/store", argv[1]);
	rc = sch_store_open(&s, dir, 0);
	if (rc)
		goto out;
	rc = sch_txn_begin(&t, s, 1);
	if (rc)
		goto out;
	rc = put_rev(&main_tip, t, 0, NULL, NULL);
	/* Every 50 revisions a side branch of 10 forks and merges back. */
	for (i = 1; i < n && !rc; i++) {
		if (i % 50 == 0) {
			side = 10;
			side_tip = main_tip;
		}
		if (side > 0 && i % 2 == 1) {
			rc = put_rev(&id, t, i, &side_tip, NULL);
			side_tip = id;
			if (--side == 0 && !rc) {
				i++;
				rc = put_rev(&id, t, i, &main_tip, &side_tip);
				main_tip = id;
			}
			continue;
		}
		rc = put_rev(&id, t, i, &main_tip, NULL);
		main_tip = id;
		if (i % 10000 == 0 && !rc) {
			/* Commit in slices to keep the write transaction small. */
			rc = sch_txn_commit(t);
			t = NULL;
			if (!rc)
				rc = sch_txn_begin(&t, s, 1);
		}
	}
	if (!rc)
		rc = sch_ref_write(t, "heads/main", &main_tip, "genhist");
	if (!rc) {
		rc = sch_txn_commit(t);
		t = NULL;
	}
out:
	if (rc)
		fprintf(stderr, "genhist: %s\n", sch_error_msg());
	sch_txn_abort(t);
	sch_store_close(s);
	free(dir);
	return rc ? 1 : 0;
}
