/*
 * proc.h - a program's standard output, run without a shell.
 */
#ifndef SCH_PROC_H
#define SCH_PROC_H

#include <stddef.h>

#include "schema/buf.h"

/*
 * Runs argv[0] (searched in PATH when it holds no '/') with argv, stdin
 * and stderr on /dev/null, and puts the first max bytes of its standard
 * output into out (replacing). Returns 0 when it exited with status 0,
 * -1 when it could not start or failed (out then holds what it printed).
 */
int sch_proc_output(struct sch_buf *out, char *const argv[], size_t max);

#endif
