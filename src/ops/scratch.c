/* scratch.c - checks on a scratch database (scratch.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "schema/apply.h"
#include "schema/worktree.h"
#include "schema/config.h"
#include "schema/devcluster.h"
#include "schema/error.h"
#include "schema/plan.h"
#include "schema/revspec.h"
#include "schema/scratch.h"
#include "schema/statediff.h"

#define CHECK_DB "schema_check"
#define ACTOR "schema-check"
#define LOCK_WAIT_MS 600000

/* A boolean, or "require" (SCH_CHECK_REQUIRE). */
static int check_parse(const char *v, int *on)
{
	if (!strcasecmp(v, "require")) {
		*on = SCH_CHECK_REQUIRE;
		return 0;
	}
	return sch_bool_parse(v, on);
}

int sch_scratch_enabled(int *on, const struct sch_config *cfg)
{
	const char *e = getenv("SCHEMA_CHECK");
	const char *v;

	*on = 1;
	if (e && *e) {
		if (check_parse(e, on))
			return sch_error_set(SCH_EINVAL, "SCHEMA_CHECK must be "
					     "0, 1 or require, not '%s'", e);
		return 0;
	}
	v = sch_config_get(cfg, "commit.check");
	if (v && check_parse(v, on))
		return sch_error_set(SCH_EPARSE, "%s: '%s' is not a boolean "
				     "or 'require' for commit.check",
				     cfg->path, v);
	return 0;
}

/* A connection string for database db on the server s->server names. */
static int db_conninfo(struct sch_buf *out, const struct sch_scratch *s,
		       const char *db)
{
	sch_buf_reset(out);
	return sch_pg_conninfo_set(out, s->server, "dbname", db);
}

static int admin_exec(struct sch_scratch *s, const char *verb,
		      const char *db, const char *tmpl)
{
	struct sch_buf sql = SCH_BUF_INIT;
	struct sch_pg *pg = NULL;
	/* databases are made and dropped from the server's own database:
	 * the one SCHEMA_DEV_URL names, or the private cluster's postgres */
	int rc = sch_pg_open(&pg, s->server);

	if (rc) {
		rc = sch_error_wrap(rc, "scratch server");
		goto out;
	}
	sch_buf_addf(&sql, "%s DATABASE ", verb);
	if (!strcmp(verb, "DROP"))
		sch_buf_addstr(&sql, "IF EXISTS ");
	sch_pg_quote_ident(&sql, db);
	if (tmpl) {
		sch_buf_addstr(&sql, " TEMPLATE ");
		sch_pg_quote_ident(&sql, tmpl);
	}
	if (!strcmp(verb, "DROP") && sch_pg_server_major(pg) >= 13)
		sch_buf_addstr(&sql, " WITH (FORCE)");
	rc = sch_pg_exec(pg, NULL, SCH_PG_COMMAND, sql.ptr, 0, NULL);
	if (rc)
		rc = sch_error_wrap(rc, "scratch database %s", db);
out:
	sch_pg_close(pg);
	sch_buf_release(&sql);
	return rc;
}

static int connect_db(struct sch_scratch *s)
{
	struct sch_buf ci = SCH_BUF_INIT;
	int rc = db_conninfo(&ci, s, s->db);

	if (!rc)
		rc = sch_pg_open(&s->pg, ci.ptr);
	if (!rc) {
		sch_reg_init(&s->reg, s->pg,
			     sch_config_get(s->cfg, "core.registry"));
		rc = sch_reg_lock(&s->reg, LOCK_WAIT_MS);
	}
	sch_buf_release(&ci);
	return rc;
}

static void disconnect_db(struct sch_scratch *s)
{
	sch_reg_release(&s->reg);
	memset(&s->reg, 0, sizeof(s->reg));
	sch_pg_close(s->pg);
	s->pg = NULL;
}

/* 1 when database db exists on the server, 0 when not, or an error. */
static int db_exists(struct sch_scratch *s, const char *db)
{
	struct sch_buf v = SCH_BUF_INIT;
	struct sch_pg *pg = NULL;
	const char *params[1] = { db };
	int rc = sch_pg_open(&pg, s->server);

	if (!rc)
		rc = sch_pg_query_value(&v, pg, "SELECT 1 FROM pg_database "
					"WHERE datname = $1", 1, params);
	rc = rc == 0 ? 1 : rc == SCH_ENOTFOUND ? 0 : rc;
	sch_pg_close(pg);
	sch_buf_release(&v);
	return rc;
}

static int reset_db(struct sch_scratch *s);

int sch_scratch_open(struct sch_scratch *s, const struct sch_config *cfg,
		     const char *repo)
{
	const char *url = getenv("SCHEMA_DEV_URL");
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->repo = repo;
	s->use.fd = -1;
	sch_catalog_opts_config(&s->co, cfg);
	if (url && *url) {
		unsigned char r[4];
		char hex[9];
		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
		s->server = xstrdup(url);
		s->db = xasprintf(CHECK_DB "_%ld_%s", (long)getpid(), hex);
		s->throwaway = 1;
		rc = admin_exec(s, "CREATE", s->db, "template0");
		if (rc) {
			free(s->db);
			s->db = NULL;
			sch_error_hint("SCHEMA_DEV_URL must name a server where "
				       "this user may create databases");
			return rc;
		}
	} else {
		struct sch_buf u = SCH_BUF_INIT;
		long idle;
		rc = sch_dev_idle_stop(cfg, &idle);
		if (!rc)
			rc = sch_dev_acquire(&s->use, repo, idle, 0, NULL);
		if (!rc)
			rc = sch_dev_conninfo(&u, repo, "postgres");
		if (rc) {
			sch_buf_release(&u);
			return rc;
		}
		s->server = sch_buf_detach(&u, NULL);
		s->db = xstrdup(CHECK_DB);
		s->persistent = 1;
		/* usually there: one connection instead of asking first */
		rc = connect_db(s);
		if (rc == 0)
			goto connected;
		disconnect_db(s);
		if (rc == SCH_ELOCKED)
			return rc;
		rc = db_exists(s, s->db);
		if (rc == 0)
			rc = admin_exec(s, "CREATE", s->db, "template0");
		else if (rc == 1)
			rc = 0;
		if (rc)
			return rc;
	}
	rc = connect_db(s);
	if (rc) {
		sch_error_wrap(rc, "scratch database %s", s->db);
		return rc;
	}
connected:
	/* A statement-by-statement step that an earlier run left half-done
	 * would make the apply engine resume or refuse it: start over. */
	if (s->persistent) {
		struct sch_buf r = SCH_BUF_INIT, d = SCH_BUF_INIT;
		int any = 0;
		rc = sch_reg_exists(&s->reg, &any);
		if (!rc && any)
			any = sch_reg_progress_any(&s->reg, &r, &d, NULL) == 1;
		sch_buf_release(&r);
		sch_buf_release(&d);
		if (!rc && any)
			rc = reset_db(s);
	}
	return rc;
}

/* Drops and recreates the check database. */
static int reset_db(struct sch_scratch *s)
{
	int rc;

	disconnect_db(s);
	rc = admin_exec(s, "DROP", s->db, NULL);
	if (!rc)
		rc = admin_exec(s, "CREATE", s->db, "template0");
	if (!rc)
		rc = connect_db(s);
	if (!rc)
		s->dirty = 0;
	return rc;
}

void sch_scratch_close(struct sch_scratch *s)
{
	disconnect_db(s);
	if (s->db && (s->throwaway || s->dirty))
		admin_exec(s, "DROP", s->db, NULL);
	if (s->repo)
		sch_dev_release(&s->use, s->repo);
	free(s->server);
	free(s->db);
	memset(s, 0, sizeof(*s));
}

/* Applies the plan's steps through the apply engine. */
static int run_plan(struct sch_scratch *s, struct sch_txn *t,
		    const struct sch_graph *g, const struct sch_plan *p,
		    const struct sch_applied_set *applied)
{
	int rc = 0;

	for (size_t k = 0; k < p->ndown + p->nup && !rc; k++) {
		int is_up = k >= p->ndown;
		const struct sch_gnode *nd =
			&g->nodes[is_up ? p->up[k - p->ndown] : p->down[k]];
		struct sch_loaded_step ls;
		char *name = sch_wt_dir_name(t, &nd->id);

		rc = sch_step_load(&ls, t, nd, applied, is_up, name);
		if (!rc) {
			rc = sch_apply_step(s->pg, &s->reg, &ls.st, ACTOR,
					    "{\"command\":\"check\"}", NULL);
			if (rc)
				s->dirty = 1;
		}
		sch_step_release(&ls);
		free(name);
	}
	return rc;
}

static int apply_once(struct sch_scratch *s, struct sch_txn *t,
		      const struct sch_idlist *targets, int mode)
{
	struct sch_applied_set applied = { 0 };
	struct sch_graph g;
	struct sch_plan plan = { 0 };
	int rc;

	sch_graph_init(&g, t);
	rc = sch_reg_ensure(&s->reg);
	if (!rc)
		rc = sch_reg_load(&s->reg, &applied, 1);
	if (!rc)
		rc = sch_plan_graph(&g, t, &applied, targets);
	if (!rc)
		rc = sch_plan_make(&plan, &g, &applied, targets, mode);
	if (!rc)
		rc = run_plan(s, t, &g, &plan, &applied);
	sch_plan_release(&plan);
	sch_graph_release(&g);
	sch_applied_set_release(&applied);
	return rc;
}

int sch_scratch_apply(struct sch_scratch *s, struct sch_txn *t,
		      const struct sch_idlist *targets, int mode)
{
	int rc;

	if (s->dirty) {
		rc = reset_db(s);
		if (rc)
			return rc;
	}
	rc = apply_once(s, t, targets, mode);
	/* The persistent database may hold what an earlier, interrupted
	 * check left: start it over once before blaming a revision. */
	if (rc && mode == SCH_PLAN_CHECKOUT) {
		struct sch_buf first = SCH_BUF_INIT;
		sch_buf_addstr(&first, sch_error_msg());
		if (reset_db(s) == 0)
			rc = apply_once(s, t, targets, mode);
		else
			rc = sch_error_set(SCH_EDB, "%s", first.ptr);
		sch_buf_release(&first);
	}
	return rc;
}

int sch_scratch_state(struct sch_scratch *s, struct sch_id *out,
		      struct sch_buf *text, struct sch_txn *t)
{
	return sch_catalog_state(out, text, t, s->pg, &s->co);
}

void sch_revcheck_release(struct sch_revcheck *c)
{
	sch_strlist_release(&c->differ);
	sch_buf_release(&c->diff);
	sch_buf_release(&c->orders);
}

/* The revision's own step, up or down, through the apply engine. */
/* Node idx of g (the revision's own step), up or down, as a one-step
 * plan. */
static int one_step(struct sch_scratch *s, struct sch_txn *t,
		    const struct sch_graph *g, uint32_t idx, int is_up)
{
	struct sch_plan p = { 0 };
	struct sch_applied_set applied = { 0 };

	p.up = is_up ? &idx : NULL;
	p.nup = is_up ? 1 : 0;
	p.down = is_up ? NULL : &idx;
	p.ndown = is_up ? 0 : 1;
	return run_plan(s, t, g, &p, &applied);
}

int sch_scratch_revcheck(struct sch_revcheck *out, struct sch_scratch *s,
			 struct sch_txn *t, const struct sch_id *rev)
{
	struct sch_idlist targets = { 0 };
	struct sch_buf before = SCH_BUF_INIT, back = SCH_BUF_INIT;
	struct sch_graph g;
	struct sch_rev r;
	struct sch_id rec;
	uint32_t idx;
	int rc, fast;

	memset(out, 0, sizeof(*out));
	sch_buf_init(&out->diff);
	sch_buf_init(&out->orders);
	/* the revision alone, not the history it reaches: its parents
	 * and depends are all the check needs of it */
	sch_graph_init(&g, t);
	rc = sch_rev_load(&r, t, rev);
	if (rc)
		goto out;
	rc = sch_graph_add_rev(&idx, &g, rev, &r);
	sch_rev_release(&r);
	if (rc)
		goto out;
	for (size_t i = 0; i < g.nodes[idx].rev.nparents; i++)
		sch_idlist_push(&targets, &g.nodes[idx].rev.parents[i]);
	for (size_t i = 0; i < g.nodes[idx].rev.ndepends; i++)
		sch_idlist_push(&targets, &g.nodes[idx].rev.depends[i]);
	/*
	 * On the kept database, a revision with one parent whose state is
	 * recorded skips capturing the state before it: coming back to the
	 * recorded state proves both that down undoes up and that nothing
	 * else changed the database. Anything else starts over the slow way
	 * on a fresh database.
	 */
	fast = s->persistent && g.nodes[idx].rev.nparents == 1 &&
	       !g.nodes[idx].rev.ndepends &&
	       sch_state_lookup(&rec, t, &g.nodes[idx].rev.parents[0],
				sch_pg_server_major(s->pg)) == 1;
again:
	rc = sch_scratch_apply(s, t, &targets, SCH_PLAN_CHECKOUT);
	if (!rc && fast)
		out->before = rec;
	else if (!rc)
		rc = sch_scratch_state(s, &out->before, &before, t);
	if (rc)
		goto out;
	rc = one_step(s, t, &g, idx, 1);
	if (!rc)
		rc = sch_scratch_state(s, &out->after, NULL, t);
	if (!rc)
		rc = one_step(s, t, &g, idx, 0);
	if (rc) {
		char *m = xstrdup(sch_error_msg());
		s->dirty = 1;
		rc = sch_error_set(SCH_ECHECK, "%s", m);
		free(m);
		goto out;
	}
	rc = sch_scratch_state(s, &out->back, &back, NULL);
	if (rc)
		goto out;
	if (fast && sch_id_cmp(&rec, &out->back)) {
		fast = 0;
		rc = reset_db(s);
		if (rc)
			goto out;
		goto again;
	}
	out->reversible = !sch_id_cmp(&out->before, &out->back);
	if (!out->reversible) {
		/* the database is not at the parents any more */
		s->dirty = 1;
		sch_statediff(&out->diff, &out->differ, before.ptr, before.len,
			      back.ptr, back.len, 1);
		/* DROP COLUMN undone by ADD COLUMN puts the column last:
		 * PostgreSQL cannot put it back in its place */
		out->column_order = sch_statediff_column_order_only(
			before.ptr, before.len, back.ptr, back.len);
		if (out->column_order)
			sch_statediff_column_orders(&out->orders, before.ptr,
						    before.len, back.ptr,
						    back.len);
	}
out:
	sch_idlist_release(&targets);
	sch_graph_release(&g);
	sch_buf_release(&before);
	sch_buf_release(&back);
	return rc;
}

void sch_mergecheck_release(struct sch_mergecheck *c)
{
	sch_buf_release(&c->why);
	sch_buf_release(&c->column_orders);
	sch_strlist_release(&c->both);
	sch_strlist_release(&c->orders);
}

/* Names in both a and b (sorted lists of entry headers). */
static void intersect(struct sch_strlist *out, const struct sch_strlist *a,
		      const struct sch_strlist *b)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t k = 0; k < b->n; k++)
			if (!strcmp(a->v[i], b->v[k])) {
				sch_strlist_push(out, a->v[i]);
				break;
			}
}

/* One order on a copy of the database at the merge bases: first, then
 * both, then merge. States into text (after first) and end. */
static int one_order(struct sch_scratch *s, struct sch_txn *t,
		     const char *clone, const struct sch_id *first,
		     const struct sch_id *second, const struct sch_id *merge,
		     struct sch_buf *side, struct sch_buf *end,
		     struct sch_id *pre)
{
	struct sch_scratch c = *s;
	struct sch_idlist tg = { 0 };
	struct sch_id ignore;
	int rc;

	c.db = (char *)clone;
	c.pg = NULL;
	memset(&c.reg, 0, sizeof(c.reg));
	rc = connect_db(&c);
	sch_idlist_push(&tg, first);
	if (!rc)
		rc = apply_once(&c, t, &tg, SCH_PLAN_MIGRATE);
	if (!rc)
		rc = sch_scratch_state(&c, &ignore, side, NULL);
	sch_idlist_push(&tg, second);
	if (!rc)
		rc = apply_once(&c, t, &tg, SCH_PLAN_MIGRATE);
	if (!rc && merge)
		rc = sch_scratch_state(&c, pre, NULL, NULL);
	if (!rc && merge) {
		sch_idlist_push(&tg, merge);
		rc = apply_once(&c, t, &tg, SCH_PLAN_MIGRATE);
	}
	if (!rc)
		rc = sch_scratch_state(&c, &ignore, end, NULL);
	disconnect_db(&c);
	sch_idlist_release(&tg);
	return rc;
}

int sch_scratch_mergecheck(struct sch_mergecheck *out, struct sch_scratch *s,
			   struct sch_txn *t, const struct sch_id *a,
			   const struct sch_id *b, const struct sch_id *merge)
{
	struct sch_idlist bases = { 0 };
	struct sch_graph g;
	struct sch_buf base = SCH_BUF_INIT, sa = SCH_BUF_INIT,
		       sb = SCH_BUF_INIT, ab = SCH_BUF_INIT, ba = SCH_BUF_INIT;
	struct sch_strlist ca = { 0 }, cb = { 0 };
	char *c1 = xasprintf("%s_ab", s->db), *c2 = xasprintf("%s_ba", s->db);
	uint32_t ia, ib, *mb = NULL;
	size_t nmb;
	int rc, made = 0;

	memset(out, 0, sizeof(*out));
	sch_buf_init(&out->why);
	sch_buf_init(&out->column_orders);
	sch_graph_init(&g, t);
	rc = sch_graph_add(&ia, &g, a);
	if (!rc)
		rc = sch_graph_add(&ib, &g, b);
	if (rc)
		goto out;
	nmb = sch_graph_merge_bases(&g, ia, ib, &mb);
	for (size_t i = 0; i < nmb; i++)
		sch_idlist_push(&bases, &g.nodes[mb[i]].id);
	rc = sch_scratch_apply(s, t, &bases, SCH_PLAN_CHECKOUT);
	if (!rc) {
		struct sch_id ignore;
		rc = sch_scratch_state(s, &ignore, &base, NULL);
	}
	if (rc)
		goto out;
	/* Two copies of the database at the bases: a template may have no
	 * other connection, so ours closes while they are made. */
	disconnect_db(s);
	admin_exec(s, "DROP", c1, NULL);
	admin_exec(s, "DROP", c2, NULL);
	rc = admin_exec(s, "CREATE", c1, s->db);
	if (!rc) {
		made = 1;
		rc = admin_exec(s, "CREATE", c2, s->db);
	}
	if (!rc)
		made = 2;
	if (!rc)
		rc = connect_db(s);
	if (rc)
		goto out;
	rc = one_order(s, t, c1, a, b, merge, &sa, &ab, &out->pre[0]);
	if (rc) {
		out->failed = 1;
		sch_buf_addf(&out->why, "applying %s", sch_error_msg());
	}
	if (!rc) {
		rc = one_order(s, t, c2, b, a, merge, &sb, &ba,
			       &out->pre[1]);
		if (rc) {
			out->failed = 1;
			sch_buf_addf(&out->why, "in the other order, applying "
				     "%s", sch_error_msg());
		}
	}
	rc = 0;
	/* What each side changed, from the bases; the first order's side
	 * state is a's, the second's b's. */
	if (sa.len)
		sch_statediff(NULL, &ca, base.ptr, base.len, sa.ptr, sa.len, 0);
	if (sb.len)
		sch_statediff(NULL, &cb, base.ptr, base.len, sb.ptr, sb.len, 0);
	intersect(&out->both, &ca, &cb);
	if (!out->failed) {
		if (sch_statediff(NULL, &out->orders, ab.ptr, ab.len, ba.ptr,
				  ba.len, 0))
			out->differ = 1;
		/* Two sides that each add a column to one table give it its
		 * columns in another order: a difference a merge script could
		 * only undo by rebuilding the table, so it is reported, not
		 * refused. */
		if (out->differ && sch_statediff_column_order_only(ab.ptr, ab.len,
								   ba.ptr,
								   ba.len)) {
			out->differ = 0;
			out->column_order = 1;
			sch_statediff_column_orders(&out->column_orders, ab.ptr,
						    ab.len, ba.ptr, ba.len);
		}
		if (!out->differ)
			sch_catalog_state_id(&out->state, ab.ptr, ab.len);
	}
out:
	if (made >= 1)
		admin_exec(s, "DROP", c1, NULL);
	if (made >= 2)
		admin_exec(s, "DROP", c2, NULL);
	free(c1);
	free(c2);
	free(mb);
	sch_strlist_release(&ca);
	sch_strlist_release(&cb);
	sch_idlist_release(&bases);
	sch_graph_release(&g);
	sch_buf_release(&base);
	sch_buf_release(&sa);
	sch_buf_release(&sb);
	sch_buf_release(&ab);
	sch_buf_release(&ba);
	return rc;
}
