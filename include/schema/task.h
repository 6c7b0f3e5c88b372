/*
 * task.h - versioned task configurations (src/task.c).
 *
 * A task configuration is a JSON document whose root object carries a
 * string member "schema_version" ("1.0", "1.1", "2.0"). Each version of a
 * task has a JSON Schema; the edges between versions carry two operation
 * lists, `up` (from the older to the newer version) and `down` (back).
 * Migrating a document walks the shortest path of edges from the version
 * it declares to the target, applying each edge's `up` ops forwards or
 * its `down` ops backwards, sets "schema_version" after each edge and
 * validates the result against the target's schema.
 *
 * Four layers, each usable alone:
 *   operations  JSON Patch (RFC 6902) plus "default", applied atomically;
 *   schemas     a closed subset of JSON Schema, compiled once;
 *   objects     the `task` object body that the store hashes;
 *   graphs      every version of one task, in memory or from the store,
 *               with path finding and (batch) migration.
 *
 * Formats and decisions: docs/task-configs.md.
 */
#ifndef SCH_TASK_H
#define SCH_TASK_H

#include <stddef.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/json.h"
#include "schema/object.h"

/* The member of a configuration's root object that names its version. */
#define SCH_TASK_VERSION_KEY "schema_version"
#define SCH_TASK_NAME_MAX 128
#define SCH_TASK_VERSION_MAX 64
/* Lines of a validation report beyond which violations are only counted. */
#define SCH_TASK_REPORT_MAX 100

/* ---- names and versions ------------------------------------------- */

/*
 * A task name is 1 to SCH_TASK_NAME_MAX characters of [A-Za-z0-9._-]
 * starting with a letter or digit. Returns 0 or SCH_EINVAL.
 */
int sch_task_check_name(const char *name);

/*
 * A version is dotted decimal: one or more numbers separated by '.', each
 * "0" or without leading zeros, at most SCH_TASK_VERSION_MAX characters
 * ("1.0", "2", "1.10.3"). Returns 0 or SCH_EINVAL.
 */
int sch_task_check_version(const char *version);

/*
 * Orders two valid versions numerically, component by component; when one
 * is a prefix of the other the longer one is greater ("1.0" < "1.0.0" <
 * "1.1" < "1.10"). Returns <0, 0 (same string), >0.
 */
int sch_task_version_cmp(const char *a, const char *b);

/* ---- operations --------------------------------------------------- */

/*
 * An operation list is a JSON array of objects, each one of
 *   {"op":"add",     "path":P, "value":V}
 *   {"op":"remove",  "path":P}
 *   {"op":"replace", "path":P, "value":V}
 *   {"op":"move",    "from":F, "path":P}
 *   {"op":"copy",    "from":F, "path":P}
 *   {"op":"test",    "path":P, "value":V}
 *   {"op":"default", "path":P, "value":V}
 * with RFC 6902 semantics; "default" adds V only when nothing is at P (a
 * member holding null counts as present) and, like "add", needs P's parent
 * to exist. Other members of an operation are ignored (RFC 6902 4.).
 */

/*
 * Checks the shape of an operation list (array, known ops, the members
 * each op needs, well-formed pointers, "from" not a proper prefix of
 * "path" for move). Returns 0 or SCH_EINVAL naming the operation:
 * "operation 2 (move /a): ...". Indices count from 0, as in a JSON
 * Pointer into the list.
 */
int sch_task_ops_check(const json_t *ops);

/*
 * Applies ops to *doc, all or nothing: the work is done on a deep copy
 * that replaces *doc (the old reference is dropped) only when every
 * operation succeeded. On failure *doc is untouched. The operations' values
 * are copied, never shared with the result.
 * Returns 0, SCH_EINVAL (malformed list, as sch_task_ops_check) or
 * SCH_ECHECK (an operation does not apply to this document: a missing
 * path, a failed test), the message naming index, op and path:
 * "operation 1 (replace /timeout): json pointer '/timeout': no member ...".
 */
int sch_task_ops_apply(json_t **doc, const json_t *ops);

/* ---- schemas ------------------------------------------------------ */

/*
 * Supported keywords: type (a name or an array of names; "integer" also
 * accepts 3.0), enum, const, required, properties, additionalProperties
 * (boolean or schema), items (one schema), minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum (numbers; draft-04 booleans too),
 * minLength, maxLength (in code points), pattern (POSIX extended regular
 * expression, unanchored, see docs/task-configs.md), and the annotations
 * default, $schema, $id, title, description. true and false are schemas.
 * Any other keyword anywhere is refused when the schema is loaded.
 */
struct sch_task_schema;

/*
 * Compiles a schema. Returns 0, or SCH_EINVAL with the schema location:
 * "schema uses unsupported keyword 'oneOf' at /properties/x", "schema
 * keyword 'minimum' at /properties/port must be a number".
 * schema is borrowed; the compiled form keeps its own reference.
 */
int sch_task_schema_load(struct sch_task_schema **out, const json_t *schema);
/* Accepts NULL. */
void sch_task_schema_free(struct sch_task_schema *s);

/*
 * Validates doc. Returns 0 or SCH_ECHECK whose message is the first
 * violation, "<pointer>: <keyword>: <detail>" (the root is written
 * "(root)"), followed by " (and N more)" when there are more. When report
 * is not NULL, every violation (up to SCH_TASK_REPORT_MAX) is appended to it
 * as one such line ending in '\n'.
 */
int sch_task_schema_validate(const struct sch_task_schema *s,
			     const json_t *doc, struct sch_buf *report);

/* ---- task objects ------------------------------------------------- */

/*
 * The body of a `task` object, in this order:
 *   name <name>\n
 *   version <version>\n
 *   schema <blob-id>\n
 *   from <version> <task-id> up <blob-id> down <blob-id>\n   (0 or more)
 * Ids are 64 lower-case hex digits. Edge lines are sorted by their version
 * (sch_task_version_cmp) and name distinct versions other than the
 * object's own. <task-id> is the object of that version when the edge was
 * made; the blobs hold the canonical JSON (sch_json_dump) of the schema
 * and the operation lists.
 */
struct sch_task_edge {
	char *from;            /* version the edge comes from */
	struct sch_id from_id; /* task object of `from` when the edge was made */
	struct sch_id up;      /* blob: operations from `from` to this version */
	struct sch_id down;    /* blob: operations back to `from` */
};

struct sch_task_obj {
	char *name;
	char *version;
	struct sch_id schema; /* blob: the JSON Schema */
	struct sch_task_edge *edges;
	size_t nedges;
};

void sch_task_obj_init(struct sch_task_obj *o);
void sch_task_obj_release(struct sch_task_obj *o);
/* Parses a body strictly into o (released first). Returns 0 or
 * SCH_ECORRUPT. */
int sch_task_obj_parse(struct sch_task_obj *o, const void *body, size_t len);
/* Appends the body of o. Returns 0 or SCH_EINVAL (bad name, version or
 * edge order). */
int sch_task_obj_format(struct sch_buf *out, const struct sch_task_obj *o);

/* ---- graphs ------------------------------------------------------- */

/*
 * Every version of one task: its object, id, schema and the operation
 * lists of its edges. A graph built in memory (sch_task_graph_add) and one
 * loaded from the store hold the same ids for the same content.
 */
struct sch_task_graph;

/* One version, as held by the graph (valid until the graph changes). */
struct sch_task_version {
	struct sch_id id;           /* of the task object */
	struct sch_task_obj obj;    /* name, version, schema id, edges */
	json_t *schema;             /* the JSON Schema */
	json_t **up;                /* obj.nedges operation lists */
	json_t **down;
	struct sch_task_schema *compiled;
};

/* One edge of a path: apply ops to go from `from` to `to`. */
struct sch_task_step {
	const char *from;   /* versions, borrowed from the graph */
	const char *to;
	int backwards;      /* 1: the edge's down ops, from newer to older */
	const json_t *ops;  /* borrowed from the graph */
};

struct sch_task_path {
	struct sch_task_step *steps;
	size_t n;
};

void sch_task_path_init(struct sch_task_path *p);
void sch_task_path_release(struct sch_task_path *p);

/* An empty graph for task `name`. Returns 0 or SCH_EINVAL (bad name). */
int sch_task_graph_new(struct sch_task_graph **out, const char *name);
/* Accepts NULL. */
void sch_task_graph_free(struct sch_task_graph *g);

/*
 * Adds version `version` with its schema and, when from is not NULL, an
 * edge from version `from` with the operation lists up and down (all
 * borrowed; the graph keeps copies). Adding a version that exists with the
 * same schema is allowed: the new edge joins its edges, and nothing
 * changes when that edge is already there.
 * Returns 0, SCH_EINVAL (bad version, schema or operations, from equal to
 * version, from without up and down), SCH_ENOTFOUND (`from` is not a
 * version of the task), SCH_EEXISTS (the version exists with another
 * schema, or already has another edge from `from`).
 */
int sch_task_graph_add(struct sch_task_graph *g, const char *version,
		       const json_t *schema, const char *from,
		       const json_t *up, const json_t *down);

/*
 * Loads every version of task `name` from the store (refs in SCH_DB_TASKS,
 * objects and blobs verified on read). Returns 0, SCH_EINVAL (bad name),
 * SCH_ENOTFOUND (no version of that task), SCH_ECORRUPT, SCH_EIO.
 */
int sch_task_graph_load(struct sch_task_graph **out, struct sch_txn *t,
			const char *name);

const char *sch_task_graph_name(const struct sch_task_graph *g);
/* Number of versions, and the i-th in ascending version order. */
size_t sch_task_graph_count(const struct sch_task_graph *g);
const struct sch_task_version *
sch_task_graph_at(const struct sch_task_graph *g, size_t i);
/* The version named, or NULL. */
const struct sch_task_version *
sch_task_graph_get(const struct sch_task_graph *g, const char *version);
/* The highest version (sch_task_version_cmp), or NULL when empty. */
const char *sch_task_graph_newest(const struct sch_task_graph *g);

/*
 * Finds a shortest path of edges from one version to another, edges usable
 * in both directions; among equally short paths, the one whose versions
 * come first in version order. from == to gives an empty path. out is
 * released first. Returns 0 or SCH_ENOTFOUND (unknown version, no path).
 */
int sch_task_graph_path(struct sch_task_path *out,
			const struct sch_task_graph *g, const char *from,
			const char *to);

/*
 * Stores what sch_task_graph_add(version, schema, from, up, down) would
 * add to task `name` in the store: the schema and operation blobs, the
 * new task object and the ref "name\0version" in SCH_DB_TASKS. *out (may
 * be NULL) receives the version's task id. t must be a write transaction.
 * Returns the codes of sch_task_graph_add and sch_task_graph_load (except
 * SCH_ENOTFOUND for a first version), SCH_EFULL, SCH_EIO.
 */
int sch_task_add(struct sch_id *out, struct sch_txn *t, const char *name,
		 const char *version, const json_t *schema, const char *from,
		 const json_t *up, const json_t *down);

/* ---- documents ---------------------------------------------------- */

/*
 * Reads the version a document declares: *out is borrowed from doc.
 * Returns 0 or SCH_EINVAL ("<what>: no schema_version", not an object, not
 * a string, not a valid version).
 */
int sch_task_doc_version(const char **out, const json_t *doc,
			 const char *what);

/*
 * Validates doc against the schema of `version` (NULL: the version the
 * document declares). Messages start with what. report as in
 * sch_task_schema_validate. Returns 0, SCH_EINVAL (as
 * sch_task_doc_version), SCH_ENOTFOUND (unknown version), SCH_ECHECK.
 */
int sch_task_validate(const struct sch_task_graph *g, const json_t *doc,
		      const char *version, const char *what,
		      struct sch_buf *report);

/*
 * Migrates *doc from the version it declares to `to` (NULL: the newest)
 * and validates the result against the schema of `to`. All or nothing: on
 * success *doc is replaced (the old reference dropped), on failure it is
 * untouched. Messages start with what, then the edge: "config.json: 1.0 ->
 * 1.1 (up): operation 0 (add /x): ...".
 * Returns 0, SCH_EINVAL (no or bad schema_version), SCH_ENOTFOUND (unknown
 * version, no path), SCH_ECHECK (an operation does not apply, or the
 * result does not validate; report receives the violations).
 */
int sch_task_migrate(json_t **doc, const struct sch_task_graph *g,
		     const char *to, const char *what, struct sch_buf *report);

/*
 * Migrates n documents to `to` as sch_task_migrate does, all or nothing:
 * when one fails, *failed is its index, the message names it
 * ("<what> 7: ...") and no document of docs is changed. The documents may
 * declare different versions. Returns the codes of sch_task_migrate.
 */
int sch_task_migrate_batch(json_t **docs, size_t n,
			   const struct sch_task_graph *g, const char *to,
			   const char *what, size_t *failed,
			   struct sch_buf *report);

/* ---- tables ------------------------------------------------------- */

struct sch_pg;

/* Rows per FETCH and per UPDATE when sch_task_table_opts.batch is 0. */
#define SCH_TASK_BATCH_DEFAULT 2000
#define SCH_TASK_BATCH_MAX 100000

/* What sch_task_table_migrate() works on. Strings are borrowed. */
struct sch_task_table_opts {
	/*
	 * The table as in SQL: `name` or `schema.name`, each part either
	 * unquoted (folded to lower case) or double-quoted ("My ""T""").
	 * An unqualified name follows the search_path.
	 */
	const char *table;
	/* The json or jsonb column, quoted or not as a part of table. */
	const char *column;
	/*
	 * A boolean SQL expression over the table's columns, or NULL for every
	 * row. It is user SQL, run as given (like psql): never pass text from
	 * someone who may not run SQL on this database.
	 */
	const char *where;
	const char *to;		/* target version; NULL: the newest */
	size_t batch;		/* rows per round trip; 0: the default */
	int dry_run;		/* read, migrate and validate; write nothing */
};

/* Rows read per version they declared, in ascending version order. */
struct sch_task_table_count {
	char *version;
	size_t rows;
};

/*
 * What a table migration did (or, after a failure, had read so far).
 * Filled by sch_task_table_migrate(); release with
 * sch_task_table_report_release().
 */
struct sch_task_table_report {
	char *table;	/* schema.name as the catalog spells it */
	char *column;
	char *key;	/* "id", "(a, b)", or "ctid" when there is no pk */
	int by_ctid;	/* 1: the table has no primary key */
	char *to;	/* the target version */
	size_t read;	/* rows read (the --where rows) */
	size_t changed;	/* rows written (or, dry run, that would be) */
	size_t nulls;	/* rows whose column is NULL: left alone */
	struct sch_task_table_count *counts;
	size_t ncounts;
	/* When a row failed: its key ("id=42") and its violations. */
	char *failed_key;
	struct sch_buf violations;
};

void sch_task_table_report_init(struct sch_task_table_report *r);
void sch_task_table_report_release(struct sch_task_table_report *r);

/*
 * Migrates a json or jsonb column of a table to version o->to of task g,
 * all or nothing, in one REPEATABLE READ transaction that this function
 * opens on pg (which must be idle) and commits, or rolls back on any
 * failure and after a dry run.
 *
 * Rows are read through a server-side cursor in primary-key order (ctid
 * order for a table without one), o->batch at a time, so memory is
 * bounded by the batch. Each document is migrated and validated against
 * the target as sch_task_migrate() does, rows already at the target are
 * validated too. Only rows whose document changes are written, one UPDATE
 * per batch, and only their top-level members that change: members the
 * migration leaves equal keep their stored bytes. NULL documents are left
 * alone and counted.
 *
 * Returns 0, or:
 *   SCH_EUSAGE   o->table or o->column malformed, o->batch too large;
 *   SCH_ENOTFOUND o->to is not a version of g;
 *   SCH_EDB      no such table or column, a column that is not json or
 *                jsonb, a table the function cannot key (partitioned
 *                without primary key), an error in o->where, a
 *                concurrent update, any server error;
 *   SCH_ECHECK   a row cannot be migrated: unreadable, without a valid
 *                schema_version, of a version with no path to the target,
 *                an operation that does not apply, an invalid result. The
 *                message names the row by its key ("public.t.config: row
 *                id=42: ..."); out->failed_key and out->violations say
 *                the same.
 * After a failure nothing in the table has changed.
 */
int sch_task_table_migrate(struct sch_task_table_report *out,
			   struct sch_pg *pg, const struct sch_task_graph *g,
			   const struct sch_task_table_opts *o);

/*
 * What the table migrator (src/db/task_table.c) needs of the documents'
 * half, so that it applies the same operations without this file's
 * internals: the pointers operation i of ops reads and writes (from is
 * NULL but for move and copy; *moves is 1 for a move), and the
 * operations applied to *doc in place (it may be replaced).
 * The first two return 0 or SCH_ECHECK / SCH_EPARSE as sch_task_migrate().
 */
int sch_task_op_paths(const json_t *ops, size_t i, const char **path,
		      const char **from, int *moves);
int sch_task_apply_in_place(json_t **doc, const json_t *ops);

#endif
