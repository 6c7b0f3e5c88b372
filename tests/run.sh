#!/bin/sh
# Runs every test: Criterion unit tests, fuzz corpus replays, and the CLI
# tests against one private PostgreSQL cluster started for this run.
# Environment: BUILD (build dir, default build/rel), SAN (1 under sanitizers).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build/rel}
cd "$top" || exit 1
export SCHEMA_BIN="$top/$BUILD/schema"
export PG_CLUSTER="$top/tests/pg-cluster.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fail=0
failed=""

# One cluster for the whole run; tests make their own databases in it.
tmp=$(mktemp -d /tmp/schema-test.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	sh "$PG_CLUSTER" stop "$tmp/pg" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
if url=$(sh "$PG_CLUSTER" start "$tmp/pg"); then
	export SCHEMA_TEST_PG_URL="$url"
	echo "test cluster: $url"
else
	echo "cannot start the test cluster" >&2
	exit 1
fi

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	# Criterion can fail to spawn a worker under heavy load ("Protocol
	# error"): that is the runner, not a test, so try such a run once more.
	"$t" --jobs 2 >"$tmp/out" 2>&1
	rc=$?
	if [ $rc != 0 ] && grep -q "Could not spawn test instance" "$tmp/out"; then
		"$t" --jobs 1 >"$tmp/out" 2>&1
		rc=$?
	fi
	if [ $rc = 0 ]; then
		printf 'ok   %s: %s\n' "$(basename "$t")" "$(tail -n 1 "$tmp/out")"
	else
		cat "$tmp/out"
		printf 'FAIL %s\n' "$(basename "$t")"
		fail=1
		failed="$failed $(basename "$t")"
	fi
done

echo "== fuzz corpus replay"
for t in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" "tests/fuzz/corpus/$name" >"$tmp/out" 2>&1; then
		printf 'ok   %s: %s\n' "$name" "$(tail -n 1 "$tmp/out")"
	else
		cat "$tmp/out"
		printf 'FAIL %s\n' "$name"
		fail=1
		failed="$failed $name"
	fi
done

echo "== cli tests"
for t in tests/cli/t_*.sh; do
	[ -f "$t" ] || continue
	if bash "$t" >"$tmp/out" 2>&1; then
		printf 'ok   %s (%s checks)\n' "$(basename "$t")" \
			"$(grep -c '^ok' "$tmp/out")"
	else
		cat "$tmp/out"
		printf 'FAIL %s\n' "$(basename "$t")"
		fail=1
		failed="$failed $(basename "$t")"
	fi
done

if [ "$fail" = 0 ]; then
	echo "all tests passed"
else
	echo "FAILED:$failed"
fi
exit "$fail"
