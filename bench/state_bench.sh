#!/bin/sh
# State capture against pg_dump --schema-only on 1,000 tables (5 columns,
# a primary key, an index and a foreign key each), best of 5 each, in the
# same run. Aim: capture under 0.3x of pg_dump.
#   bench/state_bench.sh SCHEMA_BINARY URL
# URL names a server where the script may create and drop the database
# schema_state_bench (the database part of URL is replaced).
set -eu
[ $# = 2 ] || { echo "usage: $0 SCHEMA_BINARY URL" >&2; exit 2; }
S=$1
URL=$2
N=${BENCH_TABLES:-1000}
export PGOPTIONS="-c client_min_messages=warning"
db=schema_state_bench
dburl=$(printf '%s' "$URL" | sed "s|^\(postgres[a-z]*://[^/?]*\)/[^?]*|\1/$db|")
work=$(mktemp -d /tmp/schema-state-bench.XXXXXX)
cleanup() {
	psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || :
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
psql -X -q "$dburl" -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$
BEGIN
  FOR i IN 1..$N LOOP
    EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, name text NOT NULL,'
      ' qty integer DEFAULT 0, created timestamptz NOT NULL DEFAULT now(),'
      ' ref bigint %s)', i,
      CASE WHEN i > 1 THEN format('REFERENCES t%s (id)', i - 1) ELSE '' END);
    EXECUTE format('CREATE INDEX t%s_name_idx ON t%s (name)', i, i);
  END LOOP;
END \$\$;
SQL

# best of 5 wall-clock seconds of a command
best() {
	b=""
	for i in 1 2 3 4 5; do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

cd "$work"
"$S" init -q
cap=$(best "$S" state --url "$dburl")
dump=$(best pg_dump --schema-only -d "$dburl")
printf 'state capture, %d tables:    %.4f s\n' "$N" "$cap"
printf 'pg_dump --schema-only:        %.4f s\n' "$dump"
printf 'ratio:                        %.3fx (aim: under 0.3x)\n' \
	"$(echo "$cap / $dump" | bc -l)"
