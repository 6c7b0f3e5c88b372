/*
 * hooks.h - run .schema/hooks/<name> with an explicit argv (no shell),
 * data on its stdin, and the repository in SCHEMA_DIR.
 */
#ifndef SCH_HOOKS_H
#define SCH_HOOKS_H

#include <stddef.h>

/*
 * Runs repo/hooks/<name> (repo: the .schema directory) in root (the
 * directory holding it) when it exists and is executable (a missing hook or a
 * `.sample` is not run). Returns 0, or SCH_EREFUSED when it exits non-zero
 * ("pre-commit hook exited with status 1"), SCH_EIO when it cannot start.
 */
int sch_hook_run(const char *repo, const char *root, const char *name,
		 const void *input, size_t len);

#endif
