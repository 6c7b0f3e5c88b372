# lib.sh - helpers for CLI tests (bash). Source it; then use
#   run <cmd...>                 run, capturing $out, $err, $status
#   expect_status N <cmd...>     run and require exit status N
#   expect_err TEXT              stderr of the last run contains TEXT
#   expect_out TEXT              stdout of the last run contains TEXT
#   one_line_error               stderr has exactly one "schema: error:" line
#   store_digest                 a digest of every LMDB database
set -u
LIB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
S=${SCHEMA_BIN:-$LIB_TOP/schema}
PG_CLUSTER=${PG_CLUSTER:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/pg-cluster.sh}
export SCHEMA_AUTHOR_NAME="Test Author" SCHEMA_AUTHOR_EMAIL="test@example.com"
export SCHEMA_AUTHOR_DATE=1700000000
export NO_COLOR=1
# The scratch-cluster checks of commit and merge are exercised by t_dev.sh;
# elsewhere they would only slow the tests down.
export SCHEMA_CHECK=0
unset SCHEMA_DEV_URL
unset SCHEMA_DIR
T=$(mktemp -d /tmp/schema-cli.XXXXXX)
chmod 755 "$T"
# Keys and settings of the user running the tests stay out of them, and
# what the tests make (key generate) stays out of the user's.
export XDG_CONFIG_HOME="$T/.config"
failures=0
cleanup_hooks=()
on_exit() {
	for h in "${cleanup_hooks[@]}"; do eval "$h"; done
	rm -rf "$T"
}
trap on_exit EXIT

run() {
	"$@" >"$T/.out" 2>"$T/.err"
	status=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}

fail() {
	echo "not ok $*"
	echo "  status: $status"
	echo "  stdout: $out" | head -n 20
	echo "  stderr: $err" | head -n 20
	failures=$((failures + 1))
}

ok() { echo "ok $*"; }

expect_status() {
	local want=$1
	shift
	run "$@"
	if [ "$status" != "$want" ]; then
		fail "exit $want expected: $*"
		return 1
	fi
	return 0
}

expect_err() {
	case "$err" in
	*"$1"*) return 0 ;;
	esac
	fail "stderr should contain '$1'"
	return 1
}

expect_out() {
	case "$out" in
	*"$1"*) return 0 ;;
	esac
	fail "stdout should contain '$1'"
	return 1
}

one_line_error() {
	local n
	n=$(printf '%s\n' "$err" | grep -c '^schema: error: ')
	if [ "$n" != 1 ]; then
		fail "expected exactly one error line"
		return 1
	fi
	return 0
}

store_digest() {
	local dir=${1:-.schema/store} db
	for db in objects refs reflog states worktree heads snapshots tasks meta sealed; do
		mdb_dump -s "$db" "$dir" 2>/dev/null
	done | sha256sum | cut -d' ' -f1
}

check() {
	# check DESCRIPTION: marks the previous expectations as one passing check
	ok "$1"
}

finish() {
	if [ "$failures" != 0 ]; then
		echo "$failures failure(s)"
		exit 1
	fi
	exit 0
}

# A repository with a small history: main 0001-0003, branch feat from 0002
# with 0004, merged in 0005.
make_history() {
	local dir=$1
	mkdir -p "$dir" && cd "$dir" || return 1
	"$S" init -q || return 1
	"$S" new "create users" >/dev/null || return 1
	echo "CREATE TABLE users (id int PRIMARY KEY);" >migrations/0001_create_users/up.sql
	echo "DROP TABLE users;" >migrations/0001_create_users/down.sql
	"$S" new "add email" >/dev/null || return 1
	echo "ALTER TABLE users ADD email text;" >migrations/0002_add_email/up.sql
	echo "ALTER TABLE users DROP email;" >migrations/0002_add_email/down.sql
	"$S" commit -q || return 1
	"$S" new "add name" >/dev/null || return 1
	"$S" commit -q || return 1
	"$S" switch -c feat head~1 >/dev/null || return 1
	"$S" new "feature work" >/dev/null || return 1
	"$S" commit -q || return 1
	"$S" switch main >/dev/null || return 1
	"$S" merge main feat -m "merge feat" >/dev/null || return 1
}

# A PostgreSQL for the test: the run's cluster (SCHEMA_TEST_PG_URL) or a
# private one started here and stopped on exit.
pg_setup() {
	if [ -z "${SCHEMA_TEST_PG_URL:-}" ]; then
		SCHEMA_TEST_PG_URL=$(sh "$PG_CLUSTER" start "$T/pg") || {
			echo "not ok cannot start a cluster"; exit 1; }
		cleanup_hooks+=("sh '$PG_CLUSTER' stop '$T/pg' >/dev/null 2>&1")
	fi
	unset PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD
	export PGOPTIONS='-c client_min_messages=warning'
	ADMIN_URL=$SCHEMA_TEST_PG_URL
}

# newdb NAME: a fresh database; sets DB_URL (and exports DATABASE_URL).
newdb() {
	local name="t$$_$1"
	psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null || return 1
	DB_URL=$(printf '%s' "$ADMIN_URL" | sed "s|/postgres?|/$name?|")
	export DATABASE_URL="$DB_URL"
	cleanup_hooks+=("psql -X -q '$ADMIN_URL' -c 'DROP DATABASE IF EXISTS $name WITH (FORCE)' >/dev/null 2>&1")
}

# schema_dump URL: the schema of public as pg_dump --schema-only prints it;
# with a pg_dump older than the server (make test-pg PG=18 on Debian 12),
# the text of `schema state` instead, so that comparisons still compare.
schema_dump() {
	local sv dv
	sv=$(psql -X -At "$1" -c "SELECT current_setting('server_version_num')::int / 10000")
	dv=$(pg_dump --version | sed 's/[^0-9]*\([0-9]*\).*/\1/')
	if [ "${dv:-0}" -ge "$sv" ]; then
		pg_dump --schema-only -n public "$1" | grep -v '^\\restrict\|^\\unrestrict'
	else
		"$S" state --url "$1" --text
	fi
}

# sql QUERY: runs a query on the current database, prints unaligned rows.
sql() {
	psql -X -q -At "$DB_URL" -c "$1"
}

# A repository holding the example history of migrations/.
make_example() {
	local dir=$1 src
	src=$LIB_TOP/migrations
	mkdir -p "$dir" && cd "$dir" || return 1
	cp -r "$src" migrations || return 1
	rm -rf migrations/tasks
	"$S" init -q && "$S" commit -q
}

# add_migration NAME PARENT UP DOWN: a new directory, committed.
add_migration() {
	mkdir -p "migrations/$1"
	printf '%s\n' "$3" >"migrations/$1/up.sql"
	printf '%s\n' "$4" >"migrations/$1/down.sql"
	printf 'parent %s\n\n%s\n' "$2" "$1" >"migrations/$1/meta"
	"$S" commit -q
}
