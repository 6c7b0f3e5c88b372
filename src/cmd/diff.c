/* diff.c - states: `schema diff` between recorded and live states,
 * `schema state` for the live one, and the helpers status and checkout
 * share. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/catalog.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/plan.h"
#include "schema/registry.h"
#include "schema/revspec.h"
#include "schema/seal.h"
#include "schema/snapshot.h"
#include "schema/statediff.h"
#include "schema/target.h"


int sch_cmd_applied_state(struct sch_id *out, struct sch_ctx *ctx,
			  struct sch_reg *reg, const struct sch_idlist *heads)
{
	struct sch_buf hex = SCH_BUF_INIT;
	int rc;

	if (!heads->n)
		return 0;
	rc = sch_reg_get_state(&hex, reg, heads->v, heads->n);
	if (rc == 1)
		rc = sch_id_parse(out, hex.ptr, hex.len) ? 0 : 1;
	sch_buf_release(&hex);
	if (rc == 0 && heads->n == 1)
		rc = sch_state_lookup(out, ctx->txn, &heads->v[0],
				      sch_pg_server_major(reg->pg));
	return rc;
}

int sch_cmd_drift(struct sch_strlist *changed, struct sch_id *rec,
		  struct sch_id *live, struct sch_ctx *ctx, struct sch_reg *reg,
		  const struct sch_idlist *heads)
{
	struct sch_catalog_opts co;
	struct sch_buf lt = SCH_BUF_INIT, rt = SCH_BUF_INIT;
	int rc = sch_cmd_applied_state(rec, ctx, reg, heads);

	if (rc <= 0)
		return rc;
	sch_catalog_opts_config(&co, &ctx->config);
	rc = sch_catalog_state(live, &lt, NULL, reg->pg, &co);
	/* without the recorded text the objects cannot be named */
	if (!rc && sch_id_cmp(rec, live) &&
	    sch_object_get_typed(&rt, ctx->txn, rec, SCH_OBJ_STATE) == 0)
		sch_statediff(NULL, changed, rt.ptr, rt.len, lt.ptr, lt.len, 0);
	sch_buf_release(&lt);
	sch_buf_release(&rt);
	return rc ? rc : 1;
}

int sch_cmd_applied_heads(struct sch_idlist *out, struct sch_ctx *ctx,
			  const struct sch_applied_set *applied)
{
	struct sch_graph g;
	struct sch_idlist none = { 0 };
	uint8_t *set;
	int rc;

	sch_graph_init(&g, ctx->txn);
	rc = sch_plan_graph(&g, ctx->txn, applied, &none);
	if (!rc) {
		set = xcalloc(g.n + 1, 1);
		for (size_t i = 0; i < applied->n; i++) {
			long k = sch_graph_find(&g, &applied->v[i].id);
			if (k >= 0)
				set[k] = 1;
		}
		sch_plan_set_heads(out, &g, set);
		free(set);
	}
	sch_graph_release(&g);
	return rc;
}

/* The key of an encrypted snapshot side, loaded when first needed. */
struct side_key {
	const struct sch_envpol *pol;
	struct sch_seal_key key;
	int loaded;		/* 1 loaded, 0 not tried, -1 none */
};

/* A snapshot's recorded state. */
static int snapshot_side(struct sch_buf *text, struct sch_id *id,
			 struct sch_ctx *ctx, const struct sch_id *snap,
			 struct side_key *sk)
{
	struct sch_manifest m;
	int rc = sch_snapshot_load(&m, ctx->txn, snap);

	if (!rc && m.sealed && !sk->loaded) {
		rc = sch_cmd_backup_key(&sk->key, ctx, sk->pol);
		sk->loaded = rc == 1 ? 1 : -1;
		rc = rc < 0 ? rc : 0;
	}
	if (!rc)
		rc = sch_snapshot_open(&m, snap,
				       sk->loaded == 1 ? &sk->key : NULL);
	if (!rc)
		rc = sch_snapshot_state(text, id, ctx->txn, &m, snap,
					sk->loaded == 1 ? &sk->key : NULL);
	sch_manifest_release(&m);
	return rc;
}

/*
 * One side of a diff (docs/snapshots.md, "The schema's state, and
 * diff"): `snapshot:<prefix>` is
 * a snapshot; 4 to 64 hex digits name a state object, a listed snapshot
 * or a revision by prefix, and must name exactly one of those kinds; any
 * other spec is a revision spec (its recorded state).
 */
static int resolve_side(struct sch_buf *text, struct sch_id *id,
			struct sch_ctx *ctx, const char *spec, int major,
			struct side_key *sk)
{
	struct sch_id rev, st, sn, rv;
	size_t n = strlen(spec);
	int rc = SCH_ENOTFOUND;

	if (!strncmp(spec, "snapshot:", 9)) {
		rc = sch_snapshot_resolve(&sn, ctx->txn, spec + 9);
		return rc ? rc : snapshot_side(text, id, ctx, &sn, sk);
	}
	if (n >= 4 && n <= SCH_HEX_LEN && strspn(spec, "0123456789abcdef") == n) {
		int rs = sch_object_resolve_prefix(&st, ctx->txn, spec,
						   SCH_OBJ_STATE);
		int rn = sch_snapshot_resolve(&sn, ctx->txn, spec);
		int rr = sch_object_resolve_prefix(&rv, ctx->txn, spec,
						   SCH_OBJ_REV);
		int kinds = !rs + !rn + !rr;
		/* ambiguous within one kind: that kind's own message */
		if (rs == SCH_EAMBIGUOUS)
			return sch_object_resolve_prefix(&st, ctx->txn, spec,
							 SCH_OBJ_STATE);
		if (rn == SCH_EAMBIGUOUS)
			return sch_snapshot_resolve(&sn, ctx->txn, spec);
		if (rr == SCH_EAMBIGUOUS)
			return sch_revspec_one(&rev, ctx->txn, spec);
		if (kinds > 1) {
			struct sch_buf b = SCH_BUF_INIT;
			char sh[SCH_SHORT_LEN + 1];
			const struct {
				int rc;
				const char *kind;
				const struct sch_id *id;
			} k[] = { { rs, "state", &st }, { rn, "snapshot", &sn },
				  { rr, "revision", &rv } };
			for (size_t i = 0; i < 3; i++) {
				if (k[i].rc)
					continue;
				sch_id_short(sh, k[i].id);
				sch_buf_addf(&b, "%s%s %s", b.len ? ", " : "",
					     k[i].kind, sh);
			}
			rc = sch_error_set(SCH_EAMBIGUOUS, "'%s' is ambiguous: "
					   "%s", spec, b.ptr);
			sch_buf_release(&b);
			sch_error_hint("give more digits, or write "
				       "snapshot:<id> for a snapshot");
			return rc;
		}
		if (!rn)
			return snapshot_side(text, id, ctx, &sn, sk);
		if (!rs) {
			*id = st;
			rc = 0;
		}
	}
	if (rc == SCH_ENOTFOUND || rc == SCH_EINVAL) {
		rc = sch_revspec_one(&rev, ctx->txn, spec);
		if (rc)
			return rc;
		rc = sch_state_lookup(id, ctx->txn, &rev, major);
		if (rc == 0 && major >= 0)
			rc = sch_state_lookup(id, ctx->txn, &rev, -1);
		if (rc == 0) {
			sch_error_set(SCH_ENOTFOUND, "revision '%s' has no "
				      "recorded state", spec);
			sch_error_hint("a checkout records the state it reaches");
			return SCH_ENOTFOUND;
		}
		if (rc < 0)
			return rc;
	} else if (rc) {
		return rc;
	}
	rc = sch_object_get_typed(text, ctx->txn, id, SCH_OBJ_STATE);
	if (rc == SCH_ENOTFOUND) {
		char hex[SCH_HEX_LEN + 1];
		sch_id_hex(hex, id);
		return sch_error_set(SCH_ENOTFOUND, "state %.12s is not in this "
				     "repository", hex);
	}
	return rc;
}

SCH_CMD(diff)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "live", no_argument, NULL, 'l' },
		{ "name-only", no_argument, NULL, 'N' },
		{ "unified", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *env = NULL;
	int live = 0, names = 0, c, rc, nargs, major = -1;
	long context = 3;
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_reg reg;
	struct sch_applied_set applied;
	struct sch_idlist heads = { 0 };
	struct sch_catalog_opts co;
	struct sch_buf ta = SCH_BUF_INIT, tb = SCH_BUF_INIT, out = SCH_BUF_INIT;
	struct sch_strlist changed = { 0 };
	struct sch_id ia, ib;
	struct side_key sk;
	size_t n;

	memset(&sk, 0, sizeof(sk));
	sk.pol = &pol;
	memset(&pol, 0, sizeof(pol));
	memset(&reg, 0, sizeof(reg));
	memset(&applied, 0, sizeof(applied));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":U:", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'e': env = optarg; break;
		case 'l': live = 1; break;
		case 'N': names = 1; break;
		case 'U':
			rc = sch_cmd_count(&context, optarg, "--unified");
			if (rc)
				goto out;
			break;
		default:
			rc = sch_cmd_optfail(c, argv, ctx->verb, opts);
			goto out;
		}
	}
	nargs = argc - optind;
	if (nargs > 2 || (live && nargs > 1)) {
		rc = sch_error_set(SCH_EUSAGE, "usage: schema diff [<a> [<b>]] "
				   "[--live] [--url URL | --env NAME]");
		goto out;
	}
	sch_catalog_opts_config(&co, &ctx->config);
	if (nargs < 2) {
		/* The other side is the live database. */
		rc = sch_target_read(&ctx->config, url, env, &pol, &pg, &reg,
					 &applied, 0);
		if (rc)
			goto out;
		major = sch_pg_server_major(pg);
	}
	if (nargs == 0) {
		rc = sch_cmd_applied_heads(&heads, ctx, &applied);
		if (rc)
			goto out;
		rc = sch_cmd_applied_state(&ia, ctx, &reg, &heads);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			rc = sch_error_set(SCH_ENOTFOUND, "no state is recorded "
					   "for what %s has applied",
					   pol.shown[0] ? pol.shown
							: "the database");
			sch_error_hint("name one: schema diff <revision>");
			goto out;
		}
		rc = sch_object_get_typed(&ta, ctx->txn, &ia, SCH_OBJ_STATE);
		if (rc == SCH_ENOTFOUND) {
			char hex[SCH_HEX_LEN + 1];
			sch_id_hex(hex, &ia);
			rc = sch_error_set(SCH_ENOTFOUND, "recorded state %.12s "
					   "is not in this repository", hex);
		}
	} else {
		rc = resolve_side(&ta, &ia, ctx, argv[optind], major, &sk);
	}
	if (rc)
		goto out;
	if (nargs == 2)
		rc = resolve_side(&tb, &ib, ctx, argv[optind + 1], major,
				  &sk);
	else
		rc = sch_catalog_state(&ib, &tb, NULL, pg, &co);
	if (rc)
		goto out;
	n = sch_statediff(names ? NULL : &out, names ? &changed : NULL,
			  ta.ptr, ta.len, tb.ptr, tb.len, (int)context);
	if (names)
		for (size_t i = 0; i < changed.n; i++)
			printf("%s\n", changed.v[i]);
	else
		fwrite(out.ptr, 1, out.len, stdout);
	rc = n ? 1 : 0;
out:
	if (sk.loaded == 1)
		sch_seal_key_wipe(&sk.key);
	sch_strlist_release(&changed);
	sch_idlist_release(&heads);
	sch_applied_set_release(&applied);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	sch_buf_release(&ta);
	sch_buf_release(&tb);
	sch_buf_release(&out);
	return rc;
}

SCH_CMD(state)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "text", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *env = NULL;
	int text = 0, c, rc;
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_catalog_opts co;
	struct sch_buf t = SCH_BUF_INIT;
	struct sch_id id;
	char hex[SCH_HEX_LEN + 1];

	memset(&pol, 0, sizeof(pol));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'e': env = optarg; break;
		case 't': text = 1; break;
		default:
			rc = sch_cmd_optfail(c, argv, ctx->verb, opts);
			goto out;
		}
	}
	if (optind < argc) {
		if (env || optind + 1 < argc) {
			rc = sch_error_set(SCH_EUSAGE, "usage: schema state "
					   "[<env>] [--url URL] [--text]");
			goto out;
		}
		env = argv[optind];
	}
	sch_catalog_opts_config(&co, &ctx->config);
	rc = sch_target_policy(&pol, &ctx->config, env, url);
	if (!rc)
		rc = sch_target_connect(&pg, &pol);
	if (!rc)
		rc = sch_catalog_state(&id, &t, NULL, pg, &co);
	if (rc)
		goto out;
	if (text) {
		fwrite(t.ptr, 1, t.len, stdout);
	} else {
		sch_id_hex(hex, &id);
		printf("%s\n", hex);
	}
out:
	sch_pg_close(pg);
	sch_target_release(&pol);
	sch_buf_release(&t);
	return rc;
}
