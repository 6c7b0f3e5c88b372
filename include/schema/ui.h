/*
 * ui.h - messages, colour, --help from the embedded man pages, JSON output
 * helpers and progress lines.
 */
#ifndef SCH_UI_H
#define SCH_UI_H

#include <stdio.h>

/* 1 when colour should be used on stream f: a terminal, NO_COLOR unset,
 * TERM not "dumb". */
int sch_ui_color(FILE *f);
/* ANSI sequences, or "" without colour. */
const char *sch_ui_c(FILE *f, const char *seq);

/* Prints "schema: error: <last message>" and its hint to stderr. */
void sch_ui_print_error(void);
void sch_ui_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sch_ui_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sch_ui_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes the page schema-<verb>.1 (or schema.1 for NULL) rendered as
 * text. Returns 0 or -1 when there is no such page. */
int sch_ui_help(FILE *f, const char *verb);

/* Renders troff man source as plain text. */
void sch_ui_render_man(FILE *f, const char *src, size_t len);

/* Asks a yes/no question on the terminal; 1 yes, 0 no or no terminal. */
int sch_ui_confirm(const char *question);

#endif
