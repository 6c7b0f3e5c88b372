/* apply.c - run a step against a database. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/apply.h"
#include "schema/error.h"
#include "schema/graph.h"
#include "schema/sqlparse.h"

struct parts {
	struct sch_sql_script script, verify;
	char *file, *vfile;
	const char *text;
	size_t len;
};

static void parts_release(struct parts *p)
{
	sch_sql_script_release(&p->script);
	sch_sql_script_release(&p->verify);
	free(p->file);
	free(p->vfile);
}

static int split_step(struct parts *p, const struct sch_step *st,
		      int server_major)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->text = st->is_up ? st->up : st->down;
	p->len = strlen(p->text);
	p->file = xasprintf("%s/%s", st->name, st->is_up ? "up.sql" : "down.sql");
	rc = sch_sql_split(&p->script, p->file, p->text, p->len);
	if (!rc)
		rc = sch_sql_classify(&p->script, p->file, p->text, p->len,
				      server_major);
	if (!rc) {
		for (size_t i = 0; i < p->script.n; i++)
			if (p->script.stmts[i].flags & SCH_SQL_TXCONTROL) {
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: %s is not allowed in a "
						   "migration: each step runs in "
						   "its own transaction", p->file,
						   p->script.stmts[i].line,
						   p->script.stmts[i].what);
				break;
			}
	}
	if (!rc && st->is_up && st->verify) {
		p->vfile = xasprintf("%s/verify.sql", st->name);
		rc = sch_sql_split(&p->verify, p->vfile, st->verify,
				   strlen(st->verify));
		if (!rc)
			rc = sch_sql_classify(&p->verify, p->vfile, st->verify,
					      strlen(st->verify), server_major);
		for (size_t i = 0; !rc && i < p->verify.n; i++)
			if (p->verify.stmts[i].flags & (SCH_SQL_TXCONTROL |
							SCH_SQL_NOTX))
				rc = sch_error_set(SCH_EPARSE,
						   "%s:%d: %s is not allowed in "
						   "verify.sql: it runs inside the "
						   "step's transaction", p->vfile,
						   p->verify.stmts[i].line,
						   p->verify.stmts[i].what);
	}
	return rc;
}

static int step_is_notx(const struct parts *p, const struct sch_step *st)
{
	if (sch_rev_has_flag(st->rev, "notx"))
		return 1;
	for (size_t i = 0; i < p->script.n; i++)
		if (p->script.stmts[i].flags & SCH_SQL_NOTX)
			return 1;
	return 0;
}

/* The registry statements of a step (row and event). */
static void registry_stmts(struct sch_reg_stmt *row, struct sch_reg_stmt *ev,
			   const struct sch_reg *reg, const struct sch_step *st,
			   const char *actor, const char *detail,
			   char **body, char **parents, char *hex)
{
	struct sch_buf b = SCH_BUF_INIT;

	memset(row, 0, sizeof(*row));
	memset(ev, 0, sizeof(*ev));
	sch_rev_format(&b, st->rev);
	*body = sch_buf_detach(&b, NULL);
	*parents = sch_rev_parents_array(st->rev);
	sch_id_hex(hex, &st->id);
	if (st->is_up)
		sch_reg_stmt_applied(row, reg, &st->id, *body, st->up, st->down,
				     st->verify, *parents);
	else
		sch_reg_stmt_unapplied(row, reg, &st->id);
	sch_reg_stmt_event(ev, reg, actor, st->is_up ? "up" : "down", hex,
			   detail);
}

/* Turns the last server error into "rev (name): file:line: message". */
static int step_error(struct sch_pg *pg, const struct sch_step *st,
		      const char *file, const char *text,
		      const struct sch_sql_stmt *stmt)
{
	const struct sch_pg_err *e = sch_pg_last_error(pg);
	char sh[SCH_SHORT_LEN + 1];
	int line;

	sch_id_short(sh, &st->id);
	if (!stmt)
		return sch_error_set(SCH_EDB, "revision %s (%s): %s%s%s", sh,
				     st->name, e && e->message[0] ? e->message
								  : sch_error_msg(),
				     e && e->sqlstate[0] ? " SQLSTATE " : "",
				     e ? e->sqlstate : "");
	line = sch_sql_pos_to_line(text, strlen(text), stmt->off,
				   e ? e->position : 0);
	sch_error_set(SCH_EDB, "revision %s (%s): %s:%d: %s (SQLSTATE %s)", sh,
		      st->name, file, line,
		      e && e->message[0] ? e->message : "statement failed",
		      e && e->sqlstate[0] ? e->sqlstate : "?");
	if (e && e->detail[0])
		sch_error_hint("%s", e->detail);
	else if (e && e->hint[0])
		sch_error_hint("%s", e->hint);
	return SCH_EDB;
}

static char *stmt_text(const char *text, const struct sch_sql_stmt *s)
{
	return xstrndup(text + s->off, s->len);
}

static void stmt_hash(char *out, const char *text, const struct sch_sql_stmt *s)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)text + s->off, s->len);
	sch_hex(out, h, 16);
}

/*
 * Statement-by-statement run of a notx step, resuming after the
 * statements the registry says already ran: those of this revision, or
 * those of an interrupted step of the same directory that was edited and
 * recorded as a new revision (adopted when every statement that ran is
 * unchanged). *adopted receives the hex id of an adopted revision.
 */
static int run_notx(struct sch_pg *pg, struct sch_reg *reg,
		    const struct sch_step *st, const struct parts *p,
		    char *adopted)
{
	const char *dir = st->is_up ? "up" : "down";
	char **done = NULL;
	size_t ndone = 0;
	char sh[SCH_SHORT_LEN + 1];
	int rc;

	adopted[0] = '\0';
	sch_id_short(sh, &st->id);
	rc = sch_reg_progress(reg, &st->id, dir, &done, &ndone);
	if (rc)
		return rc;
	if (!ndone) {
		struct sch_buf other = SCH_BUF_INIT, odir = SCH_BUF_INIT,
			       oname = SCH_BUF_INIT;
		struct sch_id oid;
		/* Only the same directory's interrupted step is continued. */
		if (sch_reg_progress_named(reg, dir, st->name, &other) == 1 &&
		    sch_id_parse(&oid, other.ptr, other.len) == 0 &&
		    sch_id_cmp(&oid, &st->id)) {
			free(done);
			rc = sch_reg_progress(reg, &oid, dir, &done, &ndone);
			snprintf(adopted, SCH_HEX_LEN + 1, "%s", other.ptr);
		}
		sch_buf_release(&other);
		sch_buf_release(&odir);
		sch_buf_release(&oname);
		if (rc)
			return rc;
	}
	if (ndone > p->script.n) {
		rc = sch_error_set(SCH_EREFUSED, "%s: an interrupted step ran %zu "
				   "statements, the script has %zu", p->file,
				   ndone, p->script.n);
		goto out;
	}
	for (size_t i = 0; i < ndone; i++) {
		char h[33];
		stmt_hash(h, p->text, &p->script.stmts[i]);
		if (strcmp(h, done[i])) {
			rc = sch_error_set(SCH_EREFUSED,
					   "%s:%d: statement %zu already ran%s%.12s "
					   "and was edited since", p->file,
					   p->script.stmts[i].line, i + 1,
					   adopted[0] ? " in the interrupted step "
						      : "", adopted);
			sch_error_hint("restore the statements that ran; only "
				       "later ones may change");
			goto out;
		}
	}
	if (ndone)
		fprintf(stderr, "  %s: resuming %s at statement %zu of %zu%s%.12s\n",
			sh, p->file, ndone + 1, p->script.n,
			adopted[0] ? ", continuing the interrupted step " : "",
			adopted);
	for (size_t i = ndone; i < p->script.n; i++) {
		const struct sch_sql_stmt *s = &p->script.stmts[i];
		char *sql = stmt_text(p->text, s);
		char h[33];
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "  %s: %s:%d: statement %zu of %zu (no "
				"transaction)\n", sh, p->file, s->line, i + 1,
				p->script.n);
		rc = sch_pg_exec(pg, NULL, SCH_PG_OK, sql, 0, NULL);
		free(sql);
		if (rc) {
			rc = step_error(pg, st, p->file, p->text, s);
			sch_error_hint("the statements before this one ran; rerun "
				       "to resume here");
			goto out;
		}
		stmt_hash(h, p->text, s);
		rc = sch_reg_progress_add(reg, &st->id, dir, i, h, st->name);
		if (rc)
			goto out;
	}
out:
	for (size_t i = 0; i < ndone; i++)
		free(done[i]);
	free(done);
	return rc;
}

int sch_apply_step(struct sch_pg *pg, struct sch_reg *reg,
		   const struct sch_step *st, const char *actor,
		   const char *detail, int *notx)
{
	struct parts p;
	struct sch_pg_stmt *stmts = NULL;
	char **texts = NULL;
	struct sch_reg_stmt row, ev, clear;
	char *body = NULL, *parents = NULL, hex[SCH_HEX_LEN + 1];
	char adopted[SCH_HEX_LEN + 1] = "";
	size_t n = 0, ntext = 0, first_verify, first_reg;
	int is_notx, rc;

	memset(&clear, 0, sizeof(clear));
	memset(&row, 0, sizeof(row));
	memset(&ev, 0, sizeof(ev));
	rc = split_step(&p, st, sch_pg_server_major(pg));
	if (rc)
		goto out;
	is_notx = step_is_notx(&p, st);
	if (notx)
		*notx = is_notx;
	if (is_notx) {
		rc = run_notx(pg, reg, st, &p, adopted);
		if (rc)
			goto out;
	}
	stmts = xcalloc(p.script.n + p.verify.n + 4, sizeof(*stmts));
	texts = xcalloc(p.script.n + p.verify.n + 4, sizeof(*texts));
	if (!is_notx)
		for (size_t i = 0; i < p.script.n; i++) {
			texts[ntext] = stmt_text(p.text, &p.script.stmts[i]);
			stmts[n].sql = texts[ntext++];
			stmts[n++].expect = SCH_PG_OK;
		}
	first_verify = n;
	for (size_t i = 0; i < p.verify.n; i++) {
		texts[ntext] = stmt_text(st->verify, &p.verify.stmts[i]);
		stmts[n].sql = texts[ntext++];
		stmts[n++].expect = SCH_PG_OK;
	}
	first_reg = n;
	registry_stmts(&row, &ev, reg, st, actor, detail, &body, &parents, hex);
	stmts[n].sql = row.sql.ptr;
	stmts[n].nparams = row.nparams;
	stmts[n].params = row.params;
	stmts[n++].expect = SCH_PG_COMMAND;
	stmts[n].sql = ev.sql.ptr;
	stmts[n].nparams = ev.nparams;
	stmts[n].params = ev.params;
	stmts[n++].expect = SCH_PG_COMMAND;
	if (is_notx) {
		sch_buf_addf(&clear.sql, "DELETE FROM %s.progress WHERE "
			     "revision = $1 OR revision = $2", reg->q);
		clear.params[0] = hex;
		clear.params[1] = adopted;
		clear.nparams = 2;
		stmts[n].sql = clear.sql.ptr;
		stmts[n].nparams = 2;
		stmts[n].params = clear.params;
		stmts[n++].expect = SCH_PG_COMMAND;
	}
	rc = sch_pg_batch(pg, stmts, n);
	if (rc) {
		const struct sch_pg_err *e = sch_pg_last_error(pg);
		size_t idx = e && e->index >= 0 ? (size_t)e->index : n;
		if (idx < first_verify)
			rc = step_error(pg, st, p.file, p.text,
					&p.script.stmts[idx]);
		else if (idx < first_reg)
			rc = step_error(pg, st, p.vfile, st->verify,
					&p.verify.stmts[idx - first_verify]);
		else
			rc = step_error(pg, st, NULL, NULL, NULL);
	}
out:
	for (size_t i = 0; i < ntext; i++)
		free(texts[i]);
	free(texts);
	free(stmts);
	free(body);
	free(parents);
	sch_reg_stmt_release(&row);
	sch_reg_stmt_release(&ev);
	sch_buf_release(&clear.sql);
	parts_release(&p);
	return rc;
}

/* Writes stmt with $n parameters replaced by literals. */
static void inline_params(struct sch_buf *out, const struct sch_reg_stmt *s)
{
	const char *q = s->sql.ptr;
	int quoted = 0;

	while (*q) {
		if (*q == '"')
			quoted = !quoted; /* "" inside a name toggles twice */
		if (!quoted && *q == '$' && q[1] >= '1' && q[1] <= '9') {
			int k = q[1] - '1';
			if (k < s->nparams && s->params[k])
				sch_pg_quote_literal(out, s->params[k]);
			else
				sch_buf_addstr(out, "NULL");
			q += 2;
			continue;
		}
		sch_buf_addch(out, *q++);
	}
}

int sch_apply_step_sql(struct sch_buf *out, const struct sch_reg *reg,
		       const struct sch_step *st, const char *actor,
		       const char *detail, int server_major)
{
	struct parts p;
	struct sch_reg_stmt row, ev;
	char *body = NULL, *parents = NULL, hex[SCH_HEX_LEN + 1];
	struct sch_buf subj = SCH_BUF_INIT;
	int rc, is_notx;

	rc = split_step(&p, st, server_major);
	if (rc)
		goto out;
	is_notx = step_is_notx(&p, st);
	sch_rev_subject(&subj, st->rev);
	sch_id_short(hex, &st->id);
	sch_buf_addf(out, "\n-- %s %s (%s): %s\n", st->is_up ? "up" : "down",
		     hex, st->name, subj.ptr);
	if (is_notx)
		sch_buf_addstr(out, "-- runs statement by statement, outside a "
			       "transaction\n");
	else
		sch_buf_addstr(out, "BEGIN;\n");
	for (size_t i = 0; i < p.script.n; i++) {
		sch_buf_add(out, p.text + p.script.stmts[i].off,
			    p.script.stmts[i].len);
		sch_buf_addstr(out, "\n;\n");
	}
	if (is_notx)
		sch_buf_addstr(out, "BEGIN;\n");
	for (size_t i = 0; i < p.verify.n; i++) {
		sch_buf_add(out, st->verify + p.verify.stmts[i].off,
			    p.verify.stmts[i].len);
		sch_buf_addstr(out, "\n;\n");
	}
	registry_stmts(&row, &ev, reg, st, actor, detail, &body, &parents, hex);
	inline_params(out, &row);
	sch_buf_addstr(out, ";\n");
	inline_params(out, &ev);
	sch_buf_addstr(out, ";\nCOMMIT;\n");
	sch_reg_stmt_release(&row);
	sch_reg_stmt_release(&ev);
out:
	free(body);
	free(parents);
	sch_buf_release(&subj);
	parts_release(&p);
	return rc;
}

int sch_step_load(struct sch_loaded_step *out, struct sch_txn *t,
		  const struct sch_gnode *nd,
		  const struct sch_applied_set *applied, int is_up,
		  const char *name)
{
	const struct sch_applied *a = sch_applied_find(applied, &nd->id);
	int has_verify = nd->rev.has_verify, rc = 0;

	memset(out, 0, sizeof(*out));
	sch_buf_init(&out->up);
	sch_buf_init(&out->down);
	sch_buf_init(&out->verify);
	sch_id_short(out->sh, &nd->id);
	out->name = name ? xstrdup(name) : NULL;
	if (sch_object_exists(t, &nd->id)) {
		rc = sch_object_get_typed(&out->up, t, &nd->rev.up, SCH_OBJ_BLOB);
		if (!rc)
			rc = sch_object_get_typed(&out->down, t, &nd->rev.down,
						  SCH_OBJ_BLOB);
		if (!rc && has_verify)
			rc = sch_object_get_typed(&out->verify, t,
						  &nd->rev.verify, SCH_OBJ_BLOB);
	} else if (!a || !a->up) {
		rc = sch_error_set(SCH_ENOTFOUND, "no scripts for revision");
	} else {
		sch_buf_addstr(&out->up, a->up);
		sch_buf_addstr(&out->down, a->down);
		if (a->verify)
			sch_buf_addstr(&out->verify, a->verify);
	}
	out->st.id = nd->id;
	out->st.rev = &nd->rev;
	out->st.name = out->name ? out->name : out->sh;
	out->st.up = out->up.ptr;
	out->st.down = out->down.ptr;
	out->st.verify = has_verify ? out->verify.ptr : NULL;
	out->st.is_up = is_up;
	return rc;
}

void sch_step_release(struct sch_loaded_step *s)
{
	sch_buf_release(&s->up);
	sch_buf_release(&s->down);
	sch_buf_release(&s->verify);
	free(s->name);
	s->name = NULL;
}
