/* key.c - Ed25519 signing keys: generate, list, export; backup keys
 * (generate --backup). */
#include <sodium.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/seal.h"
#include "schema/sign.h"

/* A backup key (seal.h) in a new file of its own. */
static int backup_key_generate(const char *path)
{
	struct sch_seal_key k;
	char kid[SCH_HEX_LEN + 1];
	int rc;

	if (!*path)
		return sch_error_set(SCH_EUSAGE, "--backup needs a file name");
	rc = sch_seal_key_generate(&k, path);
	if (rc)
		return rc;
	sch_id_hex(kid, &k.id);
	sch_seal_key_wipe(&k);
	printf("generated backup key %.12s in %s\n", kid, path);
	fprintf(stderr, "keep a copy of it somewhere safe: without it, the "
		"snapshots it encrypts cannot be restored\n");
	return 0;
}

static int key_generate(int argc, char **argv, struct sch_ctx *ctx)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "backup", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *backup = NULL;
	struct sch_key k;
	struct sch_buf dir = SCH_BUF_INIT, line = SCH_BUF_INIT;
	char fpr[SCH_FPR_LEN + 1];
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'b': backup = optarg; break;
		default:
			return sch_cmd_optfail(c, argv, "key generate", opts);
		}
	}
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "key generate takes no "
				     "arguments (got '%s')", argv[optind]);
	if (backup && name)
		return sch_error_set(SCH_EUSAGE, "--backup and --name exclude "
				     "each other");
	if (backup)
		return backup_key_generate(backup);
	if (!name)
		name = "default";
	rc = sch_key_generate(&k, name);
	if (rc)
		return rc;
	sch_key_dir(&dir);
	sch_key_fingerprint(fpr, k.pk);
	sch_key_publine(&line, &k);
	printf("generated key '%s' (%s) in %s\n%s", name, fpr, dir.ptr,
	       line.ptr);
	sodium_memzero(&k, sizeof(k));
	sch_buf_release(&dir);
	sch_buf_release(&line);
	return 0;
}

static int key_list(int argc, char **argv, struct sch_ctx *ctx)
{
	char **names;
	size_t n;
	int rc;

	if (argc > 1)
		return sch_error_set(SCH_EUSAGE, "key list takes no arguments");
	rc = sch_key_list(&names, &n);
	for (size_t i = 0; i < n; i++) {
		struct sch_key k;
		char fpr[SCH_FPR_LEN + 1];
		if (!rc && !sch_key_load(&k, names[i])) {
			sch_key_fingerprint(fpr, k.pk);
			printf("%s %s\n", fpr, names[i]);
		} else if (!rc) {
			fprintf(stderr, "schema: warning: %s\n", sch_error_msg());
		}
		sodium_memzero(&k, sizeof(k));
		free(names[i]);
	}
	free(names);
	return rc;
}

static int key_export(int argc, char **argv, struct sch_ctx *ctx)
{
	struct sch_key k;
	struct sch_buf line = SCH_BUF_INIT;
	char *name = NULL;
	int rc;

	if (argc > 2)
		return sch_error_set(SCH_EUSAGE, "key export takes one key name");
	if (argc == 2)
		name = xstrdup(argv[1]);
	else
		sch_key_default(&name, NULL);
	if (!name) {
		sch_error_set(SCH_ENOTFOUND, "no signing key");
		sch_error_hint("make one with 'schema key generate'");
		return SCH_ENOTFOUND;
	}
	rc = sch_key_load(&k, name);
	if (!rc) {
		sch_key_publine(&line, &k);
		fputs(line.ptr, stdout);
	}
	sodium_memzero(&k, sizeof(k));
	free(name);
	sch_buf_release(&line);
	return rc;
}

SCH_CMD(key)
{
	if (argc < 2)
		return sch_error_set(SCH_EUSAGE,
				     "usage: schema key generate|list|export");
	if (!strcmp(argv[1], "generate"))
		return key_generate(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "list"))
		return key_list(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "export"))
		return key_export(argc - 1, argv + 1, ctx);
	{
		static const char *const subs[] = { "generate", "list", "export",
						    NULL };
		return sch_cmd_unknown_sub("key", argv[1], subs);
	}
}
