/*
 * target.h - which database a command works on, and the policy of its
 * environment (`[env "NAME"]` in .schema/config):
 *
 *   url = ...              connection (else DATABASE_URL, SCHEMA_DB_*, libpq)
 *   confirm = true|false   ask on a terminal before changing it
 *                          (default true for production)
 *   backup = always|downgrade|never   (default: production always,
 *                          staging downgrade, others never)
 *   statement-timeout = 60s, lock-timeout = 5s   set for the session
 *                          (durations: 500ms, 5s, 2min; bare = seconds)
 *   require-signed = false
 *   require-clean = true|false   refuse to change it while migrations/
 *                          has uncommitted or edited directories
 *                          (default true for production)
 *   backup-key-file = PATH  encrypt this environment's backups with the
 *                          key in PATH (relative: to the project root)
 */
#ifndef SCH_TARGET_H
#define SCH_TARGET_H

#include "schema/buf.h"
#include "schema/config.h"
#include "schema/pg.h"

struct sch_envpol {
	char *name;	/* NULL when no environment was named */
	int confirm;
	char *backup;	/* "always", "downgrade", "never" */
	char *statement_timeout, *lock_timeout; /* NULL: server default */
	int require_signed;
	int require_clean;
	char *backup_key_file;	/* NULL when none is configured */
	char *conninfo;	/* resolved; may hold a password: never print */
	char *shown;	/* redacted, for messages */
	const char *from; /* which source gave the connection */
};

/* Fills pol from the config for env (NULL: none) and the --url value.
 * env must be development, staging, production or an environment the
 * config defines: anything else is SCH_EUSAGE ("unknown environment
 * 'prodution' (did you mean 'production'?)"), before any connection.
 * Returns 0 or SCH_EPARSE (a bad boolean or duration), SCH_EUSAGE. */
int sch_target_policy(struct sch_envpol *pol, const struct sch_config *cfg,
		      const char *env, const char *url);
void sch_target_release(struct sch_envpol *pol);
/* 1 when env is built in or has a section in the config, else 0. */
int sch_target_env_known(const struct sch_config *cfg, const char *env);

/* Connects to pol's database and applies its session settings. Returns
 * 0 or SCH_EDB (the message names the redacted target). */
int sch_target_connect(struct sch_pg **out, const struct sch_envpol *pol);


/*
 * Resolves pol for env and url, connects (*pg), and reads the registry
 * into reg and applied (the scripts too when scripts is set): what
 * current, status and diff share. reg and applied are initialised even
 * on failure. Returns 0 or the error of sch_target_policy(),
 * sch_target_connect() or sch_reg_load().
 */
struct sch_reg;
struct sch_applied_set;
int sch_target_read(const struct sch_config *cfg, const char *url,
		    const char *env, struct sch_envpol *pol, struct sch_pg **pg,
		    struct sch_reg *reg, struct sch_applied_set *applied,
		    int scripts);

#endif
