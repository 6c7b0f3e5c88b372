/* gc.c - drop the objects nothing reaches. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/manifest.h"
#include "schema/refs.h"
#include "schema/revision.h"
#include "schema/seal.h"

struct gc {
	struct sch_id *ids;	/* every stored object, in key order */
	uint8_t *mark;
	size_t n;
	struct sch_id *stack;	/* reached, not yet read: (id, type) */
	enum sch_otype *types;
	size_t nstack, capstack;
};

static long find(const struct gc *g, const struct sch_id *id)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = sch_id_cmp(&g->ids[mid], id);
		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Marks id reached; objects that name others are read later. */
static void reach(struct gc *g, const struct sch_id *id, enum sch_otype type)
{
	long k = find(g, id);

	if (k < 0 || g->mark[k])
		return;
	g->mark[k] = 1;
	if (type != SCH_OBJ_REV && type != SCH_OBJ_SNAP && type != SCH_OBJ_TASK &&
	    type != SCH_OBJ_NONE)
		return;
	if (g->nstack == g->capstack) {
		g->capstack = g->capstack ? g->capstack * 2 : 256;
		g->stack = xrealloc(g->stack, g->capstack * sizeof(*g->stack));
		g->types = xrealloc(g->types, g->capstack * sizeof(*g->types));
	}
	g->stack[g->nstack] = *id;
	g->types[g->nstack++] = type;
}

static int ref_cb(const char *name, const struct sch_id *id, void *arg)
{
	(void)name;
	reach(arg, id, SCH_OBJ_REV);
	return 0;
}

static int reflog_cb(const struct sch_reflog_entry *e, void *arg)
{
	reach(arg, &e->old_id, SCH_OBJ_REV);
	reach(arg, &e->new_id, SCH_OBJ_REV);
	return 0;
}

/* Keys (or values, when `values`) of a database that are ids. */
static int reach_db(struct gc *g, struct sch_txn *t, enum sch_db db,
		    int values, enum sch_otype type)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc = sch_cursor_open(&c, t, db);

	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		struct sch_id id;
		const void *p = values ? v : k;
		size_t l = values ? vl : kl;
		if (l < SCH_ID_LEN)
			continue;
		memcpy(id.b, p, SCH_ID_LEN);
		reach(g, &id, type);
	}
	sch_cursor_close(c);
	return rc < 0 ? rc : 0;
}

/* The sig objects listed in the sigs database (sign.h): each value is a
 * run of 96-byte entries starting with the sig id. */
static int reach_sigs(struct gc *g, struct sch_txn *t)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc = sch_cursor_open(&c, t, SCH_DB_SIGS);

	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl))
		for (size_t off = 0; off + 96 <= vl; off += 96) {
			struct sch_id id;
			memcpy(id.b, (const char *)v + off, SCH_ID_LEN);
			reach(g, &id, SCH_OBJ_SIG);
		}
	sch_cursor_close(c);
	return rc < 0 ? rc : 0;
}

/* Any 64-hex word of a body whose format this command does not know
 * (task objects): kept, to be safe. */
static void reach_hex_words(struct gc *g, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i <= n; i++) {
		int hex = i < n && ((s[i] >= '0' && s[i] <= '9') ||
				    (s[i] >= 'a' && s[i] <= 'f'));
		if (hex) {
			run++;
			continue;
		}
		if (run == SCH_HEX_LEN) {
			struct sch_id id;
			if (!sch_unhex(id.b, s + i - run, SCH_ID_LEN))
				reach(g, &id, SCH_OBJ_NONE);
		}
		run = 0;
	}
}

static int walk(struct gc *g, struct sch_txn *t)
{
	struct sch_buf body = SCH_BUF_INIT;
	int rc = 0;

	while (g->nstack && !rc) {
		struct sch_id id = g->stack[--g->nstack];
		enum sch_otype want = g->types[g->nstack], type;
		rc = sch_object_get(&body, &type, t, &id);
		if (rc)
			break;
		if (want != SCH_OBJ_NONE && type != want) {
			char hex[SCH_HEX_LEN + 1];
			sch_id_hex(hex, &id);
			rc = sch_error_set(SCH_ECORRUPT, "object %s is a %s, not "
					   "a %s", hex, sch_otype_name(type),
					   sch_otype_name(want));
			break;
		}
		if (type == SCH_OBJ_REV) {
			struct sch_rev r;
			rc = sch_rev_parse(&r, body.ptr, body.len);
			if (rc)
				break;
			for (size_t i = 0; i < r.nparents; i++)
				reach(g, &r.parents[i], SCH_OBJ_REV);
			for (size_t i = 0; i < r.ndepends; i++)
				reach(g, &r.depends[i], SCH_OBJ_REV);
			/* kept while stored, so log can name what a revision
			 * replaced; it need not be stored at all */
			for (size_t i = 0; i < r.nsupersedes; i++)
				reach(g, &r.supersedes[i], SCH_OBJ_REV);
			reach(g, &r.up, SCH_OBJ_BLOB);
			reach(g, &r.down, SCH_OBJ_BLOB);
			if (r.has_verify)
				reach(g, &r.verify, SCH_OBJ_BLOB);
			sch_rev_release(&r);
		} else if (type == SCH_OBJ_SNAP) {
			struct sch_manifest m;
			rc = sch_manifest_parse(&m, body.ptr, body.len);
			if (!rc && m.sealed) {
				/* the clear envelope lists what the box names */
				for (size_t i = 0; i < m.nblobs; i++)
					reach(g, &m.blobs[i], SCH_OBJ_BLOB);
				for (size_t i = 0; i < m.nchunks; i++)
					reach(g, &m.chunks[i], SCH_OBJ_CHUNK);
			} else if (!rc) {
				if (m.has_state)
					reach(g, &m.state, SCH_OBJ_STATE);
				reach(g, &m.pre_data, SCH_OBJ_BLOB);
				reach(g, &m.post_data, SCH_OBJ_BLOB);
				for (size_t i = 0; i < m.ntables; i++)
					for (size_t j = 0; j < m.tables[i].nparts;
					     j++) {
						const struct sch_mf_part *p =
							&m.tables[i].parts[j];
						for (size_t k = 0; k < p->nchunks; k++)
							reach(g, &p->chunks[k],
							      SCH_OBJ_CHUNK);
					}
			}
			sch_manifest_release(&m);
		} else if (type == SCH_OBJ_TASK || type == SCH_OBJ_STATE) {
			reach_hex_words(g, body.ptr, body.len);
		}
	}
	if (rc)
		rc = sch_error_wrap(rc, "cannot walk the history safely");
	sch_buf_release(&body);
	return rc;
}

/* Drops the entries of the `sealed` index whose chunk is gone (or is
 * going): an index entry alone keeps nothing alive. */
static int prune_sealed(struct gc *g, struct sch_txn *t)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, n = 0, cap = 0;
	unsigned char (*drop)[SCH_SEAL_TAG_LEN] = NULL;
	int rc = sch_cursor_open(&c, t, SCH_DB_SEALED);

	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		struct sch_id id;
		long at = -1;
		if (vl == SCH_ID_LEN) {
			memcpy(id.b, v, SCH_ID_LEN);
			at = find(g, &id);
		}
		if (at >= 0 && g->mark[at] && kl == SCH_SEAL_TAG_LEN)
			continue;
		if (kl != SCH_SEAL_TAG_LEN)
			continue; /* not ours to judge */
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			drop = xrealloc(drop, cap * sizeof(*drop));
		}
		memcpy(drop[n++], k, SCH_SEAL_TAG_LEN);
	}
	sch_cursor_close(c);
	if (rc < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = sch_kv_del(t, SCH_DB_SEALED, drop[i], SCH_SEAL_TAG_LEN);
out:
	free(drop);
	return rc;
}

SCH_CMD(gc)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct gc g;
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, cap = 0, count[8] = { 0 }, total = 0;
	uint64_t bytes = 0;
	int opt, rc, dry = 0, quiet = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":nq", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': dry = 1; break;
		case 'q': quiet = 1; break;
		default:
			return sch_cmd_optfail(opt, argv, ctx->verb, opts);
		}
	}
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "gc takes no arguments: '%s'",
				     argv[optind]);
	memset(&g, 0, sizeof(g));
	rc = sch_cursor_open(&c, ctx->txn, SCH_DB_OBJECTS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, NULL, NULL)) {
		if (kl != SCH_ID_LEN)
			continue;
		if (g.n == cap) {
			cap = cap ? cap * 2 : 1024;
			g.ids = xrealloc(g.ids, cap * sizeof(*g.ids));
		}
		memcpy(g.ids[g.n++].b, k, SCH_ID_LEN);
	}
	sch_cursor_close(c);
	c = NULL;
	if (rc < 0)
		goto out;
	g.mark = xcalloc(g.n + 1, 1);
	/* the roots */
	rc = sch_ref_each(ctx->txn, "", ref_cb, &g);
	if (!rc)
		rc = sch_reflog_each(ctx->txn, reflog_cb, &g);
	if (!rc)
		rc = reach_db(&g, ctx->txn, SCH_DB_SNAPSHOTS, 0, SCH_OBJ_SNAP);
	if (!rc)
		rc = reach_db(&g, ctx->txn, SCH_DB_WORKTREE, 1, SCH_OBJ_REV);
	if (!rc)
		rc = reach_db(&g, ctx->txn, SCH_DB_HEADS, 0, SCH_OBJ_REV);
	if (!rc)
		rc = reach_db(&g, ctx->txn, SCH_DB_STATES, 1, SCH_OBJ_STATE);
	if (!rc)
		rc = reach_db(&g, ctx->txn, SCH_DB_TASKS, 1, SCH_OBJ_TASK);
	if (!rc)
		rc = reach_sigs(&g, ctx->txn);
	if (!rc)
		rc = walk(&g, ctx->txn);
	if (rc)
		goto out;
	for (size_t i = 0; i < g.n && !rc; i++) {
		enum sch_otype type;
		char hex[SCH_HEX_LEN + 1];
		if (g.mark[i])
			continue;
		if (sch_kv_get(ctx->txn, SCH_DB_OBJECTS, g.ids[i].b, SCH_ID_LEN,
			       &v, &vl))
			continue;
		type = sch_object_peek_type(v, vl);
		count[type < 8 ? type : 0]++;
		total++;
		bytes += vl;
		if (dry && !quiet) {
			sch_id_hex(hex, &g.ids[i]);
			printf("would remove %s %s\n", sch_otype_name(type), hex);
		}
		if (!dry)
			rc = sch_object_delete(ctx->txn, &g.ids[i]);
	}
	if (!rc && !dry)
		rc = prune_sealed(&g, ctx->txn);
	if (rc)
		goto out;
	if (!quiet) {
		printf("%s %zu object%s, %llu bytes", dry ? "would free" : "freed",
		       total, total == 1 ? "" : "s", (unsigned long long)bytes);
		if (total) {
			const char *sep = " (";
			for (int t = 1; t < 8; t++)
				if (count[t]) {
					printf("%s%zu %s", sep, count[t],
					       sch_otype_name((enum sch_otype)t));
					sep = ", ";
				}
			printf(")");
		}
		printf("; %zu kept\n", g.n - total);
	}
out:
	sch_cursor_close(c);
	free(g.ids);
	free(g.mark);
	free(g.stack);
	free(g.types);
	return rc;
}
