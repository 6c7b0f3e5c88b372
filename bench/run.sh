#!/bin/sh
# make bench: reproducible figures against the floor, printed as a table.
# Sections: history (100,000 revisions). Later sections add the apply engine.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build/rel}
S="$top/$BUILD/schema"
N=${BENCH_REVISIONS:-100000}
out=$(mktemp -d /tmp/schema-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
export SCHEMA_AUTHOR_NAME=Bench SCHEMA_AUTHOR_EMAIL=bench@example.com NO_COLOR=1
export SCHEMA_CHECK=${SCHEMA_CHECK:-0}

# best of 5 wall-clock seconds of a command
best() {
	b=""
	for i in 1 2 3 4 5; do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	printf '%.4f' "$b"
}

echo "== history: $N revisions (a side branch of 10 merged back every 50)"
cd "$out"
"$S" init -q
s=$(date +%s.%N)
"$top/$BUILD/bench/genhist" .schema "$N"
e=$(date +%s.%N)
printf 'generate %d revisions: %.2f s\n' "$N" "$(echo "$e - $s" | bc)"
size=$(stat -c %s .schema/store/data.mdb)
printf 'store: %d bytes, %d bytes per revision (3 objects each)\n' "$size" $((size / N))
printf 'log --oneline (all):   %s s\n' "$(best "$S" log --oneline)"
printf 'log --oneline -n 20:   %s s\n' "$(best "$S" log --oneline -n 20)"
printf 'heads:                 %s s\n' "$(best "$S" heads)"
printf 'fsck:                  %s s\n' "$(best "$S" fsck)"
# commit one more revision on top of the generated history
commit_one() {
	i=$1
	d="migrations/$(printf '%07d' "$i")_bench_$i"
	mkdir -p "$d"
	printf 'CREATE TABLE b_%d (id int);\n' "$i" >"$d/up.sql"
	printf 'DROP TABLE b_%d;\n' "$i" >"$d/down.sql"
	printf 'parent %s\n\nbench commit %d\n' "$2" "$i" >"$d/meta"
	s=$(date +%s.%N)
	"$S" commit -q
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
head=$("$S" log --oneline --full -n 1 | cut -d' ' -f1)
b=""
prev=$head
for i in 1 2 3 4 5; do
	t=$(commit_one "$i" "$prev")
	prev=$(printf '%07d_bench_%d' "$i" "$i")
	if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
done
printf 'commit one revision:   %.4f s (best of 5, worktree of 5 directories)\n' "$b"
# the same on a fresh repository: commit time must not grow with history
mkdir fresh && cd fresh && "$S" init -q
b=""
prev=""
for i in 1 2 3 4 5; do
	d="migrations/$(printf '%07d' "$i")_bench_$i"
	mkdir -p "$d"
	echo "CREATE TABLE b_$i (id int);" >"$d/up.sql"
	echo "DROP TABLE b_$i;" >"$d/down.sql"
	if [ -n "$prev" ]; then printf 'parent %s\n\nc %d\n' "$prev" "$i" >"$d/meta"; else printf '\nc %d\n' "$i" >"$d/meta"; fi
	prev=$(basename "$d")
	s=$(date +%s.%N); "$S" commit -q; e=$(date +%s.%N)
	t=$(echo "$e - $s" | bc)
	if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
done
printf 'commit on an empty history: %.4f s (same worktree size)\n' "$b"

# ---------------------------------------------------------------------------
echo
echo "== apply: 1,000 tiny migrations up from empty, then all down"
M=${BENCH_MIGRATIONS:-1000}
pgdir="$out/pg"
url=$(sh "$top/tests/pg-cluster.sh" start "$pgdir")
trap 'sh "$top/tests/pg-cluster.sh" stop "$pgdir" >/dev/null 2>&1; rm -rf "$out"' EXIT
unset PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD
export PGOPTIONS='-c client_min_messages=warning'
db() { printf '%s' "$url" | sed "s|/postgres?|/$1?|"; }
psql -X -q "$url" -c "CREATE DATABASE floor" -c "CREATE DATABASE tool"
mkdir "$out/apply" && cd "$out/apply"
"$S" init -q
prev=""
i=1
while [ "$i" -le "$M" ]; do
	d=$(printf 'migrations/%05d_t_%d' "$i" "$i")
	mkdir -p "$d"
	printf 'CREATE TABLE t_%d (id int PRIMARY KEY, v text);\n' "$i" >"$d/up.sql"
	printf 'DROP TABLE t_%d;\n' "$i" >"$d/down.sql"
	if [ -n "$prev" ]; then printf 'parent %s\n\ncreate t_%d\n' "$prev" "$i" >"$d/meta"
	else printf '\ncreate t_%d\n' "$i" >"$d/meta"; fi
	prev=$(basename "$d")
	i=$((i + 1))
done
s=$(date +%s.%N); "$S" commit -q; e=$(date +%s.%N)
printf 'commit %d directories at once: %.3f s\n' "$M" "$(echo "$e - $s" | bc)"
# The floor: psql running the same scripts, each step in its own
# transaction with a version-row insert (what a minimal tool must do).
{
	echo "CREATE TABLE versions (v int PRIMARY KEY);"
	i=1
	while [ "$i" -le "$M" ]; do
		printf 'BEGIN;\nCREATE TABLE t_%d (id int PRIMARY KEY, v text);\nINSERT INTO versions VALUES (%d);\nCOMMIT;\n' "$i" "$i"
		i=$((i + 1))
	done
} >"$out/floor_up.sql"
{
	i=$M
	while [ "$i" -ge 1 ]; do
		printf 'BEGIN;\nDROP TABLE t_%d;\nDELETE FROM versions WHERE v = %d;\nCOMMIT;\n' "$i" "$i"
		i=$((i - 1))
	done
} >"$out/floor_down.sql"
t() { s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
floor_up=$(t psql -X -q "$(db floor)" -f "$out/floor_up.sql")
floor_down=$(t psql -X -q "$(db floor)" -f "$out/floor_down.sql")
tool_up=$(t env DATABASE_URL="$(db tool)" "$S" checkout -q head)
n=$(psql -X -At "$(db tool)" -c "SELECT count(*) FROM schema_registry.applied")
[ "$n" = "$M" ] || echo "warning: $n of $M applied"
# status with M applied, against the floor of any libpq client: psql
# starting, connecting and reading the registry once
st=$(best env DATABASE_URL="$(db tool)" "$S" status)
stv=$(best "$S" --version)
stp=$(best psql -X -At "$(db tool)" -c "SELECT count(*) FROM schema_registry.applied")
tool_down=$(t env DATABASE_URL="$(db tool)" "$S" checkout -q base)
printf 'up:   psql floor %.3f s, schema %.3f s, ratio %.3f\n' "$floor_up" "$tool_up" "$(echo "$tool_up / $floor_up" | bc -l)"
printf 'down: psql floor %.3f s, schema %.3f s, ratio %.3f\n' "$floor_down" "$tool_down" "$(echo "$tool_down / $floor_down" | bc -l)"
printf 'status with %d applied: %.1f ms (best of 5); psql reading the registry: %.1f ms, ratio %.2f; schema --version alone: %.1f ms\n' \
	"$M" "$(echo "$st * 1000" | bc -l)" "$(echo "$stp * 1000" | bc -l)" \
	"$(echo "$st / $stp" | bc -l)" "$(echo "$stv * 1000" | bc -l)"
for peer in alembic sqitch; do
	if command -v "$peer" >/dev/null 2>&1; then
		echo "$peer is installed but not benchmarked here"
	else
		echo "$peer: not installed (no network beyond Debian packages)"
	fi
done
echo
echo "== states: capture of 1,000 tables against pg_dump --schema-only"
sh "$top/bench/state_bench.sh" "$S" "$url"
echo
echo "== commit with its scratch-cluster check (warm private cluster)"
sh "$top/bench/check_bench.sh" "$S"

# ---------------------------------------------------------------------------
echo
echo "== snapshots: pgbench -i -s ${BENCH_PGBENCH_SCALE:-20}, and ${BENCH_BYTEA_ROWS:-200000} random 2 KB bytea values"
# One run each (not best of 5): each step moves hundreds of megabytes.
# Every figure is wall-clock seconds on this machine; compare the two
# columns of a line, not lines of different runs.
mkdir "$out/snap" && cd "$out/snap"
"$S" init -q
psql -X -q "$url" -c "CREATE DATABASE pgb" -c "CREATE DATABASE rnd"
pgbench -i -q -s "${BENCH_PGBENCH_SCALE:-20}" "$(db pgb)" >/dev/null 2>&1
psql -X -q "$(db rnd)" -c "CREATE EXTENSION pgcrypto" \
	-c "CREATE TABLE r (id int PRIMARY KEY, v bytea)" \
	-c "ALTER TABLE r ALTER v SET STORAGE EXTERNAL" \
	-c "INSERT INTO r SELECT g, gen_random_bytes(1024) || gen_random_bytes(1024)
	    FROM generate_series(1, ${BENCH_BYTEA_ROWS:-200000}) g" -c "VACUUM ANALYZE r"
snapfield() { "$S" snapshots --json --full | grep -A16 "\"$1" | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"; }
for d in pgb rnd; do
	n=$(psql -X -At "$(db "$d")" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
	echo "-- $d ($n)"
	pd=$(t pg_dump -Fc -f "$out/$d.dump" "$(db "$d")")
	pds=$(stat -c %s "$out/$d.dump")
	s1=$(date +%s.%N); id1=$("$S" backup -q --full --url "$(db "$d")"); e1=$(date +%s.%N)
	s2=$(date +%s.%N); id2=$("$S" backup -q --full --url "$(db "$d")"); e2=$(date +%s.%N)
	b1=$(echo "$e1 - $s1" | bc); b2=$(echo "$e2 - $s2" | bc)
	st1=$(snapfield "$id1" added_bytes); st2=$(snapfield "$id2" added_bytes)
	printf 'backup:        pg_dump -Fc %6.2f s %11d bytes | schema %6.2f s %11d bytes (time %.2fx, size %.2fx)\n' \
		"$pd" "$pds" "$b1" "$st1" "$(echo "$b1 / $pd" | bc -l)" "$(echo "$st1 / $pds" | bc -l)"
	printf 'second backup of the unchanged database: %.2f s, %d bytes added (%.3f%% of the first)\n' \
		"$b2" "$st2" "$(echo "100 * $st2 / $st1" | bc -l)"
	psql -X -q "$url" -c "CREATE DATABASE ${d}_pr" -c "CREATE DATABASE ${d}_sr"
	pr=$(t pg_restore -j2 -d "$(db "${d}_pr")" "$out/$d.dump")
	sr=$(t "$S" restore -q "$id1" --into "$(db "${d}_sr")")
	printf 'restore:       pg_restore -j2 %6.2f s | schema restore %6.2f s (%.2fx)\n' \
		"$pr" "$sr" "$(echo "$sr / $pr" | bc -l)"
	for tb in $(psql -X -At "$(db "$d")" -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
		a=$(psql -X -At "$(db "$d")" -c "SELECT md5(string_agg(md5(x::text), '' ORDER BY x)) FROM $tb x")
		b=$(psql -X -At "$(db "${d}_sr")" -c "SELECT md5(string_agg(md5(x::text), '' ORDER BY x)) FROM $tb x")
		[ "$a" = "$b" ] || echo "warning: $d.$tb differs after restore"
	done
	psql -X -q "$url" -c "DROP DATABASE ${d}_pr" -c "DROP DATABASE ${d}_sr"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

echo
echo "== encrypted snapshots: backup --encrypt against a plain backup of the same database"
sh "$top/bench/enc_bench.sh" "$S" "$url"

# signatures: require-signed over a 10,000-revision path
sh "$top/bench/sign_bench.sh" "$S"

echo
echo "== task configs: ${BENCH_TASK_ROWS:-1000000} jsonb configs 1.0 -> 1.1 against one plain UPDATE"
sh "$top/bench/task_bench.sh" "$S" "$url"
