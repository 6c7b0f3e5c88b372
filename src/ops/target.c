/* target.c - connection resolution and environment policies. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/error.h"
#include "schema/suggest.h"
#include "schema/registry.h"
#include "schema/target.h"

static const char *const builtin_envs[] = { "development", "staging",
					    "production" };

static char *env_get(const struct sch_config *cfg, const char *env,
		     const char *key)
{
	char *k = xasprintf("env.%s.%s", env, key);
	const char *v = sch_config_get(cfg, k);

	free(k);
	return v ? xstrdup(v) : NULL;
}

/* The environment of a config key "env.<name>.<key>" into out, or 0. */
static int key_env(struct sch_buf *out, const char *key)
{
	const char *last;

	if (strncmp(key, "env.", 4))
		return 0;
	last = strrchr(key + 4, '.');
	if (!last || last == key + 4)
		return 0;
	sch_buf_reset(out);
	sch_buf_add(out, key + 4, (size_t)(last - (key + 4)));
	return 1;
}

int sch_target_env_known(const struct sch_config *cfg, const char *env)
{
	struct sch_buf name = SCH_BUF_INIT;
	int found = 0;

	for (size_t i = 0; i < sizeof(builtin_envs) / sizeof(*builtin_envs); i++)
		if (!strcmp(env, builtin_envs[i]))
			return 1;
	for (size_t i = 0; i < cfg->n && !found; i++)
		found = key_env(&name, cfg->e[i].key) && !strcmp(name.ptr, env);
	sch_buf_release(&name);
	return found;
}

/* A name that is neither built in nor configured would run with no
 * policy at all (a misspelt "prodution"): refuse it, naming the nearest. */
static int check_env(const struct sch_config *cfg, const char *env)
{
	struct sch_suggest sg;
	struct sch_buf name = SCH_BUF_INIT, near = SCH_BUF_INIT;
	int rc;

	if (sch_target_env_known(cfg, env))
		return 0;
	sch_suggest_init(&sg, env);
	for (size_t i = 0; i < sizeof(builtin_envs) / sizeof(*builtin_envs); i++)
		sch_suggest_add(&sg, builtin_envs[i]);
	for (size_t i = 0; i < cfg->n; i++)
		if (key_env(&name, cfg->e[i].key))
			sch_suggest_add(&sg, name.ptr);
	sch_suggest_text(&near, &sg);
	rc = sch_error_set(SCH_EUSAGE, "unknown environment '%s'%s", env,
			   near.ptr);
	sch_error_hint("environments are development, staging, production "
		       "and those of [env \"NAME\"] in .schema/config");
	sch_suggest_release(&sg);
	sch_buf_release(&name);
	sch_buf_release(&near);
	return rc;
}

/* A duration setting of env as PostgreSQL reads it ("5000ms"): the one
 * syntax of sch_duration_parse, never the server's bare milliseconds. */
static int env_duration(char **out, const struct sch_config *cfg,
			const char *env, const char *key)
{
	char *k = xasprintf("env.%s.%s", env, key);
	long ms;
	int rc = sch_config_duration(cfg, k, -1, &ms);

	free(k);
	*out = NULL;
	if (rc)
		return rc;
	if (ms >= 0)
		*out = xasprintf("%ldms", ms);
	return 0;
}

int sch_target_policy(struct sch_envpol *pol, const struct sch_config *cfg,
		      const char *env, const char *url)
{
	struct sch_pg_source src = { url, env, NULL };
	struct sch_buf ci = SCH_BUF_INIT, shown = SCH_BUF_INIT;
	enum sch_pg_from from;
	char *env_url = NULL, *key;
	int rc = 0, b;

	memset(pol, 0, sizeof(*pol));
	pol->backup = xstrdup("never");
	if (env && !*env)
		return sch_error_set(SCH_EUSAGE, "empty environment name");
	if (env) {
		rc = check_env(cfg, env);
		if (rc)
			goto out;
		pol->name = xstrdup(env);
		if (!strcmp(env, "production")) {
			pol->confirm = 1;
			free(pol->backup);
			pol->backup = xstrdup("always");
		} else if (!strcmp(env, "staging")) {
			free(pol->backup);
			pol->backup = xstrdup("downgrade");
		}
		env_url = env_get(cfg, env, "url");
		key = xasprintf("env.%s.confirm", env);
		rc = sch_config_bool(cfg, key, pol->confirm, &b);
		free(key);
		if (rc)
			goto out;
		pol->confirm = b;
		key = xasprintf("env.%s.require-clean", env);
		rc = sch_config_bool(cfg, key, !strcmp(env, "production"),
				     &pol->require_clean);
		free(key);
		if (rc)
			goto out;
		key = xasprintf("env.%s.require-signed", env);
		rc = sch_config_bool(cfg, key, 0, &pol->require_signed);
		free(key);
		if (rc)
			goto out;
		{
			char *bk = env_get(cfg, env, "backup");
			if (bk) {
				if (strcmp(bk, "always") && strcmp(bk, "downgrade") &&
				    strcmp(bk, "never")) {
					rc = sch_error_set(SCH_EPARSE,
							   "env %s: backup must be "
							   "always, downgrade or never, "
							   "not '%s'", env, bk);
					free(bk);
					goto out;
				}
				free(pol->backup);
				pol->backup = bk;
			}
		}
		pol->backup_key_file = env_get(cfg, env, "backup-key-file");
		rc = env_duration(&pol->statement_timeout, cfg, env,
				  "statement-timeout");
		if (!rc)
			rc = env_duration(&pol->lock_timeout, cfg, env,
					  "lock-timeout");
		if (rc)
			goto out;
	}
	src.env_url = env_url;
	rc = sch_pg_resolve(&ci, &from, &src);
	if (rc)
		goto out;
	pol->from = sch_pg_from_text(from);
	sch_pg_redact(&shown, ci.ptr);
	pol->conninfo = sch_buf_detach(&ci, NULL);
	pol->shown = sch_buf_detach(&shown, NULL);
out:
	free(env_url);
	sch_buf_release(&ci);
	sch_buf_release(&shown);
	return rc;
}

void sch_target_release(struct sch_envpol *pol)
{
	free(pol->name);
	free(pol->backup);
	free(pol->backup_key_file);
	free(pol->statement_timeout);
	free(pol->lock_timeout);
	if (pol->conninfo) {
		/* Do not leave a password lying in freed memory. */
		memset(pol->conninfo, 0, strlen(pol->conninfo));
		free(pol->conninfo);
	}
	free(pol->shown);
	memset(pol, 0, sizeof(*pol));
}

int sch_target_connect(struct sch_pg **out, const struct sch_envpol *pol)
{
	int rc = sch_pg_open(out, pol->conninfo);

	if (rc)
		return rc;
	if (pol->statement_timeout) {
		const char *p[2] = { "statement_timeout", pol->statement_timeout };
		rc = sch_pg_exec(*out, NULL, SCH_PG_TUPLES,
				 "SELECT set_config($1, $2, false)", 2, p);
	}
	if (!rc && pol->lock_timeout) {
		const char *p[2] = { "lock_timeout", pol->lock_timeout };
		rc = sch_pg_exec(*out, NULL, SCH_PG_TUPLES,
				 "SELECT set_config($1, $2, false)", 2, p);
	}
	if (rc) {
		rc = sch_error_wrap(rc, "env %s", pol->name ? pol->name : "?");
		sch_pg_close(*out);
		*out = NULL;
	}
	return rc;
}

int sch_target_read(const struct sch_config *cfg, const char *url,
		    const char *env, struct sch_envpol *pol, struct sch_pg **pg,
		    struct sch_reg *reg, struct sch_applied_set *applied,
		    int scripts)
{
	int rc = sch_target_policy(pol, cfg, env, url);

	memset(reg, 0, sizeof(*reg));
	memset(applied, 0, sizeof(*applied));
	if (!rc)
		rc = sch_target_connect(pg, pol);
	if (rc)
		return rc;
	sch_reg_init(reg, *pg, sch_config_get(cfg, "core.registry"));
	return sch_reg_load(reg, applied, scripts);
}
