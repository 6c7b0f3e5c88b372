/* revision.c - parse and format `rev` objects. */
#include <inttypes.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "schema/error.h"
#include "schema/refs.h"
#include "schema/revision.h"

void sch_rev_init(struct sch_rev *r)
{
	memset(r, 0, sizeof(*r));
	r->message = xstrdup("");
}

void sch_rev_release(struct sch_rev *r)
{
	free(r->parents);
	free(r->depends);
	free(r->supersedes);
	for (size_t i = 0; i < r->nlabels; i++)
		free(r->labels[i]);
	free(r->labels);
	for (size_t i = 0; i < r->nflags; i++)
		free(r->flags[i]);
	free(r->flags);
	free(r->author);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

char *sch_rev_parents_array(const struct sch_rev *r)
{
	struct sch_buf b = SCH_BUF_INIT;
	char hex[SCH_HEX_LEN + 1];

	sch_buf_addch(&b, '{');
	for (size_t i = 0; i < r->nparents; i++) {
		sch_id_hex(hex, &r->parents[i]);
		sch_buf_addf(&b, "%s%s", i ? "," : "", hex);
	}
	sch_buf_addch(&b, '}');
	return sch_buf_detach(&b, NULL);
}

void sch_rev_add_parent(struct sch_rev *r, const struct sch_id *id)
{
	r->parents = xrealloc(r->parents, (r->nparents + 1) * sizeof(*id));
	r->parents[r->nparents++] = *id;
}

void sch_rev_add_depends(struct sch_rev *r, const struct sch_id *id)
{
	r->depends = xrealloc(r->depends, (r->ndepends + 1) * sizeof(*id));
	r->depends[r->ndepends++] = *id;
}

void sch_rev_add_supersedes(struct sch_rev *r, const struct sch_id *id)
{
	r->supersedes = xrealloc(r->supersedes,
				 (r->nsupersedes + 1) * sizeof(*id));
	r->supersedes[r->nsupersedes++] = *id;
}

int sch_rev_supersedes(const struct sch_rev *r, const struct sch_id *id)
{
	for (size_t i = 0; i < r->nsupersedes; i++)
		if (!sch_id_cmp(&r->supersedes[i], id))
			return 1;
	return 0;
}

void sch_rev_add_label(struct sch_rev *r, const char *label)
{
	r->labels = xrealloc(r->labels, (r->nlabels + 1) * sizeof(char *));
	r->labels[r->nlabels++] = xstrdup(label);
}

void sch_rev_add_flag(struct sch_rev *r, const char *flag)
{
	r->flags = xrealloc(r->flags, (r->nflags + 1) * sizeof(char *));
	r->flags[r->nflags++] = xstrdup(flag);
}

int sch_rev_flag_known(const char *flag)
{
	return !strcmp(flag, "notx") || !strcmp(flag, "irreversible");
}

int sch_rev_has_flag(const struct sch_rev *r, const char *flag)
{
	for (size_t i = 0; i < r->nflags; i++)
		if (!strcmp(r->flags[i], flag))
			return 1;
	return 0;
}

void sch_rev_subject(struct sch_buf *out, const struct sch_rev *r)
{
	const char *nl = strchr(r->message, '\n');

	sch_buf_reset(out);
	sch_buf_add(out, r->message,
		    nl ? (size_t)(nl - r->message) : strlen(r->message));
}

static void add_id_line(struct sch_buf *out, const char *key,
			const struct sch_id *id)
{
	char hex[SCH_HEX_LEN + 1];

	sch_id_hex(hex, id);
	sch_buf_addf(out, "%s %s\n", key, hex);
}

void sch_rev_format(struct sch_buf *out, const struct sch_rev *r)
{
	for (size_t i = 0; i < r->nparents; i++)
		add_id_line(out, "parent", &r->parents[i]);
	for (size_t i = 0; i < r->ndepends; i++)
		add_id_line(out, "depends", &r->depends[i]);
	for (size_t i = 0; i < r->nsupersedes; i++)
		add_id_line(out, "supersedes", &r->supersedes[i]);
	add_id_line(out, "up", &r->up);
	add_id_line(out, "down", &r->down);
	if (r->has_verify)
		add_id_line(out, "verify", &r->verify);
	for (size_t i = 0; i < r->nlabels; i++)
		sch_buf_addf(out, "label %s\n", r->labels[i]);
	for (size_t i = 0; i < r->nflags; i++)
		sch_buf_addf(out, "flag %s\n", r->flags[i]);
	if (r->author)
		sch_buf_addf(out, "author %s %" PRId64 " %s\n", r->author,
			     r->time, r->tz);
	sch_buf_addch(out, '\n');
	sch_buf_addstr(out, r->message);
}

int sch_rev_parse_author(struct sch_rev *r, const char *v, size_t n)
{
	const char *gt = NULL, *lt = NULL, *p, *end = v + n;
	long long secs = 0;
	int digits = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '<' && !lt)
			lt = v + i;
		if (v[i] == '>')
			gt = v + i;
	}
	if (!lt || !gt || gt < lt || lt == v || lt[-1] != ' ')
		return SCH_EPARSE;
	/* "> <seconds> <+hhmm>" exactly */
	p = gt + 1;
	if (p >= end || *p++ != ' ')
		return SCH_EPARSE;
	if (p < end && *p == '-')
		p++;
	/* Canonical digits only: one revision must have one id. */
	if (p < end && *p == '0' && (p + 1 >= end || p[1] != ' ' || p[-1] == '-'))
		return SCH_EPARSE;
	while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
		secs = secs * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits || p >= end || *p++ != ' ')
		return SCH_EPARSE;
	if (gt[2] == '-')
		secs = -secs;
	if (end - p != 5 || (p[0] != '+' && p[0] != '-'))
		return SCH_EPARSE;
	for (int i = 1; i < 5; i++)
		if (p[i] < '0' || p[i] > '9')
			return SCH_EPARSE;
	free(r->author);
	r->author = xstrndup(v, (size_t)(gt - v + 1));
	r->time = secs;
	memcpy(r->tz, p, 5);
	r->tz[5] = '\0';
	return 0;
}

enum { ST_PARENT, ST_DEPENDS, ST_SUPERSEDES, ST_UP, ST_DOWN, ST_VERIFY,
       ST_LABEL, ST_FLAG, ST_AUTHOR, ST_DONE };

int sch_rev_parse(struct sch_rev *out, const char *body, size_t len)
{
	const char *p = body, *end = body + len;
	int stage = ST_PARENT, lineno = 0, have_up = 0, have_down = 0;
	int rc = 0;

	sch_rev_init(out);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		size_t n, klen, vlen;
		struct sch_id id;
		int st;
		lineno++;
		if (!nl) {
			rc = sch_error_set(SCH_ECORRUPT,
					   "revision line %d is not terminated",
					   lineno);
			goto fail;
		}
		n = (size_t)(nl - p);
		if (n == 0) {
			p = nl + 1;
			stage = ST_DONE;
			break;
		}
		sp = memchr(p, ' ', n);
		if (!sp) {
			rc = sch_error_set(SCH_ECORRUPT,
					   "revision line %d has no value",
					   lineno);
			goto fail;
		}
		klen = (size_t)(sp - p);
		vlen = n - klen - 1;
#define KEY(s) (klen == strlen(s) && !memcmp(p, s, klen))
		st = KEY("parent") ? ST_PARENT : KEY("depends") ? ST_DEPENDS
			: KEY("supersedes") ? ST_SUPERSEDES : KEY("up") ? ST_UP : KEY("down") ? ST_DOWN
			: KEY("verify") ? ST_VERIFY : KEY("label") ? ST_LABEL
			: KEY("flag") ? ST_FLAG : KEY("author") ? ST_AUTHOR : -1;
#undef KEY
		if (st < 0 || st < stage ||
		    (st == stage && (st == ST_UP || st == ST_DOWN ||
				     st == ST_VERIFY || st == ST_AUTHOR)) ||
		    (st > ST_DOWN && !have_down) ||
		    (st > ST_UP && !have_up)) {
			rc = sch_error_set(SCH_ECORRUPT,
					   "revision line %d: unexpected '%.*s'",
					   lineno, (int)(klen > 20 ? 20 : klen),
					   p);
			goto fail;
		}
		stage = st;
		if (st <= ST_VERIFY) {
			int lower = 1;
			for (size_t k = 0; k < vlen; k++)
				if (sp[1 + k] >= 'A' && sp[1 + k] <= 'F')
					lower = 0;
			if (!lower || sch_id_parse(&id, sp + 1, vlen)) {
				rc = sch_error_set(SCH_ECORRUPT,
						   "revision line %d: bad id",
						   lineno);
				goto fail;
			}
			if (st == ST_PARENT) {
				if (out->nparents >= SCH_REV_MAX_PARENTS) {
					rc = sch_error_set(SCH_ECORRUPT,
							   "revision has too many parents");
					goto fail;
				}
				sch_rev_add_parent(out, &id);
			} else if (st == ST_DEPENDS) {
				sch_rev_add_depends(out, &id);
			} else if (st == ST_SUPERSEDES) {
				sch_rev_add_supersedes(out, &id);
			} else if (st == ST_UP) {
				out->up = id;
				have_up = 1;
			} else if (st == ST_DOWN) {
				out->down = id;
				have_down = 1;
			} else {
				out->verify = id;
				out->has_verify = 1;
			}
		} else {
			char *v = xstrndup(sp + 1, vlen);
			int bad = 0;
			if (strlen(v) != vlen)
				bad = 1;
			else if (st == ST_LABEL)
				bad = sch_ref_check_name(v) != 0;
			else if (st == ST_FLAG)
				bad = !sch_rev_flag_known(v);
			else
				bad = sch_rev_parse_author(out, v, vlen) != 0;
			if (!bad && st == ST_LABEL)
				sch_rev_add_label(out, v);
			if (!bad && st == ST_FLAG)
				sch_rev_add_flag(out, v);
			free(v);
			if (bad) {
				rc = sch_error_set(SCH_ECORRUPT,
						   "revision line %d: bad value",
						   lineno);
				goto fail;
			}
		}
		p = nl + 1;
	}
	if (stage != ST_DONE || !have_up || !have_down) {
		rc = sch_error_set(SCH_ECORRUPT,
				   "revision lacks up, down or the blank line");
		goto fail;
	}
	if (memchr(p, '\0', (size_t)(end - p))) {
		rc = sch_error_set(SCH_ECORRUPT, "revision message has a NUL");
		goto fail;
	}
	free(out->message);
	out->message = xstrndup(p, (size_t)(end - p));
	return 0;
fail:
	sch_rev_release(out); /* zeroed: releasing it again is harmless */
	return rc;
}

int sch_rev_load(struct sch_rev *out, struct sch_txn *t,
		 const struct sch_id *id)
{
	struct sch_buf body = SCH_BUF_INIT;
	char hex[SCH_HEX_LEN + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sch_object_get_typed(&body, t, id, SCH_OBJ_REV);
	if (rc)
		goto out;
	rc = sch_rev_parse(out, body.ptr, body.len);
	if (rc) {
		sch_id_hex(hex, id);
		rc = sch_error_wrap(rc, "revision %s", hex);
	}
out:
	sch_buf_release(&body);
	return rc;
}

static json_t *id_array(const struct sch_id *ids, size_t n)
{
	json_t *a = json_array();
	char hex[SCH_HEX_LEN + 1];

	for (size_t i = 0; i < n; i++) {
		sch_id_hex(hex, &ids[i]);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

static json_t *str_array(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *sch_rev_json(const struct sch_id *id, const struct sch_rev *r,
			 const char *deco)
{
	json_t *o = json_object();
	char hex[SCH_HEX_LEN + 1];
	struct sch_buf subj = SCH_BUF_INIT;

	sch_id_hex(hex, id);
	json_object_set_new(o, "id", json_string(hex));
	json_object_set_new(o, "parents", id_array(r->parents, r->nparents));
	json_object_set_new(o, "depends", id_array(r->depends, r->ndepends));
	json_object_set_new(o, "supersedes", id_array(r->supersedes,
						      r->nsupersedes));
	json_object_set_new(o, "labels", str_array(r->labels, r->nlabels));
	json_object_set_new(o, "flags", str_array(r->flags, r->nflags));
	json_object_set_new(o, "author", r->author ? json_string(r->author)
						   : json_null());
	json_object_set_new(o, "time", json_integer(r->time));
	json_object_set_new(o, "tz", json_string(r->tz[0] ? r->tz : "+0000"));
	sch_rev_subject(&subj, r);
	json_object_set_new(o, "subject", json_string(subj.ptr));
	json_object_set_new(o, "message", json_string(r->message));
	if (deco)
		json_object_set_new(o, "refs", json_string(deco));
	sch_buf_release(&subj);
	return o;
}
