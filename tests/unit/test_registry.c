/* test_registry.c - the registry tables in a real database (see pgtest.h):
 * creation and format version, the advisory lock, applied rows, the
 * hash-chained events, notx progress. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/object.h"
#include "schema/pg.h"
#include "schema/registry.h"
#include "schema/revision.h"
#include "unit/testutil.h"
#include "unit/pgtest.h"


static void teardown(void)
{
	pgtest_teardown();
	leak_check();
}

TestSuite(registry, .init = pgtest_setup, .fini = teardown);

static void run(struct sch_pg *pg, const char *sql)
{
	cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_OK, sql, 0, NULL), 0,
		     "%s: %s", sql, sch_error_msg());
}

static void value_is(struct sch_pg *pg, const char *sql, const char *want)
{
	struct sch_buf v = SCH_BUF_INIT;

	cr_assert_eq(sch_pg_query_value(&v, pg, sql, 0, NULL), 0, "%s: %s",
		     sql, sch_error_msg());
	cr_assert_str_eq(v.ptr, want, "%s", sql);
	sch_buf_release(&v);
}

/* A connection and an ensured registry in the default schema. */
static struct sch_pg *open_reg(struct sch_reg *r)
{
	struct sch_pg *pg = pgtest_open();

	sch_reg_init(r, pg, NULL);
	cr_assert_eq(sch_reg_ensure(r), 0, "%s", sch_error_msg());
	return pg;
}

/* A revision whose scripts are the given texts, as commit would make it:
 * its body goes to *body (malloc'd), its id to *id. */
static void mkrev(struct sch_id *id, char **body, const char *msg,
		  const char *up, const char *down, const char *verify,
		  const struct sch_id *parent)
{
	struct sch_rev r;
	struct sch_buf b = SCH_BUF_INIT;

	sch_rev_init(&r);
	if (parent)
		sch_rev_add_parent(&r, parent);
	sch_object_hash(&r.up, SCH_OBJ_BLOB, up, strlen(up));
	sch_object_hash(&r.down, SCH_OBJ_BLOB, down, strlen(down));
	if (verify) {
		sch_object_hash(&r.verify, SCH_OBJ_BLOB, verify,
				strlen(verify));
		r.has_verify = 1;
	}
	cr_assert_eq(sch_rev_parse_author(&r, "T <t@t> 1700000000 +0000",
					  24), 0);
	free(r.message);
	r.message = xasprintf("%s\n", msg);
	sch_rev_format(&b, &r);
	sch_object_hash(id, SCH_OBJ_REV, b.ptr, b.len);
	*body = sch_buf_detach(&b, NULL);
	sch_rev_release(&r);
}

/* Inserts an applied row through the pipelined path apply uses. */
static void insert_applied(struct sch_reg *r, const struct sch_id *id,
			   const char *body, const char *up, const char *down,
			   const char *verify, const char *parents)
{
	struct sch_reg_stmt s;
	struct sch_pg_stmt st;

	memset(&s, 0, sizeof(s));
	sch_reg_stmt_applied(&s, r, id, body, up, down, verify, parents);
	st.sql = s.sql.ptr;
	st.nparams = s.nparams;
	st.params = s.params;
	st.expect = SCH_PG_COMMAND;
	cr_assert_eq(sch_pg_batch(r->pg, &st, 1), 0, "%s", sch_error_msg());
	sch_reg_stmt_release(&s);
}

/* ---- creation ---- */

Test(registry, ensure_creates_the_tables_and_is_idempotent)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_reg r;
	struct sch_event_list l;
	struct sch_applied_set a;
	struct sch_buf rev = SCH_BUF_INIT, dir = SCH_BUF_INIT;
	int exists = -1;

	sch_reg_init(&r, pg, NULL);
	cr_assert_str_eq(r.schema, SCH_REG_DEFAULT);
	cr_assert_eq(sch_reg_exists(&r, &exists), 0, "%s", sch_error_msg());
	cr_assert_eq(exists, 0);
	/* No registry reads as empty. */
	cr_assert_eq(sch_reg_events(&r, &l), 0, "%s", sch_error_msg());
	cr_assert_eq(l.n, 0);
	sch_event_list_release(&l);
	cr_assert_eq(sch_reg_load(&r, &a, 1), 0, "%s", sch_error_msg());
	cr_assert_eq(a.n, 0);
	sch_applied_set_release(&a);
	cr_assert_eq(sch_reg_progress_any(&r, &rev, &dir, NULL), 0);
	cr_assert_eq(sch_reg_exists(&r, &exists), 0);
	cr_assert_eq(exists, 0, "reading created nothing");

	cr_assert_eq(sch_reg_ensure(&r), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_reg_exists(&r, &exists), 0);
	cr_assert_eq(exists, 1);
	value_is(pg, "SELECT value FROM schema_registry.meta "
		     "WHERE key = 'format'", "3");
	value_is(pg, "SELECT count(*)::text FROM pg_tables WHERE schemaname = "
		     "'schema_registry' AND tablename IN ('meta', 'applied', "
		     "'events', 'progress')", "4");
	cr_assert_eq(sch_pg_tx_status(pg), SCH_PG_TX_IDLE);

	/* Again: nothing changes, nothing fails. */
	run(pg, "INSERT INTO schema_registry.meta VALUES ('note', 'kept')");
	cr_assert_eq(sch_reg_ensure(&r), 0, "%s", sch_error_msg());
	value_is(pg, "SELECT count(*)::text FROM schema_registry.meta", "2");
	sch_reg_release(&r);

	/* A second instance on the same database sees it. */
	sch_reg_init(&r, pg, "");
	cr_assert_eq(sch_reg_exists(&r, &exists), 0);
	cr_assert_eq(exists, 1);
	cr_assert_eq(sch_reg_ensure(&r), 0, "%s", sch_error_msg());
	sch_reg_release(&r);
	sch_buf_release(&rev);
	sch_buf_release(&dir);
	sch_pg_close(pg);
}

Test(registry, a_schema_name_that_needs_quoting_works)
{
	struct sch_pg *pg = pgtest_open();
	struct sch_buf ddl = SCH_BUF_INIT;
	struct sch_reg r;
	struct sch_applied_set a;
	int exists = 0;

	sch_reg_init(&r, pg, "Reg \"x\"");
	cr_assert_str_eq(r.q, "\"Reg \"\"x\"\"\"");
	cr_assert_eq(sch_reg_ensure(&r), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_reg_exists(&r, &exists), 0);
	cr_assert_eq(exists, 1);
	value_is(pg, "SELECT value FROM \"Reg \"\"x\"\"\".meta", "3");
	cr_assert_eq(sch_reg_load(&r, &a, 1), 0, "%s", sch_error_msg());
	cr_assert_eq(a.n, 0);
	sch_applied_set_release(&a);
	cr_assert_eq(sch_reg_lock(&r, 0), 0, "%s", sch_error_msg());
	sch_reg_release(&r);

	/* The DDL of --sql scripts builds the same registry, rerunnably. */
	sch_reg_ddl(&ddl, "other reg");
	cr_assert(strstr(ddl.ptr, "CREATE SCHEMA IF NOT EXISTS \"other reg\""),
		  "%s", ddl.ptr);
	cr_assert_eq(sch_pg_exec_script(pg, ddl.ptr), 0, "%s", sch_error_msg());
	cr_assert_eq(sch_pg_exec_script(pg, ddl.ptr), 0, "rerunnable: %s",
		     sch_error_msg());
	sch_reg_init(&r, pg, "other reg");
	cr_assert_eq(sch_reg_exists(&r, &exists), 0);
	cr_assert_eq(exists, 1);
	cr_assert_eq(sch_reg_ensure(&r), 0, "%s", sch_error_msg());
	value_is(pg, "SELECT value FROM \"other reg\".meta", "3");
	sch_reg_release(&r);
	sch_buf_release(&ddl);
	sch_pg_close(pg);
}

Test(registry, newer_format_is_refused)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);

	run(pg, "UPDATE schema_registry.meta SET value = '99' "
		"WHERE key = 'format'");
	cr_assert_eq(sch_reg_ensure(&r), SCH_EREFUSED);
	cr_assert(strstr(sch_error_msg(), "99"), "%s", sch_error_msg());
	cr_assert(strstr(sch_error_msg(), "schema_registry"), "%s",
		  sch_error_msg());
	cr_assert(strstr(sch_error_hint_msg(), "upgrade"), "%s",
		  sch_error_hint_msg());

	run(pg, "DELETE FROM schema_registry.meta");
	cr_assert_eq(sch_reg_ensure(&r), SCH_EDB);
	cr_assert(strstr(sch_error_msg(), "no format version"), "%s",
		  sch_error_msg());
	sch_reg_release(&r);
	sch_pg_close(pg);
}

/* Format 1 had no progress.name: ensure upgrades it to format 2. */
Test(registry, ensure_upgrades_a_registry_of_an_older_layout)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);
	struct sch_buf rev = SCH_BUF_INIT, dir = SCH_BUF_INIT;
	struct sch_id id;

	/* The progress table as the previous release created it. */
	run(pg, "ALTER TABLE schema_registry.progress DROP COLUMN name");
	run(pg, "UPDATE schema_registry.meta SET value = '1' WHERE key = 'format'");
	cr_assert_eq(sch_reg_ensure(&r), 0, "%s", sch_error_msg());
	sch_object_hash(&id, SCH_OBJ_REV, "one", 3);
	cr_assert_eq(sch_reg_progress_add(&r, &id, "up", 0, "h0", "0001_x"), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_reg_progress_any(&r, &rev, &dir, NULL), 1, "%s",
		     sch_error_msg());
	value_is(pg, "SELECT value FROM schema_registry.meta WHERE key = "
		     "'format'", "3");
	value_is(pg, "SELECT count(*)::text FROM information_schema.columns "
		     "WHERE table_schema = 'schema_registry' AND table_name = "
		     "'events' AND column_name = 'sig'", "1");
	sch_buf_release(&rev);
	sch_buf_release(&dir);
	sch_reg_release(&r);
	sch_pg_close(pg);
}

/* ---- the lock ---- */

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

Test(registry, second_connection_waits_then_fails_naming_the_holder)
{
	struct sch_reg r1, r2;
	struct sch_pg *pg1 = open_reg(&r1), *pg2 = pgtest_open();
	struct timespec t0;
	char pid[32];

	sch_reg_init(&r2, pg2, NULL);
	cr_assert_eq(sch_reg_lock(&r1, 1000), 0, "%s", sch_error_msg());
	cr_assert_eq(r1.locked, 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(sch_reg_lock(&r2, 300), SCH_ELOCKED);
	cr_assert_geq(ms_since(&t0), 300, "it waited for the timeout");
	cr_assert_eq(r2.locked, 0);
	snprintf(pid, sizeof(pid), "pid %d)", sch_pg_backend_pid(pg1));
	cr_assert(strstr(sch_error_msg(), pid), "names %s: %s", pid,
		  sch_error_msg());
	cr_assert(strstr(sch_error_msg(), "300 ms"), "%s", sch_error_msg());
	cr_assert(strstr(sch_error_hint_msg(), "--lock-timeout"), "%s",
		  sch_error_hint_msg());

	/* A registry of another name is another lock. */
	{
		struct sch_reg other;
		sch_reg_init(&other, pg2, "another_registry");
		cr_assert_eq(sch_reg_lock(&other, 0), 0, "%s",
			     sch_error_msg());
		sch_reg_release(&other);
	}

	sch_reg_unlock(&r1);
	cr_assert_eq(r1.locked, 0);
	cr_assert_eq(sch_reg_lock(&r2, 0), 0, "free after unlock: %s",
		     sch_error_msg());
	cr_assert_eq(sch_reg_lock(&r1, 0), SCH_ELOCKED);
	sch_reg_unlock(&r2);
	sch_reg_release(&r1);
	sch_reg_release(&r2);
	sch_pg_close(pg1);
	sch_pg_close(pg2);
}

Test(registry, release_gives_the_lock_back)
{
	struct sch_reg r1, r2;
	struct sch_pg *pg1 = open_reg(&r1), *pg2 = pgtest_open();

	sch_reg_init(&r2, pg2, NULL);
	cr_assert_eq(sch_reg_lock(&r1, 0), 0, "%s", sch_error_msg());
	sch_reg_release(&r1);
	cr_assert_eq(sch_reg_lock(&r2, 0), 0, "%s", sch_error_msg());
	sch_reg_release(&r2);
	/* A closed connection's lock goes with it. */
	sch_reg_init(&r1, pg1, NULL);
	cr_assert_eq(sch_reg_lock(&r1, 0), 0, "%s", sch_error_msg());
	sch_reg_init(&r2, pg2, NULL);
	r1.locked = 0; /* the session ends without unlocking */
	sch_reg_release(&r1);
	sch_pg_close(pg1);
	cr_assert_eq(sch_reg_lock(&r2, 2000), 0, "%s", sch_error_msg());
	sch_reg_release(&r2);
	sch_pg_close(pg2);
}

/* ---- applied rows ---- */

Test(registry, applied_rows_round_trip_in_application_order)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);
	struct sch_applied_set a;
	struct sch_id id1, id2;
	char *b1, *b2, *parents, hex[SCH_HEX_LEN + 1];
	const char *up1 = "CREATE TABLE t (id int);\n",
		   *down1 = "DROP TABLE t;\n",
		   *verify1 = "SELECT 1/count(*) FROM t;\n",
		   *up2 = "ALTER TABLE t ADD c text; -- it's\n",
		   *down2 = "ALTER TABLE t DROP c;\n";

	cr_assert_eq(sch_reg_load(&r, &a, 1), 0);
	cr_assert_eq(a.n, 0, "an empty registry reads as empty");
	sch_applied_set_release(&a);

	mkrev(&id1, &b1, "first", up1, down1, verify1, NULL);
	mkrev(&id2, &b2, "second", up2, down2, NULL, &id1);
	sch_id_hex(hex, &id1);
	parents = xasprintf("{%s}", hex);
	insert_applied(&r, &id1, b1, up1, down1, verify1, "{}");
	insert_applied(&r, &id2, b2, up2, down2, NULL, parents);

	cr_assert_eq(sch_reg_load(&r, &a, 1), 0, "%s", sch_error_msg());
	cr_assert_eq(a.n, 2);
	cr_assert_eq(sch_id_cmp(&a.v[0].id, &id1), 0, "application order");
	cr_assert_eq(sch_id_cmp(&a.v[1].id, &id2), 0);
	cr_assert_lt(a.v[0].seq, a.v[1].seq);
	cr_assert_eq(a.v[0].body_ok, 1);
	cr_assert_eq(a.v[1].body_ok, 1);
	cr_assert_str_eq(a.v[0].up, up1);
	cr_assert_str_eq(a.v[0].down, down1);
	cr_assert_str_eq(a.v[0].verify, verify1);
	cr_assert_str_eq(a.v[1].up, up2);
	cr_assert_null(a.v[1].verify);
	cr_assert_str_eq(a.v[1].rev.message, "second\n");
	cr_assert_eq(a.v[1].rev.nparents, 1);
	cr_assert_eq(sch_id_cmp(&a.v[1].rev.parents[0], &id1), 0);
	cr_assert_str_eq(a.v[0].applied_by, sch_pg_user(pg));
	cr_assert_gt(strlen(a.v[0].applied_at), 0);
	cr_assert_eq(sch_applied_find(&a, &id2), &a.v[1]);
	sch_applied_set_release(&a);

	cr_assert_eq(sch_reg_load(&r, &a, 0), 0, "%s", sch_error_msg());
	cr_assert_eq(a.n, 2);
	cr_assert_null(a.v[0].up, "scripts not loaded");
	cr_assert_eq(a.v[0].body_ok, 1);
	sch_applied_set_release(&a);

	value_is(pg, "SELECT array_length(parents, 1)::text FROM "
		     "schema_registry.applied WHERE rev_body LIKE '%second%'",
		     "1");
	{
		struct sch_reg_stmt s;
		memset(&s, 0, sizeof(s));
		sch_reg_stmt_unapplied(&s, &r, &id2);
		cr_assert_eq(sch_pg_exec(pg, NULL, SCH_PG_COMMAND, s.sql.ptr,
					 s.nparams, s.params), 0, "%s",
			     sch_error_msg());
		sch_reg_stmt_release(&s);
	}
	cr_assert_eq(sch_reg_load(&r, &a, 1), 0);
	cr_assert_eq(a.n, 1);
	cr_assert_null(sch_applied_find(&a, &id2));
	sch_applied_set_release(&a);

	free(b1);
	free(b2);
	free(parents);
	sch_reg_release(&r);
	sch_pg_close(pg);
}

Test(registry, an_edited_row_no_longer_verifies)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);
	struct sch_applied_set a;
	struct sch_id id1, id2, id3;
	char *b1, *b2, *b3;

	mkrev(&id1, &b1, "up edited", "CREATE TABLE a (i int);\n",
	      "DROP TABLE a;\n", NULL, NULL);
	mkrev(&id2, &b2, "verify edited", "CREATE TABLE b (i int);\n",
	      "DROP TABLE b;\n", "SELECT 1;\n", NULL);
	mkrev(&id3, &b3, "body edited", "CREATE TABLE c (i int);\n",
	      "DROP TABLE c;\n", NULL, NULL);
	insert_applied(&r, &id1, b1, "CREATE TABLE a (i int);\n",
		       "DROP TABLE a;\n", NULL, "{}");
	insert_applied(&r, &id2, b2, "CREATE TABLE b (i int);\n",
		       "DROP TABLE b;\n", "SELECT 1;\n", "{}");
	insert_applied(&r, &id3, b3, "CREATE TABLE c (i int);\n",
		       "DROP TABLE c;\n", NULL, "{}");
	run(pg, "UPDATE schema_registry.applied SET up_sql = up_sql || "
		"'-- tweak' WHERE rev_body LIKE '%up edited%'");
	run(pg, "UPDATE schema_registry.applied SET verify_sql = NULL "
		"WHERE rev_body LIKE '%verify edited%'");
	run(pg, "UPDATE schema_registry.applied SET rev_body = "
		"replace(rev_body, 'body edited', 'body edit3d')"
		"WHERE rev_body LIKE '%body edited%'");

	cr_assert_eq(sch_reg_load(&r, &a, 1), 0, "%s", sch_error_msg());
	cr_assert_eq(a.n, 3);
	cr_assert_eq(a.v[0].body_ok, 0, "up.sql no longer hashes to its blob");
	cr_assert_eq(a.v[1].body_ok, 0, "verify.sql is gone");
	cr_assert_eq(a.v[2].body_ok, 0, "rev_body does not hash to the id");
	sch_applied_set_release(&a);

	/* Without scripts only the body is checked. */
	cr_assert_eq(sch_reg_load(&r, &a, 0), 0);
	cr_assert_eq(a.v[0].body_ok, 1);
	cr_assert_eq(a.v[2].body_ok, 0);
	sch_applied_set_release(&a);

	free(b1);
	free(b2);
	free(b3);
	sch_reg_release(&r);
	sch_pg_close(pg);
}

/* ---- events ---- */

static void three_events(struct sch_reg *r)
{
	char *actor = sch_reg_actor(r);

	cr_assert(strstr(actor, " as "), "%s", actor);
	cr_assert(strstr(actor, sch_pg_user(r->pg)), "%s", actor);
	cr_assert_eq(sch_reg_event(r, actor, "up", "aaaa", "{\"n\": 1}"), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_reg_event(r, actor, "stamp", NULL,
				   "{\"why\": \"it's | ünïcode \\\\ x\"}"), 0,
		     "%s", sch_error_msg());
	cr_assert_eq(sch_reg_event(r, actor, "down", "bbbb", "{}"), 0, "%s",
		     sch_error_msg());
	free(actor);
}

Test(registry, events_chain_verifies)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);
	struct sch_event_list l;
	char zeros[SCH_HEX_LEN + 1];

	three_events(&r);
	cr_assert_eq(sch_reg_events(&r, &l), 0, "%s", sch_error_msg());
	cr_assert_eq(l.n, 3);
	cr_assert_eq(l.broken, 0);
	memset(zeros, '0', SCH_HEX_LEN);
	zeros[SCH_HEX_LEN] = '\0';
	cr_assert_str_eq(l.v[0].prev_hash, zeros);
	for (size_t i = 0; i < l.n; i++) {
		cr_assert_eq(l.v[i].hash_ok, 1, "row %zu", i);
		cr_assert_eq(l.v[i].link_ok, 1, "row %zu", i);
		cr_assert_eq(strlen(l.v[i].hash), SCH_HEX_LEN);
		if (i) {
			cr_assert_str_eq(l.v[i].prev_hash, l.v[i - 1].hash);
			cr_assert_geq(l.v[i].at_us, l.v[i - 1].at_us);
		}
	}
	cr_assert_str_eq(l.v[0].action, "up");
	cr_assert_str_eq(l.v[0].revision, "aaaa");
	cr_assert_null(l.v[1].revision);
	cr_assert(strstr(l.v[1].detail, "ünïcode"), "%s", l.v[1].detail);
	sch_event_list_release(&l);
	sch_reg_release(&r);
	sch_pg_close(pg);
}

Test(registry, an_edited_event_breaks_its_hash)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);
	struct sch_event_list l;

	three_events(&r);
	run(pg, "UPDATE schema_registry.events SET detail = '{\"n\": 2}' "
		"WHERE action = 'stamp'");
	cr_assert_eq(sch_reg_events(&r, &l), 0, "%s", sch_error_msg());
	cr_assert_eq(l.n, 3);
	cr_assert_gt(l.broken, 0);
	cr_assert_eq(l.v[0].hash_ok, 1);
	cr_assert_eq(l.v[1].hash_ok, 0, "the edited row");
	cr_assert_eq(l.v[1].link_ok, 1);
	cr_assert_eq(l.v[2].hash_ok, 1);
	cr_assert_eq(l.v[2].link_ok, 1, "its stored hash is unchanged");
	sch_event_list_release(&l);
	sch_reg_release(&r);
	sch_pg_close(pg);
}

Test(registry, a_deleted_event_breaks_the_next_link)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);
	struct sch_event_list l;

	three_events(&r);
	run(pg, "DELETE FROM schema_registry.events WHERE action = 'stamp'");
	cr_assert_eq(sch_reg_events(&r, &l), 0, "%s", sch_error_msg());
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.broken, 1);
	cr_assert_eq(l.v[0].hash_ok, 1);
	cr_assert_eq(l.v[0].link_ok, 1);
	cr_assert_eq(l.v[1].hash_ok, 1);
	cr_assert_eq(l.v[1].link_ok, 0, "the row after the deleted one");
	sch_event_list_release(&l);

	/* Appending goes on from the last row: the new link holds. */
	cr_assert_eq(sch_reg_event(&r, "me", "up", NULL, "{}"), 0);
	cr_assert_eq(sch_reg_events(&r, &l), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_eq(l.broken, 1);
	cr_assert_eq(l.v[2].link_ok, 1);
	cr_assert_eq(l.v[2].hash_ok, 1);
	sch_event_list_release(&l);
	sch_reg_release(&r);
	sch_pg_close(pg);
}

/* ---- notx progress ---- */

Test(registry, progress_is_a_gapless_prefix_per_revision_and_direction)
{
	struct sch_reg r;
	struct sch_pg *pg = open_reg(&r);
	struct sch_buf rev = SCH_BUF_INIT, dir = SCH_BUF_INIT;
	struct sch_id id, other;
	char hex[SCH_HEX_LEN + 1];
	char **h = NULL;
	size_t n = 99;

	sch_object_hash(&id, SCH_OBJ_REV, "one", 3);
	sch_object_hash(&other, SCH_OBJ_REV, "two", 3);
	cr_assert_eq(sch_reg_progress_any(&r, &rev, &dir, NULL), 0, "none yet");
	cr_assert_eq(sch_reg_progress(&r, &id, "up", &h, &n), 0);
	cr_assert_eq(n, 0);
	free(h);

	cr_assert_eq(sch_reg_progress_add(&r, &id, "up", 0, "h0", "0001_x"), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(sch_reg_progress_add(&r, &id, "up", 1, "h1", "0001_x"), 0);
	cr_assert_eq(sch_reg_progress_add(&r, &id, "up", 0, "other", "0001_x"), 0,
		     "a repeat is ignored");
	cr_assert_eq(sch_reg_progress_add(&r, &id, "up", 3, "h3", "0001_x"), 0);

	cr_assert_eq(sch_reg_progress(&r, &id, "up", &h, &n), 0, "%s",
		     sch_error_msg());
	cr_assert_eq(n, 2, "index 3 follows a gap");
	cr_assert_str_eq(h[0], "h0");
	cr_assert_str_eq(h[1], "h1");
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
	cr_assert_eq(sch_reg_progress(&r, &id, "down", &h, &n), 0);
	cr_assert_eq(n, 0, "per direction");
	free(h);
	cr_assert_eq(sch_reg_progress(&r, &other, "up", &h, &n), 0);
	cr_assert_eq(n, 0, "per revision");
	free(h);

	cr_assert_eq(sch_reg_progress_any(&r, &rev, &dir, NULL), 1);
	sch_id_hex(hex, &id);
	cr_assert_str_eq(rev.ptr, hex);
	cr_assert_str_eq(dir.ptr, "up");

	run(pg, "DELETE FROM schema_registry.progress");
	cr_assert_eq(sch_reg_progress_any(&r, &rev, &dir, NULL), 0);
	sch_buf_release(&rev);
	sch_buf_release(&dir);
	sch_reg_release(&r);
	sch_pg_close(pg);
}
