/* backup.c - take a snapshot of a database into the store; the progress
 * line that restore shares. */
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/catalog.h"
#include "schema/chunker.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/seal.h"
#include "schema/snapshot.h"
#include "schema/target.h"

static void human(char *out, size_t n, double v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void sch_cmd_progress(void *arg, const struct sch_snap_progress *p)
{
	char b[32], r[32], eta[32] = "";
	double rate = p->seconds > 0 ? p->bytes / p->seconds : 0;

	(void)arg;
	if (!isatty(STDERR_FILENO))
		return;
	human(b, sizeof(b), (double)p->bytes);
	human(r, sizeof(r), rate);
	if (!p->final && rate > 0 && p->total_bytes > p->bytes)
		snprintf(eta, sizeof(eta), ", ETA %.0f s",
			 (p->total_bytes - p->bytes) / rate);
	fprintf(stderr, "\r\033[K%s: %s, %llu rows, %s/s, %zu/%zu tables%s",
		p->phase, b, (unsigned long long)p->rows, r, p->tables_done,
		p->tables, eta);
	if (p->final)
		fputc('\n', stderr);
	fflush(stderr);
}

int sch_cmd_size(size_t *out, const char *s, const char *opt)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *s == '-' || errno)
		goto bad;
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'm' || *end == 'M')
		shift = 20, end++;
	if (v > (SIZE_MAX >> shift))
		goto bad;
	v <<= shift;
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		goto bad;
	*out = (size_t)v;
	return 0;
bad:
	return sch_error_set(SCH_EUSAGE, "%s needs a size such as 256K or 1M, "
			     "not '%s'", opt, s);
}

int sch_cmd_backup_key(struct sch_seal_key *out, const struct sch_ctx *ctx,
		       const struct sch_envpol *pol)
{
	const char *var = getenv("SCHEMA_BACKUP_KEY_FILE");
	char *path;
	int rc;

	if (var && *var)
		path = xstrdup(var);
	else if (pol && pol->backup_key_file && *pol->backup_key_file)
		path = pol->backup_key_file[0] == '/' || !ctx->root
			       ? xstrdup(pol->backup_key_file)
			       : xasprintf("%s/%s", ctx->root,
					   pol->backup_key_file);
	else
		return 0;
	rc = sch_seal_key_load(out, path);
	free(path);
	return rc ? rc : 1;
}

int sch_cmd_backup(struct sch_ctx *ctx, const struct sch_envpol *pol,
		   const char *note, int level, size_t chunk, int quiet,
		   int encrypt, struct sch_id *out)
{
	struct sch_backup_opts o;
	struct sch_backup_result res;
	struct sch_catalog_opts co;
	struct sch_seal_key key;
	char hex[SCH_HEX_LEN + 1], kid[SCH_HEX_LEN + 1];
	int rc, sealed = 0;

	if (encrypt || (pol->backup_key_file && *pol->backup_key_file)) {
		rc = sch_cmd_backup_key(&key, ctx, pol);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			rc = sch_error_set(SCH_EUSAGE, "--encrypt needs a backup "
					   "key, and none was given");
			sch_error_hint("make one with 'schema key generate "
				       "--backup FILE' and name it in "
				       "SCHEMA_BACKUP_KEY_FILE");
			return rc;
		}
		sealed = 1;
	}
	memset(&o, 0, sizeof(o));
	sch_catalog_opts_config(&co, &ctx->config);
	o.conninfo = pol->conninfo;
	o.bindir = sch_config_get(&ctx->config, "core.pg-bindir");
	o.registry = sch_config_get(&ctx->config, "core.registry");
	o.note = note;
	o.level = level;
	o.chunk_avg = chunk;
	o.key = sealed ? &key : NULL;
	o.catalog = &co;
	o.progress = quiet ? NULL : sch_cmd_progress;
	rc = sch_snapshot_backup(&res, ctx->store, &o);
	if (sealed) {
		sch_id_hex(kid, &key.id);
		sch_seal_key_wipe(&key);
	}
	if (rc)
		return sch_error_wrap(rc, "backup of %s failed",
				      pol->shown[0] ? pol->shown
						    : "the default database");
	sch_id_hex(hex, &res.id);
	if (!quiet) {
		char raw[32], added[32];
		human(raw, sizeof(raw), (double)res.raw_bytes);
		human(added, sizeof(added), (double)res.new_bytes);
		fprintf(stderr, "snapshot %.12s: %zu tables, %llu rows, %s of "
			"data, %s added to the store", hex, res.tables,
			(unsigned long long)res.rows, raw, added);
		if (sealed)
			fprintf(stderr, ", encrypted with key %.12s", kid);
		fputc('\n', stderr);
	}
	if (out)
		*out = res.id;
	return 0;
}

SCH_CMD(backup)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "message", required_argument, NULL, 'm' },
		{ "level", required_argument, NULL, 'l' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "full", no_argument, NULL, 'f' },
		{ "encrypt", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *env = NULL, *note = NULL;
	struct sch_envpol pol;
	struct sch_id id;
	char hex[SCH_HEX_LEN + 1];
	long level = -1;
	size_t chunk = 0;
	int c, rc, quiet = 0, full = 0, encrypt = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":m:q", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'e': env = optarg; break;
		case 'm': note = optarg; break;
		case 'q': quiet = 1; break;
		case 'f': full = 1; break;
		case 'E': encrypt = 1; break;
		case 'l':
			rc = sch_cmd_count(&level, optarg, "--level");
			if (rc)
				return rc;
			if (level > 9)
				return sch_error_set(SCH_EUSAGE, "--level is 0 (no "
						     "compression) to 9, not "
						     "'%s'", optarg);
			break;
		case 'c':
			rc = sch_cmd_size(&chunk, optarg, "--chunk-size");
			if (rc)
				return rc;
			if (chunk < SCH_CHUNK_AVG_MIN || chunk > SCH_CHUNK_AVG_MAX)
				return sch_error_set(SCH_EUSAGE, "--chunk-size "
						     "is 1K to 16M, not '%s'",
						     optarg);
			break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "backup takes no arguments: "
				     "'%s'", argv[optind]);
	if (url && env)
		return sch_error_set(SCH_EUSAGE, "--url and --env exclude each "
				     "other");
	rc = sch_target_policy(&pol, &ctx->config, env, url);
	if (!rc)
		rc = sch_cmd_backup(ctx, &pol, note, (int)level, chunk, quiet,
				    encrypt, &id);
	if (!rc) {
		if (full)
			sch_id_hex(hex, &id);
		else
			sch_id_short(hex, &id);
		printf("%s\n", hex);
	}
	sch_target_release(&pol);
	return rc;
}
