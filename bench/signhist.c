/* signhist: writes a linear history of N revisions straight into a
 * repository's store and signs each with a key from the key directory,
 * the way `commit -S` would (sig object, sigs entry, seal), for the
 * signature benchmark. usage: signhist <.schema dir> <N> <key name> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/env.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/object.h"
#include "schema/refs.h"
#include "schema/revision.h"
#include "schema/sign.h"

static int put_rev(struct sch_id *out, struct sch_txn *t, long i,
		   const struct sch_id *p, const struct sch_key *k)
{
	struct sch_rev r;
	struct sch_buf up = SCH_BUF_INIT, down = SCH_BUF_INIT, body = SCH_BUF_INIT;
	int rc;

	sch_rev_init(&r);
	sch_buf_addf(&up, "CREATE TABLE t_%ld (id int PRIMARY KEY);\n", i);
	sch_buf_addf(&down, "DROP TABLE t_%ld;\n", i);
	rc = sch_object_put(&r.up, t, SCH_OBJ_BLOB, up.ptr, up.len, -1);
	if (!rc)
		rc = sch_object_put(&r.down, t, SCH_OBJ_BLOB, down.ptr, down.len, -1);
	if (p)
		sch_rev_add_parent(&r, p);
	r.author = xstrdup("Bench <bench@example.com>");
	r.time = 1700000000 + i;
	memcpy(r.tz, "+0000", 6);
	free(r.message);
	r.message = xasprintf("revision %ld\n", i);
	sch_rev_format(&body, &r);
	if (!rc)
		rc = sch_object_put(out, t, SCH_OBJ_REV, body.ptr, body.len, -1);
	if (!rc)
		rc = sch_graph_note_stored(t, out, &r);
	if (!rc)
		rc = sch_sig_attach(t, k, out, NULL);
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
	struct sch_key k;
	struct sch_id tip, id;
	char *dir;
	long n, i;
	int rc;

	if (argc != 4)
		return 2;
	n = atol(argv[2]);
	rc = sch_key_load(&k, argv[3]);
	if (rc) {
		fprintf(stderr, "signhist: %s\n", sch_error_msg());
		return 1;
	}
	dir = xasprintf("%s/store", argv[1]);
	rc = sch_store_open(&s, dir, 0);
	if (!rc)
		rc = sch_txn_begin(&t, s, 1);
	if (!rc)
		rc = put_rev(&tip, t, 0, NULL, &k);
	for (i = 1; i < n && !rc; i++) {
		rc = put_rev(&id, t, i, &tip, &k);
		tip = id;
	}
	if (!rc)
		rc = sch_ref_write(t, "heads/main", &tip, "signhist");
	if (!rc) {
		rc = sch_txn_commit(t);
		t = NULL;
	}
	if (rc)
		fprintf(stderr, "signhist: %s\n", sch_error_msg());
	sch_txn_abort(t);
	sch_store_close(s);
	free(dir);
	return rc ? 1 : 0;
}
