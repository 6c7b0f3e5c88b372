#!/bin/bash
# The scratch cluster and the checks made on it: schema dev, commit's
# reversibility check and recorded states, merge conflicts, validate.
. "$(dirname "$0")/lib.sh"
pg_setup
export SCHEMA_CHECK=1

# The server programs run as another user under root: the test directory
# must be reachable by it.
chmod 755 "$T"

mkrepo() {
	mkdir -p "$1" && cd "$1" && "$S" init -q
}

# newmig NAME PARENT UP DOWN: a new directory, not committed.
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

leftover_dbs() {
	psql -X -At "$ADMIN_URL" -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'schema_check%'"
}

# ---- schema dev: the private cluster ----
mkrepo "$T/priv"
cleanup_hooks+=("cd '$T/priv' && '$S' dev stop >/dev/null 2>&1")
expect_status 0 "$S" dev status && expect_out "stopped (not created yet)" && check "dev status before anything"
expect_status 0 "$S" dev start && expect_out "started" && check "dev start creates and starts it"
[ -S .schema/dev/.s.PGSQL.5432 ] && check "its socket is in .schema/dev" || fail "no socket in .schema/dev"
grep -q "^listen_addresses = ''" .schema/dev/data/postgresql.conf && check "no TCP" || fail "listen_addresses"
expect_status 0 "$S" dev start && expect_out "already running" && check "dev start again: already running"
expect_status 0 "$S" dev status --json && expect_out '"running": true' && expect_out '"kind": "private"' \
	&& check "dev status --json"
expect_status 0 "$S" dev url && url=$out
[ "$(psql -X -At "$url" -c 'SELECT 1')" = 1 ] && check "dev url connects" || fail "dev url: $url"
expect_status 0 "$S" dev stop && expect_out "stopped" && check "dev stop"
expect_status 0 "$S" dev status && expect_out "stopped" && check "dev status after stop"
expect_status 2 "$S" dev frobnicate && one_line_error && expect_err "unknown subcommand 'frobnicate'" \
	&& check "an unknown subcommand: exit 2"
expect_status 2 "$S" dev && one_line_error && check "no subcommand: exit 2"
expect_status 2 "$S" dev stop --bogus && one_line_error && check "an unknown option: exit 2"

# commit starts the cluster on demand and says so
newmig 0001_t "" "CREATE TABLE t (id int PRIMARY KEY);" "DROP TABLE t;"
expect_status 0 "$S" commit && expect_err "starting the scratch cluster" && check "commit starts the cluster and says so"
pid=$(head -n 1 .schema/dev/data/postmaster.pid)
if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "\.schema/store"; then
	fail "the scratch server holds the store open"
else
	check "the scratch server inherits no descriptor of the store"
fi
expect_status 0 "$S" show && expect_out "state " && check "the new revision's state is recorded"
st1=$(printf '%s\n' "$out" | sed -n 's/^state //p')
newmig 0002_u 0001_t "ALTER TABLE t ADD COLUMN a text;" "ALTER TABLE t DROP COLUMN a;"
expect_status 0 "$S" commit && [[ "$err" != *starting* ]] && check "a warm cluster is not started again"
newdb priv
expect_status 0 "$S" checkout -q --url "$DB_URL"
expect_status 0 "$S" state --url "$DB_URL" && live=$out
expect_status 0 "$S" show 0002_u && expect_out "state $live" \
	&& check "the state commit recorded is the one a real checkout reaches"
# someone changed the kept database by hand: the check starts over
psql -X -q "$(printf '%s' "$url" | sed 's|/postgres?|/schema_check?|')" -c "CREATE TABLE intruder (x int)"
newmig 0003_w 0002_u "ALTER TABLE t ADD COLUMN w int;" "ALTER TABLE t DROP COLUMN w;"
expect_status 0 "$S" commit -q && check "a hand-changed check database is rebuilt, the revision checked"
expect_status 0 "$S" show 0003_w && expect_out "state " && st3=$(printf '%s\n' "$out" | sed -n 's/^state //p')
newdb w
expect_status 0 "$S" checkout -q --url "$DB_URL" 0003_w
expect_status 0 "$S" state --url "$DB_URL" && [ "$out" = "$st3" ] \
	&& check "its recorded state leaves the intruder out" || fail "state $out != $st3"
# on the kept database too, an irreversible revision is refused and named
newmig 0004_lost 0003_w "CREATE TABLE lost (x int);" "SELECT 1;"
expect_status 1 "$S" commit && one_line_error && expect_err "0004_lost is not reversible" \
	&& expect_err "table public.lost" && check "the private cluster refuses an irreversible revision too"
rm -rf migrations/0004_lost

# a check killed half-way leaves nothing stored, and the next one works
newmig 0004_slow 0003_w "ALTER TABLE t ADD COLUMN s int; SELECT pg_sleep(2);" "ALTER TABLE t DROP COLUMN s;"
d=$(store_digest)
"$S" commit -q >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ "$(store_digest)" = "$d" ] && check "kill -9 during the check: nothing stored" || fail "store changed by a killed commit"
expect_status 0 "$S" commit && expect_out "0004_slow" && check "the next commit checks and stores it"
expect_status 2 "$S" commit --irreversible --no-check && one_line_error && check "--irreversible with --no-check: exit 2"
expect_status 2 env SCHEMA_CHECK=maybe "$S" commit && one_line_error && expect_err "SCHEMA_CHECK must be 0 or 1, not 'maybe'" \
	&& check "a bad SCHEMA_CHECK: exit 2, named"
printf '[commit]\n\tcheck = sometimes\n' >>.schema/config
expect_status 4 env -u SCHEMA_CHECK "$S" merge 0001_t 0002_u -m x && one_line_error && expect_err "'sometimes' is not a boolean" \
	&& check "a bad commit.check: exit 4, named"
sed -i '/^\[commit\]$/,$d' .schema/config
expect_status 0 "$S" dev stop --remove && [ ! -e .schema/dev ] && check "dev stop --remove deletes it"
d=$(store_digest)
expect_status 3 env PG_BINDIR=/nonexistent "$S" dev start && one_line_error && expect_err "PG_BINDIR" \
	&& check "no server programs: exit 3, named"
newmig 0005_v 0004_slow "ALTER TABLE t ADD COLUMN b text;" "ALTER TABLE t DROP COLUMN b;"
expect_status 3 env PG_BINDIR=/nonexistent "$S" commit && one_line_error \
	&& expect_err "cannot check the new revisions" && [ "$(store_digest)" = "$d" ] \
	&& check "commit without a scratch cluster: exit 3, nothing stored"
expect_status 0 "$S" commit --no-check -q && check "commit --no-check stores it unchecked"
cd "$T"

# ---- SCHEMA_DEV_URL: throwaway databases on an existing server ----
export SCHEMA_DEV_URL=$ADMIN_URL
expect_status 1 "$S" --repo "$T/priv/.schema" dev stop && one_line_error && expect_err "not schema's to stop" \
	&& check "dev stop with SCHEMA_DEV_URL: refused"
expect_status 0 "$S" --repo "$T/priv/.schema" dev status && expect_out "reachable" && check "dev status names the server"

make_example "$T/ex" || { echo "not ok make_example with checks"; exit 1; }
check "the example history commits with every revision checked"
[ "$(leftover_dbs)" = 0 ] && check "no throwaway database is left behind" || fail "leftover databases: $(leftover_dbs)"
expect_status 0 "$S" validate && expect_err "validated 15 revisions: 0 problems" && check "the example history validates"
expect_status 0 "$S" validate --json && expect_out '"states_checked": 15' && expect_out '"ok": true' \
	&& check "validate --json counts the states checked"
expect_status 0 "$S" validate --no-states --json && expect_out '"states_checked": null' && check "validate --no-states"

# irreversible: refused, then recorded with --irreversible
newmig 0016_nick 0015_add_task_config_version "ALTER TABLE users ADD COLUMN nick text;" "SELECT 1;"
cp migrations/0016_nick/meta "$T/meta.before"
d=$(store_digest)
expect_status 1 "$S" commit && one_line_error \
	&& expect_err "0016_nick is not reversible" && expect_err "table public.users" \
	&& expect_err "--irreversible" && check "a down that does not undo up is refused, the table named"
[ "$(store_digest)" = "$d" ] && cmp -s migrations/0016_nick/meta "$T/meta.before" \
	&& check "the refused commit changed nothing" || fail "store or meta changed"
expect_status 0 "$S" commit --irreversible && expect_err "flagged irreversible" && check "commit --irreversible"
grep -qx "flag irreversible" migrations/0016_nick/meta && check "the flag is written to meta" || fail "no flag in meta"
expect_status 0 "$S" show 0016_nick && expect_out "flag irreversible" && check "the revision carries the flag"
expect_status 0 "$S" validate && check "a flagged irreversible revision validates"
[ "$(leftover_dbs)" = 0 ] || fail "leftover databases after validate"

# a script that fails is refused with its file and line
newmig 0017_bad 0016_nick "ALTER TABLE users ADD COLUMN x int;
ALTER TABLE nosuch ADD COLUMN y int;" "ALTER TABLE users DROP COLUMN x;"
d=$(store_digest)
expect_status 1 "$S" commit && one_line_error && expect_err "0017_bad does not apply" \
	&& expect_err "up.sql:2" && expect_err "nosuch" && [ "$(store_digest)" = "$d" ] \
	&& check "a failing up is refused with file, line and message; nothing stored"
rm -rf migrations/0017_bad
expect_status 0 "$S" commit && expect_out "nothing to commit"

# a revision committed unchecked is caught by validate
newmig 0017_lost 0016_nick "CREATE TABLE lost (a int);" "SELECT 1;"
expect_status 0 "$S" commit --no-check -q
expect_status 1 "$S" validate && expect_out "reversible: 0017_lost" && expect_out "table public.lost" \
	&& check "validate reports an irreversible revision, naming the table"
expect_status 1 "$S" validate --json && expect_out '"check": "reversible"' && check "validate --json lists it"
expect_status 0 "$S" validate --no-states && check "validate --no-states skips it"

# drift of a live database
newdb drift
expect_status 0 "$S" checkout -q 0016_nick
expect_status 0 "$S" validate --no-states --url "$DB_URL" && check "no drift right after checkout"
sql "ALTER TABLE tasks ADD COLUMN manual int" >/dev/null
expect_status 1 "$S" validate --no-states --url "$DB_URL" && expect_out "drift:" && expect_out "table public.tasks" \
	&& check "validate reports drift, naming the table"
cd "$T"

# ---- merges ----
mkrepo "$T/m"
newmig 0001_users "" "CREATE TABLE users (id int PRIMARY KEY, email text);" "DROP TABLE users;"
expect_status 0 "$S" commit -q
newmig 0002_wide 0001_users "ALTER TABLE users ALTER COLUMN email TYPE varchar(500);" \
	"ALTER TABLE users ALTER COLUMN email TYPE text;"
newmig 0003_orders 0001_users "CREATE TABLE orders (id int);" "DROP TABLE orders;"
expect_status 0 "$S" commit -q 2>/dev/null
# 0002_wide and 0003_orders both build on 0001: independent sides
expect_status 0 "$S" merge 0002_wide 0003_orders -m "merge orders" && check "independent branches merge without a conflict"
[ "$(leftover_dbs)" = 0 ] || fail "leftover databases after merge"
newmig 0005_narrow 0001_users "ALTER TABLE users ALTER COLUMN email TYPE varchar(200);" \
	"ALTER TABLE users ALTER COLUMN email TYPE text;"
expect_status 0 "$S" commit -q
d=$(store_digest)
expect_status 1 "$S" merge 0002_wide 0005_narrow -m "merge email" && one_line_error \
	&& expect_err "merge conflict: both sides change table public.users" \
	&& check "two sides altering the same column: a conflict naming the table"
[ "$(store_digest)" = "$d" ] && check "the conflicting merge is not committed" || fail "store changed"
mdir=$(ls -d migrations/*_merge_email)
grep -q "CONFLICT" "$mdir/up.sql" && check "the merge directory describes the conflict" || fail "no CONFLICT in up.sql"
expect_status 1 "$S" commit && one_line_error && expect_err "does not resolve the conflict" \
	&& check "committing the merge unresolved is refused"
expect_status 1 "$S" merge 0005_narrow 0002_wide -m "again" && one_line_error \
	&& expect_err "already merges" && [ "$(ls -d migrations/*_merge_email migrations/*_again 2>/dev/null | wc -l)" = 1 ] \
	&& check "merging the same two again points to the waiting merge"
echo "ALTER TABLE users ALTER COLUMN email TYPE varchar(500);" >>"$mdir/up.sql"
echo "ALTER TABLE users ALTER COLUMN email TYPE varchar(200);" >>"$mdir/down.sql"
expect_status 0 "$S" commit && check "a merge script that brings both orders to one schema commits"
[ "$(leftover_dbs)" = 0 ] || fail "leftover databases after the merge commit"

# both sides create the same table: no order applies
newmig 0007_a 0001_users "CREATE TABLE tags (id int);" "DROP TABLE tags;"
newmig 0008_b 0001_users "CREATE TABLE tags (id bigint);" "DROP TABLE tags;"
expect_status 0 "$S" commit -q 2>/dev/null
d=$(store_digest)
expect_status 1 "$S" merge 0007_a 0008_b -m "merge tags" && one_line_error && expect_err "merge conflict" \
	&& expect_err "already exists" && check "sides that cannot both apply: a conflict with the server's message"
[ "$(store_digest)" = "$d" ] || fail "store changed by a failing merge"
rm -rf migrations/*_merge_tags
expect_status 0 "$S" merge --no-check 0007_a 0008_b -m "merge tags" && check "merge --no-check skips the check"

# both sides add a column to one table: only the column order differs
newmig 0010_c1 0001_users "ALTER TABLE users ADD COLUMN c1 int;" "ALTER TABLE users DROP COLUMN c1;"
newmig 0011_c2 0001_users "ALTER TABLE users ADD COLUMN c2 int;" "ALTER TABLE users DROP COLUMN c2;"
expect_status 0 "$S" commit -q 2>/dev/null
expect_status 0 "$S" merge 0010_c1 0011_c2 -m "merge columns" && expect_err "columns in different orders" \
	&& expect_err "table public.users" && check "columns added by both sides: merged, the column order reported"
[ "$(leftover_dbs)" = 0 ] || fail "leftover databases at the end"

finish
