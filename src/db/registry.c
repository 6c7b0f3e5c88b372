/* registry.c - the registry tables in a target database. */
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "schema/error.h"
#include "schema/registry.h"
#include "schema/sign.h"

#define LOCK_CLASS "21315" /* 'SC' */

struct sch_reg_signer {
	struct sch_key key;
	char head[SCH_HEX_LEN + 1]; /* the chain's last hash, as predicted */
	int known;
};

void sch_reg_set_signer(struct sch_reg *r, const struct sch_key *k)
{
	if (!r->signer)
		r->signer = xcalloc(1, sizeof(*r->signer));
	r->signer->key = *k;
	r->signer->known = 0;
}

void sch_reg_event_sigmsg(struct sch_buf *out, const unsigned char *hash32)
{
	sch_buf_add(out, "schema-event-sig-v1", 20);
	sch_buf_add(out, hash32, 32);
}

/* Reads the chain head for the signer (the registry exists). */
static int signer_start(struct sch_reg *r)
{
	struct sch_buf sql = SCH_BUF_INIT, v = SCH_BUF_INIT;
	int rc;

	if (!r->signer)
		return 0;
	sch_buf_addf(&sql, "SELECT coalesce((SELECT hash FROM %s.events ORDER "
		     "BY seq DESC LIMIT 1), repeat('0', 64))", r->q);
	rc = sch_pg_query_value(&v, r->pg, sql.ptr, 0, NULL);
	if (!rc && v.len == SCH_HEX_LEN) {
		memcpy(r->signer->head, v.ptr, SCH_HEX_LEN + 1);
		r->signer->known = 1;
	}
	sch_buf_release(&sql);
	sch_buf_release(&v);
	return rc;
}

void sch_reg_init(struct sch_reg *r, struct sch_pg *pg, const char *schema)
{
	struct sch_buf q = SCH_BUF_INIT;

	memset(r, 0, sizeof(*r));
	r->pg = pg;
	r->schema = xstrdup(schema && *schema ? schema : SCH_REG_DEFAULT);
	sch_pg_quote_ident(&q, r->schema);
	r->q = sch_buf_detach(&q, NULL);
}

void sch_reg_release(struct sch_reg *r)
{
	if (r->locked)
		sch_reg_unlock(r);
	if (r->signer)
		sodium_memzero(r->signer, sizeof(*r->signer));
	free(r->signer);
	free(r->schema);
	free(r->q);
	memset(r, 0, sizeof(*r));
}

int sch_reg_exists(struct sch_reg *r, int *out)
{
	struct sch_buf v = SCH_BUF_INIT;
	const char *p[1] = { r->schema };
	int rc = sch_pg_query_value(&v, r->pg,
				    "SELECT to_regclass(quote_ident($1) || '.applied') "
				    "IS NOT NULL", 1, p);

	*out = rc == 0 && !strcmp(v.ptr, "t");
	sch_buf_release(&v);
	return rc == SCH_ENOTFOUND ? 0 : rc;
}

/* With create_schema 0 the schema must exist: CREATE SCHEMA IF NOT
 * EXISTS checks the right to create schemas before it looks, so a user
 * given a schema of its own but no CREATE on the database would fail. */
static void reg_ddl(struct sch_buf *out, const char *schema, int create_schema)
{
	struct sch_buf q = SCH_BUF_INIT;
	const char *s;

	sch_pg_quote_ident(&q, schema);
	s = q.ptr;
	if (create_schema)
		sch_buf_addf(out, "CREATE SCHEMA IF NOT EXISTS %s;\n", s);
	sch_buf_addf(out,
		"CREATE TABLE IF NOT EXISTS %s.meta (\n"
		"  key text PRIMARY KEY,\n"
		"  value text NOT NULL\n);\n"
		"CREATE TABLE IF NOT EXISTS %s.applied (\n"
		"  revision text PRIMARY KEY,\n"
		"  rev_body text NOT NULL,\n"
		"  parents text[] NOT NULL,\n"
		"  up_sql text NOT NULL,\n"
		"  down_sql text NOT NULL,\n"
		"  verify_sql text,\n"
		"  applied_at timestamptz NOT NULL DEFAULT now(),\n"
		"  applied_by text NOT NULL DEFAULT current_user,\n"
		"  state text,\n"
		"  duration_ms double precision,\n"
		"  seq bigint GENERATED ALWAYS AS IDENTITY\n);\n"
		"CREATE TABLE IF NOT EXISTS %s.events (\n"
		"  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
		"  at_us bigint NOT NULL,\n"
		"  actor text NOT NULL,\n"
		"  action text NOT NULL,\n"
		"  revision text,\n"
		"  detail text NOT NULL,\n"
		"  prev_hash text NOT NULL,\n"
		"  hash text NOT NULL,\n"
		"  sig text\n);\n"
		"CREATE TABLE IF NOT EXISTS %s.progress (\n"
		"  revision text NOT NULL,\n"
		"  direction text NOT NULL,\n"
		"  stmt_index int NOT NULL,\n"
		"  stmt_hash text NOT NULL,\n"
		"  name text NOT NULL,\n"
		"  PRIMARY KEY (revision, direction, stmt_index)\n);\n"
		"INSERT INTO %s.meta VALUES ('format', '%d') "
		"ON CONFLICT (key) DO NOTHING;\n",
		s, s, s, s, s, SCH_REG_FORMAT);
	sch_buf_release(&q);
}

void sch_reg_ddl(struct sch_buf *out, const char *schema)
{
	reg_ddl(out, schema, 1);
}

/*
 * The one hash-chained INSERT of an event ($1 actor, $2 action, $3
 * revision, $4 detail). The advisory lock serialises writers, so "the
 * last row" is stable. signed: $5 is the client's at_us, $6 the chain
 * head it predicted and $7 its signature, kept only when the head the
 * server sees is the predicted one; else the server's clock gives at_us.
 */
static void event_sql(struct sch_buf *sql, const char *q, int signed_)
{
	sch_buf_reset(sql);
	sch_buf_addf(sql,
		"WITH p AS (SELECT coalesce((SELECT hash FROM %s.events "
		"ORDER BY seq DESC LIMIT 1), repeat('0', 64)) AS h, %s AS t) "
		"INSERT INTO %s.events (at_us, actor, action, revision, detail, "
		"prev_hash, hash%s) SELECT p.t, $1, $2, $3, $4, p.h, "
		"encode(sha256(convert_to(p.h || '|' || p.t || '|' || $1 || '|' "
		"|| $2 || '|' || coalesce($3, '') || '|' || $4, 'UTF8')), 'hex')"
		"%s FROM p", q,
		signed_ ? "$5::bigint"
			: "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
		q, signed_ ? ", sig" : "",
		signed_ ? ", CASE WHEN p.h = $6 THEN $7 END" : "");
}

/* Each step upgrades a registry of format `from` to `from + 1` (%s is
 * the quoted registry schema). */
static const struct {
	int from;
	const char *ddl;
} upgrades[] = {
	{ 1, "ALTER TABLE %s.progress ADD COLUMN IF NOT EXISTS name text "
	     "NOT NULL DEFAULT '';\n" },
	{ 2, "ALTER TABLE %s.events ADD COLUMN IF NOT EXISTS sig text;\n" },
};

int sch_reg_ensure(struct sch_reg *r)
{
	struct sch_buf sql = SCH_BUF_INIT, v = SCH_BUF_INIT;
	int exists = 0, rc;

	rc = sch_reg_exists(r, &exists);
	if (rc)
		goto out;
	if (exists) {
		sch_buf_addf(&sql, "SELECT value FROM %s.meta WHERE key = 'format'",
			     r->q);
		rc = sch_pg_query_value(&v, r->pg, sql.ptr, 0, NULL);
		if (rc == SCH_ENOTFOUND || (!rc && atoi(v.ptr) < 1)) {
			rc = sch_error_set(SCH_EDB, "registry %s has no format "
					   "version", r->schema);
			goto out;
		}
		if (rc)
			goto out;
		if (atoi(v.ptr) > SCH_REG_FORMAT) {
			rc = sch_error_set(SCH_EREFUSED,
					   "registry %s has format %s, newer "
					   "than this schema knows (%d)",
					   r->schema, v.ptr, SCH_REG_FORMAT);
			sch_error_hint("upgrade schema before touching this "
				       "database");
			goto out;
		}
		for (size_t k = 0; k < sizeof(upgrades) / sizeof(upgrades[0]); k++) {
			if (atoi(v.ptr) > upgrades[k].from)
				continue;
			sch_buf_reset(&sql);
			sch_buf_addstr(&sql, "BEGIN;\n");
			sch_buf_addf(&sql, upgrades[k].ddl, r->q);
			sch_buf_addf(&sql, "UPDATE %s.meta SET value = '%d' WHERE key "
				     "= 'format';\nCOMMIT;\n", r->q,
				     upgrades[k].from + 1);
			rc = sch_pg_exec_script(r->pg, sql.ptr);
			if (rc) {
				sch_pg_rollback(r->pg);
				goto out;
			}
		}
		rc = signer_start(r);
		goto out;
	}
	{
		const char *p[1] = { r->schema };
		rc = sch_pg_query_value(&v, r->pg, "SELECT to_regnamespace("
					"quote_ident($1)) IS NOT NULL", 1, p);
		if (rc)
			goto out;
	}
	sch_buf_addstr(&sql, "BEGIN;\n");
	reg_ddl(&sql, r->schema, strcmp(v.ptr, "t") != 0);
	sch_buf_addstr(&sql, "COMMIT;\n");
	rc = sch_pg_exec_script(r->pg, sql.ptr);
	if (rc) {
		const struct sch_pg_err *e = sch_pg_last_error(r->pg);
		/* Say what was being done: a bare "permission denied for
		 * database" does not tell a user that we were creating our
		 * registry, nor what to do about it. */
		rc = sch_error_wrap(rc, "creating the registry schema %s",
				    r->schema);
		if (e && !strcmp(e->sqlstate, "42501"))
			sch_error_hint("grant the user CREATE on the database "
				       "(GRANT CREATE ON DATABASE ... TO ...), "
				       "or name a schema it may use with "
				       "core.registry in .schema/config");
		sch_pg_rollback(r->pg);
	} else {
		rc = signer_start(r);
	}
out:
	sch_buf_release(&sql);
	sch_buf_release(&v);
	return rc;
}

int sch_reg_lock(struct sch_reg *r, long timeout_ms)
{
	const char *p[1] = { r->schema };
	struct sch_buf v = SCH_BUF_INIT;
	struct timespec start, now;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long waited;
		rc = sch_pg_query_value(&v, r->pg,
					"SELECT pg_try_advisory_lock(" LOCK_CLASS
					", hashtext('schema:' || $1))", 1, p);
		if (rc)
			goto out;
		if (!strcmp(v.ptr, "t")) {
			r->locked = 1;
			goto out;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 +
			 (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= timeout_ms)
			break;
		usleep(100000);
	}
	rc = sch_pg_query_value(&v, r->pg,
				"SELECT string_agg(pid::text, ', ') FROM pg_locks "
				"WHERE locktype = 'advisory' AND granted AND "
				"classid = " LOCK_CLASS " AND objsubid = 2 AND "
				"objid::bigint = (hashtext('schema:' || $1)::bigint "
				"& 4294967295)", 1, p);
	rc = sch_error_set(SCH_ELOCKED, "another schema run holds the lock of "
			   "registry %s (pid %s); gave up after %ld ms",
			   r->schema, rc == 0 && v.len ? v.ptr : "unknown",
			   timeout_ms);
	sch_error_hint("wait for it, or raise --lock-timeout");
out:
	sch_buf_release(&v);
	return rc;
}

void sch_reg_unlock(struct sch_reg *r)
{
	const char *p[1] = { r->schema };

	if (!r->locked)
		return;
	r->locked = 0;
	sch_pg_exec(r->pg, NULL, SCH_PG_TUPLES,
		    "SELECT pg_advisory_unlock(" LOCK_CLASS
		    ", hashtext('schema:' || $1))", 1, p);
}

static void applied_release(struct sch_applied *a)
{
	sch_rev_release(&a->rev);
	free(a->up);
	free(a->down);
	free(a->verify);
	free(a->applied_at);
	free(a->applied_by);
}

void sch_applied_set_release(struct sch_applied_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		applied_release(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct sch_applied *sch_applied_find(const struct sch_applied_set *s,
				     const struct sch_id *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!sch_id_cmp(&s->v[i].id, id))
			return &s->v[i];
	return NULL;
}

static int blob_matches(const char *text, const struct sch_id *want)
{
	struct sch_id id;

	sch_object_hash(&id, SCH_OBJ_BLOB, text, strlen(text));
	return !sch_id_cmp(&id, want);
}

int sch_reg_load(struct sch_reg *r, struct sch_applied_set *out,
		 int with_scripts)
{
	struct sch_buf sql = SCH_BUF_INIT;
	struct sch_pg_result *res = NULL;
	int exists = 0, rc, n;

	memset(out, 0, sizeof(*out));
	rc = sch_reg_exists(r, &exists);
	if (rc || !exists)
		goto out;
	sch_buf_addf(&sql, "SELECT revision, rev_body, seq, applied_at::text, "
		     "applied_by%s FROM %s.applied ORDER BY seq",
		     with_scripts ? ", up_sql, down_sql, verify_sql" : "", r->q);
	rc = sch_pg_exec(r->pg, &res, SCH_PG_TUPLES, sql.ptr, 0, NULL);
	if (rc)
		goto out;
	n = sch_pg_result_rows(res);
	out->v = xcalloc((size_t)n + 1, sizeof(*out->v));
	for (int i = 0; i < n; i++) {
		struct sch_applied *a = &out->v[out->n++];
		const char *hex = sch_pg_result_value(res, i, 0);
		const char *body = sch_pg_result_value(res, i, 1);
		struct sch_id check;
		sch_rev_init(&a->rev);
		a->seq = atol(sch_pg_result_value(res, i, 2));
		a->applied_at = xstrdup(sch_pg_result_value(res, i, 3));
		a->applied_by = xstrdup(sch_pg_result_value(res, i, 4));
		if (sch_id_parse(&a->id, hex, strlen(hex))) {
			rc = sch_error_set(SCH_EDB, "registry %s: applied row "
					   "%d has a bad revision id", r->schema,
					   i + 1);
			goto out;
		}
		sch_rev_release(&a->rev);
		if (sch_rev_parse(&a->rev, body, strlen(body))) {
			sch_rev_init(&a->rev);
			a->body_ok = 0;
		} else {
			sch_object_hash(&check, SCH_OBJ_REV, body, strlen(body));
			a->body_ok = !sch_id_cmp(&check, &a->id);
		}
		if (with_scripts) {
			a->up = xstrdup(sch_pg_result_value(res, i, 5));
			a->down = xstrdup(sch_pg_result_value(res, i, 6));
			if (!sch_pg_result_isnull(res, i, 7))
				a->verify = xstrdup(sch_pg_result_value(res, i, 7));
			if (a->body_ok)
				a->body_ok = blob_matches(a->up, &a->rev.up) &&
					     blob_matches(a->down, &a->rev.down) &&
					     (!a->rev.has_verify ||
					      (a->verify &&
					       blob_matches(a->verify, &a->rev.verify)));
		}
	}
out:
	sch_pg_result_free(res);
	sch_buf_release(&sql);
	if (rc)
		sch_applied_set_release(out);
	return rc;
}

void sch_reg_stmt_release(struct sch_reg_stmt *s)
{
	sch_buf_release(&s->sql);
	for (int i = 0; i < 8; i++)
		free(s->owned[i]);
	memset(s, 0, sizeof(*s));
}

static void stmt_param(struct sch_reg_stmt *s, const char *v, int own)
{
	if (own)
		s->owned[s->nparams] = (char *)v;
	s->params[s->nparams++] = v;
}

void sch_reg_stmt_applied(struct sch_reg_stmt *s, const struct sch_reg *r,
			  const struct sch_id *id, const char *rev_body,
			  const char *up, const char *down, const char *verify,
			  const char *parents_array)
{
	char *hex = xmalloc(SCH_HEX_LEN + 1);

	sch_id_hex(hex, id);
	sch_buf_reset(&s->sql);
	sch_buf_addf(&s->sql,
		     "INSERT INTO %s.applied (revision, rev_body, parents, up_sql, "
		     "down_sql, verify_sql, duration_ms) VALUES ($1, $2, $3, $4, "
		     "$5, $6, extract(epoch FROM clock_timestamp() - now()) * 1000)",
		     r->q);
	stmt_param(s, hex, 1);
	stmt_param(s, rev_body, 0);
	stmt_param(s, parents_array, 0);
	stmt_param(s, up, 0);
	stmt_param(s, down, 0);
	stmt_param(s, verify, 0);
}

void sch_reg_stmt_unapplied(struct sch_reg_stmt *s, const struct sch_reg *r,
			    const struct sch_id *id)
{
	char *hex = xmalloc(SCH_HEX_LEN + 1);

	sch_id_hex(hex, id);
	sch_buf_reset(&s->sql);
	sch_buf_addf(&s->sql, "DELETE FROM %s.applied WHERE revision = $1",
		     r->q);
	stmt_param(s, hex, 1);
}

static void stmt_event_signed(struct sch_reg_stmt *s, const struct sch_reg *r,
			      const char *actor, const char *action,
			      const char *revision, const char *detail);

void sch_reg_stmt_event(struct sch_reg_stmt *s, const struct sch_reg *r,
			const char *actor, const char *action,
			const char *revision, const char *detail)
{
	if (r->signer && r->signer->known && r->pg) {
		stmt_event_signed(s, r, actor, action, revision, detail);
		return;
	}
	event_sql(&s->sql, r->q, 0);
	stmt_param(s, actor, 0);
	stmt_param(s, action, 0);
	stmt_param(s, revision, 0);
	stmt_param(s, detail, 0);
}

/*
 * The signed form: the client predicts the row's hash (its own clock for
 * at_us, the chain head it tracks under the advisory lock) and signs it.
 * The server still computes the hash; the signature is kept only when
 * the head it sees is the predicted one, so a wrong guess leaves the row
 * unsigned, never wrongly signed.
 */
static void stmt_event_signed(struct sch_reg_stmt *s, const struct sch_reg *r,
			      const char *actor, const char *action,
			      const char *revision, const char *detail)
{
	struct sch_reg_signer *g = r->signer;
	struct sch_buf line = SCH_BUF_INIT, msg = SCH_BUF_INIT;
	struct timespec now;
	unsigned char h[crypto_hash_sha256_BYTES], sig[SCH_SIG_LEN];
	char pk[2 * SCH_KEY_PUB + 1], sh[2 * SCH_SIG_LEN + 1];
	long long at;

	clock_gettime(CLOCK_REALTIME, &now);
	at = (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	sch_buf_addf(&line, "%s|%lld|%s|%s|%s|%s", g->head, at, actor, action,
		     revision ? revision : "", detail);
	crypto_hash_sha256(h, (const unsigned char *)line.ptr, line.len);
	sch_reg_event_sigmsg(&msg, h);
	sch_sign_bytes(sig, &g->key, msg.ptr, msg.len);
	sch_hex(pk, g->key.pk, SCH_KEY_PUB);
	sch_hex(sh, sig, SCH_SIG_LEN);
	event_sql(&s->sql, r->q, 1);
	stmt_param(s, actor, 0);
	stmt_param(s, action, 0);
	stmt_param(s, revision, 0);
	stmt_param(s, detail, 0);
	stmt_param(s, xasprintf("%lld", at), 1);
	stmt_param(s, xstrdup(g->head), 1);
	stmt_param(s, xasprintf("%s:%s", pk, sh), 1);
	sch_hex(g->head, h, sizeof(h));
	sch_buf_release(&line);
	sch_buf_release(&msg);
}

int sch_reg_event(struct sch_reg *r, const char *actor, const char *action,
		  const char *revision, const char *detail)
{
	struct sch_reg_stmt s;
	int rc;

	memset(&s, 0, sizeof(s));
	sch_reg_stmt_event(&s, r, actor, action, revision, detail);
	rc = sch_pg_exec(r->pg, NULL, SCH_PG_COMMAND, s.sql.ptr, s.nparams,
			 s.params);
	sch_reg_stmt_release(&s);
	return rc;
}

char *sch_reg_actor(struct sch_reg *r)
{
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	return xasprintf("%s@%s as %s", pw ? pw->pw_name : "unknown", host,
			 sch_pg_user(r->pg) ? sch_pg_user(r->pg) : "?");
}

int sch_reg_events(struct sch_reg *r, struct sch_event_list *out)
{
	struct sch_buf sql = SCH_BUF_INIT, line = SCH_BUF_INIT;
	struct sch_pg_result *res = NULL;
	char prev[SCH_HEX_LEN + 1];
	int exists = 0, rc, n;

	memset(out, 0, sizeof(*out));
	memset(prev, '0', SCH_HEX_LEN);
	prev[SCH_HEX_LEN] = '\0';
	rc = sch_reg_exists(r, &exists);
	if (rc || !exists)
		goto out;
	sch_buf_addf(&sql, "SELECT seq, at_us, to_timestamp(at_us / 1000000.0)"
		     "::timestamptz(0)::text, actor, action, revision, detail, "
		     "prev_hash, hash, to_jsonb(e)->>'sig' FROM %s.events e "
		     "ORDER BY seq", r->q);
	rc = sch_pg_exec(r->pg, &res, SCH_PG_TUPLES, sql.ptr, 0, NULL);
	if (rc)
		goto out;
	n = sch_pg_result_rows(res);
	out->v = xcalloc((size_t)n + 1, sizeof(*out->v));
	for (int i = 0; i < n; i++) {
		struct sch_event *e = &out->v[out->n++];
		unsigned char h[crypto_hash_sha256_BYTES];
		char hex[2 * crypto_hash_sha256_BYTES + 1];
		e->seq = atol(sch_pg_result_value(res, i, 0));
		e->at_us = atoll(sch_pg_result_value(res, i, 1));
		e->at = xstrdup(sch_pg_result_value(res, i, 2));
		e->actor = xstrdup(sch_pg_result_value(res, i, 3));
		e->action = xstrdup(sch_pg_result_value(res, i, 4));
		e->revision = sch_pg_result_isnull(res, i, 5)
			? NULL : xstrdup(sch_pg_result_value(res, i, 5));
		e->detail = xstrdup(sch_pg_result_value(res, i, 6));
		e->prev_hash = xstrdup(sch_pg_result_value(res, i, 7));
		e->hash = xstrdup(sch_pg_result_value(res, i, 8));
		sch_buf_reset(&line);
		sch_buf_addf(&line, "%s|%lld|%s|%s|%s|%s", e->prev_hash,
			     (long long)e->at_us, e->actor, e->action,
			     e->revision ? e->revision : "", e->detail);
		crypto_hash_sha256(h, (const unsigned char *)line.ptr, line.len);
		sch_hex(hex, h, sizeof(h));
		e->hash_ok = !strcmp(hex, e->hash);
		if (!sch_pg_result_isnull(res, i, 9)) {
			const char *sg = sch_pg_result_value(res, i, 9);
			unsigned char sb[SCH_SIG_LEN];
			struct sch_buf m = SCH_BUF_INIT;
			e->sig = xstrdup(sg);
			e->sig_state = -1;
			if (strlen(sg) == 2 * SCH_KEY_PUB + 1 + 2 * SCH_SIG_LEN &&
			    sg[2 * SCH_KEY_PUB] == ':' &&
			    !sch_unhex(e->sig_pk, sg, SCH_KEY_PUB) &&
			    !sch_unhex(sb, sg + 2 * SCH_KEY_PUB + 1, SCH_SIG_LEN)) {
				/* The signature covers the hash the row should
				 * have, so an altered row fails it as well. */
				sch_reg_event_sigmsg(&m, h);
				if (sch_sign_verify(sb, e->sig_pk, m.ptr, m.len))
					e->sig_state = 1;
			}
			sch_buf_release(&m);
		}
		e->link_ok = !strcmp(e->prev_hash, prev);
		/* one altered row is one broken event, whatever fails on it */
		if (e->sig_state < 0 || !e->hash_ok || !e->link_ok)
			out->broken++;
		snprintf(prev, sizeof(prev), "%s", e->hash);
	}
out:
	sch_pg_result_free(res);
	sch_buf_release(&sql);
	sch_buf_release(&line);
	return rc;
}

void sch_event_list_release(struct sch_event_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct sch_event *e = &l->v[i];
		free(e->at);
		free(e->actor);
		free(e->action);
		free(e->revision);
		free(e->detail);
		free(e->prev_hash);
		free(e->hash);
		free(e->sig);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int sch_reg_progress(struct sch_reg *r, const struct sch_id *id,
		     const char *direction, char ***hashes, size_t *n)
{
	struct sch_buf sql = SCH_BUF_INIT;
	struct sch_pg_result *res = NULL;
	char hex[SCH_HEX_LEN + 1];
	const char *p[2] = { hex, direction };
	int rc;

	*hashes = NULL;
	*n = 0;
	sch_id_hex(hex, id);
	sch_buf_addf(&sql, "SELECT stmt_index, stmt_hash FROM %s.progress "
		     "WHERE revision = $1 AND direction = $2 ORDER BY stmt_index",
		     r->q);
	rc = sch_pg_exec(r->pg, &res, SCH_PG_TUPLES, sql.ptr, 2, p);
	if (!rc) {
		int rows = sch_pg_result_rows(res);
		*hashes = xcalloc((size_t)rows + 1, sizeof(char *));
		for (int i = 0; i < rows; i++) {
			if (atoi(sch_pg_result_value(res, i, 0)) != i)
				break; /* only a gapless prefix counts */
			(*hashes)[(*n)++] = xstrdup(sch_pg_result_value(res, i, 1));
		}
	}
	sch_pg_result_free(res);
	sch_buf_release(&sql);
	return rc;
}

int sch_reg_progress_add(struct sch_reg *r, const struct sch_id *id,
			 const char *direction, size_t index,
			 const char *hash, const char *name)
{
	struct sch_buf sql = SCH_BUF_INIT;
	char hex[SCH_HEX_LEN + 1], idx[24];
	const char *p[5] = { hex, direction, idx, hash, name };
	int rc;

	sch_id_hex(hex, id);
	snprintf(idx, sizeof(idx), "%zu", index);
	sch_buf_addf(&sql, "INSERT INTO %s.progress VALUES ($1, $2, $3, $4, $5) "
		     "ON CONFLICT DO NOTHING", r->q);
	rc = sch_pg_exec(r->pg, NULL, SCH_PG_COMMAND, sql.ptr, 5, p);
	sch_buf_release(&sql);
	return rc;
}

int sch_reg_progress_named(struct sch_reg *r, const char *direction,
			   const char *name, struct sch_buf *rev)
{
	struct sch_buf sql = SCH_BUF_INIT;
	const char *p[2] = { direction, name };
	int rc;

	sch_buf_addf(&sql, "SELECT revision FROM %s.progress WHERE direction = $1 "
		     "AND name = $2 ORDER BY revision LIMIT 1", r->q);
	rc = sch_pg_query_value(rev, r->pg, sql.ptr, 2, p);
	sch_buf_release(&sql);
	if (rc == SCH_ENOTFOUND)
		return 0;
	return rc ? rc : 1;
}

int sch_reg_progress_any(struct sch_reg *r, struct sch_buf *rev,
			 struct sch_buf *direction, struct sch_buf *name)
{
	struct sch_buf sql = SCH_BUF_INIT;
	struct sch_pg_result *res = NULL;
	int exists = 0, rc;

	rc = sch_reg_exists(r, &exists);
	if (rc || !exists)
		goto out;
	sch_buf_addf(&sql, "SELECT revision, direction, min(name) FROM %s.progress "
		     "GROUP BY 1, 2 LIMIT 1", r->q);
	rc = sch_pg_exec(r->pg, &res, SCH_PG_TUPLES, sql.ptr, 0, NULL);
	if (!rc && sch_pg_result_rows(res) > 0) {
		sch_buf_reset(rev);
		sch_buf_addstr(rev, sch_pg_result_value(res, 0, 0));
		sch_buf_reset(direction);
		sch_buf_addstr(direction, sch_pg_result_value(res, 0, 1));
		if (name) {
			sch_buf_reset(name);
			sch_buf_addstr(name, sch_pg_result_value(res, 0, 2));
		}
		rc = 1;
	}
out:
	sch_pg_result_free(res);
	sch_buf_release(&sql);
	return rc;
}

/* ids as a text[] literal of hex ids (safe: hex digits only). */
static void id_array(struct sch_buf *out, const struct sch_id *ids, size_t n)
{
	char hex[SCH_HEX_LEN + 1];

	sch_buf_addch(out, '{');
	for (size_t i = 0; i < n; i++) {
		sch_id_hex(hex, &ids[i]);
		sch_buf_addf(out, "%s%s", i ? "," : "", hex);
	}
	sch_buf_addch(out, '}');
}

int sch_reg_set_state(struct sch_reg *r, const struct sch_id *ids, size_t n,
		      const char *state)
{
	struct sch_buf sql = SCH_BUF_INIT, arr = SCH_BUF_INIT;
	const char *p[2];
	int rc;

	id_array(&arr, ids, n);
	p[0] = state;
	p[1] = arr.ptr;
	sch_buf_addf(&sql, "UPDATE %s.applied SET state = $1 "
		     "WHERE revision = ANY($2::text[])", r->q);
	rc = sch_pg_exec(r->pg, NULL, SCH_PG_COMMAND, sql.ptr, 2, p);
	sch_buf_release(&sql);
	sch_buf_release(&arr);
	return rc;
}

int sch_reg_get_state(struct sch_buf *out, struct sch_reg *r,
		      const struct sch_id *ids, size_t n)
{
	struct sch_buf sql = SCH_BUF_INIT, arr = SCH_BUF_INIT;
	const char *p[2];
	char cnt[24];
	int rc;

	if (!n)
		return 0;
	id_array(&arr, ids, n);
	snprintf(cnt, sizeof(cnt), "%zu", n);
	p[0] = arr.ptr;
	p[1] = cnt;
	/* one state shared by every row asked for, else no row */
	sch_buf_addf(&sql, "SELECT min(state) FROM %s.applied "
		     "WHERE revision = ANY($1::text[]) HAVING count(*) = $2::int "
		     "AND count(DISTINCT state) = 1 AND count(state) = count(*)",
		     r->q);
	rc = sch_pg_query_value(out, r->pg, sql.ptr, 2, p);
	sch_buf_release(&sql);
	sch_buf_release(&arr);
	if (rc == SCH_ENOTFOUND)
		return 0;
	return rc ? rc : out->len == SCH_HEX_LEN;
}
