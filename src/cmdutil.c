/* cmdutil.c - helpers shared by the commands. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/refs.h"

int sch_cmd_optfail(int c, char **argv, const char *verb)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return sch_error_set(SCH_EUSAGE, "option '%s' of '%s' needs a "
				     "value", arg, verb);
	if (optopt && arg && !(arg[0] == '-' && arg[1] == '-'))
		return sch_error_set(SCH_EUSAGE, "unknown option '-%c' for '%s'",
				     optopt, verb);
	return sch_error_set(SCH_EUSAGE, "unknown option '%s' for '%s'",
			     arg ? arg : "?", verb);
}

int sch_cmd_count(long *out, const char *s, const char *opt)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0)
		return sch_error_set(SCH_EUSAGE, "%s needs a number, not '%s'",
				     opt, s);
	*out = v;
	return 0;
}

/* Refs are read once a process: decoration is only used by commands that
 * do not move refs. */
struct deco_ref {
	char *name;
	struct sch_id id;
};
static struct deco_ref *deco_refs;
static size_t deco_n;
static char *deco_head;
static int deco_loaded;

static int deco_cb(const char *name, const struct sch_id *id, void *arg)
{
	(void)arg;
	deco_refs = xrealloc(deco_refs, (deco_n + 1) * sizeof(*deco_refs));
	deco_refs[deco_n].name = xstrdup(name);
	deco_refs[deco_n].id = *id;
	deco_n++;
	return 0;
}

void sch_cmd_decoration(struct sch_buf *out, struct sch_txn *t,
			const struct sch_id *id)
{
	sch_buf_reset(out);
	if (!deco_loaded) {
		struct sch_buf head = SCH_BUF_INIT;
		deco_loaded = 1;
		if (sch_ref_read_symbolic(&head, t, "HEAD") == 1)
			deco_head = sch_buf_detach(&head, NULL);
		sch_buf_release(&head);
		sch_ref_each(t, "heads/", deco_cb, NULL);
		sch_ref_each(t, "tags/", deco_cb, NULL);
	}
	for (size_t i = 0; i < deco_n; i++) {
		const char *name = deco_refs[i].name;
		if (sch_id_cmp(&deco_refs[i].id, id))
			continue;
		if (out->len)
			sch_buf_addstr(out, ", ");
		if (!strncmp(name, "heads/", 6)) {
			if (deco_head && !strcmp(deco_head, name))
				sch_buf_addf(out, "HEAD -> %s", name + 6);
			else
				sch_buf_addstr(out, name + 6);
		} else {
			sch_buf_addf(out, "tag: %s", name + 5);
		}
	}
}
