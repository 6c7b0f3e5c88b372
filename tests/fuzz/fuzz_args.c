/* fuzz_args.c - the argument parsing of every command: the input is split
 * at newlines (and NULs) into at most 12 arguments and run as
 * `schema ARG...` in a small repository made once in a temporary
 * directory, with no database and no scratch server reachable.
 *
 * Inputs holding '/' or ".." are skipped: a command that writes a file
 * it is given (key generate --backup FILE, init DIR) then stays inside
 * the temporary directory.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 12
#define MAX_ARG 512

static int ready;
static char tmpdir[64];
static int saved_stdout = -1;

/* The replay driver prints its count after the runs: to the real stdout
 * (exit flushes streams after the atexit handlers). */
static void restore_stdout(void)
{
	if (saved_stdout >= 0)
		dup2(saved_stdout, STDOUT_FILENO);
}

static void put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
	free(p);
}

static void setup(void)
{
	char *nowhere, *cfg, *mig;
	char *init[] = { "schema", "init", "-q", NULL };
	char *commit[] = { "schema", "commit", "-q", NULL };
	int null = open("/dev/null", O_RDWR);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-fuzz-args.XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) || null < 0)
		abort();
	nowhere = xasprintf("postgresql://nobody@/nodb?host=%s/nosuchdir",
			    tmpdir);
	cfg = xasprintf("%s/cfg", tmpdir);
	setenv("DATABASE_URL", nowhere, 1);
	setenv("SCHEMA_DEV_URL", nowhere, 1);
	setenv("PG_BINDIR", cfg, 1); /* holds no server programs */
	setenv("XDG_CONFIG_HOME", cfg, 1);
	setenv("HOME", tmpdir, 1);
	setenv("SCHEMA_CHECK", "0", 1);
	setenv("NO_COLOR", "1", 1);
	setenv("SCHEMA_AUTHOR_NAME", "Fuzz", 1);
	setenv("SCHEMA_AUTHOR_EMAIL", "fuzz@example.com", 1);
	setenv("SCHEMA_AUTHOR_DATE", "1700000000", 1);
	unsetenv("SCHEMA_DIR");
	/* Nothing to read, and nothing printed but errors. */
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	atexit(restore_stdout);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	close(null);
	if (sch_cli_main(3, init))
		abort();
	mig = xasprintf("%s/migrations/0001_create_users", tmpdir);
	if (mkdir(mig, 0755))
		abort();
	put(mig, "up.sql", "CREATE TABLE users (id int);\n");
	put(mig, "down.sql", "DROP TABLE users;\n");
	put(mig, "meta", "\ncreate users\n");
	if (sch_cli_main(3, commit))
		abort();
	free(nowhere);
	free(cfg);
	free(mig);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2];
	int argc = 1;
	size_t i = 0;

	if (!ready)
		setup();
	if (size > MAX_ARGS * MAX_ARG)
		return 0;
	for (size_t k = 0; k < size; k++)
		if (data[k] == '/' || (k + 1 < size && data[k] == '.' &&
				       data[k + 1] == '.'))
			return 0;
	argv[0] = "schema";
	while (i < size && argc <= MAX_ARGS) {
		size_t j = i;
		while (j < size && data[j] != '\n' && data[j] != '\0')
			j++;
		if (j - i > MAX_ARG)
			return 0;
		argv[argc++] = xstrndup((const char *)data + i, j - i);
		i = j + 1;
	}
	argv[argc] = NULL;
	sch_cli_main(argc, argv);
	for (int k = 1; k < argc; k++)
		free(argv[k]);
	return 0;
}
