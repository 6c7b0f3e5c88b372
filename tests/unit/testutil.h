/*
 * testutil.h - what the unit tests share (header-only: the Makefile builds
 * each tests/unit/test_*.c alone).
 */
#ifndef SCH_TESTUTIL_H
#define SCH_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* Criterion ignores what LeakSanitizer prints when a worker exits: check
 * after each test and crash the teardown when something leaked. */
static inline void leak_check(void)
{
	if (__lsan_do_recoverable_leak_check()) {
		fputs("memory leaked (see above)\n", stderr);
		abort();
	}
}
#else
static inline void leak_check(void)
{
}
#endif

static inline int testutil_rm_entry(const char *path, const struct stat *st,
				    int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes a directory tree (a test's temporary directory). */
static inline void rm_tree(const char *dir)
{
	nftw(dir, testutil_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
