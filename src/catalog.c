/* catalog.c - capture of the canonical state text (see catalog.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "schema/catalog.h"
#include "schema/error.h"
#include "schema/registry.h"

/*
 * Every query takes $1, the oids of the managed schemas, and $2, the oids
 * of the objects extensions own, and returns rows (obj, ord, line): the
 * entry's header, a sort key within the entry, and one body line (NULL
 * for a row that only makes sure the entry exists). The C side sorts the
 * rows and prints them; the server does the formatting, one query per
 * class of object, so that the work is a few sequential catalog scans.
 */
#define MANAGED(col) col " = ANY($1::oid[]) AND "
#define NOT_EXT(col) col " <> ALL($2::oid[])"
#define QNAME(nsp, name) "quote_ident(" nsp ") || '.' || quote_ident(" name ")"
#define REL_HDR                                                         \
	"CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' "     \
	"WHEN 'f' THEN 'foreign table ' WHEN 'v' THEN 'view ' "             \
	"WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence ' "     \
	"WHEN 'c' THEN 'type ' END || " QNAME("n.nspname", "c.relname")
#define REL_FROM(alias_rel)                                             \
	" JOIN pg_class c ON c.oid = " alias_rel                            \
	" JOIN pg_namespace n ON n.oid = c.relnamespace "
#define COMMENT(cls, oidcol, sub)                                       \
	"coalesce(' comment ' || quote_literal((SELECT d.description "      \
	"FROM pg_description d WHERE d.objoid = " oidcol " AND "            \
	"d.classoid = '" cls "'::regclass AND d.objsubid = " sub ")), '')"
/* A comment on a line of its own, NULL when none. */
#define COMMENT_LINE(cls, oidcol)                                       \
	"nullif(ltrim(" COMMENT(cls, oidcol, "0") "), '')"
#define COLLATE(coll)                                                   \
	"(SELECT ' collate ' || " QNAME("cn.nspname", "co.collname")        \
	" FROM pg_collation co JOIN pg_namespace cn ON "                    \
	"cn.oid = co.collnamespace WHERE co.oid = " coll ")"

static const char q_schemas[] =
	"SELECT 'schema ' || quote_ident(n.nspname), '0', "
	COMMENT_LINE("pg_namespace", "n.oid") " "
	"FROM pg_namespace n WHERE n.oid = ANY($1::oid[]) AND $2::oid[] "
	"IS NOT NULL";

static const char q_relations[] =
	"SELECT r.obj, v.ord, v.line FROM ("
	" SELECT " REL_HDR " AS obj, c.* FROM pg_class c"
	" JOIN pg_namespace n ON n.oid = c.relnamespace"
	" WHERE " MANAGED("c.relnamespace")
	" c.relkind IN ('r','p','f','v','m','S','c') AND " NOT_EXT("c.oid")
	") r LEFT JOIN pg_sequence s ON s.seqrelid = r.oid "
	"CROSS JOIN LATERAL (VALUES"
	" ('0', NULL::text),"
	" ('0a', CASE WHEN r.relkind = 'p' THEN 'partition by ' ||"
	"  pg_get_partkeydef(r.oid) END),"
	" ('0b', CASE WHEN r.relispartition THEN 'partition of ' ||"
	"  (SELECT i.inhparent::regclass::text FROM pg_inherits i"
	"   WHERE i.inhrelid = r.oid) || ' ' ||"
	"  pg_get_expr(r.relpartbound, r.oid) END),"
	" ('0c', CASE WHEN r.relkind IN ('r','p','f') AND NOT r.relispartition"
	"  THEN (SELECT 'inherits ' || string_agg(i.inhparent::regclass::text,"
	"  ', ' ORDER BY i.inhseqno) FROM pg_inherits i"
	"  WHERE i.inhrelid = r.oid) END),"
	" ('0d', CASE WHEN r.relpersistence = 'u' THEN 'unlogged' END),"
	" ('0e', CASE WHEN r.relrowsecurity THEN 'row level security' ||"
	"  CASE WHEN r.relforcerowsecurity THEN ' forced' ELSE '' END END),"
	" ('0f', CASE WHEN r.relkind IN ('r','p','m') THEN CASE r.relreplident"
	"  WHEN 'f' THEN 'replica identity full'"
	"  WHEN 'n' THEN 'replica identity nothing' END END),"
	" ('0g', CASE WHEN r.reloptions IS NOT NULL THEN 'with (' ||"
	"  array_to_string(ARRAY(SELECT o FROM unnest(r.reloptions) o"
	"  ORDER BY o COLLATE \"C\"), ', ') || ')' END),"
	" ('0h', CASE WHEN r.relkind IN ('v','m') THEN 'as' || chr(10) ||"
	"  pg_get_viewdef(r.oid) END),"
	" ('0i', CASE WHEN s.seqrelid IS NOT NULL THEN format('as %s start %s"
	" increment %s minvalue %s maxvalue %s cache %s%s',"
	"  format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,"
	"  s.seqmin, s.seqmax, s.seqcache,"
	"  CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END) END),"
	" ('0j', CASE WHEN r.relkind = 'S' THEN (SELECT CASE dp.deptype"
	"  WHEN 'i' THEN 'identity of ' ELSE 'owned by ' END ||"
	"  dp.refobjid::regclass::text || '.' || quote_ident(a.attname)"
	"  FROM pg_depend dp JOIN pg_attribute a ON a.attrelid = dp.refobjid"
	"  AND a.attnum = dp.refobjsubid"
	"  WHERE dp.classid = 'pg_class'::regclass AND dp.objid = r.oid"
	"  AND dp.refclassid = 'pg_class'::regclass AND dp.refobjsubid > 0"
	"  AND dp.deptype IN ('a','i') LIMIT 1) END),"
	" ('0k', CASE WHEN r.relkind = 'f' THEN (SELECT 'server ' ||"
	"  quote_ident(fs.srvname) || coalesce(' options (' ||"
	"  array_to_string(ft.ftoptions, ', ') || ')', '')"
	"  FROM pg_foreign_table ft JOIN pg_foreign_server fs"
	"  ON fs.oid = ft.ftserver WHERE ft.ftrelid = r.oid) END),"
	" ('9', " COMMENT_LINE("pg_class", "r.oid") ")"
	") v(ord, line) WHERE v.ord = '0' OR v.line IS NOT NULL";

/*
 * Columns in their order. A default holds no column reference (only a
 * generated column's expression does), so it is printed without the
 * relation's context: that saves a relation lookup per default, the
 * largest cost of this query on a fresh connection.
 */
static const char q_columns[] =
	"SELECT " REL_HDR ", '1' || lpad(a.attnum::text, 5, '0'),"
	" 'column ' || quote_ident(a.attname) || ' ' ||"
	" format_type(a.atttypid, a.atttypmod) ||"
	" CASE WHEN a.attcollation <> t.typcollation THEN"
	"  coalesce(" COLLATE("a.attcollation") ", '') ELSE '' END ||"
	" CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||"
	" CASE a.attidentity WHEN 'a' THEN ' generated always as identity'"
	"  WHEN 'd' THEN ' generated by default as identity' ELSE '' END ||"
	" CASE WHEN a.attgenerated = 's' THEN ' generated always as (' ||"
	"  pg_get_expr(ad.adbin, ad.adrelid) || ') stored'"
	"  WHEN ad.adbin IS NOT NULL THEN ' default ' ||"
	"  pg_get_expr(ad.adbin, 0) ELSE '' END ||"
	" CASE WHEN a.attstorage <> t.typstorage THEN ' storage ' ||"
	"  CASE a.attstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'"
	"  WHEN 'm' THEN 'main' ELSE 'extended' END ELSE '' END ||"
	" CASE WHEN a.attcompression <> '' THEN ' compression ' ||"
	"  CASE a.attcompression WHEN 'p' THEN 'pglz' ELSE 'lz4' END"
	"  ELSE '' END ||"
	" CASE WHEN a.attstattarget >= 0 THEN ' statistics ' ||"
	"  a.attstattarget ELSE '' END ||"
	" coalesce(' with (' || array_to_string(a.attoptions, ', ') || ')',"
	"  '') ||"
	" CASE WHEN d.description IS NOT NULL THEN ' comment ' ||"
	"  quote_literal(d.description) ELSE '' END "
	"FROM pg_attribute a" REL_FROM("a.attrelid")
	"JOIN pg_type t ON t.oid = a.atttypid "
	"LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid"
	" AND ad.adnum = a.attnum "
	"LEFT JOIN pg_description d ON d.objoid = a.attrelid"
	" AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum "
	"WHERE " MANAGED("c.relnamespace")
	" c.relkind IN ('r','p','f','v','m','c') AND a.attnum > 0"
	" AND NOT a.attisdropped AND " NOT_EXT("c.oid");

static const char q_constraints[] =
	"SELECT " REL_HDR ", '2' || k.conname, 'constraint ' ||"
	" quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid) ||"
	" " COMMENT("pg_constraint", "k.oid", "0") " "
	"FROM pg_constraint k" REL_FROM("k.conrelid")
	"WHERE " MANAGED("c.relnamespace") " k.contype <> 't' AND "
	NOT_EXT("c.oid");

/* Indexes that back a constraint are the constraint's. */
static const char q_indexes[] =
	"SELECT " REL_HDR ", '3' || ic.relname, 'index ' ||"
	" pg_get_indexdef(i.indexrelid) ||"
	" CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END ||"
	" CASE WHEN i.indisreplident THEN ' replica identity' ELSE '' END ||"
	" CASE WHEN NOT i.indisvalid THEN ' invalid' ELSE '' END ||"
	" " COMMENT("pg_class", "i.indexrelid", "0") " "
	"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
	REL_FROM("i.indrelid")
	"WHERE " MANAGED("c.relnamespace") NOT_EXT("c.oid") " AND NOT EXISTS"
	" (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
	"  AND k.conrelid = i.indrelid AND k.contype IN ('p','u','x'))";

static const char q_triggers[] =
	"SELECT " REL_HDR ", '4' || tg.tgname, 'trigger ' ||"
	" pg_get_triggerdef(tg.oid) || CASE tg.tgenabled WHEN 'D' THEN"
	" ' disabled' WHEN 'R' THEN ' enabled replica' WHEN 'A' THEN"
	" ' enabled always' ELSE '' END ||"
	" " COMMENT("pg_trigger", "tg.oid", "0") " "
	"FROM pg_trigger tg" REL_FROM("tg.tgrelid")
	"WHERE " MANAGED("c.relnamespace") " NOT tg.tgisinternal AND "
	NOT_EXT("c.oid");

static const char q_policies[] =
	"SELECT " REL_HDR ", '5' || p.polname, 'policy ' ||"
	" quote_ident(p.polname) || CASE WHEN p.polpermissive THEN ''"
	" ELSE ' as restrictive' END || ' for ' || CASE p.polcmd"
	" WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN"
	" 'update' WHEN 'd' THEN 'delete' ELSE 'all' END || ' to ' ||"
	" (SELECT string_agg(x.n, ', ' ORDER BY x.n COLLATE \"C\") FROM"
	"  (SELECT CASE WHEN r = 0 THEN 'public' ELSE"
	"   quote_ident(pg_get_userbyid(r)) END AS n"
	"   FROM unnest(p.polroles) r) x) ||"
	" coalesce(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')',"
	"  '') || coalesce(' with check (' ||"
	"  pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') ||"
	" " COMMENT("pg_policy", "p.oid", "0") " "
	"FROM pg_policy p" REL_FROM("p.polrelid")
	"WHERE " MANAGED("c.relnamespace") NOT_EXT("c.oid");

static const char q_rules[] =
	"SELECT " REL_HDR ", '6' || ru.rulename, 'rule ' ||"
	" pg_get_ruledef(ru.oid) || " COMMENT("pg_rewrite", "ru.oid", "0")
	" FROM pg_rewrite ru" REL_FROM("ru.ev_class")
	"WHERE " MANAGED("c.relnamespace") " ru.rulename <> '_RETURN' AND "
	NOT_EXT("c.oid");

static const char q_functions[] =
	"SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN"
	" 'aggregate ' ELSE 'function ' END || p.oid::regprocedure::text,"
	" v.ord, v.line FROM pg_proc p CROSS JOIN LATERAL (VALUES"
	" ('0', CASE WHEN p.prokind = 'a' THEN (SELECT format("
	"  'sfunc %s stype %s%s%s%s', ag.aggtransfn::regprocedure,"
	"  format_type(ag.aggtranstype, NULL),"
	"  coalesce(' finalfunc ' || nullif(ag.aggfinalfn, 0)::regprocedure,"
	"  ''), coalesce(' combinefunc ' ||"
	"  nullif(ag.aggcombinefn, 0)::regprocedure, ''),"
	"  coalesce(' initcond ' || quote_literal(ag.agginitval), ''))"
	"  FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid)"
	"  ELSE pg_get_functiondef(p.oid) END),"
	" ('9', " COMMENT_LINE("pg_proc", "p.oid") ")"
	") v(ord, line) WHERE " MANAGED("p.pronamespace") NOT_EXT("p.oid")
	" AND (v.ord = '0' OR v.line IS NOT NULL)";

/* Enum, domain, range and base types; composite types are relations. */
static const char q_types[] =
	"SELECT 'type ' || " QNAME("n.nspname", "t.typname") ", v.ord,"
	" v.line FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
	" CROSS JOIN LATERAL (VALUES"
	" ('0', CASE t.typtype"
	"  WHEN 'e' THEN 'enum (' || coalesce((SELECT string_agg("
	"   quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)"
	"   FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'"
	"  WHEN 'd' THEN 'domain ' || format_type(t.typbasetype, t.typtypmod)"
	"   || CASE WHEN t.typcollation <> (SELECT bt.typcollation FROM"
	"   pg_type bt WHERE bt.oid = t.typbasetype) THEN coalesce("
	    COLLATE("t.typcollation") ", '') ELSE '' END ||"
	"   CASE WHEN t.typnotnull THEN ' not null' ELSE '' END ||"
	"   coalesce(' default ' || t.typdefault, '')"
	"  WHEN 'r' THEN (SELECT 'range subtype ' ||"
	"   format_type(rg.rngsubtype, NULL) || coalesce(' subtype_diff ' ||"
	"   nullif(rg.rngsubdiff, 0)::regprocedure, '') ||"
	"   coalesce(' canonical ' || nullif(rg.rngcanonical, 0)::regprocedure,"
	"   '') || coalesce(" COLLATE("nullif(rg.rngcollation, 0)") ", '')"
	"   FROM pg_range rg WHERE rg.rngtypid = t.oid)"
	"  ELSE 'base input ' || t.typinput::regprocedure || ' output ' ||"
	"   t.typoutput::regprocedure || ' length ' || t.typlen END),"
	" ('9', " COMMENT_LINE("pg_type", "t.oid") ")"
	") v(ord, line) WHERE " MANAGED("t.typnamespace")
	" (t.typtype IN ('e','d','r') OR (t.typtype = 'b' AND t.typelem = 0))"
	" AND " NOT_EXT("t.oid") " AND (v.ord = '0' OR v.line IS NOT NULL) "
	"UNION ALL "
	"SELECT 'type ' || " QNAME("n.nspname", "t.typname") ", '2' ||"
	" k.conname, 'constraint ' || quote_ident(k.conname) || ' ' ||"
	" pg_get_constraintdef(k.oid) FROM pg_constraint k"
	" JOIN pg_type t ON t.oid = k.contypid"
	" JOIN pg_namespace n ON n.oid = t.typnamespace"
	" WHERE " MANAGED("t.typnamespace") NOT_EXT("t.oid");

static const char q_extensions[] =
	"SELECT 'extension ' || quote_ident(x.extname), '0', 'version ' ||"
	" x.extversion || ' schema ' || quote_ident(n.nspname)"
	" FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace"
	" WHERE (x.extnamespace = ANY($1::oid[]) OR"
	" (n.nspname = 'pg_catalog' AND x.extname <> 'plpgsql'))"
	" AND $2::oid[] IS NOT NULL";

static const char q_statistics[] =
	"SELECT 'statistics ' || " QNAME("n.nspname", "s.stxname") ", '0',"
	" pg_get_statisticsobjdef(s.oid) || " COMMENT("pg_statistic_ext",
						      "s.oid", "0")
	" FROM pg_statistic_ext s JOIN pg_namespace n"
	" ON n.oid = s.stxnamespace WHERE " MANAGED("s.stxnamespace")
	NOT_EXT("s.oid");

static const char *const queries[] = {
	q_schemas,  q_relations, q_columns,   q_constraints,
	q_indexes,  q_triggers,  q_policies,  q_rules,
	q_functions, q_types,    q_extensions, q_statistics,
};

/* One row: offsets into the arena (line SIZE_MAX when NULL). */
struct row {
	size_t obj, ord, line;
};

struct rows {
	struct sch_buf arena;
	struct row *v;
	size_t n, cap;
};

static size_t keep(struct rows *rs, const char *s, size_t len)
{
	size_t at = rs->arena.len;

	sch_buf_add(&rs->arena, s, len);
	sch_buf_addch(&rs->arena, '\0');
	return at;
}

static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct row *x = a, *y = b;
	const char *base = arg;
	int c = strcmp(base + x->obj, base + y->obj);

	if (c)
		return c;
	c = strcmp(base + x->ord, base + y->ord);
	if (c)
		return c;
	if (x->line == y->line)
		return 0;
	if (x->line == SIZE_MAX)
		return -1;
	if (y->line == SIZE_MAX)
		return 1;
	return strcmp(base + x->line, base + y->line);
}

static int run_query(struct rows *rs, struct sch_pg *pg, const char *sql,
		     const char *const params[2])
{
	struct sch_pg_result *r = NULL;
	int rc = sch_pg_exec(pg, &r, SCH_PG_TUPLES, sql, 2, params);

	if (rc)
		return rc;
	for (int i = 0, n = sch_pg_result_rows(r); i < n; i++) {
		struct row *w;
		if (sch_pg_result_isnull(r, i, 0))
			continue; /* an object of a kind no header names */
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 1024;
			rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
		}
		w = &rs->v[rs->n++];
		w->obj = keep(rs, sch_pg_result_value(r, i, 0),
			      sch_pg_result_len(r, i, 0));
		w->ord = keep(rs, sch_pg_result_value(r, i, 1),
			      sch_pg_result_len(r, i, 1));
		w->line = sch_pg_result_isnull(r, i, 2) ? SIZE_MAX
			: keep(rs, sch_pg_result_value(r, i, 2),
			       sch_pg_result_len(r, i, 2));
	}
	sch_pg_result_free(r);
	return 0;
}

/* A body line: two spaces, continuation lines four, no trailing
 * newlines (pg_get_functiondef ends with one). */
static int add_line(struct sch_buf *out, const char *s)
{
	size_t len = strlen(s);
	int rc = 0;

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	rc |= sch_buf_add(out, "  ", 2);
	for (size_t i = 0; i < len && !rc; i++) {
		rc |= sch_buf_addch(out, s[i]);
		if (s[i] == '\n')
			rc |= sch_buf_add(out, "    ", 4);
	}
	rc |= sch_buf_addch(out, '\n');
	return rc ? SCH_ETOOBIG : 0;
}

static int managed_oids(struct sch_buf *nsp, struct sch_buf *ext,
			struct sch_pg *pg, const struct sch_catalog_opts *o)
{
	const char *reg = o && o->registry && *o->registry ? o->registry
							    : SCH_REG_DEFAULT;
	const char *list = o && o->schemas && *o->schemas ? o->schemas : NULL;
	const char *p[2] = { reg, list };
	int rc;

	rc = sch_pg_query_value(nsp, pg,
		"SELECT coalesce(array_agg(oid ORDER BY oid), '{}')::text "
		"FROM pg_namespace WHERE nspname <> $1 AND CASE WHEN $2::text "
		"IS NULL THEN nspname NOT IN ('information_schema') AND "
		"nspname NOT LIKE 'pg\\_%' ELSE nspname IN (SELECT "
		"regexp_split_to_table(btrim($2, E' \\t\\n,'), E'[\\\\s,]+')) "
		"END", 2, p);
	if (!rc)
		rc = sch_pg_query_value(ext, pg,
			"SELECT coalesce(array_agg(DISTINCT objid), '{}')::text "
			"FROM pg_depend WHERE deptype = 'e'", 0, NULL);
	return rc;
}

int sch_catalog_capture(struct sch_buf *out, struct sch_pg *pg,
			const struct sch_catalog_opts *o)
{
	struct sch_buf nsp = SCH_BUF_INIT, ext = SCH_BUF_INIT;
	struct rows rs;
	int own = sch_pg_tx_status(pg) == SCH_PG_TX_IDLE, started = 0, rc;
	const char *last = NULL;

	memset(&rs, 0, sizeof(rs));
	sch_buf_init(&rs.arena);
	/* Own snapshot when idle, else a savepoint whose rollback undoes
	 * the settings below inside the caller's block. */
	rc = sch_pg_exec(pg, NULL, SCH_PG_COMMAND, own ?
			 "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" :
			 "SAVEPOINT sch_catalog", 0, NULL);
	if (rc)
		goto out;
	started = 1;
	/* pg_dump's conventions: with an empty search_path every name
	 * outside pg_catalog prints schema-qualified; values in bounds and
	 * defaults print the same whatever the session's settings. */
	rc = sch_pg_exec(pg, NULL, SCH_PG_TUPLES,
			 "SELECT set_config('search_path', '', true), "
			 "set_config('timezone', 'UTC', true), "
			 "set_config('datestyle', 'ISO', true), "
			 "set_config('intervalstyle', 'postgres', true), "
			 "set_config('extra_float_digits', '3', true)", 0, NULL);
	if (!rc)
		rc = managed_oids(&nsp, &ext, pg, o);
	for (size_t i = 0; !rc && i < sizeof(queries) / sizeof(*queries); i++) {
		const char *p[2] = { nsp.ptr, ext.ptr };
		rc = run_query(&rs, pg, queries[i], p);
	}
	if (rc)
		goto out;
	if (rs.n)
		qsort_r(rs.v, rs.n, sizeof(*rs.v), row_cmp, rs.arena.ptr);
	for (size_t i = 0; i < rs.n && !rc; i++) {
		const char *obj = rs.arena.ptr + rs.v[i].obj;
		if (!last || strcmp(last, obj)) {
			rc = sch_buf_addstr(out, obj);
			if (!rc)
				rc = sch_buf_addch(out, '\n');
			last = obj;
		}
		if (!rc && rs.v[i].line != SIZE_MAX)
			rc = add_line(out, rs.arena.ptr + rs.v[i].line);
	}
out:
	if (own && started) {
		sch_pg_rollback(pg);
	} else if (started && sch_pg_tx_status(pg) != SCH_PG_TX_UNKNOWN) {
		/* Keeps a failure's message: the rollback only cleans up. */
		struct sch_buf msg = SCH_BUF_INIT;
		sch_buf_addstr(&msg, sch_error_msg());
		if (sch_pg_exec(pg, NULL, SCH_PG_COMMAND, "ROLLBACK TO SAVEPOINT "
				"sch_catalog", 0, NULL) == 0)
			sch_pg_exec(pg, NULL, SCH_PG_COMMAND, "RELEASE SAVEPOINT "
				    "sch_catalog", 0, NULL);
		if (rc)
			sch_error_set(rc, "%s", msg.ptr);
		sch_buf_release(&msg);
	}
	free(rs.v);
	sch_buf_release(&rs.arena);
	sch_buf_release(&nsp);
	sch_buf_release(&ext);
	return rc;
}

void sch_catalog_state_id(struct sch_id *out, const void *text, size_t len)
{
	sch_object_hash(out, SCH_OBJ_STATE, text, len);
}

int sch_catalog_state(struct sch_id *out, struct sch_buf *text,
		      struct sch_txn *t, struct sch_pg *pg,
		      const struct sch_catalog_opts *o)
{
	struct sch_buf own = SCH_BUF_INIT, *b = text ? text : &own;
	int rc;

	sch_buf_reset(b);
	rc = sch_catalog_capture(b, pg, o);
	if (!rc && t && sch_txn_is_write(t))
		rc = sch_object_put(out, t, SCH_OBJ_STATE, b->ptr, b->len, -1);
	else if (!rc)
		sch_catalog_state_id(out, b->ptr, b->len);
	sch_buf_release(&own);
	return rc;
}

const char *sch_catalog_entry_name(const char *header)
{
	static const char *const two[] = { "materialized view ",
					   "foreign table " };
	const char *sp;

	for (size_t i = 0; i < sizeof(two) / sizeof(*two); i++)
		if (!strncmp(header, two[i], strlen(two[i])))
			return header + strlen(two[i]);
	sp = strchr(header, ' ');
	return sp ? sp + 1 : header;
}

int sch_state_lookup(struct sch_id *out, struct sch_txn *t,
		     const struct sch_id *rev, int major)
{
	struct sch_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc, found = 0;

	rc = sch_cursor_open(&c, t, SCH_DB_STATES);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, rev->b, SCH_ID_LEN, &k, &kl, &v, &vl);
	     rc == 1; rc = sch_cursor_next(c, &k, &kl, &v, &vl)) {
		if (kl < SCH_ID_LEN || memcmp(k, rev->b, SCH_ID_LEN))
			break;
		if (vl != SCH_ID_LEN || kl != SCH_ID_LEN + 1)
			continue;
		if (major >= 0 && ((const unsigned char *)k)[SCH_ID_LEN] !=
				  (unsigned char)major)
			continue;
		memcpy(out->b, v, SCH_ID_LEN);
		found = 1;
		break;
	}
	sch_cursor_close(c);
	return rc < 0 ? rc : found;
}

int sch_state_record(struct sch_txn *t, const struct sch_id *rev, int major,
		     const struct sch_id *state, int replace)
{
	unsigned char key[SCH_ID_LEN + 1];
	const void *v;
	size_t vl;

	assert(major >= 0 && major < 256);
	memcpy(key, rev->b, SCH_ID_LEN);
	key[SCH_ID_LEN] = (unsigned char)major;
	if (!replace && sch_kv_get(t, SCH_DB_STATES, key, sizeof(key), &v,
				   &vl) == 0)
		return 0;
	return sch_kv_put(t, SCH_DB_STATES, key, sizeof(key), state->b,
			  SCH_ID_LEN);
}
