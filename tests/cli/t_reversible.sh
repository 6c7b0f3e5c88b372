#!/bin/bash
# The reversibility check on the scratch database: a down that brings back
# the parent's state but for the order of a table's columns (DROP COLUMN
# undone by ADD COLUMN) is accepted with a warning naming the table and
# both orders, and is an error for validate --strict-column-order; any
# other irreversible revision is refused with the differing lines of the
# two states.
. "$(dirname "$0")/lib.sh"
pg_setup
export SCHEMA_CHECK=1 SCHEMA_DEV_URL=$ADMIN_URL

mkdir -p "$T/r" && cd "$T/r" || exit 2
"$S" init -q || exit 2

newmig() {
	mkdir -p "migrations/$1"
	printf '%s\n' "$3" >"migrations/$1/up.sql"
	printf '%s\n' "$4" >"migrations/$1/down.sql"
	if [ -n "$2" ]; then
		printf 'parent %s\n\n%s\n' "$2" "$1" >"migrations/$1/meta"
	else
		printf '\n%s\n' "$1" >"migrations/$1/meta"
	fi
}

newmig 0001_users "" "CREATE TABLE users (id int PRIMARY KEY, email text, name text);" "DROP TABLE users;"
expect_status 0 "$S" commit -q

# ---- column order alone: accepted, with the table and both orders
newmig 0002_drop_email 0001_users "ALTER TABLE users DROP COLUMN email;" "ALTER TABLE users ADD COLUMN email text;"
expect_status 0 "$S" commit && expect_out "0002_drop_email" \
	&& expect_err "warning: 0002_drop_email: after up.sql and down.sql only the order of columns differs" \
	&& expect_err "table public.users (id, email, name -> id, name, email)" \
	&& check "DROP COLUMN undone by ADD COLUMN: committed, the table and both orders named"
expect_status 0 "$S" show 0002_drop_email && expect_out "state " && check "its state is recorded"
newmig 0003_nick 0002_drop_email "ALTER TABLE users ADD COLUMN nick text;" "ALTER TABLE users DROP COLUMN nick;"
expect_status 0 "$S" commit -q && [[ "$err" != *warning* ]] && check "the next revision checks cleanly after it"

expect_status 0 "$S" validate && expect_err "0002_drop_email: after up.sql and down.sql only the order of columns" \
	&& expect_err "table public.users (id, email, name -> id, name, email)" && expect_err "0 problems" \
	&& check "validate accepts column order alone, with the warning"
expect_status 1 "$S" validate --strict-column-order && expect_out "column-order: 0002_drop_email:" \
	&& expect_out "table public.users (id, email, name -> id, name, email)" && expect_err "1 problem" \
	&& check "validate --strict-column-order makes it a problem"
expect_status 1 "$S" validate --strict-column-order --json && expect_out '"check": "column-order"' \
	&& check "validate --strict-column-order --json lists it"

# a database rolled back through it records the state it reached: no drift
newdb rb
expect_status 0 "$S" checkout -q 0003_nick
expect_status 0 "$S" checkout -q 0001_users
[ "$(sql "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'users'")" = "id,name,email" ] \
	|| fail "the rollback did not run the down of 0002"
expect_status 0 "$S" validate --no-states --url "$DB_URL" && check "rolled back through it: no drift reported"

# ---- anything else: refused, with the differing lines
newmig 0004_lost 0003_nick "CREATE TABLE lost (x int);" "SELECT 1;"
d=$(store_digest)
expect_status 1 "$S" commit && one_line_error && expect_err "0004_lost is not reversible" \
	&& expect_err "table public.lost differs from the parent's state:" \
	&& expect_err "+++ b/table public.lost" && expect_err "+table public.lost" \
	&& expect_err "+  column x integer" && check "a table down forgets: refused with a unified diff of the states"
[ "$(store_digest)" = "$d" ] || fail "a refused commit stored something"
rm -rf migrations/0004_lost
newmig 0004_type 0003_nick "ALTER TABLE users ALTER COLUMN name TYPE varchar(10);" "SELECT 1;"
expect_status 1 "$S" commit && one_line_error && expect_err "0004_type is not reversible" \
	&& expect_err "--- a/table public.users" && expect_err "-  column name text" \
	&& expect_err "+  column name character varying(10)" && expect_err "hint:" \
	&& check "a column type down forgets: the changed line before and after"
[[ "$err" != *"column id"*"column id"* ]] || fail "the diff shows more than the lines around the change"
expect_status 0 "$S" commit --no-check -q
expect_status 1 "$S" validate && expect_out "reversible: 0004_type: down.sql does not bring back the parent's state: table public.users" \
	&& expect_out "    -  column name text" && expect_out "    +  column name character varying(10)" \
	&& check "validate shows the differing lines below the problem"
expect_status 1 "$S" validate --json && expect_out '"diff": "--- a/table public.users' \
	&& check "validate --json carries the diff"

# ---- a merge whose sides order columns differently names both orders
"$S" switch -c side 0001_users >/dev/null
newmig 0010_c1 0001_users "ALTER TABLE users ADD COLUMN c1 int;" "ALTER TABLE users DROP COLUMN c1;"
newmig 0011_c2 0010_c1 "SELECT 1;" "SELECT 1;"
expect_status 0 "$S" commit -q
"$S" switch -c other 0001_users >/dev/null
newmig 0012_c2 0001_users "ALTER TABLE users ADD COLUMN c2 int;" "ALTER TABLE users DROP COLUMN c2;"
expect_status 0 "$S" commit -q
expect_status 0 "$S" merge 0011_c2 0012_c2 -m "merge columns" \
	&& expect_err "table public.users (id, email, name, c1, c2 -> id, email, name, c2, c1)" \
	&& check "merge names the table and both orders"

finish
