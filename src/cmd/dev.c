/* dev.c - the scratch cluster: schema dev start|stop|url|status. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/devcluster.h"
#include "schema/error.h"
#include "schema/pg.h"

static int usage(void)
{
	return sch_error_set(SCH_EUSAGE, "usage: schema dev start|stop "
			     "[--remove]|url|status [--json]");
}

/* SCHEMA_DEV_URL, password hidden. */
static void shown_url(struct sch_buf *out, const char *url)
{
	if (sch_pg_redact(out, url))
		sch_buf_addstr(out, "(SCHEMA_DEV_URL)");
}

static int server_version(struct sch_buf *out, const char *url)
{
	struct sch_pg *pg = NULL;
	int rc = sch_pg_open(&pg, url);

	if (!rc)
		rc = sch_pg_query_value(out, pg, "SHOW server_version", 0,
					NULL);
	sch_pg_close(pg);
	return rc;
}

/* 1 when the cluster's data directory exists. */
static int access_data(const char *repo)
{
	char *p = xasprintf("%s/dev/data/PG_VERSION", repo);
	FILE *f = fopen(p, "r");

	free(p);
	if (f)
		fclose(f);
	return f != NULL;
}

static int status(struct sch_ctx *ctx, int json, const char *ext)
{
	struct sch_buf url = SCH_BUF_INIT, ver = SCH_BUF_INIT;
	long pid = 0;
	int up;
	char *dir = xasprintf("%s/dev", ctx->repo);

	if (ext) {
		shown_url(&url, ext);
		up = server_version(&ver, ext) == 0;
	} else {
		up = sch_dev_running(ctx->repo, &pid);
		sch_dev_url(&url, ctx->repo, "postgres");
		if (up && server_version(&ver, url.ptr))
			up = 0;
	}
	if (json) {
		json_t *o = json_object();
		char *s;
		json_object_set_new(o, "kind", json_string(ext ? "server"
							       : "private"));
		json_object_set_new(o, "running", json_boolean(up));
		json_object_set_new(o, "directory", ext ? json_null()
							: json_string(dir));
		json_object_set_new(o, "url", json_string(url.ptr));
		json_object_set_new(o, "pid", pid ? json_integer(pid)
						  : json_null());
		json_object_set_new(o, "version", up ? json_string(ver.ptr)
						     : json_null());
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else if (ext) {
		printf("scratch server (SCHEMA_DEV_URL): %s%s%s\n  url: %s\n",
		       up ? "reachable, PostgreSQL " : "not reachable",
		       up ? ver.ptr : "", "", url.ptr);
	} else if (up) {
		printf("scratch cluster: running, PostgreSQL %s, pid %ld\n"
		       "  directory: %s\n  url: %s\n", ver.ptr, pid, dir,
		       url.ptr);
	} else {
		printf("scratch cluster: stopped%s\n  directory: %s\n",
		       access_data(ctx->repo) ? "" : " (not created yet)", dir);
	}
	free(dir);
	sch_buf_release(&url);
	sch_buf_release(&ver);
	return 0;
}

SCH_CMD(dev)
{
	static const char *const subs[] = { "start", "stop", "url", "status",
					    NULL };
	const char *ext = getenv("SCHEMA_DEV_URL");
	const char *sub;
	int json = 0, remove = 0;

	if (ext && !*ext)
		ext = NULL;
	if (argc < 2)
		return usage();
	sub = argv[1];
	if (strcmp(sub, "start") && strcmp(sub, "stop") && strcmp(sub, "url") &&
	    strcmp(sub, "status"))
		return sch_cmd_unknown_sub("dev", sub, subs);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && !strcmp(sub, "status"))
			json = 1;
		else if (!strcmp(argv[i], "--remove") && !strcmp(sub, "stop"))
			remove = 1;
		else
			return sch_error_set(SCH_EUSAGE, "dev %s: unexpected "
					     "argument '%s'", sub, argv[i]);
	}
	if (!strcmp(sub, "status"))
		return status(ctx, json, ext);
	if (!strcmp(sub, "url")) {
		struct sch_buf u = SCH_BUF_INIT;
		int rc = 0;
		if (ext) {
			shown_url(&u, ext);
		} else {
			rc = sch_dev_start(ctx->repo, 0, NULL);
			sch_dev_url(&u, ctx->repo, "postgres");
		}
		if (!rc)
			printf("%s\n", u.ptr);
		sch_buf_release(&u);
		return rc;
	}
	if (!strcmp(sub, "start")) {
		int started = 0, rc;
		if (ext) {
			fprintf(stderr, "schema: note: SCHEMA_DEV_URL names the "
				"scratch server; nothing to start\n");
			return 0;
		}
		rc = sch_dev_start(ctx->repo, 1, &started);
		if (!rc)
			printf("scratch cluster %s in %s/dev\n",
			       started ? "started" : "already running",
			       ctx->repo);
		return rc;
	}
	if (!strcmp(sub, "stop")) {
		long pid;
		int was, rc;
		if (ext)
			return sch_error_set(SCH_EREFUSED, "SCHEMA_DEV_URL names "
					     "the scratch server; it is not "
					     "schema's to stop");
		was = sch_dev_running(ctx->repo, &pid);
		rc = sch_dev_stop(ctx->repo, remove);
		if (!rc)
			printf("scratch cluster %s%s\n",
			       was ? "stopped" : "was not running",
			       remove ? "; its data removed" : "");
		return rc;
	}
	return sch_cmd_unknown_sub("dev", sub, subs);
}
