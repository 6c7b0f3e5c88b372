#!/bin/bash
# schema task migrate --table: a jsonb column migrated in batches inside one
# transaction against a real PostgreSQL. Counts per source version, --where,
# the down direction, a failing row rolling back every batch already written
# (the table byte-identical) and naming its key, tables without a primary
# key, composite keys and quoted names, numbers kept exact, and every bad
# input with its exit status.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
X="$top/migrations/tasks/scrape"
pg_setup

mkdir -p "$T/r" && cd "$T/r" && "$S" init -q || { echo "not ok init"; exit 1; }
"$S" task add scrape 1.0 --schema "$X/1.0.schema.json" >/dev/null &&
"$S" task add scrape 1.1 --schema "$X/1.1.schema.json" --from 1.0 \
	--up "$X/1.0-1.1.up.json" --down "$X/1.0-1.1.down.json" >/dev/null &&
"$S" task add scrape 2.0 --schema "$X/2.0.schema.json" --from 1.1 \
	--up "$X/1.1-2.0.up.json" --down "$X/1.1-2.0.down.json" >/dev/null ||
	{ echo "not ok task add"; exit 1; }
newdb tt

# A 1.0 document for row i (SQL expression of i), as a service writes them.
DOC10="jsonb_build_object('schema_version', '1.0', 'name', 'task-' || i,
	'url', 'https://shop' || i || '.example.com/p1.html',
	'selectors', jsonb_build_object('item', 'article', 'title', 'h3 a@title'),
	'pagination', jsonb_build_object('next_selector', 'li.next a', 'max_pages', 1 + i % 50),
	'delay_ms', (i % 10) * 100)"
# make_table NAME: 980 rows at 1.0, 20 at 1.1 (every 50th, timeout 60).
make_table() {
	sql "DROP TABLE IF EXISTS $1;
	     CREATE TABLE $1 (id bigint PRIMARY KEY, config jsonb, note text);
	     INSERT INTO $1 SELECT i, $DOC10, 'n' || i FROM generate_series(1, 1000) i;
	     UPDATE $1 SET config = config || '{\"schema_version\":\"1.1\",\"timeout_seconds\":60,\"retries\":1}'
	       WHERE id % 50 = 0;"
}
digest() { sql "SELECT md5(string_agg(coalesce(${2:-config}::text, 'NULL'), ',' ORDER BY ${3:-id})) FROM $1"; }

# --- mixed 1.0 and 1.1 rows to 1.1
make_table configs
sql "INSERT INTO configs VALUES (1001, NULL, 'no config yet')"
xmin_before=$(sql "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM configs WHERE id % 50 = 0")
expect_status 0 "$S" task migrate scrape --table configs --column config --to 1.1 --batch 64 \
	&& expect_out "migrated public.configs.config to scrape 1.1: 980 of 1,001 rows changed" \
	&& expect_out "  1.0 -> 1.1: 980 rows" && expect_out "  1.1: 20 rows already at target" \
	&& expect_out "  null: 1 row left as it is" && check "1.0 and 1.1 rows to 1.1: counts per source version"
[ "$(sql "SELECT count(*) FROM configs WHERE config->>'schema_version' = '1.1'
	AND config ? 'timeout_seconds' AND config ? 'retries'")" = 1000 ] \
	&& check "every document is 1.1 with the new members" || fail "documents not migrated"
[ "$(sql "SELECT count(*) FROM configs WHERE (config->>'timeout_seconds')::int = 300")" = 980 ] \
	&& [ "$(sql "SELECT count(*) FROM configs WHERE (config->>'timeout_seconds')::int = 60")" = 20 ] \
	&& check "defaults only where absent: the 1.1 rows keep their 60" || fail "timeouts"
[ "$(sql "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM configs WHERE id % 50 = 0")" = "$xmin_before" ] \
	&& check "rows already at the target are not written (same xmin)" || fail "1.1 rows were rewritten"
[ "$(sql "SELECT count(DISTINCT xmin::text) FROM configs WHERE id % 50 <> 0 AND config IS NOT NULL")" = 1 ] \
	&& check "every batch in one transaction" || fail "several transactions"
expect_status 0 "$S" task migrate scrape --table configs --column config --to 1.1 \
	&& expect_out "public.configs.config: 1,001 rows read, none to change" && check "a second run changes nothing"

# --- down, and the round trip
make_table back
before=$(digest back)
expect_status 0 "$S" task migrate scrape --table back --column config --batch 100 \
	&& expect_out "  1.0 -> 2.0: 980 rows" && expect_out "  1.1 -> 2.0: 20 rows" && check "to the newest (2.0) by default"
[ "$(sql "SELECT count(*) FROM back WHERE config ? 'start_url' AND config->'extract' ? 'selectors'")" = 1000 ] \
	&& check "2.0 documents have start_url and extract.selectors" || fail "2.0 shape"
expect_status 0 "$S" task migrate scrape --table back --column config --to 1.0 \
	&& expect_out "  2.0 -> 1.0: 1,000 rows" && check "--to 1.0: the down direction"
sql "UPDATE back SET config = config || '{\"schema_version\":\"1.1\",\"timeout_seconds\":60,\"retries\":1}' WHERE id % 50 = 0"
[ "$(digest back)" = "$before" ] && check "up to 2.0 and down to 1.0 gives the documents back byte for byte" \
	|| fail "round trip changed documents"

# --- --where
make_table w
expect_status 0 "$S" task migrate scrape --table w --column config --to 1.1 --where "id <= 10 -- a trailing comment" \
	&& expect_out "10 of 10 rows changed" && check "--where limits the rows (a trailing -- comment is fine)"
[ "$(sql "SELECT count(*) FROM w WHERE config->>'schema_version' = '1.0'")" = 970 ] \
	&& check "rows outside --where are untouched" || fail "--where"
expect_status 3 "$S" task migrate scrape --table w --column config --where "no_such_column = 1" \
	&& expect_err "cannot read public.w" && expect_err 'column "no_such_column" does not exist' \
	&& expect_err "hint: --where is SQL run as given" && check "an error in --where: exit 3"

# --- a failing row rolls back every batch
make_table f
sql "UPDATE f SET config = jsonb_set(config, '{name}', '\"Not A Name\"') WHERE id = 777"
before=$(digest f)
expect_status 1 "$S" task migrate scrape --table f --column config --to 1.1 --batch 50 \
	&& expect_err "schema: error: public.f.config: row id=777: does not validate against scrape 1.1: /name: pattern:" \
	&& expect_err "hint: rolled back: no row of public.f changed" \
	&& expect_err "row id=777: /name: pattern: \"Not A Name\" does not match" \
	&& check "an invalid row: exit 1, named by its primary key, with its violations"
[ "$(digest f)" = "$before" ] && check "the table is byte-identical after 15 batches were written" || fail "table changed"
sql "UPDATE f SET config = config - 'schema_version' WHERE id = 778; UPDATE f SET config = jsonb_set(config, '{name}', '\"task-777\"') WHERE id = 777"
before=$(digest f)
expect_status 1 "$S" task migrate scrape --table f --column config --to 1.1 \
	&& expect_err "row id=778: no schema_version" && one_line_error \
	&& check "a row without schema_version fails naming its key"
[ "$(digest f)" = "$before" ] && check "and changes nothing" || fail "table changed"
sql "UPDATE f SET config = jsonb_set(config, '{schema_version}', '\"0.9\"') WHERE id = 778"
expect_status 1 "$S" task migrate scrape --table f --column config --to 1.1 \
	&& expect_err "row id=778: task scrape has no version 0.9" && check "a row of an unknown version fails naming its key"
sql "UPDATE f SET config = jsonb_set(config, '{schema_version}', '\"1.0\"') WHERE id = 778;
     UPDATE f SET config = jsonb_set(config, '{delay_ms}', '12345678901234567890') WHERE id = 5"
expect_status 1 "$S" task migrate scrape --table f --column config --to 1.1 \
	&& expect_err "row id=5: document: byte" && expect_err ": integer too big" \
	&& check "an integer beyond 64 bits fails the row instead of being rounded"
sql "UPDATE f SET config = jsonb_set(config, '{delay_ms}', '1e400') WHERE id = 5"
expect_status 1 "$S" task migrate scrape --table f --column config --to 1.1 \
	&& expect_err "row id=5: document: byte" && expect_err ": number too long to read exactly" \
	&& check "so does a number of 400 digits"
sql "UPDATE f SET config = jsonb_set(config, '{delay_ms}', '0.12345678901234567890') WHERE id = 5"
expect_status 1 "$S" task migrate scrape --table f --column config --to 1.1 \
	&& expect_err "row id=5: document: byte" && expect_err ": real number cannot be kept exactly" \
	&& check "a real of 20 digits fails the row instead of being rounded"
sql "UPDATE f SET config = '[1, 2]' WHERE id = 5"
expect_status 1 "$S" task migrate scrape --table f --column config \
	&& expect_err "row id=5: a task configuration must be a json object, not array" \
	&& check "a document that is not an object"

# --- numbers: moved members keep their value, untouched ones their bytes
"$S" task add num 1.0 --schema <(echo '{"type":"object"}') >/dev/null
"$S" task add num 2.0 --schema <(echo '{"type":"object"}') --from 1.0 \
	--up <(echo '[{"op":"add","path":"/limits","value":{}},{"op":"move","from":"/price","path":"/limits/price"}]') \
	--down <(echo '[{"op":"move","from":"/limits/price","path":"/price"},{"op":"remove","path":"/limits"}]') >/dev/null
sql "CREATE TABLE n (id int PRIMARY KEY, doc jsonb);
     INSERT INTO n VALUES (1, '{\"schema_version\":\"1.0\",\"price\":19.99,\"rate\":0.1,\"keep\":{\"x\":1.50,\"y\":3.0}}')"
expect_status 0 "$S" task migrate num --table n --column doc && check "a task whose edge moves a real"
[ "$(sql "SELECT doc->'limits'->>'price', doc->>'rate', doc->>'keep' FROM n")" = '19.99|0.1|{"x": 1.50, "y": 3.0}' ] \
	&& check "19.99 stays 19.99, 1.50 keeps its bytes" || fail "numbers: $(sql "SELECT doc FROM n")"

# --- keys: none (ctid), composite, quoted schema-qualified names, json
sql "CREATE TABLE nokey AS SELECT i, $DOC10 AS config FROM generate_series(1, 300) i;
     UPDATE nokey SET config = config - 'url' WHERE i = 200"
before=$(digest nokey config i)
expect_status 1 "$S" task migrate scrape --table nokey --column config --to 1.1 \
	&& expect_err "note: public.nokey has no primary key: rows are named by ctid" \
	&& expect_err "row ctid=(" && expect_err ": (root): required: missing property 'url'" \
	&& check "no primary key: ctid order, the failing row named by its ctid"
[ "$(digest nokey config i)" = "$before" ] && check "nothing changed" || fail "nokey changed"
sql "UPDATE nokey SET config = config || '{\"url\":\"https://x.example.com/\"}' WHERE i = 200"
expect_status 0 "$S" task migrate scrape --table nokey --column config --to 1.1 --batch 7 \
	&& expect_out "300 of 300 rows changed" \
	&& expect_out "note: public.nokey has no primary key: rows are read in ctid order and named by ctid" \
	&& check "and without the bad row, it migrates in batches by ctid"
sql "CREATE SCHEMA \"Ops\";
     CREATE TABLE \"Ops\".\"Task Configs\" (tenant text, n int, \"Cfg\" json, PRIMARY KEY (tenant, n));
     INSERT INTO \"Ops\".\"Task Configs\" SELECT 'acme', i, ($DOC10)::json FROM generate_series(1, 40) i;
     INSERT INTO \"Ops\".\"Task Configs\" SELECT E'b\"o\\\\b, {x}', i, ($DOC10)::json FROM generate_series(41, 41) i;
     INSERT INTO \"Ops\".\"Task Configs\" VALUES ('zz', 1, '{\"schema_version\": \"1.0\"}')"
expect_status 1 "$S" task migrate scrape --table '"Ops"."Task Configs"' --column '"Cfg"' --to 1.1 \
	&& expect_err "schema: error: Ops.Task Configs.Cfg: row (tenant, n)=(zz, 1): does not validate" \
	&& check "composite key, quoted names: the failing row named by both columns"
sql "DELETE FROM \"Ops\".\"Task Configs\" WHERE tenant = 'zz'"
expect_status 0 "$S" task migrate scrape --table '"Ops"."Task Configs"' --column '"Cfg"' --to 1.1 --batch 16 \
	&& expect_out "41 of 41 rows changed" && check "a json (not jsonb) column in a quoted schema"
[ "$(sql "SELECT count(*) FROM \"Ops\".\"Task Configs\" WHERE \"Cfg\"->>'timeout_seconds' = '300'")" = 41 ] \
	&& check "json documents migrated, a key with quote, backslash, comma and braces too" || fail "json column"
expect_status 3 "$S" task migrate scrape --table '"Ops".task' --column cfg \
	&& expect_err "no table \"Ops\".task in database" && one_line_error \
	&& check "unquoted parts fold to lower case"

# --- dry run
make_table d
before=$(digest d)
expect_status 0 "$S" task migrate scrape --table d --column config --to 1.1 --dry-run \
	&& expect_out "dry run: public.d.config to scrape 1.1: 980 of 1,000 rows would change; nothing written" \
	&& check "--dry-run migrates and validates every row"
[ "$(digest d)" = "$before" ] && check "--dry-run writes nothing" || fail "dry run wrote"

# --- what does not exist, and usage
expect_status 3 "$S" task migrate scrape --table nosuch --column config \
	&& expect_err "schema: error: no table nosuch in database" && one_line_error \
	&& check "a missing table: exit 3, one line"
expect_status 3 "$S" task migrate scrape --table d --column nosuch \
	&& expect_err "schema: error: table public.d has no column nosuch" && one_line_error \
	&& check "a missing column: exit 3, one line"
expect_status 3 "$S" task migrate scrape --table d --column note \
	&& expect_err "column note of public.d is text, not jsonb or json" && check "a column that is not json: exit 3"
sql "CREATE VIEW v AS SELECT * FROM d"
expect_status 3 "$S" task migrate scrape --table v --column config \
	&& expect_err "public.v is a view, not a table" && check "a view: exit 3"
expect_status 2 "$S" task migrate scrape --table 'a.b.c' --column config \
	&& expect_err "more than schema.name" && check "three-part name: exit 2"
expect_status 2 "$S" task migrate scrape --table 'd;drop' --column config \
	&& expect_err "--table 'd;drop' is not a valid name" && check "not a name: exit 2"
expect_status 2 "$S" task migrate scrape --table '"d' --column config \
	&& expect_err "unterminated quoted identifier" && check "unterminated quote: exit 2"
expect_status 2 "$S" task migrate scrape --table d && expect_err "usage: schema task migrate" \
	&& check "--table without --column: usage"
expect_status 2 "$S" task migrate scrape --table d --column config -o x.json \
	&& expect_err "-o is for files" && check "-o with --table: usage"
expect_status 2 "$S" task migrate scrape "$X/example-1.0.json" --where "true" \
	&& expect_err "need --table and --column" && check "--where without --table: usage"
expect_status 2 "$S" task migrate scrape --table d --column config --batch 0 \
	&& expect_err "--batch needs at least 1 row" && check "--batch 0: usage"
expect_status 2 "$S" task migrate scrape --table d --column config --batch 1000001 \
	&& expect_err "--batch: at most 100000 rows" && check "--batch too large: usage"
expect_status 4 "$S" task migrate scrape --table d --column config --to 9.9 \
	&& expect_err "task scrape has no version 9.9" && check "unknown --to: exit 4 before connecting"
expect_status 4 "$S" task migrate nosuch --table d --column config \
	&& expect_err "no task 'nosuch'" && check "unknown task: exit 4"
expect_status 3 "$S" task migrate scrape --table d --column config --url "postgresql:///nosuchdb?host=$T/none" \
	&& check "no server: exit 3"

# --- interruptions: a concurrent update, a dropped connection
# --where with pg_sleep makes reading 1,000 rows take about 2 s.
make_table c
before=$(digest c)
"$S" task migrate scrape --table c --column config --to 1.1 --batch 10 \
	--where "pg_sleep(0.002) IS NOT NULL" >"$T/c.out" 2>"$T/c.err" &
pid=$!
sleep 0.7
sql "UPDATE c SET note = 'changed meanwhile' WHERE id = 999"
wait $pid
status=$?
out=$(cat "$T/c.out") err=$(cat "$T/c.err")
[ "$status" = 3 ] && expect_err "could not serialize access" \
	&& expect_err "hint: another session changed rows of public.c during the migration; run it again" \
	&& check "a row updated by another session meanwhile: exit 3, not overwritten" || fail "exit 3 expected"
[ "$(sql "SELECT count(*) FROM c WHERE config->>'schema_version' = '1.1'")" = 20 ] \
	&& [ "$(sql "SELECT note FROM c WHERE id = 999")" = "changed meanwhile" ] \
	&& check "rolled back: the other session's change stays, no document migrated" || fail "after a concurrent update"
make_table k
before=$(digest k)
"$S" task migrate scrape --table k --column config --to 1.1 --batch 10 \
	--where "pg_sleep(0.002) IS NOT NULL" >"$T/k.out" 2>"$T/k.err" &
pid=$!
sleep 0.7
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'schema'" >/dev/null
wait $pid
status=$?
out=$(cat "$T/k.out") err=$(cat "$T/k.err")
[ "$status" = 3 ] && check "a dropped connection: exit 3" || fail "exit 3 expected"
[ "$(digest k)" = "$before" ] && check "and the table is as it was" || fail "table changed"

# --- production asks first
before=$(digest d)
expect_status 2 "$S" task migrate scrape --table d --column config --env production </dev/null \
	&& expect_err "needs confirmation" && expect_err "pass --yes" && check "production without a terminal: refused"
[ "$(digest d)" = "$before" ] && check "refusal changed nothing" || fail "changed"
if pg_dump_dumps "$DB_URL"; then
	nsnap=$("$S" snapshots --json | grep -o '"id"' | wc -l)
	expect_status 0 "$S" task migrate scrape --table d --column config --to 1.1 --env production --yes </dev/null \
		&& expect_out "980 of 1,000 rows changed" && check "production with --yes"
	[ "$("$S" snapshots --json | grep -o '"id"' | wc -l)" = $((nsnap + 1)) ] \
		&& check "production (backup = always): a snapshot taken before the rows change" \
		|| fail "no snapshot before the table migration"
	expect_status 0 "$S" audit --json
	out=$(printf '%s\n' "$out" | grep '"detail"' | grep 'production' | tail -n 1 | sed 's/\\"/"/g')
	expect_out '"task": "scrape"' && expect_out '"rows_changed": 980' \
		&& expect_out '"from": {"1.0": 980, "1.1": 20}' && expect_out '"to": "1.1"' \
		&& expect_out '"env": "production"' && expect_out '"table": "public.d"' \
		&& check "an audit event names the task, versions, rows and environment"
	snap=$("$S" snapshots --json | grep -o '"id": *"[0-9a-f]*"' | tail -n 1 | grep -o '[0-9a-f]\{64\}')
	case $out in *"$snap"*) check "the audit event names the snapshot" ;; *) fail "the event lacks snapshot $snap" ;; esac
else
	# no pg_dump of this server's major (make test-pg PG=18): the backup
	# policy cannot be met, and nothing changes
	expect_status 3 "$S" task migrate scrape --table d --column config --to 1.1 --env production --yes </dev/null \
		&& expect_err "or later is needed" && expect_err "aborted before any change" \
		&& [ "$(digest d)" = "$before" ] && check "production (backup = always) without a pg_dump for the server: refused, nothing changed"
fi
nev=$("$S" audit --json | grep -o '"task migrate"' | wc -l)
expect_status 0 "$S" task migrate scrape --table d --column config --env production --dry-run </dev/null \
	&& [ "$("$S" audit --json | grep -o '"task migrate"' | wc -l)" = "$nev" ] \
	&& check "a dry run writes no event" || fail "a dry run wrote an event"
expect_status 2 "$S" task migrate scrape --table d --column config --env prodution --yes </dev/null \
	&& expect_err "unknown environment 'prodution' (did you mean 'production'?)" \
	&& [ "$(digest d)" = "$(digest d)" ] && check "task migrate --env with a typo: exit 2"
expect_status 0 "$S" task migrate scrape --table d --column config --env production --dry-run </dev/null \
	&& check "a dry run needs no confirmation"

finish
