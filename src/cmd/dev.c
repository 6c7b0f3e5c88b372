/* dev.c - the scratch cluster: schema dev start|stop|url|status. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
static int access_data(const char *dir)
{
	char *p = xasprintf("%s/data/PG_VERSION", dir);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

/* When it stops by itself, in words ("after 15 min idle, at 14:05"). */
static void stop_text(struct sch_buf *out, const struct sch_dev_info *in,
		      json_t *o)
{
	const char *why;
	time_t at = 0;

	if (in->kept) {
		why = "kept";
		sch_buf_addstr(out, "kept running by 'schema dev start' until "
			       "'schema dev stop'");
	} else if (in->idle == 0) {
		why = "never";
		sch_buf_addstr(out, "never by itself (dev.idle-stop = 0)");
	} else if (!in->watched) {
		why = "unwatched";
		sch_buf_addstr(out, "not by itself: no watcher runs (the next "
			       "use starts one)");
	} else {
		long idle = in->idle > 0 ? in->idle : SCH_DEV_IDLE_DEFAULT;
		char when[32] = "";
		why = "idle";
		at = in->last_use + idle;
		if (in->last_use)
			strftime(when, sizeof(when), "%H:%M:%S",
				 localtime(&at));
		sch_buf_addf(out, "after %ld s without use", idle);
		if (*when)
			sch_buf_addf(out, ", at %s unless used again", when);
	}
	if (o) {
		json_object_set_new(o, "stops", json_string(why));
		json_object_set_new(o, "stops_at", at ? json_integer(at)
						      : json_null());
		json_object_set_new(o, "idle_stop",
				    in->idle >= 0 ? json_integer(in->idle)
						  : json_null());
	}
}

static int status(struct sch_ctx *ctx, int json, const char *ext)
{
	struct sch_buf url = SCH_BUF_INIT, ver = SCH_BUF_INIT,
		       dir = SCH_BUF_INIT, ci = SCH_BUF_INIT,
		       stops = SCH_BUF_INIT;
	struct sch_dev_info in;
	int up;
	json_t *o = json ? json_object() : NULL;

	memset(&in, 0, sizeof(in));
	if (ext) {
		shown_url(&url, ext);
		up = server_version(&ver, ext) == 0;
	} else {
		sch_dev_info(&in, ctx->repo);
		up = in.running;
		sch_dev_dir(&dir, ctx->repo);
		sch_dev_url(&url, ctx->repo, "postgres");
		/* the very connection the checks make */
		if (up && (sch_dev_conninfo(&ci, ctx->repo, "postgres") ||
			   server_version(&ver, ci.ptr)))
			up = 0;
		if (up)
			stop_text(&stops, &in, o);
	}
	if (json) {
		char *s;
		json_object_set_new(o, "kind", json_string(ext ? "server"
							       : "private"));
		json_object_set_new(o, "running", json_boolean(up));
		json_object_set_new(o, "directory", ext ? json_null()
							: json_string(dir.ptr));
		json_object_set_new(o, "url", json_string(url.ptr));
		json_object_set_new(o, "pid", up && in.pid ? json_integer(in.pid)
							   : json_null());
		json_object_set_new(o, "version", up ? json_string(ver.ptr)
						     : json_null());
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
	} else if (ext) {
		printf("scratch server (SCHEMA_DEV_URL): %s%s%s\n  url: %s\n",
		       up ? "reachable, PostgreSQL " : "not reachable",
		       up ? ver.ptr : "", "", url.ptr);
	} else if (up) {
		printf("scratch cluster: running, PostgreSQL %s, pid %ld\n"
		       "  directory: %s\n  url: %s\n  stops: %s\n", ver.ptr,
		       in.pid, dir.ptr, url.ptr, stops.ptr);
	} else {
		printf("scratch cluster: stopped%s\n  directory: %s\n",
		       access_data(dir.ptr) ? "" : " (not created yet)",
		       dir.ptr);
	}
	json_decref(o);
	sch_buf_release(&url);
	sch_buf_release(&ver);
	sch_buf_release(&dir);
	sch_buf_release(&ci);
	sch_buf_release(&stops);
	return 0;
}

/* No server programs is a database matter here: exit 3. */
static int dev_rc(int rc)
{
	return rc == SCH_ENOTFOUND ? SCH_EDB : rc;
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
			struct sch_dev_use use;
			long idle;
			rc = sch_dev_idle_stop(&ctx->config, &idle);
			if (!rc)
				rc = dev_rc(sch_dev_acquire(&use, ctx->repo, idle,
							    0, NULL));
			if (!rc)
				sch_dev_release(&use, ctx->repo);
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
		rc = dev_rc(sch_dev_start(ctx->repo, 1, &started));
		/* up until dev stop: no idle stop */
		if (!rc)
			rc = sch_dev_keep(ctx->repo, 1);
		if (!rc) {
			struct sch_buf d = SCH_BUF_INIT;
			sch_dev_dir(&d, ctx->repo);
			printf("scratch cluster %s in %s; it runs until "
			       "'schema dev stop'\n",
			       started ? "started" : "already running", d.ptr);
			sch_buf_release(&d);
		}
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
