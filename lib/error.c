/* error.c - per-thread last error message and the code tables. */
#include <stdio.h>
#include <string.h>

#include "schema/error.h"

static _Thread_local char msg_buf[2048];
static _Thread_local char hint_buf[512];
static _Thread_local int last_code;

int sch_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg_buf, sizeof(msg_buf), fmt, ap);
	va_end(ap);
	hint_buf[0] = '\0';
	last_code = code;
	return code;
}

void sch_error_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hint_buf, sizeof(hint_buf), fmt, ap);
	va_end(ap);
}

int sch_error_wrap(int code, const char *fmt, ...)
{
	char prefix[1024];
	char old[sizeof(msg_buf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, msg_buf, sizeof(old));
	if (old[0])
		snprintf(msg_buf, sizeof(msg_buf), "%s: %s", prefix, old);
	else
		snprintf(msg_buf, sizeof(msg_buf), "%s: %s", prefix,
			 sch_error_text(code));
	last_code = code;
	return code;
}

const char *sch_error_msg(void)
{
	return msg_buf[0] ? msg_buf : sch_error_text(last_code);
}

const char *sch_error_hint_msg(void)
{
	return hint_buf;
}

int sch_error_code(void)
{
	return last_code;
}

const char *sch_error_text(int code)
{
	switch (code) {
#define SCH_X(name, value, status, text)                                   \
	case name:                                                         \
		return text;
		SCH_ERRORS(SCH_X)
#undef SCH_X
	}
	return "unknown error";
}

int sch_error_exit_status(int code)
{
	switch (code) {
#define SCH_X(name, value, status, text)                                   \
	case name:                                                         \
		return status;
		SCH_ERRORS(SCH_X)
#undef SCH_X
	}
	return 4;
}
