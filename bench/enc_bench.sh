#!/bin/sh
# Encrypted against plain backups of the same database, in the same run:
# first backups into fresh repositories (everything is compressed, and
# sealed), then a second backup of the unchanged database into each
# (deduplication: the plain one hashes, the encrypted one computes a keyed
# tag and looks it up). Rounds alternate plain and encrypted; best of 3
# each. Aim: encrypted/plain at most 1.1.
#   bench/enc_bench.sh SCHEMA_BINARY URL
# URL names a server where the script may create and drop the database
# schema_enc_bench (the database part of URL is replaced).
set -eu
[ $# = 2 ] || { echo "usage: $0 SCHEMA_BINARY URL" >&2; exit 2; }
S=$1
URL=$2
SCALE=${BENCH_ENC_SCALE:-10}
export PGOPTIONS="-c client_min_messages=warning"
db=schema_enc_bench
dburl=$(printf '%s' "$URL" | sed "s|^\(postgres[a-z]*://[^/?]*\)/[^?]*|\1/$db|")
work=$(mktemp -d /tmp/schema-enc-bench.XXXXXX)
cleanup() {
	psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || :
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
pgbench -i -q -s "$SCALE" "$dburl" >/dev/null 2>&1
psql -X -q "$dburl" -c "CREATE TABLE notes AS SELECT g AS id, 'note ' || g || ' ' || md5(g::text) || repeat(' lorem ipsum', 1 + g % 7) AS body
	FROM generate_series(1, 200000) g" -c "VACUUM ANALYZE" >/dev/null
size=$(psql -X -At "$dburl" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
"$S" key generate --backup "$work/bench.key" >/dev/null 2>&1

secs() { s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc)" = 1 ]; then echo "$2"; else echo "$1"; fi; }
p1="" e1="" p2="" e2=""
for r in 1 2 3; do
	for mode in plain enc; do
		d="$work/$mode$r"
		mkdir -p "$d" && (cd "$d" && "$S" init -q)
		if [ $mode = plain ]; then
			t1=$(secs env SCHEMA_DIR="$d/.schema" "$S" backup -q --url "$dburl")
			t2=$(secs env SCHEMA_DIR="$d/.schema" "$S" backup -q --url "$dburl")
			p1=$(min "$p1" "$t1"); p2=$(min "$p2" "$t2")
		else
			t1=$(secs env SCHEMA_DIR="$d/.schema" SCHEMA_BACKUP_KEY_FILE="$work/bench.key" "$S" backup -q --encrypt --url "$dburl")
			t2=$(secs env SCHEMA_DIR="$d/.schema" SCHEMA_BACKUP_KEY_FILE="$work/bench.key" "$S" backup -q --encrypt --url "$dburl")
			e1=$(min "$e1" "$t1"); e2=$(min "$e2" "$t2")
		fi
	done
	sp=$(stat -c %s "$work/plain$r/.schema/store/data.mdb")
	se=$(stat -c %s "$work/enc$r/.schema/store/data.mdb")
	[ $r = 3 ] || rm -rf "$work/plain$r" "$work/enc$r"
done
printf 'database: pgbench -s %d and 200,000 text rows (%s)\n' "$SCALE" "$size"
printf 'first backup:  plain %6.2f s | encrypted %6.2f s (ratio %.3f)\n' "$p1" "$e1" "$(echo "$e1 / $p1" | bc -l)"
printf 'second backup: plain %6.2f s | encrypted %6.2f s (ratio %.3f)\n' "$p2" "$e2" "$(echo "$e2 / $p2" | bc -l)"
printf 'store after both: plain %d bytes | encrypted %d bytes (ratio %.3f)\n' "$sp" "$se" "$(echo "$se / $sp" | bc -l)"
