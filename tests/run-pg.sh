#!/bin/sh
# make test-pg PG=NN: the tests that depend on the server's major, against
# PostgreSQL NN (16, 17, 18) from tests/pg-fetch.sh: state capture (the
# client-side rendering of indexes and constraints against the server's
# pg_get_indexdef/pg_get_constraintdef), checkout and rollback of the
# example history, validate with states, commit checks on a scratch
# cluster of that major (PG_BINDIR), and task table mode.
# Environment: PG (the major), BUILD (default build/rel).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build/rel}
cd "$top" || exit 1
[ -n "${PG:-}" ] || { echo "usage: make test-pg PG=16|17|18" >&2; exit 2; }
bindir=$(sh tests/pg-fetch.sh "$PG") || exit 1
export PG_BINDIR="$bindir"
export SCHEMA_BIN="$top/$BUILD/schema"
export PG_CLUSTER="$top/tests/pg-cluster.sh"
fail=0
failed=""
start=$(date +%s)

tmp=$(mktemp -d /tmp/schema-test-pg.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	sh "$PG_CLUSTER" stop "$tmp/pg" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
url=$(sh "$PG_CLUSTER" start "$tmp/pg") || { echo "cannot start PostgreSQL $PG" >&2; exit 1; }
export SCHEMA_TEST_PG_URL="$url"
ver=$(psql -X -At "$url" -c "SHOW server_version_num")
case $ver in
"$PG"*) echo "test cluster: PostgreSQL $ver from $bindir" ;;
*) echo "expected PostgreSQL $PG, the cluster runs $ver" >&2; exit 1 ;;
esac

result() {
	if [ "$1" = 0 ]; then
		printf 'ok   %s: %s\n' "$2" "$3"
	else
		cat "$tmp/out"
		printf 'FAIL %s\n' "$2"
		fail=1
		failed="$failed $2"
	fi
}

echo "== unit tests on PostgreSQL $PG"
for t in ${PG_UNIT_TESTS:-test_catalog test_scratch test_apply test_registry test_pg test_task}; do
	"$BUILD/tests/$t" --jobs 2 >"$tmp/out" 2>&1
	result $? "$t" "$(tail -n 1 "$tmp/out")"
done
echo "== cli tests on PostgreSQL $PG"
for t in ${PG_CLI_TESTS:-t_state t_apply t_dev t_task_table t_backup_major}; do
	bash "tests/cli/$t.sh" >"$tmp/out" 2>&1
	result $? "$t" "$(grep -c '^ok' "$tmp/out") checks"
done
echo "PostgreSQL $PG leg: $(($(date +%s) - start)) s"
if [ "$fail" = 0 ]; then
	echo "all tests passed on PostgreSQL $PG"
else
	echo "FAILED on PostgreSQL $PG:$failed"
fi
exit "$fail"
