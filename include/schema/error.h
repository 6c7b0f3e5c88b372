/*
 * error.h - error codes and the per-thread last-error message.
 *
 * Every function that can fail returns 0 or a negative SCH_E* code and, for
 * a negative code, leaves a one-line description in a per-thread buffer
 * that sch_error_msg() returns. Only main.c and src/cmd/ print it.
 */
#ifndef SCH_ERROR_H
#define SCH_ERROR_H

#include <stdarg.h>

/* X(name, value, exit status, generic text) */
#define SCH_ERRORS(X)                                                      \
	X(SCH_OK, 0, 0, "success")                                         \
	X(SCH_EUSAGE, -1, 2, "usage error")                                \
	X(SCH_ENOTFOUND, -2, 4, "not found")                               \
	X(SCH_EAMBIGUOUS, -3, 4, "ambiguous name")                         \
	X(SCH_ECORRUPT, -4, 4, "corrupt object")                           \
	X(SCH_EIO, -5, 4, "input/output error")                            \
	X(SCH_EFULL, -6, 4, "store is full")                               \
	X(SCH_EEXISTS, -7, 4, "already exists")                            \
	X(SCH_ENOREPO, -8, 4, "no repository")                             \
	X(SCH_EPARSE, -9, 4, "parse error")                                \
	X(SCH_EDB, -10, 3, "database error")                               \
	X(SCH_ECONFLICT, -11, 1, "conflict")                               \
	X(SCH_ECHECK, -12, 1, "check failed")                              \
	X(SCH_ELOCKED, -13, 3, "locked")                                   \
	X(SCH_EREFUSED, -14, 1, "refused")                                 \
	X(SCH_ETOOBIG, -15, 4, "too large")                                \
	X(SCH_EINVAL, -16, 2, "invalid argument")

enum sch_error {
#define SCH_X(name, value, status, text) name = value,
	SCH_ERRORS(SCH_X)
#undef SCH_X
};

/*
 * Records a message for the calling thread and returns `code`, so that
 * `return sch_error_set(SCH_ENOTFOUND, "no revision '%s'", spec);` reads
 * naturally. The message must never contain a password.
 */
int sch_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets a hint line shown after the message; cleared by sch_error_set(). */
void sch_error_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefixes the current message with "<fmt>: ", keeping the code. */
int sch_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last message of this thread ("" when none); valid until the next set. */
const char *sch_error_msg(void);
const char *sch_error_hint_msg(void);
int sch_error_code(void);

/* The generic text of a code and the exit status it maps to. */
const char *sch_error_text(int code);
int sch_error_exit_status(int code);

#endif
