/* new.c - create the next migrations/ directory (alias: generate). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/author.h"
#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/refs.h"
#include "schema/revspec.h"
#include "schema/worktree.h"

/* The parent for a new directory: the newest uncommitted directory that
 * builds on the branch head, else the head itself (by directory name when
 * the worktree has it). */
static int pick_parent(struct sch_buf *out, struct sch_wt *wt,
		       struct sch_txn *t, const struct sch_id *head,
		       int have_head)
{
	struct sch_wt_entry *best = NULL, *he;
	uint8_t *builds = xcalloc(wt->n + 1, 1);

	/* builds[i]: entry i is uncommitted and reaches the head through
	 * worktree parents (entries are in sequence order, so parents that
	 * come first are settled before their children in most histories;
	 * iterate to a fixed point for the rest). */
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < wt->n; i++) {
			struct sch_wt_entry *e = &wt->e[i];
			if (builds[i] || sch_object_exists(t, &e->id))
				continue;
			for (size_t k = 0; k < e->rev.nparents; k++) {
				struct sch_wt_entry *pe =
					sch_wt_find_id(wt, &e->rev.parents[k]);
				if ((!have_head && e->rev.nparents == 0) ||
				    (have_head && !sch_id_cmp(&e->rev.parents[k], head)) ||
				    (pe && builds[pe - wt->e])) {
					builds[i] = 1;
					changed = 1;
					break;
				}
			}
			if (!have_head && e->rev.nparents == 0 && !builds[i]) {
				builds[i] = 1;
				changed = 1;
			}
		}
	}
	for (size_t i = 0; i < wt->n; i++)
		if (builds[i])
			best = &wt->e[i];
	free(builds);
	sch_buf_reset(out);
	if (best) {
		sch_buf_addstr(out, best->name);
		return 0;
	}
	if (!have_head)
		return 0;
	he = sch_wt_find_id(wt, head);
	if (he) {
		sch_buf_addstr(out, he->name);
	} else {
		char hex[SCH_HEX_LEN + 1];
		sch_id_hex(hex, head);
		sch_buf_addstr(out, hex);
	}
	return 0;
}

SCH_CMD(new)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "depends", required_argument, NULL, 'd' },
		{ "notx", no_argument, NULL, 'T' },
		{ "message", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct sch_meta m;
	struct sch_wt wt;
	struct sch_buf msg = SCH_BUF_INIT, name = SCH_BUF_INIT,
		       parent = SCH_BUF_INIT, up = SCH_BUF_INIT,
		       down = SCH_BUF_INIT;
	struct sch_id head;
	int c, rc, have_head;

	sch_meta_init(&m);
	memset(&wt, 0, sizeof(wt));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":l:d:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			rc = sch_ref_check_name(optarg);
			if (rc) {
				rc = sch_error_wrap(SCH_EUSAGE, "--label");
				goto out;
			}
			m.labels = xrealloc(m.labels, (m.nlabels + 1) * sizeof(char *));
			m.labels[m.nlabels++] = xstrdup(optarg);
			break;
		case 'd':
			m.depends = xrealloc(m.depends, (m.ndepends + 1) * sizeof(char *));
			m.depends[m.ndepends++] = xstrdup(optarg);
			break;
		case 'T':
			m.flags = xrealloc(m.flags, (m.nflags + 1) * sizeof(char *));
			m.flags[m.nflags++] = xstrdup("notx");
			break;
		case 'm':
			sch_buf_addf(&msg, "%s%s", msg.len ? " " : "", optarg);
			break;
		default:
			rc = sch_cmd_optfail(c, argv, ctx->verb, opts);
			goto out;
		}
	}
	for (int i = optind; i < argc; i++)
		sch_buf_addf(&msg, "%s%s", msg.len ? " " : "", argv[i]);
	while (msg.len && (msg.ptr[msg.len - 1] == ' ' || msg.ptr[msg.len - 1] == '\n'))
		sch_buf_truncate(&msg, msg.len - 1);
	if (!msg.len) {
		rc = sch_error_set(SCH_EUSAGE, "new needs a message, e.g. "
				   "schema new \"add user preferences\"");
		goto out;
	}
	if (memchr(msg.ptr, '\0', msg.len) || msg.ptr[0] == '\n' ||
	    msg.ptr[0] == ' ') {
		rc = sch_error_set(SCH_EUSAGE, "the message must start with text");
		goto out;
	}
	rc = sch_wt_load(&wt, ctx->migrations);
	if (!rc)
		rc = sch_wt_resolve(&wt, ctx->txn);
	if (rc)
		goto out;
	for (size_t i = 0; i < m.ndepends; i++) {
		/* A depends given as a spec becomes a directory name or id. */
		struct sch_id id;
		struct sch_wt_entry *e;
		if (sch_wt_find(&wt, m.depends[i]))
			continue;
		rc = sch_revspec_one(&id, ctx->txn, m.depends[i]);
		if (rc) {
			rc = sch_error_wrap(rc, "--depends");
			goto out;
		}
		free(m.depends[i]);
		e = sch_wt_find_id(&wt, &id);
		if (e) {
			m.depends[i] = xstrdup(e->name);
		} else {
			char hex[SCH_HEX_LEN + 1];
			sch_id_hex(hex, &id);
			m.depends[i] = xstrdup(hex);
		}
	}
	have_head = sch_ref_read(&head, ctx->txn, "HEAD") == 0;
	rc = pick_parent(&parent, &wt, ctx->txn, &head, have_head);
	if (rc)
		goto out;
	if (parent.len) {
		m.parents = xmalloc(sizeof(char *));
		m.parents[0] = xstrdup(parent.ptr);
		m.nparents = 1;
	}
	rc = sch_author_now(&m.author, &m.time, m.tz, &ctx->config);
	if (rc)
		goto out;
	free(m.message);
	m.message = xasprintf("%s\n", msg.ptr);
	sch_wt_next_name(&name, &wt, msg.ptr);
	sch_buf_addf(&up, "-- %s\n-- Runs in one transaction with its registry "
		     "row; write the change here.\n", msg.ptr);
	sch_buf_addf(&down, "-- Revert: %s\n-- Must bring the schema back "
		     "exactly to the parent's state.\n", msg.ptr);
	rc = sch_wt_create(ctx->migrations, name.ptr, &m, up.ptr, down.ptr);
	if (rc)
		goto out;
	printf("%s/%s\n", ctx->migrations, name.ptr);
out:
	sch_meta_release(&m);
	sch_wt_release(&wt);
	sch_buf_release(&msg);
	sch_buf_release(&name);
	sch_buf_release(&parent);
	sch_buf_release(&up);
	sch_buf_release(&down);
	return rc;
}
