#!/bin/bash
# stamp compares the live state with the state of the revisions it stamps
# (recorded on this server major, else computed on the scratch database)
# and refuses a mismatch with the differing lines unless --force; the
# audit event says which it was.
. "$(dirname "$0")/lib.sh"
pg_setup
export SCHEMA_CHECK=1 SCHEMA_DEV_URL=$ADMIN_URL

mkdir -p "$T/r" && cd "$T/r" || exit 2
"$S" init -q || exit 2
mkdir -p migrations/0001_users
printf 'CREATE TABLE users (id int PRIMARY KEY);\n' >migrations/0001_users/up.sql
printf 'DROP TABLE users;\n' >migrations/0001_users/down.sql
printf '\ncreate users\n' >migrations/0001_users/meta
add_migration 0002_email 0001_users "ALTER TABLE users ADD COLUMN email text;" \
	"ALTER TABLE users DROP COLUMN email;" >/dev/null 2>&1
expect_status 0 "$S" show 0002_email && expect_out "state " || exit 2

# event KEY...: fields of the detail of the last stamp event, space-separated
event() {
	local q="" k
	for k in "$@"; do q="$q${q:+ || ' ' || }coalesce(detail::jsonb->>'$k', 'null')"; done
	sql "SELECT $q FROM schema_registry.events WHERE action = 'stamp' ORDER BY seq DESC LIMIT 1"
}
rows() { sql "SELECT count(*) FROM schema_registry.applied" 2>/dev/null || echo none; }

# a database made by hand that lacks the column
newdb adopt
sql "CREATE TABLE users (id int PRIMARY KEY)" >/dev/null
expect_status 1 "$S" stamp 0002_email && one_line_error \
	&& expect_err "the database does not match the state of 0002_email: table public.users:" \
	&& expect_err "--- a/table public.users" && expect_err "-  column email text" \
	&& expect_err "--force" && check "a database that lacks a column: refused with the diff"
[ "$(rows)" = none ] || [ "$(rows)" = 0 ] && check "the refused stamp recorded nothing" || fail "rows: $(rows)"
expect_status 0 "$S" stamp 0001_users && expect_out "1 recorded as applied" && expect_out "matches" \
	&& check "the revision it matches is stamped"
[ "$(event verified forced)" = "true false" ] \
	&& check "its audit event says verified" || fail "event: $(event verified forced live_state expected_state)"
expect_status 0 "$S" stamp --force 0002_email && expect_err "does not match the state of 0002_email" \
	&& expect_err "stamped anyway (--force)" && expect_out "unverified" && [ "$(rows)" = 2 ] \
	&& check "--force records the mismatching revisions, with a warning"
[ "$(event verified forced)" = "false true" ] \
	&& check "its audit event says forced" || fail "event: $(event verified forced live_state expected_state)"
[ "$(sql "SELECT detail::jsonb->>'live_state' <> detail::jsonb->>'expected_state' FROM schema_registry.events WHERE action = 'stamp' ORDER BY seq DESC LIMIT 1")" = t ] && check "the event names both states" \
	|| fail "event: $(event verified forced live_state expected_state)"
expect_status 0 "$S" stamp base && expect_out "2 removed" && check "stamp base is not compared"

# a revision committed unchecked: no recorded state
add_migration 0003_name 0002_email "ALTER TABLE users ADD COLUMN name text;" \
	"ALTER TABLE users DROP COLUMN name;" >/dev/null
mkdir -p migrations/0004_nick
printf 'ALTER TABLE users ADD COLUMN nick text;\n' >migrations/0004_nick/up.sql
printf 'ALTER TABLE users DROP COLUMN nick;\n' >migrations/0004_nick/down.sql
printf 'parent 0003_name\n\nnick\n' >migrations/0004_nick/meta
"$S" commit --no-check -q
expect_status 0 "$S" show 0004_nick && [[ "$out" != *"state "* ]] || fail "0004 has a recorded state"
newdb unrec
sql "CREATE TABLE users (id int PRIMARY KEY, email text, name text, nick text)" >/dev/null
expect_status 1 env SCHEMA_CHECK=0 "$S" stamp 0004_nick && one_line_error \
	&& expect_err "cannot verify that the database matches 0004_nick: no state is recorded" \
	&& expect_err "--force" && check "no recorded state and the checks off: refused"
expect_status 0 "$S" stamp 0004_nick && expect_out "4 recorded as applied" && expect_out "matches" \
	&& check "no recorded state, checks on: computed on the scratch database, and it matches"
newdb unrec2
sql "CREATE TABLE users (id int PRIMARY KEY, email text, nick text)" >/dev/null
expect_status 1 "$S" stamp 0004_nick && expect_err "does not match the state of 0004_nick" \
	&& expect_err "-  column name text" && check "computed on the scratch database, a mismatch is refused"

finish
