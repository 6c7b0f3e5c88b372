/*
 * catalog.h - the state of a database: the canonical text of the catalog
 * of its managed schemas (DESIGN.md, "States and the scratch cluster").
 *
 * The text is a sequence of entries, one per object, sorted bytewise by
 * their header line:
 *
 *   table public.users
 *     column id bigint not null generated always as identity
 *     column email text not null
 *     constraint users_pkey PRIMARY KEY (id)
 *     index CREATE INDEX users_email_idx ON public.users USING btree (email)
 *
 * A header line starts in column 0 with the object's kind and its
 * schema-qualified, quoted-when-needed name ("table", "view",
 * "materialized view", "foreign table", "sequence", "type", "function",
 * "procedure", "aggregate", "extension", "schema", "statistics"). Body
 * lines are indented by two spaces; continuation lines of a multi-line
 * value (a view or function definition) by four. Within a table the lines
 * come in a fixed order: table properties, columns in their order (dropped
 * columns do not count), then constraints, indexes, triggers, policies and
 * rules by name, then the comment. No OIDs, owners or privileges appear.
 * Names and expressions are printed with an empty search_path, as pg_dump
 * does, so they are schema-qualified and do not depend on the session.
 * An index line reads "index " and pg_get_indexdef()'s text, a constraint
 * line "constraint <name> " and pg_get_constraintdef()'s; on servers 15 to
 * 17 that text is rebuilt by the client from the raw catalog columns
 * (the server deparses only expressions), byte for byte the same, so state
 * ids do not depend on which way it was built.
 *
 * Managed schemas: the names listed in core.schemas (separated by commas
 * or blanks), else every schema but pg_catalog, information_schema, pg_*
 * and the registry. The registry schema is left out in both cases.
 * Extensions count when they live in a managed schema or in pg_catalog
 * (plpgsql, always there, excepted); the objects an extension owns are
 * left out, its name and version stand for them.
 *
 * A state id is the id of the `state` object whose body is that text.
 */
#ifndef SCH_CATALOG_H
#define SCH_CATALOG_H

#include <stddef.h>

#include "schema/buf.h"
#include "schema/object.h"
#include "schema/pg.h"

struct sch_catalog_opts {
	const char *registry;	/* unquoted; NULL or "": SCH_REG_DEFAULT */
	const char *schemas;	/* core.schemas; NULL or "": all but system */
};

/*
 * Appends the state text of pg's database to out. Runs a handful of
 * catalog queries (one per class of object) in one read-only snapshot:
 * in its own transaction when pg is idle, else inside the caller's
 * block (whose search_path it restores). Returns 0, SCH_EDB, or
 * SCH_ETOOBIG past out->max.
 */
int sch_catalog_capture(struct sch_buf *out, struct sch_pg *pg,
			const struct sch_catalog_opts *o);

/* The id of the state object holding text (not stored). */
void sch_catalog_state_id(struct sch_id *out, const void *text, size_t len);

/*
 * Captures and, when t is a write transaction, stores the state object:
 * its id into out, its text into text (may be NULL). Returns 0, SCH_EDB,
 * SCH_EFULL, SCH_EIO.
 */
int sch_catalog_state(struct sch_id *out, struct sch_buf *text,
		      struct sch_txn *t, struct sch_pg *pg,
		      const struct sch_catalog_opts *o);

/*
 * The name of the object an entry header names, without its kind
 * ("public.users" for "table public.users"); points into header.
 */
const char *sch_catalog_entry_name(const char *header);

/*
 * Recorded states (SCH_DB_STATES): the key is the revision id (32 bytes)
 * followed by one byte, the server's major version (15 for 15.4), since
 * deparsed definitions may read differently from one major to the next;
 * the value is the 32-byte state id. major < 0 in a lookup: any server.
 * sch_state_lookup returns 1 when found, 0 when not, or SCH_EIO;
 * sch_state_record keeps an existing entry unless replace is set and
 * returns 0, SCH_EFULL or SCH_EIO.
 */
int sch_state_lookup(struct sch_id *out, struct sch_txn *t,
		     const struct sch_id *rev, int major);
int sch_state_record(struct sch_txn *t, const struct sch_id *rev, int major,
		     const struct sch_id *state, int replace);

/* The managed schemas and the registry as the config names them
 * (core.schemas, core.registry); the strings stay the config's. */
struct sch_config;
void sch_catalog_opts_config(struct sch_catalog_opts *o,
			     const struct sch_config *cfg);

#endif
