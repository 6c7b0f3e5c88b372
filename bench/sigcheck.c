/* sigcheck: times the work of require-signed alone (what check_signed in
 * src/cmd/checkout.c does for each up step) over the first-parent chain
 * from heads/main, best of 5, without the database or the planner.
 * usage: sigcheck <.schema dir> [full]   full: ignore the seals */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/env.h"
#include "schema/error.h"
#include "schema/refs.h"
#include "schema/revision.h"
#include "schema/sign.h"

int main(int argc, char **argv)
{
	struct sch_store *s = NULL;
	struct sch_txn *t = NULL;
	struct sch_trusted tr;
	struct sch_id *ids = NULL, id;
	size_t n = 0, cap = 0, good = 0;
	double best = -1;
	char *dir;
	int rc;

	if (argc < 2)
		return 2;
	if (argc > 2) /* full verification: hide the seal key */
		setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
	dir = xasprintf("%s/store", argv[1]);
	rc = sch_store_open(&s, dir, 0);
	if (!rc)
		rc = sch_trusted_load(&tr, argv[1]);
	if (!rc)
		rc = sch_txn_begin(&t, s, 0);
	if (!rc)
		rc = sch_ref_read(&id, t, "heads/main");
	while (!rc) {
		struct sch_rev r;
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = id;
		rc = sch_rev_load(&r, t, &id);
		if (rc)
			break;
		if (!r.nparents) {
			sch_rev_release(&r);
			break;
		}
		id = r.parents[0];
		sch_rev_release(&r);
	}
	for (int round = 0; round < 5 && !rc; round++) {
		struct timespec a, b;
		double ms;
		good = 0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (size_t i = 0; i < n && !rc; i++) {
			struct sch_sig_result res[16];
			size_t k;
			rc = sch_sig_check(res, 16, &k, t, &tr, &ids[i], NULL, 1);
			for (size_t j = 0; j < k; j++)
				if (res[j].status == SCH_SIG_GOOD) {
					good++;
					break;
				}
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		if (best < 0 || ms < best)
			best = ms;
		if (argc > 2)
			break; /* one round is enough to see the cost */
	}
	if (rc)
		fprintf(stderr, "sigcheck: %s\n", sch_error_msg());
	else
		printf("%zu revisions, %zu with a good signature: %.1f ms\n", n,
		       good, best);
	sch_txn_abort(t);
	sch_store_close(s);
	sch_trusted_release(&tr);
	free(ids);
	free(dir);
	return rc ? 1 : 0;
}
