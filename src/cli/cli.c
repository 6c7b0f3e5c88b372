/* cli.c - the command line: global options, the command table,
 * repository set-up and exit statuses (cli.h). main.c only hides
 * passwords from ps and calls sch_cli_main(). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/cli.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/refs.h"
#include "schema/suggest.h"
#include "schema/ui.h"

#define SCHEMA_VERSION "0.1.0"

struct cmd {
	const char *name;
	sch_cmd_fn fn;
	int flags;
	const char *alias_of; /* man page name for aliases */
};

/* Sorted by name. */
static const struct cmd commands[] = {
	{ "audit", cmd_audit, SCH_CMD_REPO, NULL },
	{ "backup", cmd_backup, SCH_CMD_REPO | SCH_CMD_NOTXN, NULL },
	{ "branch", cmd_branch, SCH_CMD_REPO | SCH_CMD_WRITES, NULL },
	{ "checkout", cmd_checkout, SCH_CMD_REPO, NULL },
	{ "commit", cmd_commit, SCH_CMD_REPO | SCH_CMD_WRITES, NULL },
	{ "current", cmd_current, SCH_CMD_REPO, NULL },
	{ "dev", cmd_dev, SCH_CMD_REPO, NULL },
	{ "diff", cmd_diff, SCH_CMD_REPO, NULL },
	{ "fsck", cmd_fsck, SCH_CMD_REPO, NULL },
	{ "gc", cmd_gc, SCH_CMD_REPO | SCH_CMD_WRITES, NULL },
	{ "generate", cmd_new, SCH_CMD_REPO, "new" },
	{ "heads", cmd_heads, SCH_CMD_REPO, NULL },
	{ "history", cmd_log, SCH_CMD_REPO, "log" },
	{ "init", cmd_init, 0, NULL },
	{ "key", cmd_key, 0, NULL },
	{ "log", cmd_log, SCH_CMD_REPO, NULL },
	{ "merge", cmd_merge, SCH_CMD_REPO | SCH_CMD_WRITES, NULL },
	{ "migrate", cmd_migrate, SCH_CMD_REPO, NULL },
	{ "new", cmd_new, SCH_CMD_REPO, NULL },
	{ "restore", cmd_restore, SCH_CMD_REPO, NULL },
	{ "rollback", cmd_rollback, SCH_CMD_REPO, NULL },
	{ "show", cmd_show, SCH_CMD_REPO, NULL },
	{ "snapshots", cmd_snapshots, SCH_CMD_REPO, NULL },
	{ "stamp", cmd_stamp, SCH_CMD_REPO, NULL },
	{ "state", cmd_state, SCH_CMD_REPO, NULL },
	{ "status", cmd_status, SCH_CMD_REPO, NULL },
	{ "switch", cmd_switch, SCH_CMD_REPO | SCH_CMD_WRITES, NULL },
	{ "tag", cmd_tag, SCH_CMD_REPO | SCH_CMD_WRITES, NULL },
	{ "task", cmd_task, SCH_CMD_REPO | SCH_CMD_NOTXN, NULL },
	{ "validate", cmd_validate, SCH_CMD_REPO, NULL },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "unknown command 'stauts' (did you mean 'status'?)" */
static void unknown_command(const char *name)
{
	struct sch_suggest sg;
	struct sch_buf near = SCH_BUF_INIT;

	sch_suggest_init(&sg, name);
	for (size_t i = 0; i < NCOMMANDS; i++)
		sch_suggest_add(&sg, commands[i].name);
	sch_suggest_add(&sg, "help");
	sch_suggest_text(&near, &sg);
	sch_ui_error("unknown command '%s'%s", name, near.ptr);
	sch_suggest_release(&sg);
	sch_buf_release(&near);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: schema [--repo DIR] <command> [<args>]\n\n"
		   "commands:");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "%s%s", i % 8 ? " " : "\n  ", commands[i].name);
	fprintf(f, "\n\n'schema <command> --help' describes a command.\n");
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *absolute(const char *path)
{
	char buf[PATH_MAX];

	if (realpath(path, buf))
		return xstrdup(buf);
	return xstrdup(path);
}

int sch_ctx_locate(struct sch_ctx *ctx, int must_exist)
{
	char cwd[PATH_MAX];
	const char *opt = ctx->repo_opt;
	char *dir;

	if (opt && *opt) {
		/* DIR is the .schema directory itself or the project holding it. */
		const char *base = strrchr(opt, '/');
		char *abs = absolute(opt);
		base = base ? base + 1 : opt;
		if (!strcmp(base, ".schema"))
			ctx->repo = abs;
		else {
			ctx->repo = xasprintf("%s/.schema", abs);
			free(abs);
		}
		if (must_exist && !is_dir(ctx->repo))
			return sch_error_set(SCH_ENOREPO,
					     "no repository at '%s'", ctx->repo);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return sch_error_set(SCH_EIO, "cannot get the working "
					     "directory: %s", strerror(errno));
		dir = xstrdup(cwd);
		for (;;) {
			char *cand = xasprintf("%s/.schema", dir);
			char *slash;
			if (is_dir(cand)) {
				ctx->repo = cand;
				break;
			}
			free(cand);
			slash = strrchr(dir, '/');
			if (!slash || !must_exist)
				break;
			if (slash == dir) {
				if (dir[1] == '\0')
					break;
				dir[1] = '\0';
			} else {
				*slash = '\0';
			}
		}
		free(dir);
		if (!ctx->repo) {
			if (must_exist) {
				sch_error_set(SCH_ENOREPO,
					      "no repository found in '%s' or "
					      "any parent directory", cwd);
				sch_error_hint("run 'schema init' to create one, "
					       "or name it with --repo DIR");
				return SCH_ENOREPO;
			}
			ctx->repo = xasprintf("%s/.schema", cwd);
		}
	}
	{
		char *slash;
		ctx->root = xstrdup(ctx->repo);
		slash = strrchr(ctx->root, '/');
		if (slash && slash != ctx->root)
			*slash = '\0';
		else if (slash)
			slash[1] = '\0';
		ctx->migrations = xasprintf("%s/migrations", ctx->root);
	}
	return 0;
}

static int open_repo(struct sch_ctx *ctx, int flags)
{
	char *store, *config;
	int rc;

	rc = sch_ctx_locate(ctx, 1);
	if (rc)
		return rc;
	config = xasprintf("%s/config", ctx->repo);
	rc = sch_config_load(&ctx->config, config);
	free(config);
	if (rc)
		return rc;
	store = xasprintf("%s/store", ctx->repo);
	rc = sch_store_open(&ctx->store, store, 0);
	free(store);
	if (rc == SCH_ENOREPO) {
		sch_error_set(SCH_ENOREPO, "'%s' has no object store",
			      ctx->repo);
		sch_error_hint("run 'schema init' there");
		return SCH_ENOREPO;
	}
	if (rc)
		return rc;
	if (!(flags & SCH_CMD_NOTXN))
		rc = sch_txn_begin(&ctx->txn, ctx->store,
				   (flags & SCH_CMD_WRITES) != 0);
	return rc;
}

static void close_repo(struct sch_ctx *ctx)
{
	sch_txn_abort(ctx->txn);
	ctx->txn = NULL;
	sch_store_close(ctx->store);
	sch_config_release(&ctx->config);
	free(ctx->root);
	free(ctx->repo);
	free(ctx->migrations);
}

int sch_cmd_current_branch(struct sch_buf *out, struct sch_txn *t)
{
	int rc = sch_ref_read_symbolic(out, t, "HEAD");

	if (rc == 1 && out->len > 6 && !strncmp(out->ptr, "heads/", 6)) {
		memmove(out->ptr, out->ptr + 6, out->len - 6);
		sch_buf_truncate(out, out->len - 6);
		return 0;
	}
	if (rc < 0)
		return rc;
	return sch_error_set(SCH_ENOTFOUND, "HEAD does not name a branch");
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

int sch_cli_main(int argc, char **argv)
{
	struct sch_ctx ctx;
	const struct cmd *cmd;
	int i = 1, rc;

	memset(&ctx, 0, sizeof(ctx));
	sch_object_lib_init();
	opterr = 0;
	ctx.repo_opt = getenv("SCHEMA_DIR");
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--repo") && i + 1 < argc) {
			ctx.repo_opt = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--repo=", 7)) {
			ctx.repo_opt = argv[i] + 7;
			i++;
		} else if (!strcmp(argv[i], "--version")) {
			printf("schema %s\n", SCHEMA_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			if (sch_ui_help(stdout, NULL))
				usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--repo")) {
			sch_ui_error("option '--repo' needs a value");
			return 2;
		} else {
			sch_ui_error("unknown option '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		const char *verb = i + 1 < argc ? argv[i + 1] : NULL;
		const struct cmd *c = verb ? find_cmd(verb) : NULL;
		if (verb && !c) {
			unknown_command(verb);
			return 2;
		}
		if (verb && i + 2 < argc) {
			sch_ui_error("unexpected argument '%s' for 'help'",
				     argv[i + 2]);
			return 2;
		}
		if (sch_ui_help(stdout, c ? (c->alias_of ? c->alias_of : c->name)
					  : NULL))
			usage(stdout);
		return 0;
	}
	cmd = find_cmd(argv[i]);
	if (!cmd) {
		unknown_command(argv[i]);
		usage(stderr);
		return 2;
	}
	argc -= i;
	argv += i;
	if (wants_help(argc, argv)) {
		if (sch_ui_help(stdout, cmd->alias_of ? cmd->alias_of : cmd->name)) {
			sch_ui_error("no help page for '%s'", cmd->name);
			return 4;
		}
		return 0;
	}
	ctx.verb = cmd->name;
	rc = 0;
	if (cmd->flags & SCH_CMD_REPO)
		rc = open_repo(&ctx, cmd->flags);
	if (!rc)
		rc = cmd->fn(argc, argv, &ctx);
	if (rc == 0 && ctx.txn && (cmd->flags & SCH_CMD_WRITES)) {
		rc = sch_txn_commit(ctx.txn);
		ctx.txn = NULL;
	}
	if (rc < 0) {
		sch_ui_print_error();
		rc = sch_error_exit_status(rc);
	}
	close_repo(&ctx);
	if (fflush(stdout) != 0 && rc == 0) {
		sch_ui_error("cannot write output: %s", strerror(errno));
		rc = 4;
	}
	return rc;
}
