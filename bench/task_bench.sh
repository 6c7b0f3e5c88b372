#!/bin/sh
# Task-config table mode against the floor (issue 6, "Speed"):
#
#   sh bench/task_bench.sh BIN URL
#
# BIN is the schema binary, URL a database it may create tables in (it
# drops schema_bench_tpl and schema_bench_t). It fills a table of
# BENCH_TASK_ROWS (default 1,000,000) rows (id bigint primary key, config
# jsonb) with realistic scrape 1.0 configurations, then times, each on a
# fresh copy of that table and best of BENCH_REPEAT (default 3):
#   floor    one plain UPDATE t SET config = config || '{...1.1 members}'
#   migrate  schema task migrate scrape --table t --column config --to 1.1
# and prints both and their ratio (aim: within 3x), checks that both give
# the same table, and reports the peak RSS of schema for two batch sizes
# (memory bounded by the batch, not by the table).
#
# The floor adds what the 1.0 -> 1.1 edge adds (timeout_seconds 300,
# retries 3, schema_version 1.1), so that both runs write the same bytes.
# Every copy is made by CREATE TABLE AS + primary key + VACUUM ANALYZE, so
# both start from the same physical layout.
set -eu
[ $# = 2 ] || { echo "usage: sh bench/task_bench.sh BIN URL" >&2; exit 2; }
BIN=$1
URL=$2
N=${BENCH_TASK_ROWS:-1000000}
R=${BENCH_REPEAT:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
X="$top/migrations/tasks/scrape"
work=$(mktemp -d /tmp/schema-task-bench.XXXXXX)
export PGOPTIONS='-c client_min_messages=warning'
export SCHEMA_AUTHOR_NAME=Bench SCHEMA_AUTHOR_EMAIL=bench@example.com NO_COLOR=1
export SCHEMA_CHECK=${SCHEMA_CHECK:-0}
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }
cleanup() {
	psql -c 'DROP TABLE IF EXISTS schema_bench_t, schema_bench_tpl' \
		>/dev/null 2>&1 || :
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
lt() { [ "$(echo "$1 < $2" | bc)" = 1 ]; }

# A repository with the scrape task's versions.
cd "$work"
"$BIN" init -q
"$BIN" task add scrape 1.0 --schema "$X/1.0.schema.json" >/dev/null
"$BIN" task add scrape 1.1 --schema "$X/1.1.schema.json" --from 1.0 \
	--up "$X/1.0-1.1.up.json" --down "$X/1.0-1.1.down.json" >/dev/null

echo "== task configs: $N rows (id bigint primary key, config jsonb), scrape 1.0 -> 1.1"
s=$(now)
psql <<EOF
DROP TABLE IF EXISTS schema_bench_t, schema_bench_tpl;
CREATE TABLE schema_bench_tpl AS
SELECT i::bigint AS id,
       jsonb_build_object(
         'schema_version', '1.0',
         'name', 'task-' || i,
         'url', 'https://shop' || (i % 97) || '.example.com/catalogue/page-1.html?cat=' || (i % 13),
         'selectors', jsonb_build_object(
             'item', 'article.product_pod',
             'title', 'h3 a@title',
             'price', 'p.price_color',
             'availability', 'p.instock.availability'),
         'pagination', jsonb_build_object('next_selector', 'li.next a@href',
                                          'max_pages', 1 + i % 100),
         'headers', jsonb_build_object(
             'User-Agent', 'scraper/1.0 (+https://example.com/bot)',
             'Accept-Language', 'en-GB,en;q=0.8'),
         'proxy', CASE WHEN i % 3 = 0 THEN 'null'::jsonb
                       ELSE jsonb_build_object('url', 'http://proxy' || (i % 7) || '.internal:3128',
                                               'rotate', i % 2 = 0) END,
         'delay_ms', (i % 20) * 100) AS config
FROM generate_series(1, $N) AS i;
EOF
e=$(now)
bytes=$(psql -At -c "SELECT avg(octet_length(config::text))::int FROM schema_bench_tpl")
printf 'generate: %.1f s, %s bytes of JSON per row\n' "$(secs "$s" "$e")" "$bytes"

# A fresh copy of the template as schema_bench_t.
fresh() {
	psql -c 'DROP TABLE IF EXISTS schema_bench_t' \
		-c 'CREATE TABLE schema_bench_t AS SELECT * FROM schema_bench_tpl' \
		-c 'ALTER TABLE schema_bench_t ADD PRIMARY KEY (id)' \
		-c 'VACUUM ANALYZE schema_bench_t'
}
digest() {
	psql -At -c "SELECT md5(string_agg(config::text, ',' ORDER BY id)) FROM schema_bench_t"
}

floor() {
	fresh
	s=$(now)
	psql -c "UPDATE schema_bench_t SET config = config || '{\"timeout_seconds\":300,\"retries\":3,\"schema_version\":\"1.1\"}'"
	e=$(now)
	secs "$s" "$e"
}

# migrate BATCH: prints "seconds peak-KB"
migrate() {
	fresh
	/usr/bin/time -f '%e %M' -o "$work/time" "$BIN" task migrate scrape \
		--table schema_bench_t --column config --to 1.1 --batch "$1" \
		--url "$URL" >"$work/out"
	cat "$work/time"
}

bf=""
bm=""
i=0
while [ "$i" -lt "$R" ]; do
	t=$(floor)
	if [ -z "$bf" ] || lt "$t" "$bf"; then bf=$t; fi
	[ "$i" = 0 ] && want=$(digest)
	set -- $(migrate 2000)
	if [ -z "$bm" ] || lt "$1" "$bm"; then bm=$1; fi
	[ "$i" = 0 ] && got=$(digest) && cp "$work/out" "$work/report"
	i=$((i + 1))
done
sed 's/^/  /' "$work/report"
if [ "$want" = "$got" ]; then
	echo "same table as the floor: yes (md5 of every config in id order)"
else
	echo "same table as the floor: NO ($want vs $got)"
fi
printf 'floor  (one UPDATE ... config || ...): %6.2f s (best of %d)\n' "$bf" "$R"
printf 'schema task migrate --table:           %6.2f s (best of %d)\n' "$bm" "$R"
printf 'ratio: %.2fx the floor (aim: within 3x)\n' "$(echo "$bm / $bf" | bc -l)"
for b in 500 20000; do
	set -- $(migrate "$b")
	printf 'peak RSS, --batch %5d: %6d KB (%.2f s)\n' "$b" "$2" "$1"
done
