/* refs.c - branches, tags, symbolic HEAD and the reflog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/error.h"
#include "schema/refs.h"

#define SYMREF "ref: "

int sch_ref_check_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0)
		return sch_error_set(SCH_EINVAL, "empty name is not a valid ref");
	if (n > 200)
		return sch_error_set(SCH_EINVAL, "'%.40s...' is too long for a ref",
				     name);
	if (!strcmp(name, "head") || !strcmp(name, "heads") ||
	    !strcmp(name, "base") || !strcmp(name, "HEAD") ||
	    !strcmp(name, "@"))
		return sch_error_set(SCH_EINVAL,
				     "'%s' is reserved and not a valid ref name",
				     name);
	if (name[0] == '-' || name[0] == '.' || name[0] == '/' ||
	    name[n - 1] == '/' || name[n - 1] == '.')
		return sch_error_set(SCH_EINVAL,
				     "'%s' is not a valid ref name: it starts "
				     "or ends with '-', '.' or '/'", name);
	if (n >= 5 && !strcmp(name + n - 5, ".lock"))
		return sch_error_set(SCH_EINVAL,
				     "'%s' is not a valid ref name: it ends "
				     "with .lock", name);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
			return sch_error_set(SCH_EINVAL,
					     "'%s' is not a valid ref name: "
					     "character '%c' is not allowed",
					     name, c < 0x20 || c == 0x7f ? '?' : c);
		if (i + 1 < n && ((c == '.' && name[i + 1] == '.') ||
				  (c == '/' && name[i + 1] == '/') ||
				  (c == '@' && name[i + 1] == '{') ||
				  (c == '/' && name[i + 1] == '.')))
			return sch_error_set(SCH_EINVAL,
					     "'%s' is not a valid ref name: it "
					     "contains '%.2s'", name, name + i);
	}
	return 0;
}

static int raw_read(struct sch_buf *out, struct sch_txn *t, const char *name)
{
	const void *v;
	size_t vl;
	int rc = sch_kv_get(t, SCH_DB_REFS, name, strlen(name), &v, &vl);

	if (rc)
		return rc;
	sch_buf_reset(out);
	sch_buf_add(out, v, vl);
	return 0;
}

int sch_ref_read_symbolic(struct sch_buf *target, struct sch_txn *t,
			  const char *name)
{
	struct sch_buf v = SCH_BUF_INIT;
	int rc = raw_read(&v, t, name);

	if (rc == SCH_ENOTFOUND) {
		rc = sch_error_set(SCH_ENOTFOUND, "ref '%s' not found", name);
		goto out;
	}
	if (rc)
		goto out;
	if (v.len > strlen(SYMREF) && !memcmp(v.ptr, SYMREF, strlen(SYMREF))) {
		sch_buf_reset(target);
		sch_buf_add(target, v.ptr + strlen(SYMREF),
			    v.len - strlen(SYMREF));
		rc = 1;
	}
out:
	sch_buf_release(&v);
	return rc;
}

int sch_ref_read(struct sch_id *out, struct sch_txn *t, const char *name)
{
	struct sch_buf v = SCH_BUF_INIT;
	int rc, depth;

	rc = raw_read(&v, t, name);
	for (depth = 0; rc == 0 && depth < 2; depth++) {
		if (v.len > strlen(SYMREF) &&
		    !memcmp(v.ptr, SYMREF, strlen(SYMREF))) {
			char *target = xstrdup(v.ptr + strlen(SYMREF));
			rc = raw_read(&v, t, target);
			if (rc == SCH_ENOTFOUND)
				rc = sch_error_set(SCH_ENOTFOUND,
						   "'%s' has no revision yet",
						   target);
			free(target);
			continue;
		}
		break;
	}
	if (rc == SCH_ENOTFOUND && depth == 0)
		rc = sch_error_set(SCH_ENOTFOUND, "ref '%s' not found", name);
	if (rc)
		goto out;
	if (sch_id_parse(out, v.ptr, v.len))
		rc = sch_error_set(SCH_ECORRUPT, "ref '%s' is damaged", name);
out:
	sch_buf_release(&v);
	return rc;
}

static int reflog_append(struct sch_txn *t, const char *name,
			 const struct sch_id *old_id,
			 const struct sch_id *new_id, const char *msg)
{
	struct sch_cursor *c = NULL;
	const void *k;
	size_t kl;
	unsigned char key[8];
	uint64_t seq = 1;
	char oh[SCH_HEX_LEN + 1], nh[SCH_HEX_LEN + 1];
	struct sch_buf v = SCH_BUF_INIT;
	static const struct sch_id zero;
	int rc;

	rc = sch_cursor_open(&c, t, SCH_DB_REFLOG);
	if (rc)
		return rc;
	rc = sch_cursor_last(c, &k, &kl, NULL, NULL);
	if (rc == 1 && kl == 8) {
		const unsigned char *kb = k;
		seq = 0;
		for (int i = 0; i < 8; i++)
			seq = seq << 8 | kb[i];
		seq++;
	}
	sch_cursor_close(c);
	if (rc < 0)
		return rc;
	for (int i = 7; i >= 0; i--) {
		key[i] = (unsigned char)(seq & 0xff);
		seq >>= 8;
	}
	sch_id_hex(oh, old_id ? old_id : &zero);
	sch_id_hex(nh, new_id ? new_id : &zero);
	sch_buf_add(&v, name, strlen(name) + 1);
	sch_buf_addf(&v, "%s %s %lld %s", oh, nh, (long long)time(NULL),
		     msg ? msg : "");
	rc = sch_kv_put(t, SCH_DB_REFLOG, key, sizeof(key), v.ptr, v.len);
	sch_buf_release(&v);
	return rc;
}

static int old_value(struct sch_id *old, struct sch_txn *t, const char *name)
{
	struct sch_buf v = SCH_BUF_INIT;
	int have = 0;

	if (raw_read(&v, t, name) == 0 && v.len == SCH_HEX_LEN &&
	    sch_id_parse(old, v.ptr, v.len) == 0)
		have = 1;
	sch_buf_release(&v);
	return have;
}

int sch_ref_write(struct sch_txn *t, const char *name,
		  const struct sch_id *id, const char *msg)
{
	char hex[SCH_HEX_LEN + 1];
	struct sch_id old;
	int had = old_value(&old, t, name);
	int rc;

	sch_id_hex(hex, id);
	rc = sch_kv_put(t, SCH_DB_REFS, name, strlen(name), hex, SCH_HEX_LEN);
	if (rc)
		return rc;
	if (had && !sch_id_cmp(&old, id))
		return 0;
	return reflog_append(t, name, had ? &old : NULL, id, msg);
}

int sch_ref_write_symbolic(struct sch_txn *t, const char *name,
			   const char *target, const char *msg)
{
	struct sch_buf v = SCH_BUF_INIT, old = SCH_BUF_INIT, m = SCH_BUF_INIT;
	struct sch_id from, to;
	int had_from, had_to, rc;

	/* The reflog records what the symbolic ref resolved to before and
	 * after, and both names in the message. */
	had_from = sch_ref_read(&from, t, name) == 0;
	if (sch_ref_read_symbolic(&old, t, name) != 1)
		sch_buf_reset(&old);
	had_to = sch_ref_read(&to, t, target) == 0;
	sch_buf_addf(&v, SYMREF "%s", target);
	rc = sch_kv_put(t, SCH_DB_REFS, name, strlen(name), v.ptr, v.len);
	if (!rc && strcmp(old.ptr, target)) {
		sch_buf_addf(&m, "%s: %s%s%s", msg ? msg : "symbolic",
			     old.len ? old.ptr : "", old.len ? " -> " : "", target);
		rc = reflog_append(t, name, had_from ? &from : NULL,
				   had_to ? &to : NULL, m.ptr);
	}
	sch_buf_release(&v);
	sch_buf_release(&old);
	sch_buf_release(&m);
	return rc;
}

int sch_ref_delete(struct sch_txn *t, const char *name, const char *msg)
{
	struct sch_id old;
	int had = old_value(&old, t, name);
	int rc = sch_kv_del(t, SCH_DB_REFS, name, strlen(name));

	if (rc == SCH_ENOTFOUND)
		return sch_error_set(SCH_ENOTFOUND, "ref '%s' not found", name);
	if (rc)
		return rc;
	return reflog_append(t, name, had ? &old : NULL, NULL, msg);
}

int sch_ref_each(struct sch_txn *t, const char *prefix, sch_ref_cb cb,
		 void *arg)
{
	struct sch_cursor *c = NULL;
	size_t plen = strlen(prefix);
	const void *k, *v;
	size_t kl, vl;
	int rc;

	rc = sch_cursor_open(&c, t, SCH_DB_REFS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, prefix, plen, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		struct sch_id id;
		char *name;
		int r;
		if (kl < plen || memcmp(k, prefix, plen))
			break;
		if (vl != SCH_HEX_LEN || sch_id_parse(&id, v, vl))
			continue;
		name = xstrndup(k, kl);
		r = cb(name, &id, arg);
		free(name);
		if (r) {
			rc = r;
			goto out;
		}
	}
	if (rc == 0 || rc == 1)
		rc = 0;
out:
	sch_cursor_close(c);
	return rc;
}

int sch_reflog_each(struct sch_txn *t, sch_reflog_cb cb, void *arg)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc;

	rc = sch_cursor_open(&c, t, SCH_DB_REFLOG);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		struct sch_reflog_entry e;
		char *copy = xstrndup(v, vl);
		const char *nul = memchr(copy, '\0', vl);
		const unsigned char *kb = k;
		long long tm = 0;
		int off = 0, r;
		memset(&e, 0, sizeof(e));
		for (size_t i = 0; i < kl && i < 8; i++)
			e.seq = e.seq << 8 | kb[i];
		e.name = copy;
		if (!nul || (size_t)(nul - copy) + 1 + 130 > vl ||
		    sch_id_parse(&e.old_id, nul + 1, SCH_HEX_LEN) ||
		    sch_id_parse(&e.new_id, nul + 2 + SCH_HEX_LEN,
				 SCH_HEX_LEN) ||
		    sscanf(nul + 3 + 2 * SCH_HEX_LEN, "%lld %n", &tm, &off) < 1) {
			free(copy);
			rc = sch_error_set(SCH_ECORRUPT,
					   "reflog entry %llu is damaged",
					   (unsigned long long)e.seq);
			goto out;
		}
		e.time = tm;
		e.msg = nul + 3 + 2 * SCH_HEX_LEN + off;
		r = cb(&e, arg);
		free(copy);
		if (r) {
			rc = r;
			goto out;
		}
	}
	if (rc == 1)
		rc = 0;
out:
	sch_cursor_close(c);
	return rc;
}
