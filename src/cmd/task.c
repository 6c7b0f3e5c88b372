/*
 * task.c - `schema task`: versions of task-configuration schemas and the
 * migration of configuration files between them.
 *
 *   schema task add <name> <version> --schema FILE
 *                   [--from V --up OPS.json --down OPS.json]
 *   schema task log <name> [--oneline] [--full] [--json]
 *   schema task show <name> <version> [--json]
 *   schema task validate <name> FILE...
 *   schema task migrate <name> FILE [--to V] [-o OUT]
 *   schema task migrate <name> --table T --column C [--where SQL] [--to V]
 *                   [--batch N] [--url U | --env E] [--dry-run] [--yes]
 *
 * The command opens its own transactions (SCH_CMD_NOTXN): a write
 * transaction for add, a short read transaction elsewhere, ended before the
 * documents are read and migrated. The table mode's work is
 * sch_task_table_migrate() (src/task.c). See man/schema-task.1.
 */
#include <getopt.h>
#include <sodium.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/cmd.h"
#include "schema/env.h"
#include "schema/error.h"
#include "schema/json.h"
#include "schema/object.h"
#include "schema/pg.h"
#include "schema/registry.h"
#include "schema/sign.h"
#include "schema/target.h"
#include "schema/task.h"
#include "schema/ui.h"

/* ---- helpers ------------------------------------------------------ */

/* "-" is standard input or output. */
static const char *display_name(const char *path)
{
	return strcmp(path, "-") ? path : "<stdin>";
}

/*
 * Reads and parses a JSON file named on the command line. Anything wrong
 * with it is the caller's input, not the repository: SCH_EINVAL (exit 2),
 * with the reader's or parser's message ("file:LINE:COL: ...").
 */
static int read_json_arg(json_t **out, const char *path)
{
	struct sch_buf b = SCH_BUF_INIT;
	char *msg;
	int rc;

	*out = NULL;
	b.max = SCH_OBJECT_MAX;
	rc = sch_buf_read_file(&b, strcmp(path, "-") ? path : "/dev/stdin");
	if (!rc)
		rc = sch_json_parse(out, b.ptr, b.len, display_name(path));
	if (rc) {
		msg = xstrdup(sch_error_msg());
		rc = sch_error_set(SCH_EINVAL, "%s", msg);
		free(msg);
	}
	sch_buf_release(&b);
	return rc;
}

static int write_output(const char *path, const struct sch_buf *b)
{
	if (!strcmp(path, "-")) {
		if (fwrite(b->ptr, 1, b->len, stdout) != b->len)
			return sch_error_set(SCH_EIO, "cannot write output");
		return 0;
	}
	/* Temporary file + rename: on failure the old file is intact. */
	return sch_write_file_atomic(path, b->ptr, b->len);
}

static void print_id(const struct sch_id *id, int full)
{
	char hex[SCH_HEX_LEN + 1];

	if (full)
		sch_id_hex(hex, id);
	else
		sch_id_short(hex, id);
	fputs(hex, stdout);
}

static json_t *json_id(const struct sch_id *id)
{
	char hex[SCH_HEX_LEN + 1];

	sch_id_hex(hex, id);
	return json_string(hex);
}

static int print_json(const json_t *v)
{
	struct sch_buf b = SCH_BUF_INIT;
	int rc = sch_json_dump_pretty(&b, v);

	if (!rc)
		rc = write_output("-", &b);
	sch_buf_release(&b);
	return rc;
}

static int load_graph(struct sch_task_graph **out, struct sch_ctx *ctx,
		      const char *name)
{
	struct sch_txn *t = NULL;
	int rc;

	*out = NULL;
	rc = sch_task_check_name(name);
	if (!rc)
		rc = sch_txn_begin(&t, ctx->store, 0);
	if (!rc)
		rc = sch_task_graph_load(out, t, name);
	if (rc == SCH_ENOTFOUND)
		sch_error_hint("add its first version with 'schema task add %s "
			       "<version> --schema FILE'",
			       name);
	sch_txn_abort(t);
	return rc;
}

static int usage(const char *fmt, const char *arg)
{
	sch_error_set(SCH_EUSAGE, fmt, arg);
	sch_error_hint("see 'schema task --help'");
	return SCH_EUSAGE;
}

/* ---- add ---------------------------------------------------------- */

static int task_add(int argc, char **argv, struct sch_ctx *ctx)
{
	static const struct option opts[] = {
		{ "schema", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "up", required_argument, NULL, 'u' },
		{ "down", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *schema_file = NULL, *from = NULL, *up_file = NULL,
		   *down_file = NULL, *name, *version;
	json_t *schema = NULL, *up = NULL, *down = NULL;
	struct sch_txn *t = NULL;
	struct sch_buf key = SCH_BUF_INIT;
	struct sch_id id, old;
	const void *val;
	size_t vlen;
	int c, rc, existed = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 's': schema_file = optarg; break;
		case 'f': from = optarg; break;
		case 'u': up_file = optarg; break;
		case 'd': down_file = optarg; break;
		default:
			return sch_cmd_optfail(c, argv, "task add", opts);
		}
	}
	if (argc - optind != 2)
		return usage("%s", "usage: schema task add <name> <version> "
			     "--schema FILE [--from V --up FILE --down FILE]");
	name = argv[optind];
	version = argv[optind + 1];
	if (!schema_file)
		return usage("%s", "task add needs --schema FILE");
	if (from && (!up_file || !down_file))
		return usage("%s", "--from needs both --up FILE and --down FILE");
	if (!from && (up_file || down_file))
		return usage("%s", "--up and --down need --from VERSION");
	if (!strcmp(schema_file, "-") + (up_file && !strcmp(up_file, "-")) +
		    (down_file && !strcmp(down_file, "-")) > 1)
		return usage("%s", "only one input can be standard input");

	rc = sch_task_check_name(name);
	if (!rc)
		rc = sch_task_check_version(version);
	if (!rc && from)
		rc = sch_task_check_version(from);
	if (!rc)
		rc = read_json_arg(&schema, schema_file);
	if (!rc && from)
		rc = read_json_arg(&up, up_file);
	if (!rc && from)
		rc = read_json_arg(&down, down_file);
	if (rc)
		goto out;

	rc = sch_txn_begin(&t, ctx->store, 1);
	if (rc)
		goto out;
	sch_buf_add(&key, name, strlen(name) + 1);
	sch_buf_addstr(&key, version);
	if (!sch_kv_get(t, SCH_DB_TASKS, key.ptr, key.len, &val, &vlen) &&
	    vlen == SCH_ID_LEN) {
		memcpy(old.b, val, SCH_ID_LEN);
		existed = 1;
	}
	rc = sch_task_add(&id, t, name, version, schema, from, up, down);
	if (rc)
		goto out;
	rc = sch_txn_commit(t);
	t = NULL;
	if (rc)
		goto out;
	if (existed && !sch_id_cmp(&old, &id))
		printf("task %s %s unchanged (", name, version);
	else if (existed)
		printf("task %s %s: added the edge from %s (", name, version,
		       from);
	else
		printf("task %s %s added (", name, version);
	print_id(&id, 0);
	printf(")\n");
out:
	sch_txn_abort(t);
	sch_buf_release(&key);
	json_decref(schema);
	json_decref(up);
	json_decref(down);
	return rc;
}

/* ---- log ---------------------------------------------------------- */

static json_t *version_json(const struct sch_task_version *v)
{
	json_t *o = json_object(), *edges = json_array();
	size_t i;

	json_object_set_new(o, "version", json_string(v->obj.version));
	json_object_set_new(o, "id", json_id(&v->id));
	json_object_set_new(o, "schema", json_id(&v->obj.schema));
	for (i = 0; i < v->obj.nedges; i++) {
		const struct sch_task_edge *e = &v->obj.edges[i];
		json_t *je = json_object();

		json_object_set_new(je, "from", json_string(e->from));
		json_object_set_new(je, "from_id", json_id(&e->from_id));
		json_object_set_new(je, "up", json_id(&e->up));
		json_object_set_new(je, "down", json_id(&e->down));
		json_array_append_new(edges, je);
	}
	json_object_set_new(o, "edges", edges);
	return o;
}

static int task_log(int argc, char **argv, struct sch_ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'F' },
		{ "oneline", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	struct sch_task_graph *g = NULL;
	int c, rc, json = 0, full = 0, oneline = 0;
	json_t *arr = NULL;
	size_t i, e;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'F': full = 1; break;
		case '1': oneline = 1; break;
		default:
			return sch_cmd_optfail(c, argv, "task log", opts);
		}
	}
	if (argc - optind != 1)
		return usage("%s", "usage: schema task log <name> [--oneline] "
			     "[--full] [--json]");
	rc = load_graph(&g, ctx, argv[optind]);
	if (rc)
		goto out;
	if (json)
		arr = json_array();
	/* Newest first, as git log. */
	for (i = sch_task_graph_count(g); i-- > 0;) {
		const struct sch_task_version *v = sch_task_graph_at(g, i);

		if (arr) {
			json_array_append_new(arr, version_json(v));
			continue;
		}
		if (oneline) {
			print_id(&v->id, full);
			printf(" %s", v->obj.version);
			for (e = 0; e < v->obj.nedges; e++)
				printf("%s%s", e ? ", " : " (from ",
				       v->obj.edges[e].from);
			printf("%s\n", v->obj.nedges ? ")" : "");
			continue;
		}
		if (i + 1 < sch_task_graph_count(g))
			putchar('\n');
		printf("task ");
		print_id(&v->id, full);
		printf(" (%s %s)\nschema ", sch_task_graph_name(g),
		       v->obj.version);
		print_id(&v->obj.schema, full);
		putchar('\n');
		for (e = 0; e < v->obj.nedges; e++) {
			const struct sch_task_edge *ed = &v->obj.edges[e];

			printf("from %s ", ed->from);
			print_id(&ed->from_id, full);
			printf(" up ");
			print_id(&ed->up, full);
			printf(" down ");
			print_id(&ed->down, full);
			putchar('\n');
		}
	}
	if (arr)
		rc = print_json(arr);
out:
	json_decref(arr);
	sch_task_graph_free(g);
	return rc;
}

/* ---- show --------------------------------------------------------- */

static int task_show(int argc, char **argv, struct sch_ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct sch_task_graph *g = NULL;
	const struct sch_task_version *v;
	struct sch_buf b = SCH_BUF_INIT;
	char hex[SCH_HEX_LEN + 1];
	int c, rc, json = 0;
	json_t *o = NULL;
	size_t e;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		default:
			return sch_cmd_optfail(c, argv, "task show", opts);
		}
	}
	if (argc - optind != 2)
		return usage("%s", "usage: schema task show <name> <version> "
			     "[--json]");
	rc = load_graph(&g, ctx, argv[optind]);
	if (rc)
		goto out;
	v = sch_task_graph_get(g, argv[optind + 1]);
	if (!v) {
		rc = sch_error_set(SCH_ENOTFOUND, "task %s has no version %s",
				   argv[optind], argv[optind + 1]);
		sch_error_hint("'schema task log %s' lists its versions",
			       argv[optind]);
		goto out;
	}
	if (json) {
		json_t *edges;

		o = version_json(v);
		json_object_set_new(o, "name", json_string(v->obj.name));
		json_object_set_new(o, "schema_id", json_id(&v->obj.schema));
		json_object_set(o, "schema", v->schema);
		edges = json_object_get(o, "edges");
		for (e = 0; e < v->obj.nedges; e++) {
			json_t *je = json_array_get(edges, e);

			json_object_set_new(je, "up_id", json_id(&v->obj.edges[e].up));
			json_object_set_new(je, "down_id",
					    json_id(&v->obj.edges[e].down));
			json_object_set(je, "up", v->up[e]);
			json_object_set(je, "down", v->down[e]);
		}
		rc = print_json(o);
		goto out;
	}
	/* The object as stored, then what its ids name. */
	sch_id_hex(hex, &v->id);
	sch_buf_addf(&b, "task %s\n", hex);
	rc = sch_task_obj_format(&b, &v->obj);
	if (!rc) {
		sch_buf_addstr(&b, "\nschema:\n");
		rc = sch_json_dump_pretty(&b, v->schema);
	}
	for (e = 0; !rc && e < v->obj.nedges; e++) {
		sch_buf_addf(&b, "\nup from %s:\n", v->obj.edges[e].from);
		rc = sch_json_dump_pretty(&b, v->up[e]);
		if (rc)
			break;
		sch_buf_addf(&b, "\ndown to %s:\n", v->obj.edges[e].from);
		rc = sch_json_dump_pretty(&b, v->down[e]);
	}
	if (!rc)
		rc = write_output("-", &b);
out:
	json_decref(o);
	sch_buf_release(&b);
	sch_task_graph_free(g);
	return rc;
}

/* ---- validate ----------------------------------------------------- */

/* Prints each line of a validation report prefixed with the file name. */
static void print_report(FILE *f, const char *what, const struct sch_buf *r)
{
	const char *p = r->ptr, *nl;

	while ((nl = strchr(p, '\n'))) {
		fprintf(f, "%s: %.*s\n", what, (int)(nl - p), p);
		p = nl + 1;
	}
}

static int task_validate(int argc, char **argv, struct sch_ctx *ctx)
{
	static const struct option opts[] = {
		{ NULL, 0, NULL, 0 },
	};
	struct sch_task_graph *g = NULL;
	struct sch_buf report = SCH_BUF_INIT;
	json_t *doc = NULL;
	const char *version;
	int c, rc, bad = 0, i;

	optind = 0;
	if ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1)
		return sch_cmd_optfail(c, argv, "task validate", opts);
	if (argc - optind < 2)
		return usage("%s", "usage: schema task validate <name> FILE...");
	rc = load_graph(&g, ctx, argv[optind]);
	for (i = optind + 1; !rc && i < argc; i++) {
		const char *what = display_name(argv[i]);

		json_decref(doc);
		doc = NULL;
		rc = read_json_arg(&doc, argv[i]);
		if (!rc)
			rc = sch_task_doc_version(&version, doc, what);
		if (rc)
			break;
		sch_buf_reset(&report);
		rc = sch_task_validate(g, doc, version, what, &report);
		if (rc == SCH_ECHECK) {
			print_report(stdout, what, &report);
			bad = 1;
			rc = 0;
		} else if (!rc) {
			printf("%s: valid against %s %s\n", what,
			       sch_task_graph_name(g), version);
		}
	}
	json_decref(doc);
	sch_buf_release(&report);
	sch_task_graph_free(g);
	return rc ? rc : bad;
}

/* ---- migrate ------------------------------------------------------ */

/* "9,800": counts read better grouped by thousands. */
static const char *thousands(char *buf, size_t size, size_t n)
{
	char digits[32];
	size_t len, i, o = 0;

	snprintf(digits, sizeof(digits), "%zu", n);
	len = strlen(digits);
	for (i = 0; i < len && o + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

static const char *rows_word(size_t n)
{
	return n == 1 ? "row" : "rows";
}

static void print_table_report(const struct sch_task_table_report *r,
			       const char *task, int dry_run)
{
	char a[32], b[32];
	size_t i;

	if (r->by_ctid)
		printf("note: %s has no primary key: rows are read in ctid "
		       "order and named by ctid\n", r->table);
	if (!r->changed)
		printf("%s%s.%s: %s %s read, none to change (valid %s %s "
		       "already)\n", dry_run ? "dry run: " : "", r->table,
		       r->column, thousands(a, sizeof(a), r->read),
		       rows_word(r->read), task, r->to);
	else if (dry_run)
		printf("dry run: %s.%s to %s %s: %s of %s %s would change; "
		       "nothing written\n", r->table, r->column, task, r->to,
		       thousands(a, sizeof(a), r->changed),
		       thousands(b, sizeof(b), r->read), rows_word(r->read));
	else
		printf("migrated %s.%s to %s %s: %s of %s %s changed, in one "
		       "transaction\n", r->table, r->column, task, r->to,
		       thousands(a, sizeof(a), r->changed),
		       thousands(b, sizeof(b), r->read), rows_word(r->read));
	for (i = 0; i < r->ncounts; i++) {
		const struct sch_task_table_count *c = &r->counts[i];

		if (!strcmp(c->version, r->to))
			printf("  %s: %s %s already at target\n", c->version,
			       thousands(a, sizeof(a), c->rows),
			       rows_word(c->rows));
		else
			printf("  %s -> %s: %s %s\n", c->version, r->to,
			       thousands(a, sizeof(a), c->rows),
			       rows_word(c->rows));
	}
	if (r->nulls)
		printf("  null: %s %s left as %s\n",
		       thousands(a, sizeof(a), r->nulls), rows_word(r->nulls),
		       r->nulls == 1 ? "it is" : "they are");
}

struct table_args {
	const char *table, *column, *where, *url, *env;
	long batch;
	int dry_run, yes;
};

/*
 * The audit event of a table migration: the task, the table and column,
 * the versions found (with their row counts), the target version, the
 * rows read and changed, the environment and the snapshot taken before
 * (null when none). Returns 0 or SCH_EDB.
 */
static int table_event(struct sch_reg *reg, const struct sch_envpol *pol,
		       const char *name, const struct sch_task_table_report *rep,
		       const char *snap_hex)
{
	json_t *d = json_object(), *from = json_object();
	char *actor = sch_reg_actor(reg), *s;
	int rc;

	for (size_t i = 0; i < rep->ncounts; i++)
		json_object_set_new(from, rep->counts[i].version,
				    json_integer((json_int_t)rep->counts[i].rows));
	json_object_set_new(d, "task", json_string(name));
	json_object_set_new(d, "table", json_string(rep->table));
	json_object_set_new(d, "column", json_string(rep->column));
	json_object_set_new(d, "from", from);
	json_object_set_new(d, "to", rep->to ? json_string(rep->to)
					     : json_null());
	json_object_set_new(d, "rows_read", json_integer((json_int_t)rep->read));
	json_object_set_new(d, "rows_changed",
			    json_integer((json_int_t)rep->changed));
	json_object_set_new(d, "env", pol->name ? json_string(pol->name)
						: json_null());
	json_object_set_new(d, "backup", snap_hex[0] ? json_string(snap_hex)
						     : json_null());
	s = json_dumps(d, JSON_SORT_KEYS);
	rc = sch_reg_event(reg, actor, "task migrate", NULL, s);
	free(s);
	free(actor);
	json_decref(d);
	return rc;
}

/* schema task migrate <name> --table T --column C ... */
static int migrate_table(struct sch_ctx *ctx, const char *name,
			 const char *to, const struct table_args *a)
{
	struct sch_task_table_opts o = { a->table, a->column, a->where, to,
					 (size_t)a->batch, a->dry_run };
	struct sch_task_table_report rep;
	struct sch_task_graph *g = NULL;
	struct sch_envpol pol;
	struct sch_pg *pg = NULL;
	struct sch_reg reg = { 0 };
	struct sch_id snap;
	char snap_hex[SCH_HEX_LEN + 1] = "";
	char *what = NULL;
	int rc;

	memset(&pol, 0, sizeof(pol));
	sch_task_table_report_init(&rep);
	rc = load_graph(&g, ctx, name);
	if (!rc && to && !sch_task_graph_get(g, to)) {
		rc = sch_error_set(SCH_ENOTFOUND, "task %s has no version %s",
				   name, to);
		sch_error_hint("'schema task log %s' lists its versions", name);
	}
	if (!rc)
		rc = sch_target_policy(&pol, &ctx->config, a->env, a->url);
	if (rc)
		goto out;
	if (!a->dry_run) {
		what = xasprintf("task migrate %s: rewrite column %s of %s",
				 name, a->column, a->table);
		rc = sch_cmd_confirm(&pol, a->yes, what);
		if (rc)
			goto out;
	}
	/* The environment's backup policy, as migrate takes it: the rows
	 * are rewritten in place, so a snapshot comes first. */
	if (!a->dry_run && !strcmp(pol.backup, "always")) {
		char *note = xasprintf("before task migrate %s", name);
		rc = sch_cmd_backup(ctx, &pol, note, -1, 0, 0, 0, &snap);
		free(note);
		if (rc) {
			rc = sch_error_wrap(rc, "task migrate aborted before any "
					    "change");
			goto out;
		}
		sch_id_hex(snap_hex, &snap);
	}
	rc = sch_target_connect(&pg, &pol);
	/* The registry exists before any row changes, so that the audit
	 * event of the run can be written once it has committed. */
	if (!rc && !a->dry_run) {
		struct sch_key k;
		sch_reg_init(&reg, pg, sch_config_get(&ctx->config,
						      "core.registry"));
		if (sch_cmd_operator_key(&k, ctx))
			sch_reg_set_signer(&reg, &k);
		sodium_memzero(&k, sizeof(k));
		rc = sch_reg_ensure(&reg);
	}
	if (!rc)
		rc = sch_task_table_migrate(&rep, pg, g, &o);
	if (!rc && !a->dry_run) {
		rc = table_event(&reg, &pol, name, &rep, snap_hex);
		if (rc)
			rc = sch_error_wrap(rc, "the rows of %s were migrated but "
					    "the audit event was not written",
					    rep.table);
	}
	if (rc == SCH_ECHECK) {
		sch_error_hint("rolled back: no row of %s changed", rep.table);
		sch_ui_print_error();
		if (rep.violations.len) {
			char *label = xasprintf("row %s", rep.failed_key);

			print_report(stderr, label, &rep.violations);
			free(label);
		}
		if (rep.by_ctid)
			fprintf(stderr, "note: %s has no primary key: rows are "
				"named by ctid\n", rep.table);
		rc = 1;
		goto out;
	}
	if (rc == SCH_EDB && rep.table && !sch_error_hint_msg()[0])
		sch_error_hint("rolled back: no row of %s changed", rep.table);
	if (!rc)
		print_table_report(&rep, name, a->dry_run);
out:
	free(what);
	sch_reg_release(&reg);
	sch_pg_close(pg);
	sch_target_release(&pol);
	sch_task_table_report_release(&rep);
	sch_task_graph_free(g);
	return rc;
}

static int task_migrate(int argc, char **argv, struct sch_ctx *ctx)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "table", required_argument, NULL, 'T' },
		{ "column", required_argument, NULL, 'C' },
		{ "where", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' },
		{ "url", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	struct sch_task_graph *g = NULL;
	struct sch_buf report = SCH_BUF_INIT, out = SCH_BUF_INIT;
	const char *to = NULL, *output = NULL, *what;
	struct table_args ta = { 0 };
	int c, rc, db_opts = 0;
	json_t *doc = NULL;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'o': output = optarg; break;
		case 'T': ta.table = optarg; break;
		case 'C': ta.column = optarg; break;
		case 'w': ta.where = optarg; db_opts = 1; break;
		case 'b':
			if ((rc = sch_cmd_count(&ta.batch, optarg, "--batch")))
				return rc;
			if (!ta.batch)
				return usage("%s", "--batch needs at least 1 row");
			if (ta.batch > SCH_TASK_BATCH_MAX) {
				sch_error_set(SCH_EUSAGE, "--batch: at most %d "
					      "rows", SCH_TASK_BATCH_MAX);
				sch_error_hint("see 'schema task --help'");
				return SCH_EUSAGE;
			}
			db_opts = 1;
			break;
		case 'u': ta.url = optarg; db_opts = 1; break;
		case 'e': ta.env = optarg; db_opts = 1; break;
		case 'n': ta.dry_run = 1; db_opts = 1; break;
		case 'y': ta.yes = 1; db_opts = 1; break;
		default:
			return sch_cmd_optfail(c, argv, "task migrate", opts);
		}
	}
	if (to && (rc = sch_task_check_version(to)))
		return rc;
	if (ta.table || ta.column) {
		if (argc - optind != 1 || !ta.table || !ta.column)
			return usage("%s", "usage: schema task migrate <name> "
				     "--table T --column C [--where SQL] "
				     "[--to V] [--batch N] [--dry-run]");
		if (output)
			return usage("%s", "-o is for files; --table "
				     "migrates the table in place");
		return migrate_table(ctx, argv[optind], to, &ta);
	}
	if (db_opts)
		return usage("%s", "--where, --batch, --url, --env, --dry-run "
			     "and --yes need --table and --column");
	if (argc - optind != 2)
		return usage("%s", "usage: schema task migrate <name> FILE "
			     "[--to VERSION] [-o OUT]");
	if (!output)
		output = "-";
	what = display_name(argv[optind + 1]);
	rc = load_graph(&g, ctx, argv[optind]);
	if (!rc)
		rc = read_json_arg(&doc, argv[optind + 1]);
	if (rc)
		goto out;
	rc = sch_task_migrate(&doc, g, to, what, &report);
	if (rc == SCH_ECHECK && report.len) {
		/* Every violation, not only the first. */
		sch_ui_print_error();
		print_report(stderr, what, &report);
		rc = 1;
		goto out;
	}
	if (!rc)
		rc = sch_json_dump_pretty(&out, doc);
	if (!rc)
		rc = write_output(output, &out);
out:
	json_decref(doc);
	sch_buf_release(&report);
	sch_buf_release(&out);
	sch_task_graph_free(g);
	return rc;
}

/* ---- entry -------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct sch_ctx *ctx);
} subcommands[] = {
	{ "add", task_add },
	{ "log", task_log },
	{ "migrate", task_migrate },
	{ "show", task_show },
	{ "validate", task_validate },
};

int cmd_task(int argc, char **argv, struct sch_ctx *ctx)
{
	size_t i;

	if (argc < 2)
		return usage("%s", "usage: schema task "
			     "(add|log|show|validate|migrate) ...");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1, ctx);
	{
		static const char *const subs[] = { "add", "log", "migrate",
						    "show", "validate", NULL };
		return sch_cmd_unknown_sub("task", argv[1], subs);
	}
}
