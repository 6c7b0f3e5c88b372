/* ui.c - messages, colour, help pages. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/hooks_embed.h"
#include "schema/ui.h"

int sch_ui_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc && *nc)
		return 0;
	if (term && !strcmp(term, "dumb"))
		return 0;
	return isatty(fileno(f));
}

const char *sch_ui_c(FILE *f, const char *seq)
{
	return sch_ui_color(f) ? seq : "";
}

static void vmsg(const char *kind, const char *color, const char *fmt,
		 va_list ap)
{
	fprintf(stderr, "schema: %s%s%s: ", sch_ui_c(stderr, color), kind,
		sch_ui_c(stderr, "\033[0m"));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void sch_ui_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error", "\033[1;31m", fmt, ap);
	va_end(ap);
}

void sch_ui_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning", "\033[1;33m", fmt, ap);
	va_end(ap);
}

void sch_ui_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hint: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void sch_ui_print_error(void)
{
	const char *hint = sch_error_hint_msg();

	sch_ui_error("%s", sch_error_msg());
	if (hint && *hint)
		sch_ui_hint("%s", hint);
}

/* Copies troff text with inline escapes turned into plain text. */
static void put_inline(struct sch_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			char c = s[++i];
			if (c == 'f' && i + 1 < n) {
				i++; /* \fB \fI \fR \fP */
				continue;
			}
			if (c == '-' || c == 'e' || c == '\\')
				sch_buf_addch(out, c == 'e' ? '\\' : c);
			else if (c == '(' && i + 2 < n)
				i += 2;
			else if (c == '&')
				;
			else
				sch_buf_addch(out, c);
			continue;
		}
		sch_buf_addch(out, s[i]);
	}
}

/* Arguments of a macro line, quotes removed, joined by `sep` (or nothing
 * for .BR-style alternation). */
static void put_args(struct sch_buf *out, const char *s, size_t n, int join)
{
	size_t i = 0;
	int first = 1;

	while (i < n) {
		size_t start;
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			break;
		if (!first && join)
			sch_buf_addch(out, ' ');
		first = 0;
		if (s[i] == '"') {
			start = ++i;
			while (i < n && s[i] != '"')
				i++;
			put_inline(out, s + start, i - start);
			i++;
		} else {
			start = i;
			while (i < n && s[i] != ' ')
				i++;
			put_inline(out, s + start, i - start);
		}
	}
}

void sch_ui_render_man(FILE *f, const char *src, size_t len)
{
	const char *p = src, *end = src + len;
	struct sch_buf line = SCH_BUF_INIT;
	int indent = 0, nofill = 0, tp = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		sch_buf_reset(&line);
		if (n >= 3 && p[0] == '.' && p[1] == '\\' && p[2] == '"') {
			/* comment */
		} else if (n >= 3 && !strncmp(p, ".TH", 3)) {
		} else if (n >= 3 && !strncmp(p, ".SH", 3)) {
			put_args(&line, p + 3, n - 3, 1);
			fprintf(f, "\n%s\n", line.ptr);
			indent = 4;
			tp = 0;
		} else if (n >= 3 && !strncmp(p, ".SS", 3)) {
			put_args(&line, p + 3, n - 3, 1);
			fprintf(f, "\n  %s\n", line.ptr);
		} else if (n >= 3 && (!strncmp(p, ".PP", 3) ||
				      !strncmp(p, ".LP", 3) ||
				      !strncmp(p, ".P", 2))) {
			fputc('\n', f);
			indent = 4;
			tp = 0;
		} else if (n >= 3 && !strncmp(p, ".TP", 3)) {
			fputc('\n', f);
			tp = 1;
			indent = 4;
		} else if (n >= 3 && !strncmp(p, ".IP", 3)) {
			put_args(&line, p + 3, n - 3, 1);
			fprintf(f, "\n%*s%s ", 4, "", line.ptr);
			indent = 8;
		} else if (n >= 3 && !strncmp(p, ".RS", 3)) {
			indent += 4;
		} else if (n >= 3 && !strncmp(p, ".RE", 3)) {
			indent = indent >= 8 ? indent - 4 : 4;
		} else if (n >= 3 && !strncmp(p, ".nf", 3)) {
			nofill = 1;
		} else if (n >= 3 && !strncmp(p, ".fi", 3)) {
			nofill = 0;
		} else if (n >= 3 && !strncmp(p, ".br", 3)) {
		} else if (n >= 2 && p[0] == '.' &&
			   (p[1] == 'B' || p[1] == 'I')) {
			int alt = n >= 3 && p[2] != ' ';
			size_t skip = alt ? 3 : 2;
			put_args(&line, p + skip, n - skip, !alt);
			fprintf(f, "%*s%s\n", indent, "", line.ptr);
			if (tp) {
				tp = 0;
				indent = 8;
			}
		} else if (n > 0 && p[0] == '.') {
			/* unknown request: skip */
		} else {
			put_inline(&line, p, n);
			fprintf(f, "%*s%s\n", indent, "", line.ptr);
			if (tp) {
				tp = 0;
				indent = 8;
			}
		}
		(void)nofill;
		p = nl ? nl + 1 : end;
	}
	sch_buf_release(&line);
}

int sch_ui_help(FILE *f, const char *verb)
{
	char name[128];

	if (verb)
		snprintf(name, sizeof(name), "schema-%s.1", verb);
	else
		snprintf(name, sizeof(name), "schema.1");
	for (const struct sch_embedded *e = sch_embedded_man; e->name; e++)
		if (!strcmp(e->name, name)) {
			sch_ui_render_man(f, e->data, e->len);
			return 0;
		}
	return -1;
}

int sch_ui_confirm(const char *question)
{
	char answer[16];

	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return 0;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y';
}
