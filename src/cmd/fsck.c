/* fsck.c - verify every object, reference, reflog entry and index. */
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
#include "schema/sign.h"

struct obj {
	struct sch_id id;
	enum sch_otype type; /* SCH_OBJ_NONE when unreadable */
	uint8_t child;	     /* named as parent (or superseded) by a revision */
};

struct link {
	struct sch_id from, to;
	enum sch_otype want;
	const char *what;
};

struct fsck {
	struct obj *o;
	size_t n, cap;
	struct link *l;
	size_t nl, capl;
	size_t problems;
	int quiet;
};

static void problem(struct fsck *f, const char *kind, const struct sch_id *id,
		    const char *fmt, const char *arg)
{
	char hex[SCH_HEX_LEN + 1];

	f->problems++;
	if (id)
		sch_id_hex(hex, id);
	printf("%s %s: ", kind, id ? hex : "-");
	printf(fmt, arg);
	putchar('\n');
}

static void add_link(struct fsck *f, const struct sch_id *from,
		     const struct sch_id *to, enum sch_otype want,
		     const char *what)
{
	if (f->nl == f->capl) {
		f->capl = f->capl ? f->capl * 2 : 1024;
		f->l = xrealloc(f->l, f->capl * sizeof(*f->l));
	}
	f->l[f->nl].from = *from;
	f->l[f->nl].to = *to;
	f->l[f->nl].want = want;
	f->l[f->nl].what = what;
	f->nl++;
}

static int is_snap_link(const struct link *l)
{
	return !strcmp(l->what, "chunk") || !strcmp(l->what, "pre-data") ||
	       !strcmp(l->what, "post-data") || !strcmp(l->what, "state") ||
	       !strcmp(l->what, "sealed blob");
}

static struct obj *lookup(struct fsck *f, const struct sch_id *id)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = sch_id_cmp(&f->o[mid].id, id);
		if (!c)
			return &f->o[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int check_target(struct fsck *f, const char *kind, const char *name,
			const struct sch_id *id, enum sch_otype want)
{
	struct obj *o = lookup(f, id);

	if (!o) {
		problem(f, kind, id, "missing object (named by %s)", name);
		return 1;
	}
	if (o->type != want && o->type != SCH_OBJ_NONE) {
		problem(f, kind, id, "wrong object type (named by %s)", name);
		return 1;
	}
	return 0;
}

static int ref_cb(const char *name, const struct sch_id *id, void *arg)
{
	check_target(arg, "dangling-ref", name, id, SCH_OBJ_REV);
	return 0;
}

static int reflog_cb(const struct sch_reflog_entry *e, void *arg)
{
	struct fsck *f = arg;

	if (!sch_id_is_zero(&e->new_id) && !lookup(f, &e->new_id))
		problem(f, "dangling-reflog", &e->new_id,
			"missing object (reflog of %s)", e->name);
	return 0;
}

static void check_db_values(struct fsck *f, struct sch_txn *t, enum sch_db db,
			    const char *kind, enum sch_otype want)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc;

	if (sch_cursor_open(&c, t, db))
		return;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		struct sch_id id;
		char *name = xstrndup(k, kl < 200 ? kl : 200);
		if (vl != SCH_ID_LEN) {
			problem(f, kind, NULL, "damaged entry '%s'", name);
		} else {
			memcpy(id.b, v, SCH_ID_LEN);
			check_target(f, kind, kind, &id, want);
		}
		free(name);
	}
	sch_cursor_close(c);
}

SCH_CMD(fsck)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct fsck f = { 0 };
	struct sch_cursor *c = NULL;
	struct sch_buf body = SCH_BUF_INIT, sym = SCH_BUF_INIT;
	const void *k;
	size_t kl, nrev = 0, nheads = 0, nsig = 0;
	int rc, quiet = 0, opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': quiet = 1; break;
		default:
			return sch_cmd_optfail(opt, argv, ctx->verb, opts);
		}
	}
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "fsck takes no arguments");
	rc = sch_cursor_open(&c, ctx->txn, SCH_DB_OBJECTS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, NULL, NULL)) {
		struct obj *o;
		if (kl != SCH_ID_LEN) {
			problem(&f, "bad-key", NULL, "%s", "object key is not an id");
			continue;
		}
		if (f.n == f.cap) {
			f.cap = f.cap ? f.cap * 2 : 1024;
			f.o = xrealloc(f.o, f.cap * sizeof(*f.o));
		}
		o = &f.o[f.n++];
		memset(o, 0, sizeof(*o));
		memcpy(o->id.b, k, SCH_ID_LEN);
		if (sch_object_get(&body, &o->type, ctx->txn, &o->id)) {
			o->type = SCH_OBJ_NONE;
			problem(&f, "corrupt", &o->id, "%s", sch_error_msg());
			continue;
		}
		if (o->type == SCH_OBJ_REV) {
			struct sch_rev r;
			nrev++;
			if (sch_rev_parse(&r, body.ptr, body.len)) {
				problem(&f, "corrupt", &o->id, "%s", sch_error_msg());
				continue;
			}
			for (size_t i = 0; i < r.nparents; i++)
				add_link(&f, &o->id, &r.parents[i], SCH_OBJ_REV,
					 "parent");
			for (size_t i = 0; i < r.ndepends; i++)
				add_link(&f, &o->id, &r.depends[i], SCH_OBJ_REV,
					 "depends");
			for (size_t i = 0; i < r.nsupersedes; i++)
				add_link(&f, &o->id, &r.supersedes[i],
					 SCH_OBJ_REV, "supersedes");
			add_link(&f, &o->id, &r.up, SCH_OBJ_BLOB, "up");
			add_link(&f, &o->id, &r.down, SCH_OBJ_BLOB, "down");
			if (r.has_verify)
				add_link(&f, &o->id, &r.verify, SCH_OBJ_BLOB,
					 "verify");
			sch_rev_release(&r);
		} else if (o->type == SCH_OBJ_SNAP) {
			struct sch_manifest m;
			if (sch_manifest_parse(&m, body.ptr, body.len)) {
				problem(&f, "corrupt", &o->id, "%s", sch_error_msg());
				sch_manifest_release(&m);
				continue;
			}
			if (m.sealed) {
				/* checked without the key: what the envelope
				 * lists is there, with the right type */
				for (size_t i = 0; i < m.nblobs; i++)
					add_link(&f, &o->id, &m.blobs[i],
						 SCH_OBJ_BLOB, "sealed blob");
				for (size_t i = 0; i < m.nchunks; i++)
					add_link(&f, &o->id, &m.chunks[i],
						 SCH_OBJ_CHUNK, "chunk");
				sch_manifest_release(&m);
				continue;
			}
			if (m.has_state)
				add_link(&f, &o->id, &m.state, SCH_OBJ_STATE,
					 "state");
			add_link(&f, &o->id, &m.pre_data, SCH_OBJ_BLOB, "pre-data");
			add_link(&f, &o->id, &m.post_data, SCH_OBJ_BLOB,
				 "post-data");
			for (size_t i = 0; i < m.ntables; i++)
				for (size_t j = 0; j < m.tables[i].nparts; j++)
					for (size_t k2 = 0;
					     k2 < m.tables[i].parts[j].nchunks; k2++)
						add_link(&f, &o->id,
							 &m.tables[i].parts[j].chunks[k2],
							 SCH_OBJ_CHUNK, "chunk");
			sch_manifest_release(&m);
		} else if (o->type == SCH_OBJ_SIG) {
			struct sch_sig sg;
			char fpr[SCH_FPR_LEN + 1];
			nsig++;
			if (sch_sig_parse(&sg, body.ptr, body.len)) {
				problem(&f, "corrupt", &o->id, "%s", sch_error_msg());
				continue;
			}
			sch_key_fingerprint(fpr, sg.key.pk);
			if (!sch_sig_valid(&sg)) {
				char what[SCH_HEX_LEN + 300];
				char th[SCH_HEX_LEN + 1];
				sch_id_hex(th, &sg.target);
				snprintf(what, sizeof(what), "BAD signature of %s %s%s%s "
					 "by %s (%s)", sg.is_tag ? "tag" : "revision",
					 sg.is_tag ? sg.tag : th, sg.is_tag ? " -> " : "",
					 sg.is_tag ? th : "", sg.key.name, fpr);
				problem(&f, "bad-signature", &o->id, "%s", what);
			} else if (!sg.is_tag) {
				add_link(&f, &o->id, &sg.target, SCH_OBJ_REV,
					 "signed revision");
			}
		}
	}
	sch_cursor_close(c);
	c = NULL;
	if (rc < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; i < f.nl; i++) {
		struct link *l = &f.l[i];
		struct obj *o = lookup(&f, &l->to);
		char hex[SCH_HEX_LEN + 1];
		sch_id_hex(hex, &l->from);
		/* a superseded revision need not be stored */
		if (!o && !strcmp(l->what, "supersedes"))
			continue;
		if (!o) {
			problem(&f, "missing", &l->to, "%s", "");
			printf("  (%s of %s %s)\n", l->what,
			       is_snap_link(l) ? "snapshot"
			       : strcmp(l->what, "signed revision") ? "revision"
								    : "signature", hex);
		} else if (o->type != l->want && o->type != SCH_OBJ_NONE) {
			problem(&f, "wrong-type", &l->to, "%s", "");
			printf("  (%s of %s %s)\n", l->what,
			       is_snap_link(l) ? "snapshot" : "revision", hex);
		} else if (!strcmp(l->what, "parent") ||
			   !strcmp(l->what, "supersedes")) {
			o->child = 1; /* not a head */
		}
	}
	/* References. */
	rc = sch_ref_read_symbolic(&sym, ctx->txn, "HEAD");
	if (rc < 0)
		problem(&f, "bad-head", NULL, "%s", "HEAD is missing");
	else if (rc == 1 && strncmp(sym.ptr, "heads/", 6))
		problem(&f, "bad-head", NULL, "HEAD names '%s', not a branch",
			sym.ptr);
	rc = sch_ref_each(ctx->txn, "", ref_cb, &f);
	if (!rc)
		rc = sch_reflog_each(ctx->txn, reflog_cb, &f);
	if (rc)
		goto out;
	check_db_values(&f, ctx->txn, SCH_DB_WORKTREE, "dangling-worktree",
			SCH_OBJ_REV);
	check_db_values(&f, ctx->txn, SCH_DB_STATES, "dangling-state",
			SCH_OBJ_STATE);
	check_db_values(&f, ctx->txn, SCH_DB_TASKS, "dangling-task",
			SCH_OBJ_TASK);
	/* Every listed snapshot is a stored snap object. */
	if (sch_cursor_open(&c, ctx->txn, SCH_DB_SNAPSHOTS) == 0) {
		const void *sk;
		size_t skl;
		int r2;
		for (r2 = sch_cursor_seek(c, NULL, 0, &sk, &skl, NULL, NULL);
		     r2 == 1; r2 = sch_cursor_next(c, &sk, &skl, NULL, NULL)) {
			struct sch_id id;
			if (skl != SCH_ID_LEN) {
				problem(&f, "dangling-snapshot", NULL, "%s",
					"damaged entry");
				continue;
			}
			memcpy(id.b, sk, SCH_ID_LEN);
			check_target(&f, "dangling-snapshot", "snapshots", &id,
				     SCH_OBJ_SNAP);
		}
		sch_cursor_close(c);
		c = NULL;
	}
	/* The heads index against the revisions. */
	{
		struct sch_id *heads = NULL;
		rc = sch_graph_heads(ctx->txn, &heads, &nheads);
		if (rc)
			goto out;
		for (size_t i = 0; i < nheads; i++) {
			struct obj *o = lookup(&f, &heads[i]);
			if (!o || o->type != SCH_OBJ_REV)
				problem(&f, "bad-heads-index", &heads[i], "%s",
					"not a stored revision");
			else if (o->child)
				problem(&f, "bad-heads-index", &heads[i], "%s",
					"has a child but is listed as a head");
			else
				o->child = 2;
		}
		for (size_t i = 0; i < f.n; i++)
			if (f.o[i].type == SCH_OBJ_REV && !f.o[i].child)
				problem(&f, "bad-heads-index", &f.o[i].id, "%s",
					"a head missing from the index");
		free(heads);
	}
	if (!quiet)
		fprintf(stderr, "checked %zu objects (%zu revisions, %zu heads, "
			"%zu signatures): %zu problem%s\n", f.n, nrev, nheads,
			nsig, f.problems,
			f.problems == 1 ? "" : "s");
	rc = f.problems ? 1 : 0;
out:
	sch_cursor_close(c);
	free(f.o);
	free(f.l);
	sch_buf_release(&body);
	sch_buf_release(&sym);
	return rc;
}
