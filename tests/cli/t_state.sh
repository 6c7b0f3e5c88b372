#!/bin/bash
# States: checkout records the state it reaches, status reports drift and
# names the object, diff shows it object by object, state prints the id.
. "$(dirname "$0")/lib.sh"
pg_setup

make_example "$T/repo" || { echo "not ok make_example"; exit 1; }
cd "$T/repo"
newdb main

expect_status 0 "$S" checkout -q && check "checkout head"
rec=$(sql "SELECT DISTINCT state FROM schema_registry.applied WHERE state IS NOT NULL")
[ ${#rec} = 64 ] && check "the head's registry row records the state" || fail "applied.state: '$rec'"
expect_status 0 "$S" show && expect_out "state $rec" && check "show prints the state recorded in the store"
expect_status 0 "$S" state && [ "$out" = "$rec" ] && check "state prints the live id, equal to the recorded one" \
	|| fail "state $out != $rec"
expect_status 0 "$S" status && [[ "$out" != *drift* ]] && check "no drift right after checkout"
expect_status 0 "$S" status --json && expect_out '"drift": []' && check "status --json: no drift"
expect_status 0 "$S" diff && [ -z "$out" ] && check "diff: nothing, exit 0"

sql "ALTER TABLE users ADD COLUMN nick text" >/dev/null
expect_status 0 "$S" status && expect_out "drift: 1 object changed: public.users" \
	&& check "a manual ALTER TABLE is drift, and the table is named"
expect_status 0 "$S" status --json && expect_out '"public.users"' && check "status --json names the drifted object"
expect_status 1 "$S" diff && expect_out "--- a/table public.users" && expect_out "+  column nick text" \
	&& check "diff shows the drift object by object, exit 1"
expect_status 1 "$S" diff --live --name-only && [ "$out" = "table public.users" ] && check "diff --name-only"
expect_status 1 "$S" diff head && expect_out "+  column nick text" && check "diff REV compares with the live database"
expect_status 0 "$S" diff head head && check "a state against itself: exit 0"
expect_status 0 "$S" diff "${rec:0:12}" head && check "a state id prefix names a state"
expect_status 4 "$S" diff head~1 head && expect_err "has no recorded state" && check "a revision without a state: exit 4"
expect_status 4 "$S" diff nosuch && check "an unknown revision: exit 4"
expect_status 2 "$S" diff a b c && check "three arguments: exit 2"
expect_status 2 "$S" diff --bogus && check "unknown option: exit 2"
sql "ALTER TABLE users DROP COLUMN nick" >/dev/null
expect_status 0 "$S" status && [[ "$out" != *drift* ]] && check "dropping the column again ends the drift"

# the registry is not part of the state; core.schemas narrows it
sql "INSERT INTO schema_registry.meta VALUES ('x', 'y')" >/dev/null
sql "CREATE TABLE schema_registry.extra (x int)" >/dev/null
expect_status 0 "$S" state && [ "$out" = "$rec" ] && check "the registry schema is left out"
sql "CREATE SCHEMA other; CREATE TABLE other.t (x int)" >/dev/null
expect_status 0 "$S" state && [ "$out" != "$rec" ] && check "another schema is managed by default"
printf '[core]\n\tschemas = public\n' >> .schema/config
expect_status 0 "$S" state && [ "$out" = "$rec" ] && check "core.schemas = public leaves it out"
expect_status 0 "$S" state --text && expect_out "table public.users" && check "state --text"

# going down records the state reached too; two recorded states compare
expect_status 0 "$S" checkout -q head~1 && check "checkout head~1"
expect_status 0 "$S" status && [[ "$out" != *drift* ]] && check "no drift after going down"
expect_status 1 "$S" diff head~1 head && expect_out "+++ b/" && check "diff between two recorded states"
finish
