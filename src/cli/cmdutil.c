/* cmdutil.c - helpers shared by the commands. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/cmd.h"
#include "schema/devcluster.h"
#include "schema/ui.h"
#include "schema/error.h"
#include "schema/refs.h"
#include "schema/sign.h"
#include "schema/suggest.h"
#include "schema/target.h"
#include "schema/ui.h"

int sch_cmd_optfail(int c, char **argv, const char *verb,
		    const struct option *opts)
{
	const char *arg = argv[optind - 1];
	struct sch_buf name = SCH_BUF_INIT, near = SCH_BUF_INIT;
	int rc;

	if (!arg)
		arg = "?";
	/* A long option is named as typed, without its "=value". */
	if (!strncmp(arg, "--", 2) && (c == ':' || !optopt))
		sch_buf_add(&name, arg, strcspn(arg, "="));
	else if (optopt)
		/* Inside a group of short options (-zq) argv[optind - 1]
		 * may still be the previous argument: name it by optopt. */
		sch_buf_addf(&name, "-%c", optopt);
	else
		sch_buf_addstr(&name, arg);
	if (c == ':') {
		rc = sch_error_set(SCH_EUSAGE, "option '%s' of '%s' needs a "
				   "value", name.ptr, verb);
	} else {
		struct sch_suggest sg;
		sch_suggest_init(&sg, name.ptr);
		for (size_t i = 0; opts && opts[i].name; i++) {
			char *cand = xasprintf("--%s", opts[i].name);
			sch_suggest_add(&sg, cand);
			free(cand);
		}
		sch_suggest_text(&near, &sg);
		sch_suggest_release(&sg);
		rc = sch_error_set(SCH_EUSAGE, "unknown option '%s' for '%s'%s",
				   name.ptr, verb, near.ptr);
	}
	sch_buf_release(&name);
	sch_buf_release(&near);
	return rc;
}

int sch_cmd_target_args(struct sch_target_args *a, int argc, char **argv,
			const char *verb, unsigned flags)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'F' },
		{ "no-states", no_argument, NULL, 'S' },
		{ "strict-column-order", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'u': a->url = optarg; break;
		case 'e': a->env = optarg; break;
		case 'j': a->json = 1; break;
		case 'F':
			if (!(flags & SCH_ARGS_FULL))
				return sch_error_set(SCH_EUSAGE, "unknown option "
						     "'--full' for '%s'", verb);
			a->full = 1;
			break;
		case 'S':
			if (!(flags & SCH_ARGS_NOSTATES))
				return sch_error_set(SCH_EUSAGE, "unknown option "
						     "'--no-states' for '%s'", verb);
			a->no_states = 1;
			break;
		case 'C':
			if (!(flags & SCH_ARGS_STRICTCOLS))
				return sch_error_set(SCH_EUSAGE, "unknown option "
						     "'--strict-column-order' "
						     "for '%s'", verb);
			a->strict_column_order = 1;
			break;
		default:
			return sch_cmd_optfail(c, argv, verb, opts);
		}
	}
	if (optind < argc) {
		int extra = a->env ? optind : optind + 1;
		if (extra < argc) {
			sch_error_set(SCH_EUSAGE, "unexpected argument '%s' for "
				      "'%s'", argv[extra], verb);
			sch_error_hint("usage: schema %s [<env>] [--url URL] "
				       "[--env NAME] [--json]%s", verb,
				       flags & SCH_ARGS_FULL ? " [--full]" : "");
			return SCH_EUSAGE;
		}
		a->env = argv[optind];
	}
	return 0;
}

int sch_cmd_unknown_sub(const char *verb, const char *sub,
			const char *const *names)
{
	struct sch_suggest sg;
	struct sch_buf near = SCH_BUF_INIT, all = SCH_BUF_INIT;

	sch_suggest_init(&sg, sub);
	for (size_t i = 0; names[i]; i++) {
		sch_suggest_add(&sg, names[i]);
		sch_buf_addf(&all, "%s%s", i ? ", " : "", names[i]);
	}
	sch_suggest_text(&near, &sg);
	sch_error_set(SCH_EUSAGE, "unknown subcommand '%s' for '%s'%s", sub,
		      verb, near.ptr);
	sch_error_hint("'%s' takes: %s", verb, all.ptr);
	sch_suggest_release(&sg);
	sch_buf_release(&near);
	sch_buf_release(&all);
	return SCH_EUSAGE;
}

int sch_cmd_count(long *out, const char *s, const char *opt)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0)
		return sch_error_set(SCH_EUSAGE, "%s needs a number, not '%s'",
				     opt, s);
	*out = v;
	return 0;
}

/* Refs are read once a process: decoration is only used by commands that
 * do not move refs. */
struct deco_ref {
	char *name;
	struct sch_id id;
};
static struct deco_ref *deco_refs;
static size_t deco_n;
static char *deco_head;
static int deco_loaded;

static int deco_cb(const char *name, const struct sch_id *id, void *arg)
{
	(void)arg;
	deco_refs = xrealloc(deco_refs, (deco_n + 1) * sizeof(*deco_refs));
	deco_refs[deco_n].name = xstrdup(name);
	deco_refs[deco_n].id = *id;
	deco_n++;
	return 0;
}

void sch_cmd_decoration(struct sch_buf *out, struct sch_txn *t,
			const struct sch_id *id)
{
	sch_buf_reset(out);
	if (!deco_loaded) {
		struct sch_buf head = SCH_BUF_INIT;
		deco_loaded = 1;
		if (sch_ref_read_symbolic(&head, t, "HEAD") == 1)
			deco_head = sch_buf_detach(&head, NULL);
		sch_buf_release(&head);
		sch_ref_each(t, "heads/", deco_cb, NULL);
		sch_ref_each(t, "tags/", deco_cb, NULL);
	}
	for (size_t i = 0; i < deco_n; i++) {
		const char *name = deco_refs[i].name;
		if (sch_id_cmp(&deco_refs[i].id, id))
			continue;
		if (out->len)
			sch_buf_addstr(out, ", ");
		if (!strncmp(name, "heads/", 6)) {
			if (deco_head && !strcmp(deco_head, name))
				sch_buf_addf(out, "HEAD -> %s", name + 6);
			else
				sch_buf_addstr(out, name + 6);
		} else {
			sch_buf_addf(out, "tag: %s", name + 5);
		}
	}
}

/* The worktree database read once a process into an id -> name table. */
int sch_cmd_signing_key(struct sch_key *out, const char *name,
			const struct sch_ctx *ctx)
{
	char *def = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!name) {
		sch_key_default(&def, ctx ? &ctx->config : NULL);
		if (!def) {
			sch_error_set(SCH_ENOTFOUND, "no signing key");
			sch_error_hint("make one with 'schema key generate', or "
				       "name one with --key NAME");
			return SCH_ENOTFOUND;
		}
		name = def;
	}
	rc = sch_key_load(out, name);
	free(def);
	return rc;
}

int sch_cmd_print_sigs(const char *prefix, struct sch_txn *t,
		       const struct sch_trusted *tr, const struct sch_id *id,
		       const char *tag)
{
	struct sch_sig_result res[16];
	size_t n = 0;
	int bad = 0, rc;

	rc = sch_sig_check(res, 16, &n, t, tr, id, tag, 0);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		printf("%ssigned by %s (%s): %s\n", prefix, res[i].name,
		       res[i].fpr, sch_sig_status_name(res[i].status));
		bad += res[i].status == SCH_SIG_BAD;
	}
	return bad;
}

int sch_cmd_sigs_json(struct json_t *o, struct sch_txn *t,
		      const struct sch_trusted *tr, const struct sch_id *id)
{
	struct sch_sig_result res[16];
	json_t *a = json_array(), *best = NULL;
	size_t n = 0;
	int rc = sch_sig_check(res, 16, &n, t, tr, id, NULL, 0);

	if (rc) {
		json_decref(a);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		char st[16];
		/* lowercase in JSON: good, bad, untrusted */
		snprintf(st, sizeof(st), "%s", res[i].status == SCH_SIG_BAD
						       ? "bad"
						       : sch_sig_status_name(
								 res[i].status));
		json_object_set_new(e, "signer", json_string(res[i].name));
		json_object_set_new(e, "key", json_string(res[i].fpr));
		json_object_set_new(e, "status", json_string(st));
		json_array_append_new(a, e);
	}
	/* the summary: a good one, else an untrusted one, else a bad one */
	for (int want = SCH_SIG_GOOD; want <= SCH_SIG_BAD && !best; want++)
		for (size_t i = 0; i < n && !best; i++)
			if ((int)res[i].status == want)
				best = json_array_get(a, i);
	json_object_set_new(o, "signature", best ? json_deep_copy(best)
						 : json_null());
	json_object_set_new(o, "signatures", a);
	return 0;
}

int sch_cmd_operator_key(struct sch_key *out, const struct sch_ctx *ctx)
{
	char *name = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	sch_key_default(&name, &ctx->config);
	if (!name)
		return 0;
	rc = sch_key_load(out, name);
	free(name);
	if (rc) {
		fprintf(stderr, "schema: warning: audit events go unsigned: %s\n",
			sch_error_msg());
		return 0;
	}
	return 1;
}

void sch_cmd_unchecked_warning(const char *what)
{
	sch_ui_warn("%s: %s", what, sch_error_msg());
	sch_ui_hint("install the PostgreSQL server programs (Debian: "
		    "postgresql) or point PG_BINDIR at them, or name a server "
		    "with SCHEMA_DEV_URL; then 'schema validate' checks what "
		    "was stored unchecked (commit.check = require makes this "
		    "an error)");
}


int sch_cmd_confirm(const struct sch_envpol *pol, int yes, const char *what)
{
	char *q;
	int ok;

	if (!pol->confirm || yes)
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		sch_error_set(SCH_EUSAGE, "%s on %s needs confirmation and there "
			      "is no terminal to ask", what, pol->name);
		sch_error_hint("pass --yes to confirm from a script");
		return SCH_EUSAGE;
	}
	q = xasprintf("%s on %s (%s)?", what, pol->name, pol->shown);
	ok = sch_ui_confirm(q);
	free(q);
	if (!ok)
		return sch_error_set(SCH_EREFUSED, "not confirmed: nothing changed");
	return 0;
}
