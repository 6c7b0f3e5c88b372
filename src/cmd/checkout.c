/* checkout.c - make a database exactly a set of revisions; the runner
 * that migrate and rollback share. */
#include <sodium.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/apply.h"
#include "schema/catalog.h"
#include "schema/cmd.h"
#include "schema/config.h"
#include "schema/error.h"
#include "schema/pgtools.h"
#include "schema/graph.h"
#include "schema/hooks.h"
#include "schema/plan.h"
#include "schema/refs.h"
#include "schema/registry.h"
#include "schema/revspec.h"
#include "schema/sign.h"
#include "schema/target.h"
#include "schema/ui.h"
#include "schema/worktree.h"

struct rel_ctx {
	struct sch_txn *txn;
	const struct sch_applied_set *applied;
};

/* -N: what is applied minus the last N; +N: plus the next N pending
 * revisions toward the current branch head. */
static int relative(struct sch_idlist *out, const char *spec, void *arg)
{
	struct rel_ctx *rc_ = arg;
	long n = strtol(spec + 1, NULL, 10);
	struct sch_graph g;
	struct sch_idlist tg = { 0 };
	uint8_t *set = NULL;
	int rc;

	sch_graph_init(&g, rc_->txn);
	if (spec[0] == '+') {
		struct sch_id head;
		rc = sch_ref_read(&head, rc_->txn, "HEAD");
		if (rc)
			goto out;
		sch_idlist_push(&tg, &head);
	}
	rc = sch_plan_graph(&g, rc_->txn, rc_->applied, &tg);
	if (rc)
		goto out;
	set = xcalloc(g.n + 1, 1);
	for (size_t i = 0; i < rc_->applied->n; i++) {
		long k = sch_graph_find(&g, &rc_->applied->v[i].id);
		if (k >= 0)
			set[k] = 1;
	}
	if (spec[0] == '-') {
		struct sch_plan p;
		if ((size_t)n > rc_->applied->n) {
			rc = sch_error_set(SCH_EINVAL, "'%s': only %zu revisions "
					   "are applied", spec, rc_->applied->n);
			goto out;
		}
		sch_plan_last(&p, &g, rc_->applied, (size_t)n);
		for (size_t i = 0; i < p.ndown; i++)
			set[p.down[i]] = 0;
		sch_plan_release(&p);
	} else {
		struct sch_plan p;
		rc = sch_plan_make(&p, &g, rc_->applied, &tg, SCH_PLAN_MIGRATE);
		if (rc)
			goto out;
		if ((size_t)n > p.nup) {
			size_t pending = p.nup;
			sch_plan_release(&p);
			rc = sch_error_set(SCH_EINVAL, "'%s': only %zu revisions "
					   "are pending", spec, pending);
			goto out;
		}
		for (size_t i = 0; i < (size_t)n; i++)
			set[p.up[i]] = 1;
		sch_plan_release(&p);
	}
	sch_plan_set_heads(out, &g, set);
out:
	free(set);
	sch_idlist_release(&tg);
	sch_graph_release(&g);
	return rc;
}

static json_t *plan_json(const struct sch_graph *g, const struct sch_plan *p)
{
	json_t *o = json_object(), *down = json_array(), *up = json_array();
	char hex[SCH_HEX_LEN + 1];

	for (size_t i = 0; i < p->ndown; i++) {
		sch_id_hex(hex, &g->nodes[p->down[i]].id);
		json_array_append_new(down, json_string(hex));
	}
	for (size_t i = 0; i < p->nup; i++) {
		sch_id_hex(hex, &g->nodes[p->up[i]].id);
		json_array_append_new(up, json_string(hex));
	}
	json_object_set_new(o, "down", down);
	json_object_set_new(o, "up", up);
	return o;
}

static void print_step(FILE *f, struct sch_txn *t, const struct sch_gnode *nd,
		       const char *dir, const char *suffix)
{
	char sh[SCH_SHORT_LEN + 1];
	char *name = sch_wt_dir_name(t, &nd->id);
	struct sch_buf subj = SCH_BUF_INIT;

	sch_id_short(sh, &nd->id);
	sch_rev_subject(&subj, &nd->rev);
	fprintf(f, "  %-4s %s %s  %s%s\n", dir, sh, name ? name : "-", subj.ptr,
		suffix ? suffix : "");
	free(name);
	sch_buf_release(&subj);
}

static int do_step(struct sch_ctx *ctx, struct sch_pg *pg, struct sch_reg *reg,
		   const struct sch_gnode *nd,
		   const struct sch_applied_set *applied, int is_up,
		   const char *actor, const char *verb, struct sch_buf *sql,
		   int quiet)
{
	struct sch_buf detail = SCH_BUF_INIT;
	struct sch_loaded_step ls;
	char *name = sch_wt_dir_name(ctx->txn, &nd->id);
	struct timespec t0, t1;
	int notx = 0, rc;

	rc = sch_step_load(&ls, ctx->txn, nd, applied, is_up, name);
	if (rc) {
		rc = sch_error_wrap(rc, "revision %s", ls.sh);
		goto out;
	}
	sch_buf_addf(&detail, "{\"command\":\"%s\"}", verb);
	if (sql) {
		rc = sch_apply_step_sql(sql, reg, &ls.st, actor, detail.ptr, 15);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = sch_apply_step(pg, reg, &ls.st, actor, detail.ptr, &notx);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!rc && !quiet) {
		char suffix[64];
		snprintf(suffix, sizeof(suffix), " (%.0f ms%s)",
			 (t1.tv_sec - t0.tv_sec) * 1e3 +
				 (t1.tv_nsec - t0.tv_nsec) / 1e6,
			 notx ? ", no transaction" : "");
		print_step(stdout, ctx->txn, nd, is_up ? "up" : "down", suffix);
	}
out:
	free(name);
	sch_step_release(&ls);
	sch_buf_release(&detail);
	return rc;
}

/* require-signed: each revision the plan applies needs a good signature
 * by a key in .schema/trusted_keys. Reads only the store. */
static int check_signed(struct sch_ctx *ctx, const struct sch_envpol *pol,
			const struct sch_graph *g, const struct sch_plan *p)
{
	struct sch_trusted tr;
	struct sch_sig_result res[16];
	int rc = sch_trusted_load(&tr, ctx->repo);

	for (size_t i = 0; i < p->nup && !rc; i++) {
		const struct sch_gnode *nd = &g->nodes[p->up[i]];
		enum sch_sig_status best = SCH_SIG_NONE;
		size_t n = 0;
		char sh[SCH_SHORT_LEN + 1], *dir;
		rc = sch_sig_check(res, 16, &n, ctx->txn, &tr, &nd->id, NULL, 1);
		for (size_t k = 0; k < n; k++)
			if (res[k].status == SCH_SIG_GOOD ||
			    (best != SCH_SIG_GOOD && res[k].status > best))
				best = res[k].status;
		if (rc || best == SCH_SIG_GOOD)
			continue;
		sch_id_short(sh, &nd->id);
		dir = sch_wt_dir_name(ctx->txn, &nd->id);
		rc = sch_error_set(SCH_EREFUSED, "revision %s (%s) %s; environment "
				   "'%s' requires revisions signed by a trusted key",
				   sh, dir ? dir : "not in this repository",
				   best == SCH_SIG_NONE ? "is unsigned"
				   : best == SCH_SIG_BAD ? "has a BAD signature"
				   : "is signed only by untrusted keys",
				   pol->name ? pol->name : "-");
		sch_error_hint("sign it with 'schema commit -S', or add the "
			       "signer's key to .schema/trusted_keys");
		free(dir);
	}
	sch_trusted_release(&tr);
	return rc;
}

/* Audit events carry the operator's signature when a key is available. */
static void sign_events(struct sch_ctx *ctx, struct sch_reg *reg)
{
	struct sch_key k;

	if (sch_cmd_operator_key(&k, ctx))
		sch_reg_set_signer(reg, &k);
	sodium_memzero(&k, sizeof(k));
}

/*
 * After a run: captures the state the database reached, records it in
 * the registry rows of the applied heads and, in the store, as the state
 * of the head (when there is one head and it has none yet on this server
 * major). The run's read transaction is swapped for a write one for that
 * and a fresh read one is left in ctx->txn. A failure here only warns:
 * the database did change.
 */
static void record_state(struct sch_ctx *ctx, struct sch_pg *pg,
			 struct sch_reg *reg, struct sch_graph *g,
			 const struct sch_applied_set *applied,
			 const struct sch_plan *plan)
{
	struct sch_catalog_opts co;
	struct sch_idlist heads = { 0 };
	struct sch_buf text = SCH_BUF_INIT;
	struct sch_txn *w = NULL;
	struct sch_id state, ignore;
	uint8_t *set = xcalloc(g->n + 1, 1);
	char hex[SCH_HEX_LEN + 1];
	int rc;

	for (size_t i = 0; i < applied->n; i++) {
		long k = sch_graph_find(g, &applied->v[i].id);
		if (k >= 0)
			set[k] = 1;
	}
	for (size_t i = 0; i < plan->ndown; i++)
		set[plan->down[i]] = 0;
	for (size_t i = 0; i < plan->nup; i++)
		set[plan->up[i]] = 1;
	sch_plan_set_heads(&heads, g, set);
	free(set);
	if (!heads.n)
		goto out;
	sch_catalog_opts_config(&co, &ctx->config);
	rc = sch_catalog_state(&state, &text, NULL, pg, &co);
	sch_id_hex(hex, &state);
	if (!rc)
		rc = sch_reg_set_state(reg, heads.v, heads.n, hex);
	if (rc)
		goto fail;
	sch_txn_abort(ctx->txn);
	ctx->txn = NULL;
	rc = sch_txn_begin(&w, ctx->store, 1);
	if (!rc)
		rc = sch_object_put(&ignore, w, SCH_OBJ_STATE, text.ptr,
				    text.len, -1);
	if (!rc && heads.n == 1)
		rc = sch_state_record(w, &heads.v[0], sch_pg_server_major(pg),
				      &state, 0);
	if (!rc) {
		rc = sch_txn_commit(w);
		w = NULL;
	}
	sch_txn_abort(w);
	if (sch_txn_begin(&ctx->txn, ctx->store, 0))
		ctx->txn = NULL;
	if (!rc)
		goto out;
fail:
	sch_ui_warn("the state reached was not recorded: %s", sch_error_msg());
out:
	sch_idlist_release(&heads);
	sch_buf_release(&text);
}

/*
 * Names on stderr every directory of migrations/ that is not committed,
 * or whose files differ from the revision it was committed as: a plan
 * runs stored revisions only, so neither is what will run. Returns how
 * many there are.
 */
static size_t warn_dirty(struct sch_ctx *ctx)
{
	struct sch_strlist ed = { 0 }, un = { 0 };
	size_t n;

	if (sch_wt_scan_edits(ctx->txn, ctx->migrations, &ed, &un))
		return 0;
	for (size_t i = 0; i < un.n; i++)
		sch_ui_warn("%s/%s is not committed: no plan includes it",
			    ctx->migrations, un.v[i]);
	for (size_t i = 0; i < ed.n; i++)
		sch_ui_warn("%s/%s was edited after its commit: the committed "
			    "revision runs, not these files", ctx->migrations,
			    ed.v[i]);
	n = un.n + ed.n;
	if (n)
		sch_ui_hint("record %s with 'schema commit'%s",
			    n == 1 ? "it" : "them",
			    ed.n ? " (an edited directory: 'schema commit "
				   "--new-revision')" : "");
	sch_strlist_release(&ed);
	sch_strlist_release(&un);
	return n;
}

static const char *verb_of(int mode)
{
	return mode == SCH_PLAN_MIGRATE ? "migrate"
	       : mode == SCH_PLAN_ROLLBACK ? "rollback" : "checkout";
}

int sch_checkout_run(struct sch_ctx *ctx, struct sch_run_opts *o)
{
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_reg reg;
	struct sch_applied_set applied = { 0 };
	struct sch_idlist targets = { 0 };
	struct sch_graph g;
	struct sch_plan plan = { 0 };
	struct sch_buf sql = SCH_BUF_INIT, planbuf = SCH_BUF_INIT;
	struct rel_ctx rel = { ctx->txn, &applied };
	const char *regname = sch_config_get(&ctx->config, "core.registry");
	const char *verb = verb_of(o->mode);
	char *actor = NULL;
	json_t *pj = NULL;
	struct sch_id backup;
	char backup_hex[SCH_HEX_LEN + 1] = "";
	size_t ndirty;
	int rc;

	memset(&reg, 0, sizeof(reg));
	sch_graph_init(&g, ctx->txn);
	rc = sch_target_policy(&pol, &ctx->config, o->env, o->url);
	if (rc)
		goto out;
	ndirty = warn_dirty(ctx);
	if (ndirty && pol.require_clean && !o->allow_dirty) {
		if (o->dry_run || o->sql) {
			fprintf(stderr, "schema: note: a %s on %s would be "
				"refused while these are not committed "
				"(require-clean)\n", verb, pol.name);
		} else {
			rc = sch_error_set(SCH_EREFUSED, "%s on %s refused: "
					   "%zu director%s of %s %s "
					   "uncommitted or edited "
					   "(require-clean)", verb, pol.name,
					   ndirty, ndirty == 1 ? "y" : "ies",
					   ctx->migrations,
					   ndirty == 1 ? "is" : "are");
			sch_error_hint("commit with 'schema commit', or run "
				       "with --allow-dirty");
			goto out;
		}
	}
	if (o->sql) {
		/* Offline: the database is assumed to hold --from (default
		 * nothing). */
		sch_reg_init(&reg, NULL, regname);
		if (o->from) {
			struct sch_idlist from = { 0 };
			struct sch_graph fg;
			rc = sch_revspec_resolve(&from, ctx->txn, o->from, NULL, NULL);
			sch_graph_init(&fg, ctx->txn);
			if (!rc) {
				uint32_t *idx = xmalloc((from.n + 1) * sizeof(uint32_t));
				uint8_t *anc;
				for (size_t i = 0; i < from.n && !rc; i++)
					rc = sch_graph_add(&idx[i], &fg, &from.v[i]);
				if (!rc) {
					anc = sch_graph_ancestors(&fg, idx, from.n, 1);
					applied.v = xcalloc(fg.n + 1, sizeof(*applied.v));
					for (size_t i = 0; i < fg.n; i++)
						if (anc[i]) {
							applied.v[applied.n].id = fg.nodes[i].id;
							sch_rev_init(&applied.v[applied.n].rev);
							applied.v[applied.n++].body_ok = 1;
						}
					free(anc);
				}
				free(idx);
			}
			sch_graph_release(&fg);
			sch_idlist_release(&from);
			if (rc)
				goto out;
		}
		actor = xstrdup("sql-script");
	} else {
		rc = sch_target_connect(&pg, &pol);
		if (rc)
			goto out;
		sch_reg_init(&reg, pg, regname);
		sign_events(ctx, &reg);
		actor = sch_reg_actor(&reg);
		if (!o->dry_run) {
			rc = sch_reg_lock(&reg, o->lock_timeout_ms);
			if (rc)
				goto out;
		}
		rc = sch_reg_load(&reg, &applied, 1);
		if (rc)
			goto out;
		{
			struct sch_buf r = SCH_BUF_INIT, d = SCH_BUF_INIT;
			if (!o->dry_run && sch_reg_progress_any(&reg, &r, &d, NULL) == 1)
				fprintf(stderr, "schema: note: an interrupted "
					"statement-by-statement step of %.12s (%s) "
					"will resume\n", r.ptr, d.ptr);
			sch_buf_release(&r);
			sch_buf_release(&d);
		}
	}
	/* Targets. */
	if (o->mode == SCH_PLAN_ROLLBACK && o->last_n > 0) {
		if ((size_t)o->last_n > applied.n) {
			rc = sch_error_set(SCH_EINVAL, "'-%ld': only %zu revision%s "
					   "applied", o->last_n, applied.n,
					   applied.n == 1 ? " is" : "s are");
			goto out;
		}
		rc = sch_plan_graph(&g, ctx->txn, &applied, &targets);
		if (!rc)
			rc = sch_plan_last(&plan, &g, &applied, (size_t)o->last_n);
	} else {
		for (int i = 0; i < o->nspecs && !rc; i++)
			rc = sch_revspec_resolve(&targets, ctx->txn, o->specs[i],
						 o->sql ? NULL : relative, &rel);
		if (!rc)
			rc = sch_plan_graph(&g, ctx->txn, &applied, &targets);
		if (!rc)
			rc = sch_plan_make(&plan, &g, &applied, &targets, o->mode);
	}
	if (!rc && pol.require_signed)
		rc = check_signed(ctx, &pol, &g, &plan);
	if (rc)
		goto out;
	pj = plan_json(&g, &plan);
	if (o->sql) {
		sch_buf_addf(&sql, "-- schema %s: %zu down, %zu up\n"
			     "\\set ON_ERROR_STOP on\n", verb, plan.ndown, plan.nup);
		sch_reg_ddl(&sql, reg.schema);
		for (size_t i = 0; i < plan.ndown && !rc; i++)
			rc = do_step(ctx, NULL, &reg, &g.nodes[plan.down[i]], &applied,
				     0, actor, verb, &sql, 1);
		for (size_t i = 0; i < plan.nup && !rc; i++)
			rc = do_step(ctx, NULL, &reg, &g.nodes[plan.up[i]], &applied,
				     1, actor, verb, &sql, 1);
		if (!rc)
			fwrite(sql.ptr, 1, sql.len, stdout);
		goto out;
	}
	if (o->dry_run) {
		if (o->json) {
			char *s = json_dumps(pj, 0);
			printf("%s\n", s);
			free(s);
		} else {
			printf("plan for %s: %zu down, %zu up\n", pol.shown[0] ?
			       pol.shown : "the default database", plan.ndown,
			       plan.nup);
			for (size_t i = 0; i < plan.ndown; i++)
				print_step(stdout, ctx->txn, &g.nodes[plan.down[i]],
					   "down", NULL);
			for (size_t i = 0; i < plan.nup; i++)
				print_step(stdout, ctx->txn, &g.nodes[plan.up[i]],
					   "up", NULL);
		}
		goto out;
	}
	if (!plan.ndown && !plan.nup) {
		if (!o->quiet)
			printf("already there: nothing to do\n");
		goto out;
	}
	/* A backup policy that cannot be met refuses before anything is
	 * asked or changed: a pg_dump for this server's major. */
	if (!strcmp(pol.backup, "always") ||
	    (!strcmp(pol.backup, "downgrade") && plan.ndown)) {
		struct sch_buf dump = SCH_BUF_INIT;
		rc = sch_pgtools_find(&dump, "pg_dump", sch_pg_server_major(pg),
				      sch_config_get(&ctx->config,
						     "core.pg-bindir"));
		sch_buf_release(&dump);
		if (rc) {
			rc = sch_error_wrap(rc, "%s refused before any change: "
					    "backup = %s cannot be met", verb,
					    pol.backup);
			goto out;
		}
	}
	{
		char *what = xasprintf("%s: %zu down, %zu up", verb, plan.ndown,
				       plan.nup);
		rc = sch_cmd_confirm(&pol, o->yes, what);
		free(what);
		if (rc)
			goto out;
	}
	/* The environment's backup policy, before anything changes. */
	if (!strcmp(pol.backup, "always") ||
	    (!strcmp(pol.backup, "downgrade") && plan.ndown)) {
		char *note = xasprintf("before %s", verb);
		rc = sch_cmd_backup(ctx, &pol, note, -1, 0, o->quiet, 0,
				    &backup);
		free(note);
		if (rc) {
			rc = sch_error_wrap(rc, "%s aborted before any change",
					    verb);
			goto out;
		}
		sch_id_hex(backup_hex, &backup);
	}
	{
		char *s = json_dumps(pj, 0);
		sch_buf_addstr(&planbuf, s);
		sch_buf_addch(&planbuf, '\n');
		free(s);
	}
	rc = sch_hook_run(ctx->repo, ctx->root, "pre-checkout", planbuf.ptr, planbuf.len);
	if (rc) {
		rc = sch_error_wrap(rc, "%s aborted before any change", verb);
		goto out;
	}
	/* The registry is created only once the run is sure to change
	 * something: a refused or aborted run leaves the database as it was. */
	rc = sch_reg_ensure(&reg);
	if (rc)
		goto out;
	for (size_t i = 0; i < plan.ndown && !rc; i++)
		rc = do_step(ctx, pg, &reg, &g.nodes[plan.down[i]], &applied, 0,
			     actor, verb, NULL, o->quiet);
	for (size_t i = 0; i < plan.nup && !rc; i++)
		rc = do_step(ctx, pg, &reg, &g.nodes[plan.up[i]], &applied, 1,
			     actor, verb, NULL, o->quiet);
	if (!rc) {
		struct sch_buf det = SCH_BUF_INIT;
		json_t *d = json_deep_copy(pj);
		char *s;
		json_object_set_new(d, "env", pol.name ? json_string(pol.name)
						       : json_null());
		json_object_set_new(d, "backup", backup_hex[0]
							 ? json_string(backup_hex)
							 : json_null());
		s = json_dumps(d, JSON_SORT_KEYS);
		sch_buf_addstr(&det, s);
		free(s);
		json_decref(d);
		rc = sch_reg_event(&reg, actor, verb, NULL, det.ptr);
		sch_buf_release(&det);
	}
	if (!rc)
		record_state(ctx, pg, &reg, &g, &applied, &plan);
	if (!rc) {
		if (sch_hook_run(ctx->repo, ctx->root, "post-checkout", planbuf.ptr, planbuf.len))
			sch_ui_warn("%s", sch_error_msg());
	}
out:
	if (pj)
		json_decref(pj);
	free(actor);
	sch_plan_release(&plan);
	sch_graph_release(&g);
	sch_idlist_release(&targets);
	sch_applied_set_release(&applied);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	sch_buf_release(&sql);
	sch_buf_release(&planbuf);
	return rc;
}

int sch_run_parse(struct sch_run_opts *o, int argc, char **argv,
		  const char *verb)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "sql", no_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "lock-timeout", required_argument, NULL, 'L' },
		{ "allow-dirty", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	static char *rel[16];
	int c, nrel = 0, k = 1;

	/* "-1" is a revision spec here, not an option: take such arguments
	 * out before getopt sees them and put them back as positionals. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int numeric = a[0] == '-' && a[1] >= '0' && a[1] <= '9';
		for (const char *q = a + 1; numeric && *q; q++)
			if (*q < '0' || *q > '9')
				numeric = 0;
		if (numeric && i > 1 && (!strcmp(argv[i - 1], "--from") ||
					 !strcmp(argv[i - 1], "--lock-timeout") ||
					 !strcmp(argv[i - 1], "--url") ||
					 !strcmp(argv[i - 1], "--env")))
			numeric = 0; /* the value of an option */
		if (numeric && nrel < 16)
			rel[nrel++] = argv[i];
		else
			argv[k++] = argv[i];
	}
	argc = k;
	o->lock_timeout_ms = 60000;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":nyq", opts, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'e': o->env = optarg; break;
		case 'n': o->dry_run = 1; break;
		case 'j': o->json = 1; break;
		case 's': o->sql = 1; break;
		case 'f': o->from = optarg; break;
		case 'y': o->yes = 1; break;
		case 'q': o->quiet = 1; break;
		case 'D': o->allow_dirty = 1; break;
		case 'L':
			if (sch_duration_parse(optarg, &o->lock_timeout_ms))
				return sch_error_set(SCH_EUSAGE, "--lock-timeout "
						     "needs a duration (500ms, 5s, "
						     "2min or seconds), not '%s'",
						     optarg);
			break;
		default:
			return sch_cmd_optfail(c, argv, verb, opts);
		}
	}
	if (o->json && !o->dry_run)
		return sch_error_set(SCH_EUSAGE, "--json goes with --dry-run");
	if (o->from && !o->sql)
		return sch_error_set(SCH_EUSAGE, "--from goes with --sql");
	for (int i = 0; i < nrel; i++)
		argv[argc++] = rel[i];
	o->specs = argv + optind;
	o->nspecs = argc - optind;
	return 0;
}

SCH_CMD(checkout)
{
	struct sch_run_opts o;
	static char *head[] = { "head" };
	int rc;

	memset(&o, 0, sizeof(o));
	o.mode = SCH_PLAN_CHECKOUT;
	rc = sch_run_parse(&o, argc, argv, ctx->verb);
	if (rc)
		return rc;
	if (!o.nspecs) {
		o.specs = head;
		o.nspecs = 1;
	}
	return sch_checkout_run(ctx, &o);
}
