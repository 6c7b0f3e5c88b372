/* replay.c - runs a libFuzzer target over files and directories given on
 * the command line (the corpus), without libFuzzer: `make test` replays
 * every corpus under the same sanitizers as the rest of the tests. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	struct sch_buf b = SCH_BUF_INIT;
	uint8_t *copy;

	if (sch_buf_read_file(&b, path)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return 1;
	}
	/* An exact-size copy lets ASan catch reads past the input. */
	copy = xmalloc(b.len ? b.len : 1);
	memcpy(copy, b.ptr, b.len);
	LLVMFuzzerTestOneInput(copy, b.len);
	free(copy);
	sch_buf_release(&b);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = 0;
	int bad = 0;

	/* Absolute paths: a target may change directory (fuzz_args). */
	for (int i = 1; i < argc; i++) {
		char *abs = realpath(argv[i], NULL);
		argv[i] = abs ? abs : argv[i];
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		if (stat(argv[i], &st) != 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			n++;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d))) {
			char *p;
			if (de->d_name[0] == '.')
				continue;
			p = xasprintf("%s/%s", argv[i], de->d_name);
			bad |= run_file(p);
			free(p);
			n++;
		}
		if (d)
			closedir(d);
	}
	printf("replayed %zu inputs\n", n);
	return bad;
}
