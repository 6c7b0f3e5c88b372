#!/bin/bash
# Snapshots against a real PostgreSQL: backup and restore round trips that
# compare every row (the example history with data, every common type, a
# partitioned table, sequences), deduplication of an unchanged database, a
# corrupted chunk, kill -9 during a backup, an interrupted restore, gc,
# checkout's automatic backup, and the exit status of bad input.
. "$(dirname "$0")/lib.sh"
pg_setup

# digest URL: one line per user table (ordered checksum of its COPY
# output) and per sequence (its value), then the schema as pg_dump sees it.
digest() {
	local url=$1 t
	for t in $(psql -X -At "$url" -c "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename)
		FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'schema_restore')
		ORDER BY 1"); do
		printf '%s ' "$t"
		psql -X -At "$url" -c "COPY (SELECT * FROM $t x ORDER BY x::text) TO STDOUT" | sha256sum | cut -c1-16
	done
	psql -X -At "$url" -c "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"
	pg_dump --schema-only "$url" | grep -v '^\\\(un\)\?restrict\|^--\|^$'
}

url_of() { printf '%s' "$ADMIN_URL" | sed "s|/postgres?|/t$$_$1?|"; }
emptydb() {
	psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS t$$_$1" -c "CREATE DATABASE t$$_$1" >/dev/null
	cleanup_hooks+=("psql -X -q '$ADMIN_URL' -c 'DROP DATABASE IF EXISTS t$$_$1 WITH (FORCE)' >/dev/null 2>&1")
}
snap_count() { "$S" snapshots --json | grep -c '"id"'; }

make_example "$T/repo" || { echo "not ok make_example"; exit 1; }
cd "$T/repo"

# --- the example history with data
newdb app
expect_status 0 "$S" checkout -q head && check "example history applied"
sql "INSERT INTO users (email, password_hash, full_name)
	SELECT 'u' || g || '@example.com', md5(g::text), 'Üser ' || g FROM generate_series(1, 3000) g;
INSERT INTO tasks (user_id, name, config, status)
	SELECT 1 + g % 3000, 'task ' || g, jsonb_build_object('url', 'https://e.com/' || g, 'n', g),
	(ARRAY['pending','queued','running','succeeded'])[1 + g % 4]::task_status FROM generate_series(1, 6000) g;
INSERT INTO api_keys (user_id, name, key_prefix, key_hash)
	SELECT g, 'key', 'sk_' || g, sha256(g::text::bytea) FROM generate_series(1, 500) g;
INSERT INTO usage_records (user_id, pages, bandwidth_bytes)
	SELECT 1 + g % 3000, g % 100, g * 1000 FROM generate_series(1, 20000) g;" >/dev/null
expect_status 0 "$S" backup -m "example with data" && check "backup of the example history"
app_snap=$out
[ ${#app_snap} = 12 ] && check "backup prints a 12-digit id" || fail "id: '$app_snap'"
expect_status 0 "$S" snapshots && expect_out "$app_snap" && expect_out "example with data" \
	&& check "snapshots lists it with its rows and note"
expect_status 0 "$S" snapshots --json && expect_out '"heads": [' && expect_out '"stored_bytes"' \
	&& check "snapshots --json"
head_rev=$("$S" current | head -n 1 | cut -d' ' -f1)
"$S" snapshots --json | grep -q "\"$head_rev" && check "the snapshot records the registry head" \
	|| fail "registry head $head_rev not recorded"
emptydb app_copy
expect_status 0 "$S" restore "$app_snap" --into "$(url_of app_copy)" && check "restore into an empty database"
digest "$DB_URL" >"$T/a1"
digest "$(url_of app_copy)" >"$T/a2"
cmp -s "$T/a1" "$T/a2" && check "every row, sequence and definition is restored" \
	|| { fail "restored database differs"; diff "$T/a1" "$T/a2" | head -20; }
DATABASE_URL=$(url_of app_copy) expect_status 0 "$S" status --json && expect_out '"state": "up to date"' \
	&& expect_out '"interrupted_restore": null' && check "status of the copy: up to date, registry restored"

# --- every common type, NULLs, non-ASCII text, a multi-megabyte value
newdb types
sql "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE every (id serial PRIMARY KEY, i2 smallint, i8 bigint, f4 real, f8 double precision,
	n numeric, n2 numeric(12,3), b boolean, t text, vc varchar(20), c char(5), by bytea,
	j json, jb jsonb, d date, ts timestamp, tz timestamptz, iv interval, tm time, u uuid,
	ia int[], ta text[][], m mood, ma mood[], p posint, ip inet, cidr cidr, mac macaddr,
	pt point, r int4range, bits bit varying(10), x xml, money money, tsv tsvector);
INSERT INTO every (i2, i8, f4, f8, n, n2, b, t, vc, c, by, j, jb, d, ts, tz, iv, tm, u, ia, ta, m, ma, p,
	ip, cidr, mac, pt, r, bits, x, money, tsv)
SELECT g, g::bigint * 1000000007, g / 7.0, pi() * g, 10::numeric ^ (g % 40) / 3, g / 8.0, g % 2 = 0,
	'naïve café ' || g || E'\ttab\nnewline \\\\ back', 'v' || g, 'c' || (g % 100), decode(md5(g::text), 'hex'),
	'{\"a\": [1, 2, {\"b\": null}]}', jsonb_build_object('k', g, 'ü', 'ß'), date '2024-02-29' + g,
	timestamp '2000-01-01 00:00:00.123456' + g * interval '1 hour', now() - g * interval '1 minute',
	make_interval(years => g % 3, days => g, secs => g / 3.0), time '12:34:56.789', md5(g::text)::uuid,
	ARRAY[g, NULL, -g], ARRAY[ARRAY['a', 'b'], ARRAY['c', NULL]], (ARRAY['sad','ok','happy'])[1 + g % 3]::mood,
	ARRAY['ok', 'happy']::mood[], 1 + g, ('10.0.0.' || (g % 250))::inet, '10.0.0.0/8', '08:00:2b:01:02:03',
	point(g, -g), int4range(g, g + 10), B'101', ('<a>' || g || '</a>')::xml, (g * 1.5)::numeric::money, to_tsvector('simple', 'fat cat ' || g)
FROM generate_series(1, 2000) g;
INSERT INTO every (id) VALUES (100000);
INSERT INTO every (id, t, by) VALUES (100001, repeat('日本語テキスト', 400000), decode(repeat('00ff', 1500000), 'hex'));
SELECT setval('every_id_seq', 123456, true);
CREATE TABLE rnd (id int, r bytea);
INSERT INTO rnd SELECT g, decode((SELECT string_agg(md5(random()::text || g || h), '') FROM generate_series(1, 64) h), 'hex')
	FROM generate_series(1, 400) g;" >/dev/null
types_url=$DB_URL
expect_status 0 "$S" backup -q && check "backup of a table of every type"
types_snap=$out
"$S" snapshots --json | grep -A20 "\"$types_snap" | grep -q '"rows": 2402' && check "2402 rows counted" \
	|| fail "row count of the types table"
emptydb types_copy
expect_status 0 "$S" restore -q "$types_snap" --into "$(url_of types_copy)" && check "restore of every type"
digest "$types_url" >"$T/b1"
digest "$(url_of types_copy)" >"$T/b2"
cmp -s "$T/b1" "$T/b2" && check "every type round-trips, NULLs and a multi-megabyte value included" \
	|| { fail "types differ"; diff "$T/b1" "$T/b2" | head -20; }
[ "$(psql -X -At "$(url_of types_copy)" -c "SELECT nextval('every_id_seq')")" = 123457 ] \
	&& check "a sequence continues from its value" || fail "sequence value not restored"

# --- a partitioned table, a generated column, an identity, a large table read in ranges
newdb parts
sql "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, payload text,
	len int GENERATED ALWAYS AS (length(payload)) STORED) PARTITION BY RANGE (at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
INSERT INTO events (at, payload) SELECT date '2023-06-01' + g % 900, repeat(md5(g::text), 1 + g % 5)
	FROM generate_series(1, 30000) g;
CREATE INDEX ON events (at);
CREATE TABLE big (id int PRIMARY KEY, pad text);
INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 520000) g;" >/dev/null
parts_url=$DB_URL
expect_status 0 "$S" backup -q --chunk-size 64K && check "backup of a partitioned table and a table of 130 MiB"
parts_snap=$out
emptydb parts_copy
expect_status 0 "$S" restore -q "$parts_snap" --into "$(url_of parts_copy)" && check "restore of both"
digest "$parts_url" >"$T/c1"
digest "$(url_of parts_copy)" >"$T/c2"
cmp -s "$T/c1" "$T/c2" && check "partitions, generated columns and ctid ranges round-trip" \
	|| { fail "partitioned data differs"; diff "$T/c1" "$T/c2" | head -20; }

# --- an unchanged database adds under 1% of the first backup
first=$("$S" snapshots --json | grep -A14 "\"$parts_snap" | sed -n 's/.*"stored_bytes": \([0-9]*\).*/\1/p')
expect_status 0 "$S" backup -q --chunk-size 64K && check "second backup of the unchanged database"
second=$out
added=$("$S" snapshots --json | grep -A15 "\"$second" | sed -n 's/.*"added_bytes": \([0-9]*\).*/\1/p')
if [ -n "$first" ] && [ -n "$added" ] && [ $((added * 100)) -lt "$first" ]; then
	check "the second backup adds $added bytes, under 1% of $first"
else
	fail "second backup added '$added' of '$first'"
fi

# --- restore refuses a non-empty target without --force
expect_status 1 "$S" restore "$types_snap" --into "$(url_of app_copy)" && expect_err "is not empty" \
	&& one_line_error && check "a non-empty target is refused, exit 1"
expect_status 0 "$S" restore -q --force "$types_snap" --into "$(url_of app_copy)" && check "--force replaces it"
digest "$(url_of app_copy)" >"$T/b3"
cmp -s "$T/b1" "$T/b3" && check "and the result equals the source" || fail "forced restore differs"

# --- an interrupted restore: psql fails on post-data
mkdir -p "$T/bin"
cat >"$T/bin/psql" <<EOF
#!/bin/sh
n=\$(cat "$T/bin/count" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$T/bin/count"
[ "\$n" = 1 ] && { cat >/dev/null; echo "psql: error: simulated crash" >&2; exit 2; }
exec $(command -v psql) "\$@"
EOF
chmod +x "$T/bin/psql"
emptydb half
PATH="$T/bin:$PATH" expect_status 3 "$S" restore -q "$app_snap" --into "$(url_of half)" \
	&& expect_err "simulated crash" && expect_err "--force" && check "a failing post-data stops the restore, exit 3"
DATABASE_URL=$(url_of half) expect_status 0 "$S" status && expect_out "a restore of snapshot $app_snap stopped midway" \
	&& check "status reports the interrupted restore"
expect_status 1 "$S" restore "$app_snap" --into "$(url_of half)" && expect_err "interrupted restore" \
	&& check "a plain rerun is refused"
expect_status 1 "$S" backup --url "$(url_of half)" && expect_err "unfinished restore" \
	&& check "backup refuses a database with an unfinished restore"
expect_status 0 "$S" restore -q --force "$app_snap" --into "$(url_of half)" && check "--force completes it"
digest "$(url_of half)" >"$T/a3"
cmp -s "$T/a1" "$T/a3" && check "the completed restore equals the source" || fail "completed restore differs"
[ "$(psql -X -At "$(url_of half)" -c "SELECT to_regnamespace('schema_restore') IS NULL")" = t ] \
	&& check "the marker is gone" || fail "marker left"

# --- a corrupted chunk: restore refuses before touching the target
"$S" fsck -q && check "fsck is clean before"
mdb_dump -s objects .schema/store >"$T/dump"
# a chunk stored raw (the random table): 'r' "chunk " is 72 6368756e6b20
awk '/^ 726368756e6b20/ && length($0) > 20000 && !done { c = substr($0, 200, 1); r = (c == "0") ? "1" : "0";
	$0 = substr($0, 1, 199) r substr($0, 201); done = 1 } { print }' "$T/dump" >"$T/dump2"
cmp -s "$T/dump" "$T/dump2" && fail "could not flip a byte of a raw chunk"
mdb_load -s objects -f "$T/dump2" .schema/store 2>/dev/null
expect_status 1 "$S" fsck -q && expect_out "corrupt" && check "fsck sees the damaged chunk"
emptydb victim
expect_status 4 "$S" restore -q "$types_snap" --into "$(url_of victim)" && expect_err "damaged" \
	&& one_line_error && check "restore of a snapshot with a damaged chunk fails with exit 4"
[ "$(psql -X -At "$(url_of victim)" -c "SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('public', 'information_schema')")" = 0 ] \
	&& [ "$(psql -X -At "$(url_of victim)" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")" = 0 ] \
	&& check "the target was not touched" || fail "the damaged restore wrote to the target"
mdb_load -s objects -f "$T/dump" .schema/store 2>/dev/null
"$S" fsck -q && check "fsck clean again after repair" || fail "repair did not work"

# --- kill -9 during a backup: no snapshot, fsck clean, store unchanged
n=$(snap_count)
before=$(store_digest)
psql -X -q "$parts_url" -c "CREATE TABLE zz_last (x int); INSERT INTO zz_last VALUES (1)"
psql -X -q "$parts_url" -c "BEGIN; LOCK TABLE zz_last IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)" >/dev/null 2>&1 &
locker=$!
sleep 0.5
"$S" backup -q --url "$parts_url" >/dev/null 2>&1 &
victim=$!
for i in $(seq 100); do
	w=$(psql -X -At "$ADMIN_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
		AND datname = 't$$_parts' AND backend_type = 'client backend'")
	[ "$w" -ge 1 ] && break
	sleep 0.1
done
kill -9 "$victim" 2>/dev/null
wait "$victim" 2>/dev/null
psql -X -q "$ADMIN_URL" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 't$$_parts' AND pid <> pg_backend_pid()" >/dev/null
wait "$locker" 2>/dev/null
[ "$w" -ge 1 ] && check "the backup was killed while it waited for a lock" || fail "the backup never blocked"
[ "$(snap_count)" = "$n" ] && check "kill -9 leaves no snapshot" || fail "a snapshot appeared"
[ "$before" = "$(store_digest)" ] && check "and the store unchanged" || fail "store changed by a killed backup"
expect_status 0 "$S" fsck && check "fsck clean after kill -9"

# --- gc: nothing to free, then what a deleted snapshot held
expect_status 0 "$S" gc && expect_out "freed 0 objects" && check "gc frees nothing that is reached"
n=$(snap_count)
mdb_dump -s snapshots .schema/store >"$T/snaps"
expect_status 0 "$S" snapshots --delete "$parts_snap" && check "snapshots --delete"
[ "$(snap_count)" = $((n - 1)) ] && check "the snapshot is no longer listed" || fail "still listed"
expect_status 0 "$S" gc -n && expect_out "would free" && expect_out "snap" && check "gc -n lists what it would free"
expect_status 0 "$S" gc && expect_out "freed" && expect_out "1 snap" && check "gc frees the deleted snapshot"
expect_status 0 "$S" fsck && check "fsck clean after gc"
expect_status 0 "$S" log --oneline && expect_out "Record the schema version" && check "the history survives gc"
emptydb after_gc
expect_status 0 "$S" restore -q "$second" --into "$(url_of after_gc)" && check "the snapshot that shared its chunks still restores"
digest "$(url_of after_gc)" >"$T/c3"
cmp -s "$T/c1" "$T/c3" && check "completely" || fail "restore after gc differs"
expect_status 4 "$S" snapshots --delete "$parts_snap" && one_line_error && check "deleting it again: exit 4"
mdb_load -s snapshots -f "$T/snaps" .schema/store 2>/dev/null
expect_status 1 "$S" fsck && expect_out "dangling-snapshot" && check "fsck reports a listed snapshot that gc freed"
printf 'HEADER=END\n' >/dev/null

# --- checkout's automatic backup
newdb prod
cat >>.schema/config <<EOF
[env "production"]
	url = $DB_URL
[env "staging"]
	url = $DB_URL
EOF
n=$(snap_count)
expect_status 0 "$S" checkout -q --env staging head~3 && check "staging: an upgrade"
[ "$(snap_count)" = "$n" ] && check "staging takes no backup going up" || fail "staging backed up an upgrade"
expect_status 0 "$S" checkout -q --env staging head~5 && check "staging: a downgrade"
[ "$(snap_count)" = $((n + 1)) ] && check "staging backs up before a downgrade" || fail "no backup on downgrade"
expect_status 2 "$S" checkout -q --env production head && expect_err "pass --yes" \
	&& check "production needs confirmation"
[ "$(snap_count)" = $((n + 1)) ] && check "no backup before the confirmation" || fail "backed up unconfirmed"
before=$("$S" snapshots --json --full | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | sort)
expect_status 0 "$S" checkout -q --env production --yes head && check "production checkout"
[ "$(snap_count)" = $((n + 2)) ] && check "production backs up before every checkout" || fail "no production backup"
# the new one (two taken in the same second list in id order)
last=$("$S" snapshots --json --full | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | sort |
	comm -13 <(printf '%s\n' "$before") -)
ev=$(sql "SELECT detail FROM schema_registry.events WHERE action = 'checkout' ORDER BY seq DESC LIMIT 1")
case "$ev" in
*"\"backup\": \"$last\""*) check "the audit event names the backup" ;;
*) fail "audit event '$ev' lacks backup $last" ;;
esac
"$S" snapshots | tail -n 1 | grep -q "before checkout" && check "the automatic backup says why" \
	|| fail "note missing"

# --- bad input
expect_status 2 "$S" backup --level 10 && one_line_error && check "--level 10: exit 2"
expect_status 2 "$S" backup --chunk-size lots && one_line_error && check "bad --chunk-size: exit 2"
expect_status 2 "$S" backup --chunk-size 100 && one_line_error && check "too small --chunk-size: exit 2"
expect_status 2 "$S" backup --chunk-size 17592186044417M && one_line_error && check "a --chunk-size that overflows: exit 2"
expect_status 2 "$S" backup --chunk-size 2048i && one_line_error && check "'i' without K or M: exit 2"
expect_status 2 "$S" backup extra && one_line_error && check "backup with an argument: exit 2"
expect_status 3 "$S" backup --url "postgresql:///nope?host=$T/none" && one_line_error \
	&& check "backup of an unreachable database: exit 3"
expect_status 2 "$S" restore && one_line_error && check "restore without an id: exit 2"
expect_status 4 "$S" restore ffffffff --into "$DB_URL" && expect_err "no snap" && one_line_error \
	&& check "restore of an unknown id: exit 4"
expect_status 2 "$S" restore zz --into "$DB_URL" && one_line_error && check "restore of a bad prefix: exit 2"
expect_status 2 "$S" snapshots extra && one_line_error && check "snapshots with an argument: exit 2"
expect_status 2 "$S" gc extra && one_line_error && check "gc with an argument: exit 2"
for c in backup snapshots restore gc; do
	expect_status 0 "$S" "$c" --help && expect_out "EXIT STATUS" && expect_out "EXAMPLES" || fail "$c --help"
done
check "every new command has a man page"
finish
