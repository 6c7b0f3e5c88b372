/* catalog.c - capture of the canonical state text (see catalog.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "schema/catalog.h"
#include "schema/config.h"
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
	" CASE WHEN a.attgenerated IN ('s', 'v') THEN ' generated always as (' ||"
	"  pg_get_expr(ad.adbin, ad.adrelid) || CASE a.attgenerated WHEN 's'"
	"  THEN ') stored' ELSE ') virtual' END"
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
	"  quote_literal(d.description) ELSE '' END,"
	/* the attribute map that indexes and constraints are rendered with */
	" a.attrelid, a.attnum, quote_ident(a.attname), a.atttypid,"
	" a.attcollation, CASE WHEN t.typtype = 'd' THEN (SELECT bt.typtype"
	"  FROM pg_type bt WHERE bt.oid = t.typbasetype) ELSE t.typtype END,"
	" CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END,"
	" t.typcategory "
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

/*
 * PostgreSQL 15 to 17: indexes and constraints from raw catalog columns,
 * rendered by the client (render_index(), render_constraint()) into the
 * very text pg_get_indexdef() and pg_get_constraintdef() give, without
 * their per-object catalog lookups: on a fresh connection those lookups
 * miss every cache and cost more than all the rest of the capture. The
 * server still deparses what only it can: expressions (an expression
 * index, opclass options, a CHECK or EXCLUDE constraint, an ON DELETE SET
 * NULL column list) come as the whole definition, partial-index
 * predicates through pg_get_expr(). Columns are named through the
 * attribute map that q_columns returns.
 */
#define RELOPTS(col)                                                    \
	"(SELECT string_agg(quote_ident(split_part(o, '=', 1)) || '=' ||"   \
	" CASE WHEN quote_ident(v) = v THEN v ELSE quote_literal(v) END,"    \
	" ', ' ORDER BY u.n) FROM unnest(" col ") WITH ORDINALITY u(o, n),"  \
	" substr(o, strpos(o, '=') + 1) v)"
#define DESC_SUFFIX(cls, oid)                                           \
	"LEFT JOIN pg_description d ON d.objoid = " oid " AND d.classoid ="   \
	" '" cls "'::regclass AND d.objsubid = 0 "

static const char q_raw_constraints[] =
	"SELECT " REL_HDR ", '2' || k.conname, quote_ident(k.conname),"
	" k.contype, k.conrelid, k.conkey, k.confkey, CASE WHEN"
	" k.contype = 'f' THEN CASE WHEN rn.nspname = 'pg_catalog' THEN ''"
	" ELSE quote_ident(rn.nspname) || '.' END || quote_ident(rc.relname)"
	" END, k.confrelid,"
	/* referenced columns of a table outside the attribute map */
	" CASE WHEN k.contype = 'f' AND NOT (rc.relnamespace = ANY($1::oid[])"
	"  AND " NOT_EXT("rc.oid") ") THEN (SELECT string_agg("
	"  quote_ident(a.attname), ', ' ORDER BY u.n) FROM unnest(k.confkey)"
	"  WITH ORDINALITY u(num, n) JOIN pg_attribute a ON a.attrelid ="
	"  k.confrelid AND a.attnum = u.num) END,"
	" k.confupdtype, k.confdeltype, k.confmatchtype, k.condeferrable,"
	" k.condeferred, k.convalidated, ci.indkey, ci.indnullsnotdistinct,"
	" CASE WHEN k.contype IN ('p','u') OR (k.contype = 'f' AND"
	"  k.confdelsetcols IS NULL) THEN NULL ELSE pg_get_constraintdef(k.oid)"
	" END, coalesce(' comment ' || quote_literal(d.description), '') "
	"FROM pg_constraint k" REL_FROM("k.conrelid")
	"LEFT JOIN pg_class rc ON rc.oid = k.confrelid "
	"LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace "
	"LEFT JOIN pg_index ci ON ci.indexrelid = k.conindid AND"
	" k.contype IN ('p','u') "
	DESC_SUFFIX("pg_constraint", "k.oid")
	"WHERE " MANAGED("c.relnamespace") " k.contype <> 't' AND "
	NOT_EXT("c.oid");

static const char q_raw_indexes[] =
	"SELECT " REL_HDR ", '3' || ic.relname, quote_ident(ic.relname),"
	" ic.relkind = 'I', i.indrelid, quote_ident(am.amname), ic.relam,"
	" i.indisunique, i.indnullsnotdistinct, i.indnkeyatts, i.indkey,"
	" i.indclass, i.indoption, i.indcollation,"
	" CASE WHEN ic.reloptions IS NOT NULL THEN " RELOPTS("ic.reloptions")
	" END, CASE WHEN i.indpred IS NOT NULL THEN"
	"  pg_get_expr(i.indpred, i.indrelid) END,"
	" CASE WHEN i.indexprs IS NOT NULL OR i.indexrelid IN (SELECT"
	"  a.attrelid FROM pg_attribute a WHERE a.attoptions IS NOT NULL)"
	"  THEN pg_get_indexdef(i.indexrelid) END,"
	" CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END ||"
	" CASE WHEN i.indisreplident THEN ' replica identity' ELSE '' END ||"
	" CASE WHEN NOT i.indisvalid THEN ' invalid' ELSE '' END ||"
	" coalesce(' comment ' || quote_literal(d.description), '') "
	"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
	"JOIN pg_am am ON am.oid = ic.relam" REL_FROM("i.indrelid")
	DESC_SUFFIX("pg_class", "i.indexrelid")
	"WHERE " MANAGED("c.relnamespace") NOT_EXT("c.oid") " AND NOT EXISTS"
	" (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
	"  AND k.conrelid = i.indrelid AND k.contype IN ('p','u','x'))";

/* What deciding on a default operator class takes (see default_opc()). */
static const char q_raw_opclasses[] =
	"SELECT oc.oid, oc.opcmethod, oc.opcintype, oc.opcdefault,"
	" t.typcategory, t.typispreferred, CASE WHEN n.nspname ="
	" 'pg_catalog' THEN '' ELSE quote_ident(n.nspname) || '.' END ||"
	" quote_ident(oc.opcname) FROM pg_opclass oc JOIN pg_namespace n"
	" ON n.oid = oc.opcnamespace JOIN pg_type t ON t.oid = oc.opcintype"
	" WHERE $1::oid[] IS NOT NULL AND $2::oid[] IS NOT NULL";

static const char q_raw_casts[] =
	"SELECT castsource, casttarget FROM pg_cast WHERE castmethod = 'b'"
	" AND castcontext = 'i' AND $1::oid[] IS NOT NULL AND"
	" $2::oid[] IS NOT NULL";

static const char q_raw_collations[] =
	"SELECT co.oid, CASE WHEN n.nspname = 'pg_catalog' THEN '' ELSE"
	" quote_ident(n.nspname) || '.' END || quote_ident(co.collname)"
	" FROM pg_collation co JOIN pg_namespace n ON n.oid ="
	" co.collnamespace WHERE co.oid IN (SELECT unnest(i.indcollation::"
	" oid[]) FROM pg_index i) AND $1::oid[] IS NOT NULL AND"
	" $2::oid[] IS NOT NULL";

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

/* Collations the managed schemas define: every column of pg_collation but
 * the identity, owner and library version (whatever this server major
 * has: provider, locales, determinism, rules). */
static const char q_collations[] =
	"SELECT 'collation ' || " QNAME("n.nspname", "co.collname") ", '0',"
	" (to_jsonb(co) - 'oid' - 'collname' - 'collnamespace' - 'collowner'"
	" - 'collversion')::text || " COMMENT("pg_collation", "co.oid", "0")
	" FROM pg_collation co JOIN pg_namespace n"
	" ON n.oid = co.collnamespace WHERE " MANAGED("co.collnamespace")
	NOT_EXT("co.oid");

/* The queries in the order they run; the attribute map (q_columns) is
 * read before the raw indexes and constraints are rendered. */
enum {
	Q_SCHEMAS, Q_RELATIONS, Q_COLUMNS, Q_CONSTRAINTS, Q_INDEXES,
	Q_TRIGGERS, Q_POLICIES, Q_RULES, Q_FUNCTIONS, Q_TYPES, Q_EXTENSIONS,
	Q_STATISTICS, Q_COLLOBJS, Q_OPCLASSES, Q_CASTS, Q_COLLATIONS, NQUERIES
};

static const char *const queries[NQUERIES] = {
	q_schemas,  q_relations, q_columns,   q_constraints,
	q_indexes,  q_triggers,  q_policies,  q_rules,
	q_functions, q_types,    q_extensions, q_statistics,
	q_collations, NULL, NULL, NULL,
};

/* The same with indexes and constraints from raw columns. */
static const char *const raw_queries[NQUERIES] = {
	q_schemas,  q_relations, q_columns,   q_raw_constraints,
	q_raw_indexes, q_triggers, q_policies, q_rules,
	q_functions, q_types,    q_extensions, q_statistics,
	q_collations, q_raw_opclasses, q_raw_casts, q_raw_collations,
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

static void add_row(struct rows *rs, const char *obj, size_t objlen,
		    const char *ord, size_t ordlen, const char *line,
		    size_t linelen)
{
	struct row *w;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 1024;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	w = &rs->v[rs->n++];
	w->obj = keep(rs, obj, objlen);
	w->ord = keep(rs, ord, ordlen);
	w->line = line ? keep(rs, line, linelen) : SIZE_MAX;
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

/* Rows (obj, ord, line) of one result; a NULL obj is an object of a kind
 * no header names. */
static void take_rows(struct rows *rs, const struct sch_pg_result *r)
{
	for (int i = 0, n = sch_pg_result_rows(r); i < n; i++) {
		if (sch_pg_result_isnull(r, i, 0))
			continue;
		add_row(rs, sch_pg_result_value(r, i, 0),
			sch_pg_result_len(r, i, 0), sch_pg_result_value(r, i, 1),
			sch_pg_result_len(r, i, 1),
			sch_pg_result_isnull(r, i, 2) ? NULL
				: sch_pg_result_value(r, i, 2),
			sch_pg_result_len(r, i, 2));
	}
}

/* ---- the raw rendering of indexes and constraints ---- */

/* A column of a managed relation; name is quoted, valid with its result. */
struct attr {
	unsigned rel, typ, coll, base;
	int num;
	char typtype, category;
	const char *name;
};

struct opc {
	unsigned oid, method, intype;
	int isdefault, preferred;
	char category;
	const char *name;	/* qualified when outside pg_catalog */
};

struct cast {
	unsigned src, dst;
};

struct named {
	unsigned oid;
	const char *name;
};

struct raw {
	struct attr *attrs;
	size_t nattrs;
	struct opc *opcs;
	size_t nopcs;
	struct cast *casts;
	size_t ncasts;
	struct named *colls;
	size_t ncolls;
};

static unsigned uval(const struct sch_pg_result *r, int row, int col)
{
	return (unsigned)strtoul(sch_pg_result_value(r, row, col), NULL, 10);
}

static int bval(const struct sch_pg_result *r, int row, int col)
{
	return sch_pg_result_value(r, row, col)[0] == 't';
}

/* Numbers of an int2vector, oidvector or int2[] text ("1 2", "{1,2}"):
 * stores up to max, returns how many there are. */
static size_t numbers(long *v, size_t max, const char *s)
{
	size_t n = 0;

	while (*s) {
		char *e;
		long x;
		if (*s != '-' && (*s < '0' || *s > '9')) {
			s++;
			continue;
		}
		x = strtol(s, &e, 10);
		if (n < max)
			v[n] = x;
		n++;
		s = e;
	}
	return n;
}

static int attr_cmp(const void *a, const void *b)
{
	const struct attr *x = a, *y = b;

	if (x->rel != y->rel)
		return x->rel < y->rel ? -1 : 1;
	return (x->num > y->num) - (x->num < y->num);
}

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return (x->oid > y->oid) - (x->oid < y->oid);
}

static const struct attr *find_attr(const struct raw *rw, unsigned rel,
				    long num)
{
	struct attr key;

	key.rel = rel;
	key.num = (int)num;
	return bsearch(&key, rw->attrs, rw->nattrs, sizeof(key), attr_cmp);
}

static const char *find_named(const struct named *v, size_t n, unsigned oid)
{
	struct named key, *hit;

	key.oid = oid;
	hit = bsearch(&key, v, n, sizeof(key), named_cmp);
	return hit ? hit->name : NULL;
}

/* q_columns' columns 3 to 10 and the lookup tables. */
static void raw_load(struct raw *rw, struct sch_pg_result *const *res)
{
	const struct sch_pg_result *r = res[Q_COLUMNS];
	int n = sch_pg_result_rows(r);

	rw->attrs = xmalloc((size_t)(n ? n : 1) * sizeof(*rw->attrs));
	for (int i = 0; i < n; i++) {
		struct attr *a = &rw->attrs[rw->nattrs++];
		a->rel = uval(r, i, 3);
		a->num = (int)uval(r, i, 4);
		a->name = sch_pg_result_value(r, i, 5);
		a->typ = uval(r, i, 6);
		a->coll = uval(r, i, 7);
		a->typtype = sch_pg_result_value(r, i, 8)[0];
		a->base = uval(r, i, 9);
		a->category = sch_pg_result_value(r, i, 10)[0];
	}
	qsort(rw->attrs, rw->nattrs, sizeof(*rw->attrs), attr_cmp);

	r = res[Q_OPCLASSES];
	n = sch_pg_result_rows(r);
	rw->opcs = xmalloc((size_t)(n ? n : 1) * sizeof(*rw->opcs));
	for (int i = 0; i < n; i++) {
		struct opc *o = &rw->opcs[rw->nopcs++];
		o->oid = uval(r, i, 0);
		o->method = uval(r, i, 1);
		o->intype = uval(r, i, 2);
		o->isdefault = bval(r, i, 3);
		o->category = sch_pg_result_value(r, i, 4)[0];
		o->preferred = bval(r, i, 5);
		o->name = sch_pg_result_value(r, i, 6);
	}

	r = res[Q_CASTS];
	n = sch_pg_result_rows(r);
	rw->casts = xmalloc((size_t)(n ? n : 1) * sizeof(*rw->casts));
	for (int i = 0; i < n; i++) {
		rw->casts[rw->ncasts].src = uval(r, i, 0);
		rw->casts[rw->ncasts++].dst = uval(r, i, 1);
	}

	r = res[Q_COLLATIONS];
	n = sch_pg_result_rows(r);
	rw->colls = xmalloc((size_t)(n ? n : 1) * sizeof(*rw->colls));
	for (int i = 0; i < n; i++) {
		rw->colls[rw->ncolls].oid = uval(r, i, 0);
		rw->colls[rw->ncolls++].name = sch_pg_result_value(r, i, 1);
	}
	qsort(rw->colls, rw->ncolls, sizeof(*rw->colls), named_cmp);
}

static void raw_release(struct raw *rw)
{
	free(rw->attrs);
	free(rw->opcs);
	free(rw->casts);
	free(rw->colls);
}

/* Pseudo-types (pg_type.dat; their oids are fixed). */
#define ANYOID 2276
#define ANYELEMENTOID 2283
#define ANYARRAYOID 2277
#define ANYNONARRAYOID 2776
#define ANYENUMOID 3500
#define ANYRANGEOID 3831
#define ANYMULTIRANGEOID 4537
#define ANYCOMPATIBLEOID 5077
#define ANYCOMPATIBLEARRAYOID 5078
#define ANYCOMPATIBLENONARRAYOID 5079
#define ANYCOMPATIBLERANGEOID 5080
#define ANYCOMPATIBLEMULTIRANGEOID 4538
#define RECORDOID 2249

/* IsBinaryCoercible() for a column's base type. */
static int coercible(const struct raw *rw, const struct attr *a,
		     unsigned target)
{
	int array = a->category == 'A';

	switch (target) {
	case ANYOID: case ANYELEMENTOID: case ANYCOMPATIBLEOID:
		return 1;
	case ANYARRAYOID: case ANYCOMPATIBLEARRAYOID:
		return array;
	case ANYNONARRAYOID: case ANYCOMPATIBLENONARRAYOID:
		return !array;
	case ANYENUMOID:
		return a->typtype == 'e';
	case ANYRANGEOID: case ANYCOMPATIBLERANGEOID:
		return a->typtype == 'r';
	case ANYMULTIRANGEOID: case ANYCOMPATIBLEMULTIRANGEOID:
		return a->typtype == 'm';
	case RECORDOID:
		return a->typtype == 'c';
	}
	for (size_t i = 0; i < rw->ncasts; i++)
		if (rw->casts[i].src == a->base && rw->casts[i].dst == target)
			return 1;
	return 0;
}

/*
 * GetDefaultOpClass(): the default operator class of access method am for
 * a's type: the one for exactly its base type, else the one it is
 * binary-coercible to (a preferred type breaking a tie), else none. Only
 * that one operator class goes unnamed, so two indexes that differ in
 * an operator class always read differently.
 */
static unsigned default_opc(const struct raw *rw, unsigned am,
			    const struct attr *a)
{
	unsigned exact = 0, pref = 0, compat = 0;
	int nexact = 0, npref = 0, ncompat = 0;

	for (size_t i = 0; i < rw->nopcs; i++) {
		const struct opc *o = &rw->opcs[i];
		if (o->method != am || !o->isdefault)
			continue;
		if (o->intype == a->base) {
			nexact++;
			exact = o->oid;
		} else if (nexact == 0 && coercible(rw, a, o->intype)) {
			if (o->preferred && o->category == a->category) {
				npref++;
				pref = o->oid;
			} else if (npref == 0) {
				ncompat++;
				compat = o->oid;
			}
		}
	}
	if (nexact == 1)
		return exact;
	if (npref == 1 || (npref == 0 && ncompat == 1))
		return npref ? pref : compat;
	return 0;
}

static const struct opc *find_opc(const struct raw *rw, unsigned oid)
{
	for (size_t i = 0; i < rw->nopcs; i++)
		if (rw->opcs[i].oid == oid)
			return &rw->opcs[i];
	return NULL;
}

static int missing(const char *what, const char *obj)
{
	return sch_error_set(SCH_EDB, "catalog capture: %s of %s not found",
			     what, obj);
}

#define MAXKEYS 64	/* INDEX_MAX_KEYS is 32 */

/* Quoted names of rel's columns keys[0..n), comma-separated. */
static int add_columns(struct sch_buf *b, const struct raw *rw, unsigned rel,
		       const long *keys, size_t n, const char *obj)
{
	for (size_t j = 0; j < n; j++) {
		const struct attr *a = find_attr(rw, rel, keys[j]);
		if (!a)
			return missing("a column", obj);
		if (j)
			sch_buf_add(b, ", ", 2);
		sch_buf_addstr(b, a->name);
	}
	return 0;
}

/* One q_raw_indexes row as pg_get_indexdef() prints it. */
static int render_index(struct sch_buf *b, const struct raw *rw,
			const struct sch_pg_result *r, int i, const char *obj)
{
	long key[MAXKEYS], cls[MAXKEYS], opt[MAXKEYS], coll[MAXKEYS];
	unsigned rel = uval(r, i, 4), am = uval(r, i, 6);
	size_t nkey, nkeyatts = uval(r, i, 9);

	sch_buf_addstr(b, "index ");
	if (!sch_pg_result_isnull(r, i, 16)) {
		/* an expression or opclass options: the server's text */
		sch_buf_addstr(b, sch_pg_result_value(r, i, 16));
		goto flags;
	}
	nkey = numbers(key, MAXKEYS, sch_pg_result_value(r, i, 10));
	if (nkey > MAXKEYS || nkeyatts > nkey ||
	    numbers(cls, MAXKEYS, sch_pg_result_value(r, i, 11)) < nkeyatts ||
	    numbers(opt, MAXKEYS, sch_pg_result_value(r, i, 12)) < nkeyatts ||
	    numbers(coll, MAXKEYS, sch_pg_result_value(r, i, 13)) < nkeyatts)
		return missing("the key", obj);
	sch_buf_addf(b, "CREATE %sINDEX %s ON %s%s USING %s (",
		     bval(r, i, 7) ? "UNIQUE " : "", sch_pg_result_value(r, i, 2),
		     bval(r, i, 3) ? "ONLY " : "", sch_catalog_entry_name(obj),
		     sch_pg_result_value(r, i, 5));
	for (size_t k = 0; k < nkey; k++) {
		const struct attr *a = find_attr(rw, rel, key[k]);
		if (!a)
			return missing("an index column", obj);
		if (k == nkeyatts)
			sch_buf_addstr(b, ") INCLUDE (");
		else if (k)
			sch_buf_add(b, ", ", 2);
		sch_buf_addstr(b, a->name);
		if (k >= nkeyatts)
			continue;
		if (coll[k] && (unsigned)coll[k] != a->coll) {
			const char *cn = find_named(rw->colls, rw->ncolls,
						    (unsigned)coll[k]);
			if (!cn)
				return missing("a collation", obj);
			sch_buf_addf(b, " COLLATE %s", cn);
		}
		if ((unsigned)cls[k] != default_opc(rw, am, a)) {
			const struct opc *o = find_opc(rw, (unsigned)cls[k]);
			if (!o)
				return missing("an operator class", obj);
			sch_buf_addf(b, " %s", o->name);
		}
		/* INDOPTION_DESC 1, INDOPTION_NULLS_FIRST 2; set only by
		 * access methods that can order */
		if (opt[k] & 1)
			sch_buf_addstr(b, opt[k] & 2 ? " DESC" :
				       " DESC NULLS LAST");
		else if (opt[k] & 2)
			sch_buf_addstr(b, " NULLS FIRST");
	}
	sch_buf_addch(b, ')');
	if (bval(r, i, 8))
		sch_buf_addstr(b, " NULLS NOT DISTINCT");
	if (!sch_pg_result_isnull(r, i, 14))
		sch_buf_addf(b, " WITH (%s)", sch_pg_result_value(r, i, 14));
	if (!sch_pg_result_isnull(r, i, 15))
		sch_buf_addf(b, " WHERE %s", sch_pg_result_value(r, i, 15));
flags:
	sch_buf_addstr(b, sch_pg_result_value(r, i, 17));
	return 0;
}

static const char *fk_action(char c)
{
	switch (c) {
	case 'r': return "RESTRICT";
	case 'c': return "CASCADE";
	case 'n': return "SET NULL";
	case 'd': return "SET DEFAULT";
	}
	return NULL;	/* 'a', no action: the default */
}

/* One q_raw_constraints row as pg_get_constraintdef() prints it. */
static int render_constraint(struct sch_buf *b, const struct raw *rw,
			     const struct sch_pg_result *r, int i,
			     const char *obj)
{
	long key[MAXKEYS], inc[MAXKEYS];
	unsigned rel = uval(r, i, 4);
	char type = sch_pg_result_value(r, i, 3)[0];
	const char *act;
	size_t nkey;
	int rc;

	sch_buf_addf(b, "constraint %s ", sch_pg_result_value(r, i, 2));
	if (!sch_pg_result_isnull(r, i, 18)) {
		sch_buf_addstr(b, sch_pg_result_value(r, i, 18));
		goto comment;
	}
	nkey = numbers(key, MAXKEYS, sch_pg_result_value(r, i, 5));
	if (nkey > MAXKEYS)
		return missing("the key", obj);
	if (type == 'f') {
		sch_buf_addstr(b, "FOREIGN KEY (");
		if ((rc = add_columns(b, rw, rel, key, nkey, obj)))
			return rc;
		sch_buf_addf(b, ") REFERENCES %s(",
			     sch_pg_result_value(r, i, 7));
		if (!sch_pg_result_isnull(r, i, 9)) {
			sch_buf_addstr(b, sch_pg_result_value(r, i, 9));
		} else {
			nkey = numbers(key, MAXKEYS,
				       sch_pg_result_value(r, i, 6));
			if (nkey > MAXKEYS)
				return missing("the referenced key", obj);
			if ((rc = add_columns(b, rw, uval(r, i, 8), key, nkey,
					      obj)))
				return rc;
		}
		sch_buf_addch(b, ')');
		switch (sch_pg_result_value(r, i, 12)[0]) {
		case 'f': sch_buf_addstr(b, " MATCH FULL"); break;
		case 'p': sch_buf_addstr(b, " MATCH PARTIAL"); break;
		}
		if ((act = fk_action(sch_pg_result_value(r, i, 10)[0])))
			sch_buf_addf(b, " ON UPDATE %s", act);
		if ((act = fk_action(sch_pg_result_value(r, i, 11)[0])))
			sch_buf_addf(b, " ON DELETE %s", act);
	} else {
		/* 'p' or 'u'; INCLUDE columns follow the key in indkey */
		size_t ninc = numbers(inc, MAXKEYS,
				      sch_pg_result_value(r, i, 16));
		sch_buf_addstr(b, type == 'p' ? "PRIMARY KEY " : "UNIQUE ");
		if (type == 'u' && bval(r, i, 17))
			sch_buf_addstr(b, "NULLS NOT DISTINCT ");
		sch_buf_addch(b, '(');
		if ((rc = add_columns(b, rw, rel, key, nkey, obj)))
			return rc;
		sch_buf_addch(b, ')');
		if (ninc > MAXKEYS)
			return missing("the index", obj);
		if (ninc > nkey) {
			sch_buf_addstr(b, " INCLUDE (");
			if ((rc = add_columns(b, rw, rel, inc + nkey,
					      ninc - nkey, obj)))
				return rc;
			sch_buf_addch(b, ')');
		}
	}
	if (bval(r, i, 13))
		sch_buf_addstr(b, " DEFERRABLE");
	if (bval(r, i, 14))
		sch_buf_addstr(b, " INITIALLY DEFERRED");
	if (!bval(r, i, 15))
		sch_buf_addstr(b, " NOT VALID");
comment:
	sch_buf_addstr(b, sch_pg_result_value(r, i, 19));
	return 0;
}

typedef int render_fn(struct sch_buf *b, const struct raw *rw,
		      const struct sch_pg_result *r, int i, const char *obj);

static int take_rendered(struct rows *rs, const struct raw *rw,
			 const struct sch_pg_result *r, render_fn *fn)
{
	struct sch_buf line = SCH_BUF_INIT;
	int rc = 0;

	for (int i = 0, n = sch_pg_result_rows(r); i < n && !rc; i++) {
		const char *obj = sch_pg_result_value(r, i, 0);
		if (sch_pg_result_isnull(r, i, 0))
			continue;
		sch_buf_reset(&line);
		rc = fn(&line, rw, r, i, obj);
		if (!rc)
			add_row(rs, obj, sch_pg_result_len(r, i, 0),
				sch_pg_result_value(r, i, 1),
				sch_pg_result_len(r, i, 1), line.ptr, line.len);
	}
	sch_buf_release(&line);
	return rc;
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
		const char *nl = memchr(s + i, '\n', len - i);
		size_t run = nl ? (size_t)(nl - (s + i)) + 1 : len - i;
		rc |= sch_buf_add(out, s + i, run);
		if (nl)
			rc |= sch_buf_add(out, "    ", 4);
		i += run - 1;
	}
	rc |= sch_buf_addch(out, '\n');
	return rc ? SCH_ETOOBIG : 0;
}

/* The transaction, the settings and the managed oids: one round trip. */
static int begin_capture(struct sch_buf *nsp, struct sch_buf *ext,
			 int *started, struct sch_pg *pg, int own,
			 const struct sch_catalog_opts *o)
{
	const char *reg = o && o->registry && *o->registry ? o->registry
							    : SCH_REG_DEFAULT;
	const char *list = o && o->schemas && *o->schemas ? o->schemas : NULL;
	const char *p[2] = { reg, list };
	struct sch_pg_result *res[4] = { NULL, NULL, NULL, NULL };
	const struct sch_pg_stmt st[4] = {
		/* Own snapshot when idle, else a savepoint whose rollback
		 * undoes the settings below inside the caller's block. */
		{ own ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
		      : "SAVEPOINT sch_catalog", 0, NULL, SCH_PG_COMMAND },
		/* pg_dump's conventions: with an empty search_path every
		 * name outside pg_catalog prints schema-qualified; values in
		 * bounds and defaults print the same whatever the session's
		 * settings. */
		{ "SELECT set_config('search_path', '', true), "
		  "set_config('timezone', 'UTC', true), "
		  "set_config('datestyle', 'ISO', true), "
		  "set_config('intervalstyle', 'postgres', true), "
		  "set_config('extra_float_digits', '3', true)", 0, NULL,
		  SCH_PG_TUPLES },
		{ "SELECT coalesce(array_agg(oid ORDER BY oid), '{}')::text "
		  "FROM pg_namespace WHERE nspname <> $1 AND CASE WHEN $2::text "
		  "IS NULL THEN nspname NOT IN ('information_schema') AND "
		  "nspname NOT LIKE 'pg\\_%' ELSE nspname IN (SELECT "
		  "regexp_split_to_table(btrim($2, E' \\t\\n,'), E'[\\\\s,]+')) "
		  "END", 2, p, SCH_PG_TUPLES },
		/* what extensions own: through the index on the referenced
		 * side, not a scan of all of pg_depend */
		{ "SELECT coalesce(array_agg(DISTINCT objid), '{}')::text "
		  "FROM pg_depend WHERE refclassid = 'pg_extension'::regclass "
		  "AND deptype = 'e'", 0, NULL, SCH_PG_TUPLES },
	};
	int rc = sch_pg_batch_results(pg, res, st, 4);

	if (rc) {
		enum sch_pg_tx tx = sch_pg_tx_status(pg);
		*started = own ? tx == SCH_PG_TX_OPEN || tx == SCH_PG_TX_FAILED
			       : sch_pg_last_error(pg)->index > 0;
		return rc;
	}
	*started = 1;
	rc = sch_buf_addstr(nsp, sch_pg_result_value(res[2], 0, 0));
	if (!rc)
		rc = sch_buf_addstr(ext, sch_pg_result_value(res[3], 0, 0));
	for (int i = 0; i < 4; i++)
		sch_pg_result_free(res[i]);
	return rc;
}

int sch_catalog_capture(struct sch_buf *out, struct sch_pg *pg,
			const struct sch_catalog_opts *o)
{
	struct sch_buf nsp = SCH_BUF_INIT, ext = SCH_BUF_INIT;
	struct sch_pg_result *res[NQUERIES];
	struct sch_pg_stmt st[NQUERIES];
	struct rows rs;
	struct raw rw;
	int own = sch_pg_tx_status(pg) == SCH_PG_TX_IDLE, started = 0, rc;
	int ver = sch_pg_server_version(pg);
	/* the raw rendering is checked against the server's own for these
	 * majors; older and newer servers get the server's */
	int raw = ver >= 150000 && ver < 180000;
	const char *const *qs = raw ? raw_queries : queries;
	const char *p[2];
	const char *last = NULL;
	size_t n = 0;

	memset(&rs, 0, sizeof(rs));
	memset(&rw, 0, sizeof(rw));
	memset(res, 0, sizeof(res));
	sch_buf_init(&rs.arena);
	rc = begin_capture(&nsp, &ext, &started, pg, own, o);
	if (rc)
		goto out;
	/* every catalog query in one round trip */
	p[0] = nsp.ptr;
	p[1] = ext.ptr;
	for (size_t i = 0; i < NQUERIES; i++)
		if (qs[i]) {
			st[n].sql = qs[i];
			st[n].nparams = 2;
			st[n].params = p;
			st[n++].expect = SCH_PG_TUPLES;
		}
	{
		struct sch_pg_result *got[NQUERIES];
		rc = sch_pg_batch_results(pg, got, st, n);
		if (rc)
			goto out;
		for (size_t i = 0, j = 0; i < NQUERIES; i++)
			if (qs[i])
				res[i] = got[j++];
	}
	if (raw)
		raw_load(&rw, res);
	for (size_t i = 0; i < NQUERIES && !rc; i++) {
		if (!res[i] || i >= Q_OPCLASSES)
			continue;
		if (raw && i == Q_INDEXES)
			rc = take_rendered(&rs, &rw, res[i], render_index);
		else if (raw && i == Q_CONSTRAINTS)
			rc = take_rendered(&rs, &rw, res[i], render_constraint);
		else
			take_rows(&rs, res[i]);
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
	raw_release(&rw);
	for (size_t i = 0; i < NQUERIES; i++)
		sch_pg_result_free(res[i]);
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

void sch_catalog_opts_config(struct sch_catalog_opts *o,
			     const struct sch_config *cfg)
{
	o->registry = sch_config_get(cfg, "core.registry");
	o->schemas = sch_config_get(cfg, "core.schemas");
}
