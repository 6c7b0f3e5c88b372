/* config.c - git-config style configuration files. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema/buf.h"
#include "schema/config.h"
#include "schema/error.h"

static void add_entry(struct sch_config *c, char *key, char *value, int line)
{
	c->e = xrealloc(c->e, (c->n + 1) * sizeof(*c->e));
	c->e[c->n].key = key;
	c->e[c->n].value = value;
	c->e[c->n].line = line;
	c->n++;
}

static int is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '_';
}

int sch_config_parse(struct sch_config *out, const char *text, size_t len,
		     const char *file)
{
	const char *p = text, *end = text + len;
	struct sch_buf section = SCH_BUF_INIT, val = SCH_BUF_INIT;
	int line = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	out->path = xstrdup(file);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		line++;
		while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == le || *p == '#' || *p == ';')
			goto next;
		if (memchr(p, '\0', (size_t)(le - p))) {
			rc = sch_error_set(SCH_EPARSE, "%s:%d: NUL byte", file,
					   line);
			goto out;
		}
		if (*p == '[') {
			const char *q = p + 1;
			sch_buf_reset(&section);
			while (q < le && is_name_char(*q))
				sch_buf_addch(&section, (char)tolower((unsigned char)*q++));
			if (!section.len) {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: bad section header",
						   file, line);
				goto out;
			}
			if (q < le && *q == ' ') {
				q++;
				if (q >= le || *q != '"') {
					rc = sch_error_set(SCH_EPARSE,
							   "%s:%d: subsection must be quoted",
							   file, line);
					goto out;
				}
				sch_buf_addch(&section, '.');
				for (q++; q < le && *q != '"'; q++) {
					if (*q == '\\' && q + 1 < le)
						q++;
					sch_buf_addch(&section, *q);
				}
				if (q >= le) {
					rc = sch_error_set(SCH_EPARSE,
							   "%s:%d: unterminated subsection",
							   file, line);
					goto out;
				}
				q++;
			}
			if (q >= le || *q != ']') {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: bad section header",
						   file, line);
				goto out;
			}
			q++;
			while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			if (q < le && *q != '#' && *q != ';') {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: text after section header",
						   file, line);
				goto out;
			}
			goto next;
		}
		{
			const char *k = p;
			struct sch_buf key = SCH_BUF_INIT;
			int quoted = 0;
			size_t keep = 0;
			if (!section.len) {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: key outside a section",
						   file, line);
				goto out;
			}
			while (p < le && is_name_char(*p))
				p++;
			if (p == k || !isalpha((unsigned char)*k)) {
				rc = sch_error_set(SCH_EPARSE, "%s:%d: bad key",
						   file, line);
				goto out;
			}
			sch_buf_addf(&key, "%s.", section.ptr);
			for (const char *q = k; q < p; q++)
				sch_buf_addch(&key, (char)tolower((unsigned char)*q));
			while (p < le && (*p == ' ' || *p == '\t'))
				p++;
			sch_buf_reset(&val);
			if (p < le && *p == '=') {
				p++;
				while (p < le && (*p == ' ' || *p == '\t'))
					p++;
				for (; p < le; p++) {
					char ch = *p;
					if (ch == '\r' && p + 1 == le)
						break;
					if (!quoted && (ch == '#' || ch == ';'))
						break;
					if (ch == '"') {
						quoted = !quoted;
						keep = val.len;
						continue;
					}
					if (ch == '\\') {
						char e = p + 1 < le ? p[1] : '\0';
						p++;
						ch = e == 'n' ? '\n' : e == 't' ? '\t'
						   : e == '"' || e == '\\' ? e : 0;
						if (!ch) {
							sch_buf_release(&key);
							rc = sch_error_set(SCH_EPARSE,
									   "%s:%d: bad escape",
									   file, line);
							goto out;
						}
						sch_buf_addch(&val, ch);
						keep = val.len;
						continue;
					}
					sch_buf_addch(&val, ch);
					if (quoted || (ch != ' ' && ch != '\t'))
						keep = val.len;
				}
				if (quoted) {
					sch_buf_release(&key);
					rc = sch_error_set(SCH_EPARSE,
							   "%s:%d: unterminated quote",
							   file, line);
					goto out;
				}
				sch_buf_truncate(&val, keep);
			} else if (p < le && *p != '#' && *p != ';' && *p != '\r') {
				sch_buf_release(&key);
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: expected '=' after key",
						   file, line);
				goto out;
			} else {
				sch_buf_addstr(&val, "true");
			}
			add_entry(out, sch_buf_detach(&key, NULL),
				  xstrndup(val.ptr, val.len), line);
		}
next:
		p = nl ? nl + 1 : end;
	}
out:
	sch_buf_release(&section);
	sch_buf_release(&val);
	if (rc)
		sch_config_release(out);
	return rc;
}

int sch_config_load(struct sch_config *out, const char *path)
{
	struct sch_buf b = SCH_BUF_INIT;
	int rc;

	b.max = 1 << 20;
	rc = sch_buf_read_file(&b, path);
	if (rc == SCH_ENOTFOUND) {
		memset(out, 0, sizeof(*out));
		out->path = xstrdup(path);
		rc = 0;
	} else if (rc == 0) {
		rc = sch_config_parse(out, b.ptr, b.len, path);
	}
	sch_buf_release(&b);
	return rc;
}

void sch_config_release(struct sch_config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* Compares a lookup key with a stored one: section and last part
 * case-insensitively, the subsection exactly. */
static int key_eq(const char *want, const char *have)
{
	const char *wd = strchr(want, '.'), *hd = strchr(have, '.');
	const char *wl = strrchr(want, '.'), *hl = strrchr(have, '.');

	if (!wd || !hd || (wd - want) != (hd - have) ||
	    strncasecmp(want, have, (size_t)(wd - want)))
		return 0;
	if ((wl - wd) != (hl - hd) || strncmp(wd, hd, (size_t)(wl - wd)))
		return 0;
	return !strcasecmp(wl, hl);
}

const char *sch_config_get(const struct sch_config *c, const char *key)
{
	for (size_t i = c->n; i-- > 0;)
		if (key_eq(key, c->e[i].key))
			return c->e[i].value;
	return NULL;
}

int sch_bool_parse(const char *v, int *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
		 !strcasecmp(v, "off") || !strcmp(v, "0") || !*v)
		*out = 0;
	else
		return -1;
	return 0;
}

int sch_config_bool(const struct sch_config *c, const char *key, int def,
		    int *out)
{
	const char *v = sch_config_get(c, key);

	*out = def;
	if (v && sch_bool_parse(v, out))
		return sch_error_set(SCH_EPARSE,
				     "%s: '%s' is not a boolean for %s", c->path,
				     v, key);
	return 0;
}

int sch_duration_parse(const char *v, long *out_ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
		{ "", 1000 },	  { "ms", 1 },	      { "s", 1000 },
		{ "sec", 1000 },  { "min", 60000 },   { "h", 3600000 },
		{ "d", 86400000 },
	};
	const char *p = v;
	char *end;
	double n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!(*p >= '0' && *p <= '9') && *p != '.')
		return -1;
	n = strtod(p, &end);
	if (end == p || n < 0)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t ul = strlen(units[i].unit);
		double ms;
		if (strncasecmp(end, units[i].unit, ul))
			continue;
		if (end[ul] != '\0' && strspn(end + ul, " \t") != strlen(end + ul))
			continue;
		ms = n * units[i].ms;
		/* A month of milliseconds is far beyond any timeout. */
		if (ms > 2147483647.0)
			return -1;
		*out_ms = (long)(ms + 0.5);
		return 0;
	}
	return -1;
}

int sch_config_duration(const struct sch_config *c, const char *key,
			long def_ms, long *out_ms)
{
	const char *v = sch_config_get(c, key);

	*out_ms = def_ms;
	if (v && sch_duration_parse(v, out_ms))
		return sch_error_set(SCH_EPARSE,
				     "%s: '%s' is not a duration for %s "
				     "(500ms, 5s, 2min, 1h or seconds)",
				     c->path, v, key);
	return 0;
}

void sch_config_set(struct sch_config *c, const char *key, const char *value)
{
	add_entry(c, xstrdup(key), xstrdup(value), 0);
}

int sch_config_write_value(const char *path, const char *key,
			   const char *value)
{
	struct sch_buf b = SCH_BUF_INIT, hdr = SCH_BUF_INIT;
	const char *first = strchr(key, '.'), *last = strrchr(key, '.');
	int rc;

	if (!first)
		return sch_error_set(SCH_EINVAL, "bad config key '%s': it needs "
				     "a section", key);
	rc = sch_buf_read_file(&b, path);
	if (rc && rc != SCH_ENOTFOUND)
		goto out;
	rc = 0;
	if (first == last) {
		sch_buf_addf(&hdr, "[%.*s]", (int)(first - key), key);
	} else {
		sch_buf_addf(&hdr, "[%.*s \"", (int)(first - key), key);
		for (const char *q = first + 1; q < last; q++) {
			if (*q == '"' || *q == '\\')
				sch_buf_addch(&hdr, '\\');
			sch_buf_addch(&hdr, *q);
		}
		sch_buf_addstr(&hdr, "\"]");
	}
	if (b.len && b.ptr[b.len - 1] != '\n')
		sch_buf_addch(&b, '\n');
	/* Simple and safe: a new section block at the end; later values win. */
	sch_buf_addf(&b, "%s\n\t%s = \"", hdr.ptr, last + 1);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			sch_buf_addch(&b, '\\');
		if (*p == '\n') {
			sch_buf_addstr(&b, "\\n");
			continue;
		}
		sch_buf_addch(&b, *p);
	}
	sch_buf_addstr(&b, "\"\n");
	rc = sch_write_file_atomic(path, b.ptr, b.len);
out:
	sch_buf_release(&b);
	sch_buf_release(&hdr);
	return rc;
}
