/* revspec.c - resolve revision specs. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "schema/error.h"
#include "schema/graph.h"
#include "schema/refs.h"
#include "schema/revision.h"
#include "schema/revspec.h"
#include "schema/suggest.h"

void sch_idlist_push(struct sch_idlist *l, const struct sch_id *id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *id;
}

int sch_idlist_has(const struct sch_idlist *l, const struct sch_id *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!sch_id_cmp(&l->v[i], id))
			return 1;
	return 0;
}

void sch_idlist_add(struct sch_idlist *l, const struct sch_id *id)
{
	if (!sch_idlist_has(l, id))
		sch_idlist_push(l, id);
}

void sch_idlist_release(struct sch_idlist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int collect_name(const char *name, const struct sch_id *id, void *arg)
{
	struct sch_buf *b = arg;
	const char *slash = strchr(name, '/');

	(void)id;
	sch_buf_addf(b, "%s%s", b->len ? ", " : "", slash ? slash + 1 : name);
	return 0;
}

static int suggest_ref(const char *name, const struct sch_id *id, void *arg)
{
	const char *slash = strchr(name, '/');

	(void)id;
	sch_suggest_add(arg, slash ? slash + 1 : name);
	return 0;
}

/* " (did you mean 'main'?)" for a mistyped branch, tag, migration
 * directory or keyword, into near. */
static void suggest_names(struct sch_buf *near, struct sch_txn *t,
			  const char *name)
{
	static const char *const words[] = { "head", "heads", "base" };
	struct sch_suggest sg;
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;

	sch_suggest_init(&sg, name);
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		sch_suggest_add(&sg, words[i]);
	sch_ref_each(t, "heads/", suggest_ref, &sg);
	sch_ref_each(t, "tags/", suggest_ref, &sg);
	if (sch_cursor_open(&c, t, SCH_DB_WORKTREE) == 0) {
		int r = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl);
		for (; r == 1; r = sch_cursor_next(c, &k, &kl, &v, &vl)) {
			char *dir = xstrndup(k, kl);
			sch_suggest_add(&sg, dir);
			free(dir);
		}
		sch_cursor_close(c);
	}
	sch_suggest_text(near, &sg);
	sch_suggest_release(&sg);
}

static void hint_names(struct sch_txn *t)
{
	struct sch_buf br = SCH_BUF_INIT, tg = SCH_BUF_INIT;

	sch_ref_each(t, "heads/", collect_name, &br);
	sch_ref_each(t, "tags/", collect_name, &tg);
	if (br.len || tg.len)
		sch_error_hint("branches: %s%s%s", br.len ? br.ptr : "(none)",
			       tg.len ? "; tags: " : "", tg.ptr);
	sch_buf_release(&br);
	sch_buf_release(&tg);
}

static int is_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Heads that carry `label` or descend from a revision carrying it. */
static int label_heads(struct sch_idlist *out, struct sch_txn *t,
		       const char *label)
{
	struct sch_id *heads = NULL;
	size_t nh = 0;
	struct sch_graph g;
	int rc;

	sch_graph_init(&g, t);
	rc = sch_graph_heads(t, &heads, &nh);
	for (size_t i = 0; i < nh && !rc; i++) {
		uint32_t idx;
		uint8_t *anc;
		int hit = 0;
		rc = sch_graph_add(&idx, &g, &heads[i]);
		if (rc)
			break;
		anc = sch_graph_ancestors(&g, &idx, 1, 0);
		for (size_t j = 0; j < g.n && !hit; j++)
			if (anc[j])
				for (size_t k = 0; k < g.nodes[j].rev.nlabels; k++)
					if (!strcmp(g.nodes[j].rev.labels[k], label))
						hit = 1;
		free(anc);
		if (hit)
			sch_idlist_add(out, &heads[i]);
	}
	free(heads);
	sch_graph_release(&g);
	return rc;
}

static int resolve_base(struct sch_idlist *out, struct sch_txn *t,
			const char *name, const char *spec)
{
	struct sch_id id, found;
	struct sch_buf cands = SCH_BUF_INIT, ref = SCH_BUF_INIT;
	int nfound = 0, rc = 0;
	const void *v;
	size_t vl;

	if (!strcmp(name, "head") || !strcmp(name, "HEAD")) {
		rc = sch_ref_read(&id, t, "HEAD");
		if (rc)
			return sch_error_wrap(rc, "cannot resolve '%s'", spec);
		sch_idlist_push(out, &id);
		return 0;
	}
	{
		size_t n = strlen(name);
		if (n > 5 && !strcmp(name + n - 5, "@head")) {
			char *br = xstrndup(name, n - 5);
			sch_buf_addf(&ref, "heads/%s", br);
			rc = sch_ref_read(&id, t, ref.ptr);
			if (rc == 0) {
				sch_idlist_push(out, &id);
			} else if (rc == SCH_ENOTFOUND) {
				size_t before = out->n;
				rc = label_heads(out, t, br);
				if (!rc && out->n == before)
					rc = sch_error_set(SCH_ENOTFOUND,
							   "unknown revision '%s': "
							   "no branch or label '%s'",
							   spec, br);
			}
			free(br);
			sch_buf_release(&ref);
			if (rc == SCH_ENOTFOUND)
				hint_names(t);
			return rc;
		}
	}
	sch_buf_addf(&ref, "heads/%s", name);
	if (sch_ref_read(&id, t, ref.ptr) == 0) {
		found = id;
		nfound++;
		sch_buf_addf(&cands, "branch %s", name);
	}
	sch_buf_reset(&ref);
	sch_buf_addf(&ref, "tags/%s", name);
	if (sch_ref_read(&id, t, ref.ptr) == 0) {
		if (!nfound || sch_id_cmp(&id, &found)) {
			found = id;
			nfound++;
			sch_buf_addf(&cands, "%stag %s", cands.len ? ", " : "",
				     name);
		}
	}
	if (sch_kv_get(t, SCH_DB_WORKTREE, name, strlen(name), &v, &vl) == 0 &&
	    vl == SCH_ID_LEN) {
		memcpy(id.b, v, SCH_ID_LEN);
		if (!nfound || sch_id_cmp(&id, &found)) {
			found = id;
			nfound++;
			sch_buf_addf(&cands, "%smigration %s",
				     cands.len ? ", " : "", name);
		}
	}
	if (strlen(name) >= 4 && is_hex(name)) {
		rc = sch_object_resolve_prefix(&id, t, name, SCH_OBJ_REV);
		if (rc == SCH_EAMBIGUOUS) {
			rc = sch_error_wrap(rc, "cannot resolve '%s'", spec);
			goto out;
		}
		if (rc == 0 && (!nfound || sch_id_cmp(&id, &found))) {
			char hex[SCH_HEX_LEN + 1];
			sch_id_short(hex, &id);
			found = id;
			nfound++;
			sch_buf_addf(&cands, "%srevision %s",
				     cands.len ? ", " : "", hex);
		}
		rc = 0;
	}
	if (nfound == 1) {
		sch_idlist_push(out, &found);
	} else if (nfound > 1) {
		rc = sch_error_set(SCH_EAMBIGUOUS,
				   "'%s' is ambiguous: %s", spec, cands.ptr);
	} else {
		struct sch_buf near = SCH_BUF_INIT;
		suggest_names(&near, t, name);
		rc = sch_error_set(SCH_ENOTFOUND, "unknown revision '%s'%s",
				   spec, near.ptr);
		sch_buf_release(&near);
		hint_names(t);
	}
out:
	sch_buf_release(&cands);
	sch_buf_release(&ref);
	return rc;
}

static int walk_suffixes(struct sch_id *id, struct sch_txn *t, const char *s,
			 const char *spec)
{
	while (*s) {
		char op = *s++;
		unsigned long n = 1;
		struct sch_rev r;
		int rc;
		if (op != '~' && op != '^')
			return sch_error_set(SCH_EINVAL,
					     "bad revision spec '%s' at '%c'",
					     spec, op);
		if (isdigit((unsigned char)*s)) {
			char *end;
			n = strtoul(s, &end, 10);
			if (n > 1000000)
				return sch_error_set(SCH_EINVAL,
						     "bad revision spec '%s': "
						     "number too large", spec);
			s = end;
		}
		if (op == '^') {
			if (n == 0)
				continue;
			rc = sch_rev_load(&r, t, id);
			if (rc)
				return rc;
			if (n > r.nparents) {
				size_t np = r.nparents;
				sch_rev_release(&r);
				return sch_error_set(SCH_ENOTFOUND,
						     "'%s': the revision has %zu "
						     "parent%s, not %lu", spec, np,
						     np == 1 ? "" : "s", n);
			}
			*id = r.parents[n - 1];
			sch_rev_release(&r);
			continue;
		}
		for (unsigned long k = 0; k < n; k++) {
			rc = sch_rev_load(&r, t, id);
			if (rc)
				return rc;
			if (!r.nparents) {
				sch_rev_release(&r);
				return sch_error_set(SCH_ENOTFOUND,
						     "'%s' goes past the root "
						     "revision", spec);
			}
			*id = r.parents[0];
			sch_rev_release(&r);
		}
	}
	return 0;
}

int sch_revspec_resolve(struct sch_idlist *out, struct sch_txn *t,
			const char *spec, sch_revspec_relative_fn rel,
			void *rel_arg)
{
	size_t blen;
	char *base;
	struct sch_idlist tmp = { 0 };
	int rc;

	if (!*spec)
		return sch_error_set(SCH_EINVAL, "empty revision spec");
	if (strlen(spec) > 256)
		return sch_error_set(SCH_EINVAL, "revision spec too long");
	if ((spec[0] == '-' || spec[0] == '+') && spec[1]) {
		char *end;
		strtoul(spec + 1, &end, 10);
		if (*end || !isdigit((unsigned char)spec[1]))
			return sch_error_set(SCH_EINVAL,
					     "bad relative spec '%s'", spec);
		if (!rel)
			return sch_error_set(SCH_EINVAL,
					     "'%s' is relative to a database; "
					     "this command has none", spec);
		return rel(out, spec, rel_arg);
	}
	blen = strcspn(spec, "~^");
	if (blen == 0)
		return sch_error_set(SCH_EINVAL, "bad revision spec '%s'", spec);
	base = xstrndup(spec, blen);
	if (!strcmp(base, "base") || !strcmp(base, "heads")) {
		if (spec[blen]) {
			rc = sch_error_set(SCH_EINVAL,
					   "'%s' takes no ~ or ^ suffix", base);
			goto out;
		}
		rc = 0;
		if (!strcmp(base, "heads")) {
			struct sch_id *h = NULL;
			size_t n = 0;
			rc = sch_graph_heads(t, &h, &n);
			for (size_t i = 0; i < n; i++)
				sch_idlist_add(out, &h[i]);
			free(h);
		}
		goto out;
	}
	rc = resolve_base(&tmp, t, base, spec);
	if (rc)
		goto out;
	for (size_t i = 0; i < tmp.n && !rc; i++) {
		rc = walk_suffixes(&tmp.v[i], t, spec + blen, spec);
		if (!rc)
			sch_idlist_add(out, &tmp.v[i]);
	}
out:
	sch_idlist_release(&tmp);
	free(base);
	return rc;
}

int sch_revspec_one(struct sch_id *out, struct sch_txn *t, const char *spec)
{
	struct sch_idlist l = { 0 };
	int rc = sch_revspec_resolve(&l, t, spec, NULL, NULL);

	if (!rc && l.n != 1)
		rc = sch_error_set(SCH_EINVAL,
				   "'%s' names %zu revisions, not one", spec,
				   l.n);
	if (!rc)
		*out = l.v[0];
	sch_idlist_release(&l);
	return rc;
}
