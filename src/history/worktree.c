/* worktree.c - the migrations/ directory and its meta files. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/error.h"
#include "schema/refs.h"
#include "schema/worktree.h"

static void strv_push(char ***v, size_t *n, const char *s, size_t len)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = xstrndup(s, len);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void sch_meta_init(struct sch_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->message = xstrdup("");
}

void sch_meta_release(struct sch_meta *m)
{
	strv_free(m->parents, m->nparents);
	strv_free(m->depends, m->ndepends);
	strv_free(m->supersedes, m->nsupersedes);
	strv_free(m->labels, m->nlabels);
	strv_free(m->flags, m->nflags);
	free(m->author);
	free(m->message);
	memset(m, 0, sizeof(*m));
}

int sch_meta_parse(struct sch_meta *out, const char *text, size_t len,
		   const char *file)
{
	const char *p = text, *end = text + len;
	int lineno = 0, rc = 0, in_header = 1, have_author = 0;
	struct sch_buf msg = SCH_BUF_INIT;

	sch_meta_init(out);
	if (memchr(text, '\0', len))
		return sch_error_set(SCH_EPARSE, "%s: contains a NUL byte", file);
	while (p < end && in_header) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *sp, *v;
		size_t n = (size_t)(le - p), klen, vlen;
		lineno++;
		while (n && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			in_header = 0;
			p = nl ? nl + 1 : end;
			break;
		}
		if (p[0] == '#') {
			p = nl ? nl + 1 : end;
			continue;
		}
		sp = memchr(p, ' ', n);
		klen = sp ? (size_t)(sp - p) : n;
		v = sp ? sp + 1 : p + n;
		vlen = sp ? n - klen - 1 : 0;
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
#define KEY(s) (klen == strlen(s) && !memcmp(p, s, klen))
		if (!KEY("parent") && !KEY("depends") && !KEY("label") &&
		    !KEY("flag") && !KEY("author") && !KEY("supersedes")) {
			rc = sch_error_set(SCH_EPARSE,
					   "%s:%d: unknown header '%.*s'", file,
					   lineno, (int)(klen > 40 ? 40 : klen), p);
			goto fail;
		}
		if (vlen == 0) {
			rc = sch_error_set(SCH_EPARSE, "%s:%d: '%.*s' needs a value",
					   file, lineno, (int)klen, p);
			goto fail;
		}
		if (memchr(v, ' ', vlen) && !KEY("author")) {
			rc = sch_error_set(SCH_EPARSE,
					   "%s:%d: '%.*s' takes one word, got '%.*s'",
					   file, lineno, (int)klen, p,
					   (int)(vlen > 60 ? 60 : vlen), v);
			goto fail;
		}
		if (KEY("parent")) {
			if (out->nparents >= SCH_REV_MAX_PARENTS) {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: too many parents", file,
						   lineno);
				goto fail;
			}
			strv_push(&out->parents, &out->nparents, v, vlen);
		} else if (KEY("depends")) {
			strv_push(&out->depends, &out->ndepends, v, vlen);
		} else if (KEY("supersedes")) {
			strv_push(&out->supersedes, &out->nsupersedes, v, vlen);
		} else if (KEY("label")) {
			char *l = xstrndup(v, vlen);
			rc = sch_ref_check_name(l);
			free(l);
			if (rc) {
				rc = sch_error_wrap(SCH_EPARSE, "%s:%d: bad label",
						    file, lineno);
				goto fail;
			}
			strv_push(&out->labels, &out->nlabels, v, vlen);
		} else if (KEY("flag")) {
			char *f = xstrndup(v, vlen);
			int ok = sch_rev_flag_known(f);
			free(f);
			if (!ok) {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: unknown flag '%.*s' "
						   "(known: notx, irreversible)",
						   file, lineno, (int)vlen, v);
				goto fail;
			}
			strv_push(&out->flags, &out->nflags, v, vlen);
		} else {
			struct sch_rev tmp;
			if (have_author) {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: a second author line",
						   file, lineno);
				goto fail;
			}
			sch_rev_init(&tmp);
			if (sch_rev_parse_author(&tmp, v, vlen)) {
				sch_rev_release(&tmp);
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: author must be 'Name "
						   "<email> <unix-seconds> <+hhmm>'",
						   file, lineno);
				goto fail;
			}
			out->author = tmp.author;
			tmp.author = NULL;
			out->time = tmp.time;
			memcpy(out->tz, tmp.tz, sizeof(out->tz));
			sch_rev_release(&tmp);
			have_author = 1;
		}
#undef KEY
		p = nl ? nl + 1 : end;
	}
	/* The message: drop '\r', trailing blank lines, end with one '\n'. */
	for (; p < end; p++)
		if (*p != '\r')
			sch_buf_addch(&msg, *p);
	while (msg.len && (msg.ptr[msg.len - 1] == '\n' ||
			   msg.ptr[msg.len - 1] == ' '))
		sch_buf_truncate(&msg, msg.len - 1);
	if (msg.len == 0 || msg.ptr[0] == '\n' || msg.ptr[0] == ' ') {
		rc = sch_error_set(SCH_EPARSE,
				   "%s:%d: a blank line and a message (subject "
				   "line first) must follow the headers",
				   file, lineno + 1);
		goto fail;
	}
	sch_buf_addch(&msg, '\n');
	free(out->message);
	out->message = sch_buf_detach(&msg, NULL);
	return 0;
fail:
	sch_buf_release(&msg);
	sch_meta_release(out);
	sch_meta_init(out);
	return rc;
}

void sch_meta_format(struct sch_buf *out, const struct sch_meta *m)
{
	for (size_t i = 0; i < m->nparents; i++)
		sch_buf_addf(out, "parent %s\n", m->parents[i]);
	for (size_t i = 0; i < m->ndepends; i++)
		sch_buf_addf(out, "depends %s\n", m->depends[i]);
	for (size_t i = 0; i < m->nsupersedes; i++)
		sch_buf_addf(out, "supersedes %s\n", m->supersedes[i]);
	for (size_t i = 0; i < m->nlabels; i++)
		sch_buf_addf(out, "label %s\n", m->labels[i]);
	for (size_t i = 0; i < m->nflags; i++)
		sch_buf_addf(out, "flag %s\n", m->flags[i]);
	if (m->author)
		sch_buf_addf(out, "author %s %" PRId64 " %s\n", m->author,
			     m->time, m->tz);
	sch_buf_addch(out, '\n');
	sch_buf_addstr(out, m->message);
}

static int name_seq(const char *name, unsigned long *seq)
{
	const char *p = name;
	unsigned long v = 0;

	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p)) {
		if (v > 100000000UL)
			return 0;
		v = v * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (*p != '_' || !p[1])
		return 0;
	for (p++; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != '.')
			return 0;
	*seq = v;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct sch_wt_entry *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int read_script(struct sch_buf *out, const char *dir, const char *name,
		       const char *file, int optional, int *present)
{
	char *path = xasprintf("%s/%s/%s", dir, name, file);
	int rc;

	out->max = SCH_SCRIPT_MAX;
	rc = sch_buf_read_file(out, path);
	if (present)
		*present = rc == 0;
	if (rc == SCH_ENOTFOUND && optional)
		rc = 0;
	else if (rc == SCH_ENOTFOUND)
		rc = sch_error_set(SCH_ENOTFOUND, "%s is missing", path);
	free(path);
	return rc;
}

static int load_entry(struct sch_wt_entry *e, const char *dir)
{
	struct sch_buf meta = SCH_BUF_INIT;
	char *path = xasprintf("%s/%s/meta", dir, e->name);
	int rc;

	meta.max = 1 << 20;
	rc = sch_buf_read_file(&meta, path);
	if (rc == SCH_ENOTFOUND)
		rc = sch_error_set(SCH_ENOTFOUND, "%s is missing", path);
	if (rc)
		goto out;
	rc = sch_meta_parse(&e->meta, meta.ptr, meta.len, path);
	if (rc)
		goto out;
	rc = read_script(&e->up, dir, e->name, "up.sql", 0, NULL);
	if (!rc)
		rc = read_script(&e->down, dir, e->name, "down.sql", 0, NULL);
	if (!rc)
		rc = read_script(&e->verify, dir, e->name, "verify.sql", 1,
				 &e->has_verify);
out:
	free(path);
	sch_buf_release(&meta);
	return rc;
}

int sch_wt_load(struct sch_wt *out, const char *dir)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->dir = xstrdup(dir);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return sch_error_set(SCH_EIO, "cannot read %s: %s", dir,
				     strerror(errno));
	}
	while ((de = readdir(d))) {
		struct sch_wt_entry *e;
		unsigned long seq;
		struct stat st;
		char *path;
		if (!name_seq(de->d_name, &seq))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			free(path);
			continue;
		}
		free(path);
		if (out->n == cap) {
			cap = cap ? cap * 2 : 64;
			out->e = xrealloc(out->e, cap * sizeof(*out->e));
		}
		e = &out->e[out->n++];
		memset(e, 0, sizeof(*e));
		e->name = xstrdup(de->d_name);
		e->seq = seq;
		/* meta is filled by sch_meta_parse(); zero is releasable. */
		sch_rev_init(&e->rev);
	}
	closedir(d);
	if (out->n)
		qsort(out->e, out->n, sizeof(*out->e), entry_cmp);
	for (size_t i = 0; i < out->n && !rc; i++)
		rc = load_entry(&out->e[i], dir);
	return rc;
}

void sch_wt_release(struct sch_wt *wt)
{
	for (size_t i = 0; i < wt->n; i++) {
		struct sch_wt_entry *e = &wt->e[i];
		free(e->name);
		sch_meta_release(&e->meta);
		sch_buf_release(&e->up);
		sch_buf_release(&e->down);
		sch_buf_release(&e->verify);
		sch_rev_release(&e->rev);
	}
	free(wt->e);
	free(wt->byid);
	free(wt->dir);
	memset(wt, 0, sizeof(*wt));
}

struct sch_wt_entry *sch_wt_find(const struct sch_wt *wt, const char *name)
{
	for (size_t i = 0; i < wt->n; i++)
		if (!strcmp(wt->e[i].name, name))
			return &wt->e[i];
	return NULL;
}

struct sch_wt_entry *sch_wt_find_id(const struct sch_wt *wt,
				    const struct sch_id *id)
{
	if (wt->byid) {
		size_t lo = 0, hi = wt->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = sch_id_cmp(&wt->e[wt->byid[mid]].id, id);
			if (!c)
				return &wt->e[wt->byid[mid]];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t i = 0; i < wt->n; i++)
		if (wt->e[i].resolved == 2 && !sch_id_cmp(&wt->e[i].id, id))
			return &wt->e[i];
	return NULL;
}

static int is_hex(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Resolves a meta reference to a revision id, or to a pending entry. */
static int lookup_ref(struct sch_id *out, struct sch_wt_entry **pending,
		      struct sch_wt *wt, struct sch_txn *t,
		      const struct sch_wt_entry *from, const char *what,
		      const char *ref)
{
	struct sch_wt_entry *e = sch_wt_find(wt, ref);
	int rc;

	*pending = NULL;
	if (e) {
		if (e->resolved == 2) {
			*out = e->id;
			return 0;
		}
		*pending = e;
		return 0;
	}
	if (is_hex(ref) && strlen(ref) >= 4) {
		rc = sch_object_resolve_prefix(out, t, ref, SCH_OBJ_REV);
		if (rc == 0 || rc == SCH_EAMBIGUOUS)
			return rc ? sch_error_wrap(rc, "%s/%s/meta: %s", wt->dir,
						   from->name, what)
				  : 0;
	}
	return sch_error_set(SCH_ENOTFOUND,
			     "%s/%s/meta: %s '%s' does not exist (neither a "
			     "directory of %s nor a stored revision)",
			     wt->dir, from->name, what, ref, wt->dir);
}

/*
 * A supersedes value: a full id, which need not be stored (a database may
 * still hold the revision it names), or a prefix of a stored revision.
 */
static int supersedes_ref(struct sch_id *out, struct sch_wt *wt,
			  struct sch_txn *t, const struct sch_wt_entry *from,
			  const char *ref)
{
	size_t n = strlen(ref);
	int rc, lower = 1;

	for (size_t i = 0; i < n; i++)
		if (ref[i] >= 'A' && ref[i] <= 'F')
			lower = 0; /* ids are written in lowercase */
	if (n == SCH_HEX_LEN && lower && is_hex(ref) &&
	    sch_id_parse(out, ref, n) == 0)
		return 0;
	if (is_hex(ref) && n >= 4) {
		rc = sch_object_resolve_prefix(out, t, ref, SCH_OBJ_REV);
		if (rc == 0)
			return 0;
		if (rc == SCH_EAMBIGUOUS)
			return sch_error_wrap(rc, "%s/%s/meta: supersedes",
					      wt->dir, from->name);
	}
	return sch_error_set(SCH_ENOTFOUND, "%s/%s/meta: supersedes '%s' is "
			     "neither a full revision id nor the prefix of a "
			     "stored revision", wt->dir, from->name, ref);
}

/* Builds and hashes the revision of e once its references are resolved. */
static int finish_entry(struct sch_wt *wt, struct sch_txn *t,
			struct sch_wt_entry *e, struct sch_wt_entry **pending)
{
	struct sch_buf body = SCH_BUF_INIT;
	struct sch_rev *r = &e->rev;
	int rc = 0;

	*pending = NULL;
	sch_rev_release(r);
	sch_rev_init(r);
	for (size_t i = 0; i < e->meta.nparents + e->meta.ndepends; i++) {
		int isdep = i >= e->meta.nparents;
		const char *ref = isdep ? e->meta.depends[i - e->meta.nparents]
					: e->meta.parents[i];
		struct sch_id id;
		rc = lookup_ref(&id, pending, wt, t, e,
				isdep ? "depends" : "parent", ref);
		if (rc || *pending)
			goto out;
		if (isdep)
			sch_rev_add_depends(r, &id);
		else
			sch_rev_add_parent(r, &id);
	}
	for (size_t i = 0; i < e->meta.nsupersedes; i++) {
		struct sch_id id;
		rc = supersedes_ref(&id, wt, t, e, e->meta.supersedes[i]);
		if (rc)
			goto out;
		sch_rev_add_supersedes(r, &id);
	}
	sch_object_hash(&r->up, SCH_OBJ_BLOB, e->up.ptr, e->up.len);
	sch_object_hash(&r->down, SCH_OBJ_BLOB, e->down.ptr, e->down.len);
	r->has_verify = e->has_verify;
	if (e->has_verify)
		sch_object_hash(&r->verify, SCH_OBJ_BLOB, e->verify.ptr,
				e->verify.len);
	for (size_t i = 0; i < e->meta.nlabels; i++)
		sch_rev_add_label(r, e->meta.labels[i]);
	for (size_t i = 0; i < e->meta.nflags; i++)
		sch_rev_add_flag(r, e->meta.flags[i]);
	if (e->meta.author) {
		r->author = xstrdup(e->meta.author);
		r->time = e->meta.time;
		memcpy(r->tz, e->meta.tz, sizeof(r->tz));
	}
	free(r->message);
	r->message = xstrdup(e->meta.message);
	sch_rev_format(&body, r);
	sch_object_hash(&e->id, SCH_OBJ_REV, body.ptr, body.len);
	e->resolved = 2;
out:
	sch_buf_release(&body);
	return rc;
}

static int byid_cmp(const void *a, const void *b, void *arg)
{
	const struct sch_wt *wt = arg;

	return sch_id_cmp(&wt->e[*(const size_t *)a].id,
			  &wt->e[*(const size_t *)b].id);
}

int sch_wt_resolve(struct sch_wt *wt, struct sch_txn *t)
{
	struct sch_wt_entry **stack = NULL;
	size_t depth = 0;
	int rc = 0;

	if (wt->n)
		stack = xmalloc(wt->n * sizeof(*stack));
	for (size_t i = 0; i < wt->n && !rc; i++) {
		if (wt->e[i].resolved == 2)
			continue;
		depth = 0;
		stack[depth++] = &wt->e[i];
		wt->e[i].resolved = 1;
		while (depth && !rc) {
			struct sch_wt_entry *top = stack[depth - 1], *pend;
			rc = finish_entry(wt, t, top, &pend);
			if (rc)
				break;
			if (!pend) {
				depth--;
				continue;
			}
			if (pend->resolved == 1) {
				rc = sch_error_set(SCH_EPARSE,
						   "%s/%s/meta: parents form a "
						   "cycle through %s",
						   wt->dir, top->name,
						   pend->name);
				break;
			}
			pend->resolved = 1;
			stack[depth++] = pend;
		}
	}
	free(stack);
	if (!rc) {
		free(wt->byid);
		wt->byid = xmalloc((wt->n + 1) * sizeof(size_t));
		for (size_t i = 0; i < wt->n; i++)
			wt->byid[i] = i;
		qsort_r(wt->byid, wt->n, sizeof(size_t), byid_cmp, wt);
	}
	return rc;
}

int sch_wt_edited(struct sch_txn *t, const struct sch_wt_entry *e,
		  int *direct)
{
	const void *v;
	size_t vl;
	struct sch_id old;
	struct sch_rev r;

	*direct = 0;
	if (sch_kv_get(t, SCH_DB_WORKTREE, e->name, strlen(e->name), &v, &vl) ||
	    vl != SCH_ID_LEN)
		return 0;
	memcpy(old.b, v, SCH_ID_LEN);
	if (!sch_id_cmp(&old, &e->id))
		return 0;
	*direct = 1;
	if (sch_rev_load(&r, t, &old) == 0) {
		if (!sch_id_cmp(&r.up, &e->rev.up) &&
		    !sch_id_cmp(&r.down, &e->rev.down) &&
		    r.has_verify == e->rev.has_verify &&
		    (!r.has_verify || !sch_id_cmp(&r.verify, &e->rev.verify)) &&
		    !strcmp(r.message, e->rev.message) &&
		    r.nparents == e->rev.nparents &&
		    r.ndepends == e->rev.ndepends &&
		    r.nsupersedes == e->rev.nsupersedes &&
		    r.nlabels == e->rev.nlabels && r.nflags == e->rev.nflags)
			*direct = 0;
		sch_rev_release(&r);
	}
	return 1;
}

static const char *const sig_files[] = { "meta", "up.sql", "down.sql",
					  "verify.sql" };

/* 4 x (size, mtime s, mtime ns). */
static void stat_sig(int64_t sig[12], const char *dir, const char *name)
{
	for (int i = 0; i < 4; i++) {
		char *p = xasprintf("%s/%s/%s", dir, name, sig_files[i]);
		struct stat st;
		if (stat(p, &st) == 0) {
			sig[3 * i] = (int64_t)st.st_size;
			sig[3 * i + 1] = (int64_t)st.st_mtim.tv_sec;
			sig[3 * i + 2] = (int64_t)st.st_mtim.tv_nsec;
		} else {
			sig[3 * i] = -1;
			sig[3 * i + 1] = sig[3 * i + 2] = 0;
		}
		free(p);
	}
}

int sch_wt_record_stat(struct sch_txn *t, const char *dir, const char *name)
{
	int64_t sig[12];

	stat_sig(sig, dir, name);
	return sch_kv_put(t, SCH_DB_WTSTAT, name, strlen(name), sig, sizeof(sig));
}

void sch_strlist_push(struct sch_strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void sch_strlist_join(struct sch_buf *out, const struct sch_strlist *l,
		      size_t max)
{
	for (size_t i = 0; i < l->n && i < max; i++)
		sch_buf_addf(out, "%s%s", i ? ", " : "", l->v[i]);
	if (l->n > max)
		sch_buf_addf(out, " and %zu more", l->n - max);
}

void sch_strlist_release(struct sch_strlist *l)
{
	strv_free(l->v, l->n);
	memset(l, 0, sizeof(*l));
}

/* 1 when e's own files differ from the revision `old` records. */
static int own_differs(struct sch_txn *t, struct sch_wt_entry *e,
		       const struct sch_id *old)
{
	struct sch_rev r;
	struct sch_id up, down, verify;
	int differs = 1;

	if (sch_rev_load(&r, t, old))
		return 1;
	sch_object_hash(&up, SCH_OBJ_BLOB, e->up.ptr, e->up.len);
	sch_object_hash(&down, SCH_OBJ_BLOB, e->down.ptr, e->down.len);
	if (e->has_verify)
		sch_object_hash(&verify, SCH_OBJ_BLOB, e->verify.ptr,
				e->verify.len);
	if (!sch_id_cmp(&r.up, &up) && !sch_id_cmp(&r.down, &down) &&
	    r.has_verify == e->has_verify &&
	    (!e->has_verify || !sch_id_cmp(&r.verify, &verify)) &&
	    !strcmp(r.message, e->meta.message) &&
	    r.nparents == e->meta.nparents && r.ndepends == e->meta.ndepends &&
	    r.nsupersedes == e->meta.nsupersedes &&
	    r.nlabels == e->meta.nlabels && r.nflags == e->meta.nflags)
		differs = 0;
	sch_rev_release(&r);
	return differs;
}

int sch_wt_scan_edits(struct sch_txn *t, const char *dir,
		      struct sch_strlist *edited, struct sch_strlist *uncommitted)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		const void *v, *sv;
		size_t vl, svl;
		unsigned long seq;
		int64_t sig[12];
		struct sch_id old;
		struct sch_wt_entry e;
		if (!name_seq(de->d_name, &seq))
			continue;
		if (sch_kv_get(t, SCH_DB_WORKTREE, de->d_name, strlen(de->d_name),
			       &v, &vl) || vl != SCH_ID_LEN) {
			if (uncommitted)
				strv_push(&uncommitted->v, &uncommitted->n,
					  de->d_name, strlen(de->d_name));
			continue;
		}
		memcpy(old.b, v, SCH_ID_LEN);
		stat_sig(sig, dir, de->d_name);
		if (sch_kv_get(t, SCH_DB_WTSTAT, de->d_name, strlen(de->d_name),
			       &sv, &svl) == 0 && svl == sizeof(sig) &&
		    !memcmp(sv, sig, sizeof(sig)))
			continue;
		memset(&e, 0, sizeof(e));
		e.name = xstrdup(de->d_name);
		if (load_entry(&e, dir) || own_differs(t, &e, &old)) {
			if (edited)
				strv_push(&edited->v, &edited->n, de->d_name,
					  strlen(de->d_name));
		}
		free(e.name);
		sch_meta_release(&e.meta);
		sch_buf_release(&e.up);
		sch_buf_release(&e.down);
		sch_buf_release(&e.verify);
	}
	closedir(d);
	if (edited && edited->n > 1)
		qsort(edited->v, edited->n, sizeof(char *), cmp_str);
	if (uncommitted && uncommitted->n > 1)
		qsort(uncommitted->v, uncommitted->n, sizeof(char *), cmp_str);
	return 0;
}

int sch_wt_store(struct sch_txn *t, const struct sch_wt_entry *e)
{
	struct sch_buf body = SCH_BUF_INIT;
	struct sch_id id;
	int rc;

	rc = sch_object_put(&id, t, SCH_OBJ_BLOB, e->up.ptr, e->up.len, -1);
	if (!rc)
		rc = sch_object_put(&id, t, SCH_OBJ_BLOB, e->down.ptr,
				    e->down.len, -1);
	if (!rc && e->has_verify)
		rc = sch_object_put(&id, t, SCH_OBJ_BLOB, e->verify.ptr,
				    e->verify.len, -1);
	if (rc)
		goto out;
	sch_rev_format(&body, &e->rev);
	rc = sch_object_put(&id, t, SCH_OBJ_REV, body.ptr, body.len, -1);
	if (!rc && sch_id_cmp(&id, &e->id))
		rc = sch_error_set(SCH_ECORRUPT, "revision id changed while storing");
out:
	sch_buf_release(&body);
	return rc;
}

void sch_wt_next_name(struct sch_buf *out, const struct sch_wt *wt,
		      const char *message)
{
	unsigned long seq = 0;
	size_t start;
	int last_us = 1;

	for (size_t i = 0; i < wt->n; i++)
		if (wt->e[i].seq > seq)
			seq = wt->e[i].seq;
	sch_buf_reset(out);
	sch_buf_addf(out, "%04lu_", seq + 1);
	start = out->len;
	for (const char *p = message; *p && *p != '\n' && out->len - start < 48;
	     p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) && c < 0x80) {
			sch_buf_addch(out, (char)tolower(c));
			last_us = 0;
		} else if (!last_us) {
			sch_buf_addch(out, '_');
			last_us = 1;
		}
	}
	while (out->len > start && out->ptr[out->len - 1] == '_')
		sch_buf_truncate(out, out->len - 1);
	if (out->len == start)
		sch_buf_addstr(out, "migration");
}

static int write_file(const char *dir, const char *file, const char *text)
{
	char *path = xasprintf("%s/%s", dir, file);
	FILE *f = fopen(path, "wx");
	int rc = 0;

	if (!f || fputs(text, f) == EOF)
		rc = sch_error_set(SCH_EIO, "cannot write %s: %s", path,
				   strerror(errno));
	if (f && fclose(f) != 0 && !rc)
		rc = sch_error_set(SCH_EIO, "cannot write %s: %s", path,
				   strerror(errno));
	free(path);
	return rc;
}

int sch_wt_create(const char *dir, const char *name, const struct sch_meta *m,
		  const char *up, const char *down)
{
	char *final = xasprintf("%s/%s", dir, name);
	char *tmp = xasprintf("%s/.%s.tmp%ld", dir, name, (long)getpid());
	struct sch_buf meta = SCH_BUF_INIT;
	struct stat st;
	int rc = 0;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rc = sch_error_set(SCH_EIO, "cannot create %s: %s", dir,
				   strerror(errno));
		goto out;
	}
	if (stat(final, &st) == 0) {
		rc = sch_error_set(SCH_EEXISTS, "%s already exists", final);
		goto out;
	}
	if (mkdir(tmp, 0755) != 0) {
		rc = sch_error_set(SCH_EIO, "cannot create %s: %s", tmp,
				   strerror(errno));
		goto out;
	}
	sch_meta_format(&meta, m);
	rc = write_file(tmp, "meta", meta.ptr);
	if (!rc)
		rc = write_file(tmp, "up.sql", up);
	if (!rc)
		rc = write_file(tmp, "down.sql", down);
	if (!rc && rename(tmp, final) != 0)
		rc = sch_error_set(SCH_EIO, "cannot create %s: %s", final,
				   strerror(errno));
	if (rc) {
		char *p;
		p = xasprintf("%s/meta", tmp); unlink(p); free(p);
		p = xasprintf("%s/up.sql", tmp); unlink(p); free(p);
		p = xasprintf("%s/down.sql", tmp); unlink(p); free(p);
		rmdir(tmp);
	}
out:
	sch_buf_release(&meta);
	free(final);
	free(tmp);
	return rc;
}

/* The directory names of committed revisions, read once a process
 * (a command that moves no directory asks many times). */
struct dirname {
	struct sch_id id;
	char *name;
};
static struct dirname *dirnames;
static size_t ndirnames;
static int dirnames_loaded;

static int dirname_cmp(const void *a, const void *b)
{
	return sch_id_cmp(&((const struct dirname *)a)->id,
			  &((const struct dirname *)b)->id);
}

char *sch_wt_dir_name(struct sch_txn *t, const struct sch_id *id)
{
	struct dirname key, *hit;

	if (!dirnames_loaded) {
		struct sch_cursor *c = NULL;
		const void *k, *v;
		size_t kl, vl, cap = 0;
		int rc;
		dirnames_loaded = 1;
		if (sch_cursor_open(&c, t, SCH_DB_WORKTREE) == 0) {
			for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl);
			     rc == 1; rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
				if (vl != SCH_ID_LEN)
					continue;
				if (ndirnames == cap) {
					cap = cap ? cap * 2 : 64;
					dirnames = xrealloc(dirnames,
							    cap * sizeof(*dirnames));
				}
				memcpy(dirnames[ndirnames].id.b, v, SCH_ID_LEN);
				dirnames[ndirnames++].name = xstrndup(k, kl);
			}
			sch_cursor_close(c);
		}
		if (ndirnames)
			qsort(dirnames, ndirnames, sizeof(*dirnames), dirname_cmp);
	}
	key.id = *id;
	hit = ndirnames ? bsearch(&key, dirnames, ndirnames, sizeof(*dirnames),
				  dirname_cmp) : NULL;
	return hit ? xstrdup(hit->name) : NULL;
}
