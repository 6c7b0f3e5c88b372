/* sign.c - Ed25519 keys, sig objects, the sigs database, trusted keys. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/error.h"
#include "schema/sign.h"

/* Lowercase hex only, so that every text has one spelling. */
static int unhex_lc(void *out, const char *hex, size_t len)
{
	for (size_t i = 0; i < 2 * len; i++)
		if (hex[i] >= 'A' && hex[i] <= 'F')
			return SCH_EINVAL;
	return sch_unhex(out, hex, len);
}

#define ENTRY_LEN (SCH_ID_LEN + SCH_KEY_PUB + 32)
#define SECRET_MAGIC "schema-ed25519-secret-key v1"

static void config_dir(struct sch_buf *out)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	sch_buf_reset(out);
	if (x && *x == '/')
		sch_buf_addf(out, "%s/schema", x);
	else
		sch_buf_addf(out, "%s/.config/schema", home && *home ? home : ".");
}

void sch_key_dir(struct sch_buf *out)
{
	config_dir(out);
	sch_buf_addstr(out, "/keys");
}

int sch_key_check_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SCH_KEY_NAME_MAX || name[0] == '.' || name[0] == '-')
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			goto bad;
	}
	return 0;
bad:
	return sch_error_set(SCH_EINVAL, "'%.80s' is not a key name (1 to 64 "
			     "letters, digits, '.', '_', '-')", name);
}

void sch_key_fingerprint(char *out, const unsigned char *pk)
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), pk, SCH_KEY_PUB, NULL, 0);
	sch_hex(out, h, SCH_FPR_LEN / 2);
}

void sch_key_publine(struct sch_buf *out, const struct sch_key *k)
{
	char hex[2 * SCH_KEY_PUB + 1];

	sch_hex(hex, k->pk, SCH_KEY_PUB);
	sch_buf_addf(out, "ed25519 %s %s\n", hex, k->name);
}

/* mkdir -p with mode 0700 for the directories made here. */
static int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0700) && errno != EEXIST) {
				rc = sch_error_set(SCH_EIO, "cannot create %s: %s",
						   p, strerror(errno));
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return rc;
}

/* Creates path exclusively with mode 0600 and writes data. */
static int write_new(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0) {
		if (errno == EEXIST)
			return sch_error_set(SCH_EEXISTS, "%s already exists",
					     path);
		return sch_error_set(SCH_EIO, "cannot create %s: %s", path,
				     strerror(errno));
	}
	w = write(fd, data, len);
	if (w < 0 || (size_t)w != len || fsync(fd)) {
		int e = errno;
		close(fd);
		unlink(path);
		return sch_error_set(SCH_EIO, "cannot write %s: %s", path,
				     strerror(e));
	}
	close(fd);
	return 0;
}

int sch_key_generate(struct sch_key *out, const char *name)
{
	struct sch_buf dir = SCH_BUF_INIT, text = SCH_BUF_INIT,
		       path = SCH_BUF_INIT, pub = SCH_BUF_INIT;
	char pkhex[2 * SCH_KEY_PUB + 1], skhex[2 * SCH_KEY_SEC + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sch_key_check_name(name);
	if (rc)
		return rc;
	sch_key_dir(&dir);
	rc = make_dirs(dir.ptr);
	if (rc)
		goto out;
	chmod(dir.ptr, 0700);
	sch_buf_addf(&path, "%s/%s.pub", dir.ptr, name);
	if (access(path.ptr, F_OK) == 0) {
		rc = sch_error_set(SCH_EEXISTS, "key '%s' already exists (%s)",
				   name, path.ptr);
		goto out;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);
	crypto_sign_keypair(out->pk, out->sk);
	out->has_secret = 1;
	sch_hex(pkhex, out->pk, SCH_KEY_PUB);
	sch_hex(skhex, out->sk, SCH_KEY_SEC);
	sch_buf_addf(&text, SECRET_MAGIC "\nname %s\npublic %s\nsecret %s\n",
		     name, pkhex, skhex);
	sodium_memzero(skhex, sizeof(skhex));
	sch_buf_reset(&path);
	sch_buf_addf(&path, "%s/%s.key", dir.ptr, name);
	rc = write_new(path.ptr, text.ptr, text.len);
	if (rc == SCH_EEXISTS)
		rc = sch_error_set(SCH_EEXISTS, "key '%s' already exists (%s)",
				   name, path.ptr);
	if (rc)
		goto out;
	sch_key_publine(&pub, out);
	sch_buf_reset(&path);
	sch_buf_addf(&path, "%s/%s.pub", dir.ptr, name);
	rc = write_new(path.ptr, pub.ptr, pub.len);
out:
	sodium_memzero(text.ptr, text.len);
	sch_buf_release(&text);
	sch_buf_release(&dir);
	sch_buf_release(&path);
	sch_buf_release(&pub);
	return rc;
}

/* Next line of text (without '\n') into *line and *n; 0 at the end. */
static int next_line(const char **p, const char *end, const char **line,
		     size_t *n)
{
	const char *nl;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : end;
	return 1;
}

/* "word value": value into v (n), 1 when the line starts with word SP. */
static int field(const char *line, size_t n, const char *word,
		 const char **v, size_t *vn)
{
	size_t w = strlen(word);

	if (n <= w || memcmp(line, word, w) || line[w] != ' ')
		return 0;
	*v = line + w + 1;
	*vn = n - w - 1;
	return 1;
}

int sch_key_parse(struct sch_key *out, const char *text, size_t len,
		  const char *file)
{
	const char *p = text, *end = text + len, *l, *v;
	size_t n, vn;
	int lineno = 0;
	unsigned char derived[SCH_KEY_PUB];

	memset(out, 0, sizeof(*out));
	if (!next_line(&p, end, &l, &n) || n != strlen(SECRET_MAGIC) ||
	    memcmp(l, SECRET_MAGIC, n))
		return sch_error_set(SCH_EPARSE, "%s:1: not a schema secret key "
				     "(expected '" SECRET_MAGIC "')", file);
	lineno = 1;
	if (!next_line(&p, end, &l, &n) || (lineno++, !field(l, n, "name", &v, &vn)) ||
	    vn > SCH_KEY_NAME_MAX)
		return sch_error_set(SCH_EPARSE, "%s:%d: expected 'name <name>'",
				     file, lineno);
	memcpy(out->name, v, vn);
	out->name[vn] = '\0';
	if (strlen(out->name) != vn || sch_key_check_name(out->name))
		return sch_error_set(SCH_EPARSE, "%s:%d: bad key name", file,
				     lineno);
	if (!next_line(&p, end, &l, &n) || (lineno++, !field(l, n, "public", &v, &vn)) ||
	    vn != 2 * SCH_KEY_PUB || unhex_lc(out->pk, v, SCH_KEY_PUB))
		return sch_error_set(SCH_EPARSE, "%s:%d: expected 'public <64 "
				     "hex digits>'", file, lineno);
	if (!next_line(&p, end, &l, &n) || (lineno++, !field(l, n, "secret", &v, &vn)) ||
	    vn != 2 * SCH_KEY_SEC || unhex_lc(out->sk, v, SCH_KEY_SEC)) {
		sodium_memzero(out->sk, sizeof(out->sk));
		return sch_error_set(SCH_EPARSE, "%s:%d: expected 'secret <128 "
				     "hex digits>'", file, lineno);
	}
	if (p != end) {
		sodium_memzero(out->sk, sizeof(out->sk));
		return sch_error_set(SCH_EPARSE, "%s:%d: unexpected text after "
				     "the secret", file, lineno + 1);
	}
	crypto_sign_ed25519_sk_to_pk(derived, out->sk);
	if (memcmp(derived, out->pk, SCH_KEY_PUB)) {
		sodium_memzero(out->sk, sizeof(out->sk));
		return sch_error_set(SCH_EPARSE, "%s:3: the public key does not "
				     "belong to the secret key", file);
	}
	out->has_secret = 1;
	return 0;
}

int sch_key_load(struct sch_key *out, const char *name)
{
	struct sch_buf dir = SCH_BUF_INIT, path = SCH_BUF_INIT,
		       text = SCH_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sch_key_check_name(name);
	if (rc)
		return rc;
	sch_key_dir(&dir);
	sch_buf_addf(&path, "%s/%s.key", dir.ptr, name);
	text.max = 4096;
	rc = sch_buf_read_file(&text, path.ptr);
	if (rc == SCH_ENOTFOUND) {
		rc = sch_error_set(SCH_ENOTFOUND, "no key '%s' in %s", name,
				   dir.ptr);
		sch_error_hint("make one with 'schema key generate --name %s'",
			       name);
	}
	if (!rc)
		rc = sch_key_parse(out, text.ptr, text.len, path.ptr);
	sodium_memzero(text.ptr, text.len);
	sch_buf_release(&text);
	sch_buf_release(&dir);
	sch_buf_release(&path);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sch_key_list(char ***names, size_t *n)
{
	struct sch_buf dir = SCH_BUF_INIT;
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	sch_key_dir(&dir);
	d = opendir(dir.ptr);
	sch_buf_release(&dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char *nm;
		if (l < 5 || strcmp(de->d_name + l - 4, ".key"))
			continue;
		nm = xstrndup(de->d_name, l - 4);
		if (sch_key_check_name(nm)) {
			free(nm);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*names = xrealloc(*names, cap * sizeof(char *));
		}
		(*names)[(*n)++] = nm;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(char *), cmp_str);
	return 0;
}

void sch_key_default(char **name, const struct sch_config *cfg)
{
	const char *e = getenv("SCHEMA_SIGNING_KEY");
	const char *c = cfg ? sch_config_get(cfg, "user.signingkey") : NULL;
	char **names;
	size_t n;

	*name = NULL;
	if (e && *e) {
		*name = xstrdup(e);
		return;
	}
	if (c && *c) {
		*name = xstrdup(c);
		return;
	}
	sch_key_list(&names, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], "default"))
			*name = xstrdup("default");
	if (!*name && n == 1)
		*name = xstrdup(names[0]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void sch_sign_msg_rev(struct sch_buf *out, const struct sch_id *id)
{
	sch_buf_add(out, "schema-rev-sig-v1", 18); /* with its NUL */
	sch_buf_add(out, id->b, SCH_ID_LEN);
}

void sch_sign_msg_tag(struct sch_buf *out, const char *tag,
		      const struct sch_id *id)
{
	sch_buf_add(out, "schema-tag-sig-v1", 18);
	sch_buf_add(out, tag, strlen(tag) + 1);
	sch_buf_add(out, id->b, SCH_ID_LEN);
}

void sch_sign_bytes(unsigned char *sig, const struct sch_key *k,
		    const void *msg, size_t len)
{
	if (!k->has_secret)
		abort();
	crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

int sch_sign_verify(const unsigned char *sig, const unsigned char *pk,
		    const void *msg, size_t len)
{
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

/* --- trusted keys */

/* Parses "ed25519 <64 hex> <name>" (no newline). 0 or a reason. */
static const char *parse_publine(struct sch_key *k, const char *l, size_t n)
{
	const char *sp;
	size_t nl;

	memset(k, 0, sizeof(*k));
	if (n < 8 || memcmp(l, "ed25519 ", 8))
		return "expected 'ed25519 <64 hex digits> <name>'";
	l += 8;
	n -= 8;
	if (n < 2 * SCH_KEY_PUB || unhex_lc(k->pk, l, SCH_KEY_PUB))
		return "the public key is not 64 hex digits";
	l += 2 * SCH_KEY_PUB;
	n -= 2 * SCH_KEY_PUB;
	if (n < 2 || l[0] != ' ')
		return "the key has no name";
	sp = l + 1;
	nl = n - 1;
	if (nl > SCH_KEY_NAME_MAX || memchr(sp, '\0', nl))
		return "bad key name";
	memcpy(k->name, sp, nl);
	k->name[nl] = '\0';
	if (sch_key_check_name(k->name))
		return "bad key name (1 to 64 letters, digits, '.', '_', '-')";
	return NULL;
}

int sch_trusted_parse(struct sch_trusted *out, const char *text, size_t len,
		      const char *file)
{
	const char *p = text, *end = text + len, *l;
	size_t n, cap = 0;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	while (next_line(&p, end, &l, &n)) {
		struct sch_key k;
		const char *why;
		lineno++;
		if (n && l[n - 1] == '\r')
			n--;
		if (n == 0 || l[0] == '#')
			continue;
		why = parse_publine(&k, l, n);
		if (why) {
			sch_trusted_release(out);
			return sch_error_set(SCH_EPARSE, "%s:%d: %s", file,
					     lineno, why);
		}
		if (sch_trusted_find(out, k.pk)) {
			sch_trusted_release(out);
			return sch_error_set(SCH_EPARSE, "%s:%d: key listed "
					     "twice", file, lineno);
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 8;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		out->v[out->n++] = k;
	}
	return 0;
}

int sch_trusted_load(struct sch_trusted *out, const char *repo)
{
	struct sch_buf text = SCH_BUF_INIT;
	char *path = xasprintf("%s/trusted_keys", repo);
	int rc;

	memset(out, 0, sizeof(*out));
	text.max = (size_t)16 << 20;
	rc = sch_buf_read_file(&text, path);
	if (rc == SCH_ENOTFOUND)
		rc = 0;
	else if (!rc)
		rc = sch_trusted_parse(out, text.ptr, text.len, path);
	free(path);
	sch_buf_release(&text);
	return rc;
}

void sch_trusted_release(struct sch_trusted *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

const struct sch_key *sch_trusted_find(const struct sch_trusted *t,
				       const unsigned char *pk)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (!memcmp(t->v[i].pk, pk, SCH_KEY_PUB))
			return &t->v[i];
	return NULL;
}

/* --- sig objects */

int sch_sig_parse(struct sch_sig *out, const char *body, size_t len)
{
	const char *p = body, *end = body + len, *l, *v;
	size_t n, vn;
	const char *why;

	memset(out, 0, sizeof(*out));
	if (!len || body[len - 1] != '\n')
		return sch_error_set(SCH_ECORRUPT, "sig: no final newline");
	if (!next_line(&p, end, &l, &n) || !field(l, n, "target", &v, &vn))
		return sch_error_set(SCH_ECORRUPT, "sig: line 1: expected "
				     "'target'");
	if (vn == 4 + SCH_HEX_LEN && !memcmp(v, "rev ", 4)) {
		if (unhex_lc(out->target.b, v + 4, SCH_ID_LEN))
			return sch_error_set(SCH_ECORRUPT, "sig: bad target id");
	} else if (vn > 5 + SCH_HEX_LEN && !memcmp(v, "tag ", 4) &&
		   v[4 + SCH_HEX_LEN] == ' ' &&
		   vn - 5 - SCH_HEX_LEN < sizeof(out->tag)) {
		size_t tl = vn - 5 - SCH_HEX_LEN;
		if (unhex_lc(out->target.b, v + 4, SCH_ID_LEN) ||
		    memchr(v + 5 + SCH_HEX_LEN, '\0', tl))
			return sch_error_set(SCH_ECORRUPT, "sig: bad tag target");
		out->is_tag = 1;
		memcpy(out->tag, v + 5 + SCH_HEX_LEN, tl);
		out->tag[tl] = '\0';
	} else {
		return sch_error_set(SCH_ECORRUPT, "sig: line 1: bad target");
	}
	if (!next_line(&p, end, &l, &n) || !field(l, n, "key", &v, &vn))
		return sch_error_set(SCH_ECORRUPT, "sig: line 2: expected 'key'");
	why = parse_publine(&out->key, v, vn);
	if (why)
		return sch_error_set(SCH_ECORRUPT, "sig: line 2: %s", why);
	if (!next_line(&p, end, &l, &n) || !field(l, n, "sig", &v, &vn) ||
	    vn != 2 * SCH_SIG_LEN || unhex_lc(out->sig, v, SCH_SIG_LEN))
		return sch_error_set(SCH_ECORRUPT, "sig: line 3: expected 'sig "
				     "<128 hex digits>'");
	if (p != end)
		return sch_error_set(SCH_ECORRUPT, "sig: text after line 3");
	return 0;
}

void sch_sig_format(struct sch_buf *out, const struct sch_sig *s)
{
	char hex[SCH_HEX_LEN + 1], sh[2 * SCH_SIG_LEN + 1];

	sch_id_hex(hex, &s->target);
	if (s->is_tag)
		sch_buf_addf(out, "target tag %s %s\n", hex, s->tag);
	else
		sch_buf_addf(out, "target rev %s\n", hex);
	sch_buf_addstr(out, "key ");
	sch_key_publine(out, &s->key);
	sch_hex(sh, s->sig, SCH_SIG_LEN);
	sch_buf_addf(out, "sig %s\n", sh);
}

int sch_sig_valid(const struct sch_sig *s)
{
	struct sch_buf m = SCH_BUF_INIT;
	int ok;

	if (s->is_tag)
		sch_sign_msg_tag(&m, s->tag, &s->target);
	else
		sch_sign_msg_rev(&m, &s->target);
	ok = sch_sign_verify(s->sig, s->key.pk, m.ptr, m.len);
	sch_buf_release(&m);
	return ok;
}

/* --- seals: the local user's record of signatures already verified */

static int seal_key(unsigned char *k, int create)
{
	static unsigned char cached[32];
	static int have;
	struct sch_buf dir = SCH_BUF_INIT, text = SCH_BUF_INIT;
	char *path;
	int rc = -1;

	if (have) {
		memcpy(k, cached, 32);
		return 0;
	}
	config_dir(&dir);
	path = xasprintf("%s/seal.key", dir.ptr);
	text.max = 256;
	if (!sch_buf_read_file(&text, path)) {
		if (text.len >= 64 && !unhex_lc(cached, text.ptr, 32))
			have = 1;
	} else if (create && !make_dirs(dir.ptr)) {
		char hex[65];
		randombytes_buf(cached, 32);
		sch_hex(hex, cached, 32);
		hex[64] = '\n';
		if (!write_new(path, hex, 65))
			have = 1;
		sodium_memzero(hex, sizeof(hex));
	}
	if (have) {
		memcpy(k, cached, 32);
		rc = 0;
	}
	free(path);
	sch_buf_release(&dir);
	sodium_memzero(text.ptr, text.len);
	sch_buf_release(&text);
	return rc;
}

/* The seal of entry (sig id, pk) over the sigs key `dbkey`. */
static void seal_of(unsigned char *out, const unsigned char *k,
		    const void *dbkey, size_t klen, const unsigned char *entry)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k, 32, 32);
	crypto_generichash_update(&st, (const unsigned char *)"schema-seal-v1",
				  15);
	crypto_generichash_update(&st, entry, SCH_ID_LEN + SCH_KEY_PUB);
	crypto_generichash_update(&st, dbkey, klen);
	crypto_generichash_final(&st, out, 32);
}

static void db_key(struct sch_buf *out, const struct sch_id *id,
		   const char *tag)
{
	sch_buf_reset(out);
	if (tag) {
		sch_buf_addch(out, 't');
		sch_buf_addstr(out, tag);
	} else {
		sch_buf_addch(out, 'r');
		sch_buf_add(out, id->b, SCH_ID_LEN);
	}
}

int sch_sig_attach(struct sch_txn *t, const struct sch_key *k,
		   const struct sch_id *id, const char *tag)
{
	struct sch_sig s;
	struct sch_buf m = SCH_BUF_INIT, body = SCH_BUF_INIT,
		       key = SCH_BUF_INIT, val = SCH_BUF_INIT;
	struct sch_id sid;
	unsigned char entry[ENTRY_LEN], sk[32];
	const void *v;
	size_t vl;
	int rc;

	memset(&s, 0, sizeof(s));
	s.target = *id;
	if (tag) {
		s.is_tag = 1;
		snprintf(s.tag, sizeof(s.tag), "%s", tag);
		sch_sign_msg_tag(&m, tag, id);
	} else {
		sch_sign_msg_rev(&m, id);
	}
	s.key = *k;
	memset(s.key.sk, 0, sizeof(s.key.sk));
	s.key.has_secret = 0;
	sch_sign_bytes(s.sig, k, m.ptr, m.len);
	sch_sig_format(&body, &s);
	rc = sch_object_put(&sid, t, SCH_OBJ_SIG, body.ptr, body.len, 0);
	if (rc)
		goto out;
	memcpy(entry, sid.b, SCH_ID_LEN);
	memcpy(entry + SCH_ID_LEN, k->pk, SCH_KEY_PUB);
	memset(entry + SCH_ID_LEN + SCH_KEY_PUB, 0, 32);
	db_key(&key, id, tag);
	if (!seal_key(sk, 1))
		seal_of(entry + SCH_ID_LEN + SCH_KEY_PUB, sk, key.ptr, key.len,
			entry);
	/* Keep other keys' signatures; replace this key's. */
	if (!sch_kv_get(t, SCH_DB_SIGS, key.ptr, key.len, &v, &vl))
		for (size_t off = 0; off + ENTRY_LEN <= vl; off += ENTRY_LEN) {
			const unsigned char *e = (const unsigned char *)v + off;
			if (memcmp(e + SCH_ID_LEN, k->pk, SCH_KEY_PUB))
				sch_buf_add(&val, e, ENTRY_LEN);
		}
	sch_buf_add(&val, entry, ENTRY_LEN);
	rc = sch_kv_put(t, SCH_DB_SIGS, key.ptr, key.len, val.ptr, val.len);
out:
	sch_buf_release(&m);
	sch_buf_release(&body);
	sch_buf_release(&key);
	sch_buf_release(&val);
	return rc;
}

int sch_sig_detach_tag(struct sch_txn *t, const char *tag)
{
	struct sch_buf key = SCH_BUF_INIT;
	int rc;

	db_key(&key, NULL, tag);
	rc = sch_kv_del(t, SCH_DB_SIGS, key.ptr, key.len);
	sch_buf_release(&key);
	return rc == SCH_ENOTFOUND ? 0 : rc;
}

const char *sch_sig_status_name(enum sch_sig_status s)
{
	switch (s) {
	case SCH_SIG_GOOD: return "good";
	case SCH_SIG_UNTRUSTED: return "untrusted";
	case SCH_SIG_BAD: return "BAD";
	default: return "unsigned";
	}
}

int sch_sig_check(struct sch_sig_result *res, size_t max, size_t *n,
		  struct sch_txn *t, const struct sch_trusted *tr,
		  const struct sch_id *id, const char *tag, int fast)
{
	struct sch_buf key = SCH_BUF_INIT, body = SCH_BUF_INIT;
	unsigned char sk[32];
	int have_seal = 0, rc = 0;
	const void *v;
	size_t vl;
	unsigned char *copy = NULL;

	*n = 0;
	db_key(&key, id, tag);
	rc = sch_kv_get(t, SCH_DB_SIGS, key.ptr, key.len, &v, &vl);
	if (rc == SCH_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	copy = xmalloc(vl + 1);
	memcpy(copy, v, vl);
	if (fast)
		have_seal = seal_key(sk, 0) == 0;
	for (size_t off = 0; off + ENTRY_LEN <= vl && *n < max; off += ENTRY_LEN) {
		const unsigned char *e = copy + off;
		struct sch_sig_result *r = &res[(*n)++];
		const struct sch_key *tk = sch_trusted_find(tr, e + SCH_ID_LEN);
		struct sch_sig s;
		struct sch_id sid;
		memset(r, 0, sizeof(*r));
		if (!fast) /* fast callers only need the status */
			sch_key_fingerprint(r->fpr, e + SCH_ID_LEN);
		if (tk)
			snprintf(r->name, sizeof(r->name), "%s", tk->name);
		if (fast && !tk) {
			/* Untrusted either way: not worth verifying. */
			r->status = SCH_SIG_UNTRUSTED;
			snprintf(r->name, sizeof(r->name), "?");
			continue;
		}
		if (fast && have_seal) {
			unsigned char want[32];
			seal_of(want, sk, key.ptr, key.len, e);
			if (!sodium_memcmp(want, e + SCH_ID_LEN + SCH_KEY_PUB, 32)) {
				r->status = SCH_SIG_GOOD;
				break;
			}
		}
		memcpy(sid.b, e, SCH_ID_LEN);
		if (sch_object_get_typed(&body, t, &sid, SCH_OBJ_SIG) ||
		    sch_sig_parse(&s, body.ptr, body.len) ||
		    memcmp(s.key.pk, e + SCH_ID_LEN, SCH_KEY_PUB) ||
		    sch_id_cmp(&s.target, id) || s.is_tag != (tag != NULL) ||
		    (tag && strcmp(s.tag, tag)) || !sch_sig_valid(&s)) {
			r->status = SCH_SIG_BAD;
			if (!tk)
				snprintf(r->name, sizeof(r->name), "?");
			continue;
		}
		if (!tk)
			snprintf(r->name, sizeof(r->name), "%s", s.key.name);
		r->status = tk ? SCH_SIG_GOOD : SCH_SIG_UNTRUSTED;
		if (fast && tk)
			break;
	}
out:
	free(copy);
	sch_buf_release(&key);
	sch_buf_release(&body);
	return rc;
}
