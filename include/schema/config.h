/*
 * config.h - `.schema/config`, in git-config syntax:
 *
 *   # comment            ; comment
 *   [core]
 *   	registry = schema_registry
 *   [env "production"]
 *   	url = postgresql://app@db/app
 *   	confirm = true
 *
 * Keys are looked up as "section.key" or "section.subsection.key"; section
 * and key names are case-insensitive, subsections are not. Values may be
 * double-quoted (\" \\ \n \t escapes); unquoted values lose surrounding
 * blanks and a trailing comment.
 */
#ifndef SCH_CONFIG_H
#define SCH_CONFIG_H

#include <stddef.h>

struct sch_config_entry {
	char *key;   /* "env.production.url" (section/key lowercased) */
	char *value;
	int line;
};

struct sch_config {
	char *path;
	struct sch_config_entry *e;
	size_t n;
};

/* Parses config text; `file` names it in errors ("file:LINE: ...").
 * Returns 0 or SCH_EPARSE. */
int sch_config_parse(struct sch_config *out, const char *text, size_t len,
		     const char *file);
/* Loads a file (a missing file is an empty config). Returns 0,
 * SCH_EPARSE, SCH_EIO. */
int sch_config_load(struct sch_config *out, const char *path);
void sch_config_release(struct sch_config *c);
/* The last value of key, or NULL. Valid until the config is released. */
const char *sch_config_get(const struct sch_config *c, const char *key);
/* A boolean's text (true/yes/on/1, false/no/off/0 or empty) into *out;
 * -1 for anything else. */
int sch_bool_parse(const char *v, int *out);
/* Boolean value (true/yes/on/1, false/no/off/0); def when unset.
 * Returns SCH_EPARSE for another value, with the key named. */
int sch_config_bool(const struct sch_config *c, const char *key, int def,
		    int *out);
/*
 * A duration, the one syntax of every option and setting that takes one:
 * a non-negative number (decimals allowed) and a unit, ms, s (sec), min,
 * h or d; a bare number is seconds. "500ms", "5s", "2min", "1.5", "0".
 * Into *out_ms, rounded to the millisecond. -1 for anything else or more
 * than 24 days.
 */
int sch_duration_parse(const char *v, long *out_ms);
/* A duration setting; def_ms when unset. SCH_EPARSE names the key. */
int sch_config_duration(const struct sch_config *c, const char *key,
			long def_ms, long *out_ms);
/* Sets a value in memory (appends). */
void sch_config_set(struct sch_config *c, const char *key, const char *value);
/* Writes `section[.sub].key = value` to the file at path, keeping the rest
 * (appending a section when needed). Returns 0 or SCH_EIO. */
int sch_config_write_value(const char *path, const char *key,
			   const char *value);

#endif
