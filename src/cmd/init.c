/* init.c - create a repository: .schema/{store,config,hooks}, migrations/. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/hooks_embed.h"
#include "schema/refs.h"

static const char default_config[] =
	"# schema repository configuration (git-config syntax)\n"
	"[core]\n"
	"\tregistry = schema_registry\n"
	"\n"
	"# The scratch cluster that commit, merge and validate check revisions\n"
	"# on stops after this long without use (0: never; see schema-dev(1)).\n"
	"[dev]\n"
	"\tidle-stop = 15min\n"
	"\n"
	"# Target databases. Policies follow the seed workflow: production\n"
	"# backs up before every checkout and asks for confirmation.\n"
	"#[env \"production\"]\n"
	"#\turl = postgresql://app@db.example.com/app?sslmode=verify-full\n"
	"#\tbackup = always\n"
	"#\tconfirm = true\n"
	"#\trequire-signed = false\n"
	"#\tstatement-timeout = 60s\n"
	"#\tlock-timeout = 5s\n";

static int install_hooks(const char *dir)
{
	for (const struct sch_embedded *e = sch_embedded_hooks; e->name; e++) {
		char *path = xasprintf("%s/%s", dir, e->name);
		FILE *f = fopen(path, "wx");
		int ok = f && fwrite(e->data, 1, e->len, f) == e->len;
		if (f && fclose(f) != 0)
			ok = 0;
		if (ok)
			chmod(path, 0755);
		free(path);
		if (!ok && errno != EEXIST)
			return sch_error_set(SCH_EIO, "cannot write hook %s: %s",
					     e->name, strerror(errno));
	}
	return 0;
}

SCH_CMD(init)
{
	static const struct option opts[] = {
		{ "branch", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *branch = "main";
	struct sch_store *store = NULL;
	struct sch_txn *txn = NULL;
	char *path = NULL, *ref = NULL;
	struct stat st;
	int c, quiet = 0, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":b:q", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			branch = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (optind < argc - 1)
		return sch_error_set(SCH_EUSAGE, "init takes at most one directory");
	if (optind == argc - 1)
		ctx->repo_opt = argv[optind];
	rc = sch_ref_check_name(branch);
	if (rc)
		return sch_error_wrap(SCH_EUSAGE, "--branch");
	if (ctx->repo_opt && stat(ctx->repo_opt, &st) != 0 &&
	    mkdir(ctx->repo_opt, 0755) != 0)
		return sch_error_set(SCH_EIO, "cannot create '%s': %s",
				     ctx->repo_opt, strerror(errno));
	rc = sch_ctx_locate(ctx, 0);
	if (rc)
		return rc;
	path = xasprintf("%s/store/data.mdb", ctx->repo);
	if (stat(path, &st) == 0) {
		rc = sch_error_set(SCH_EEXISTS, "a repository already exists "
				   "at '%s'", ctx->repo);
		goto out;
	}
	if (mkdir(ctx->repo, 0755) != 0 && errno != EEXIST) {
		rc = sch_error_set(SCH_EIO, "cannot create '%s': %s", ctx->repo,
				   strerror(errno));
		goto out;
	}
	free(path);
	path = xasprintf("%s/hooks", ctx->repo);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		rc = sch_error_set(SCH_EIO, "cannot create '%s': %s", path,
				   strerror(errno));
		goto out;
	}
	rc = install_hooks(path);
	if (rc)
		goto out;
	free(path);
	path = xasprintf("%s/config", ctx->repo);
	if (stat(path, &st) != 0) {
		rc = sch_write_file_atomic(path, default_config,
					   sizeof(default_config) - 1);
		if (rc)
			goto out;
	}
	if (mkdir(ctx->migrations, 0755) != 0 && errno != EEXIST) {
		rc = sch_error_set(SCH_EIO, "cannot create '%s': %s",
				   ctx->migrations, strerror(errno));
		goto out;
	}
	free(path);
	path = xasprintf("%s/store", ctx->repo);
	rc = sch_store_open(&store, path, 1);
	if (rc)
		goto out;
	rc = sch_txn_begin(&txn, store, 1);
	if (rc)
		goto out;
	ref = xasprintf("heads/%s", branch);
	rc = sch_ref_write_symbolic(txn, "HEAD", ref, "init");
	if (!rc)
		rc = sch_kv_put(txn, SCH_DB_META, "format", 6, "1", 1);
	if (rc)
		goto out;
	rc = sch_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto out;
	if (!quiet)
		printf("Initialized empty schema repository in %s\n", ctx->repo);
out:
	sch_txn_abort(txn);
	sch_store_close(store);
	free(path);
	free(ref);
	return rc;
}
