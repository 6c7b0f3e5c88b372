#!/bin/bash
# The scratch cluster and the checks made on it: schema dev, commit's
# reversibility check and recorded states, merge conflicts, validate.
. "$(dirname "$0")/lib.sh"
pg_setup
export SCHEMA_CHECK=1

# The server programs run as another user under root: the test directory
# must be reachable by it (the clusters' runtime directory is in it).
chmod 755 "$T"
export SCHEMA_DEV_ROOT="$T/run"

# cluster_dir: the cluster's directory, from dev status --json
cluster_dir() {
	"$S" dev status --json | sed -n 's/^ *"directory": "\(.*\)",$/\1/p'
}

# wait_for SECONDS COMMAND...: until the command succeeds, at most SECONDS
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }
no_watcher() { ! pgrep -f "^schema-dev-watch $1\$" >/dev/null; }

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
cdir=$(cluster_dir)
[ -S "$cdir/.s.PGSQL.5432" ] && check "its socket is in the cluster's directory" || fail "no socket in '$cdir'"
grep -q "^listen_addresses = ''" "$cdir/data/schema.conf" && check "no TCP" || fail "listen_addresses"
grep -q "^max_locks_per_transaction = 320" "$cdir/data/schema.conf" && check "sized like a default server's lock table" \
	|| fail "max_locks_per_transaction"
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
pid=$(head -n 1 "$(cluster_dir)/data/postmaster.pid")
if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "\.schema/store"; then
	fail "the scratch server holds the store open"
else
	check "the scratch server inherits no descriptor of the store"
fi
expect_status 0 "$S" show && expect_out "state " && check "the new revision's state is recorded"
st1=$(printf '%s\n' "$out" | sed -n 's/^state //p')
# the user's libpq environment and service file do not reach it
mkdir -p "$T/home"
printf '[elsewhere]\nhost=/nonexistent\nport=5999\ndbname=nowhere\nuser=nobody\noptions=-c statement_timeout=1\nsslmode=require\n' \
	>"$T/home/.pg_service.conf"
polluted=(env HOME="$T/home" PGHOST=/nonexistent PGHOSTADDR=127.0.0.2 PGPORT=5433 PGUSER=nobody
	PGDATABASE=nowhere PGOPTIONS='-c statement_timeout=1' PGTARGETSESSIONATTRS=standby
	PGSSLMODE=require PGGSSENCMODE=require PGCHANNELBINDING=require PGSERVICE=elsewhere
	PGTZ=Mars/Base PGDATESTYLE=bogus PGCONNECT_TIMEOUT=x PGCLIENTENCODING=bogus PGAPPNAME=x
	PGPASSFILE=/etc/passwd PGREQUIREPEER=nobody)
newmig 0002_u 0001_t "ALTER TABLE t ADD COLUMN a text;" "ALTER TABLE t DROP COLUMN a;"
expect_status 0 "${polluted[@]}" "$S" commit && [[ "$err" != *starting* ]] && [[ "$err" != *WARNING* ]] \
	&& check "a warm cluster is not started again; PG* variables and a service file change nothing"
expect_status 0 "${polluted[@]}" "$S" dev status && expect_out "scratch cluster: running" \
	&& check "dev status connects as the checks do, whatever PG* says"
expect_status 0 env PGSERVICE=nosuch PGPORT=5433 "$S" dev status && expect_out "running" \
	&& check "a PGSERVICE that names no service is ignored"
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
expect_status 2 env SCHEMA_CHECK=maybe "$S" commit && one_line_error && expect_err "SCHEMA_CHECK must be 0, 1 or require, not 'maybe'" \
	&& check "a bad SCHEMA_CHECK: exit 2, named"
printf '[commit]\n\tcheck = sometimes\n' >>.schema/config
expect_status 4 env -u SCHEMA_CHECK "$S" merge 0001_t 0002_u -m x && one_line_error && expect_err "'sometimes' is not a boolean" \
	&& check "a bad commit.check: exit 4, named"
sed -i '/^\[commit\]$/,$d' .schema/config
cdir=$(cluster_dir)
expect_status 0 "$S" dev stop --remove && [ ! -e .schema/dev ] && [ ! -e "$cdir" ] && check "dev stop --remove deletes it"
d=$(store_digest)
expect_status 3 env PG_BINDIR=/nonexistent "$S" dev start && one_line_error && expect_err "PG_BINDIR" \
	&& check "no server programs: dev start exits 3, named"
newmig 0005_v 0004_slow "ALTER TABLE t ADD COLUMN b text;" "ALTER TABLE t DROP COLUMN b;"
printf '[commit]\n\tcheck = require\n' >>.schema/config
expect_status 3 env -u SCHEMA_CHECK PG_BINDIR=/nonexistent "$S" commit && one_line_error \
	&& expect_err "cannot check the new revisions" && [ "$(store_digest)" = "$d" ] \
	&& check "commit.check = require without server programs: exit 3, nothing stored"
sed -i '/^\[commit\]$/,$d' .schema/config
expect_status 0 env PG_BINDIR=/nonexistent "$S" commit && expect_out "0005_v" \
	&& expect_err "warning: the new revisions were not checked" && expect_err "PG_BINDIR" \
	&& expect_err "SCHEMA_DEV_URL" && expect_err "schema validate" \
	&& check "no server programs: commit stores the revision, warning that it is unchecked and how to check it"
expect_status 1 env PG_BINDIR=/nonexistent "$S" validate && expect_out "unchecked: 0005_v" \
	&& expect_err "states were not checked" && [[ "$out" != *"unchecked: 0004_slow"* ]] \
	&& check "validate without server programs names the revisions never checked"
expect_status 0 "$S" validate --no-states && expect_err "1 revision never checked on a scratch database: 0005_v" \
	&& check "validate --no-states notes them"
newmig 0006_w 0005_v "ALTER TABLE t ADD COLUMN c text;" "ALTER TABLE t DROP COLUMN c;"
expect_status 0 "$S" commit --no-check -q && check "commit --no-check stores it unchecked"
"$S" dev stop --remove >/dev/null 2>&1
cd "$T"

# ---- where the cluster lives, how big it is, when it stops ----
# as root in a 0700 directory: the server's user cannot enter it, so the
# cluster lives in the root-owned runtime directory (the default one here)
mkdir -m 700 "$T/private"
mkrepo "$T/private/app"
cleanup_hooks+=("cd '$T/private/app' && env -u SCHEMA_DEV_ROOT '$S' dev stop --remove >/dev/null 2>&1")
newmig 0001_t "" "CREATE TABLE t (id int PRIMARY KEY);" "DROP TABLE t;"
expect_status 0 env -u SCHEMA_DEV_ROOT "$S" commit && expect_status 0 "$S" show && expect_out "state " \
	&& check "commit checks in a 0700 directory"
pdir=$(env -u SCHEMA_DEV_ROOT "$S" dev status --json | sed -n 's/^ *"directory": "\(.*\)",$/\1/p')
[ "$(stat -c %a "$T/private")" = 700 ] && check "the user's directory keeps its permissions" || fail "mode of $T/private changed"
if [ "$(id -u)" = 0 ]; then
	[[ "$pdir" == /var/tmp/schema-0/* ]] && [ "$(stat -c '%U %a' "$pdir")" = "postgres 700" ] \
		&& [ "$(stat -c '%U %a' /var/tmp/schema-0)" = "root 711" ] \
		&& check "under root it lives in /var/tmp/schema-0/<id>, the server user's, 0700" \
		|| fail "cluster directory '$pdir'"
fi
env -u SCHEMA_DEV_ROOT "$S" dev stop --remove >/dev/null
[ ! -e "$pdir" ] && check "dev stop --remove finds it again and removes it" || fail "'$pdir' left"
cd "$T"

# one migration creating 1,000 tables with a key, an index and a foreign key
mkrepo "$T/big"
cleanup_hooks+=("cd '$T/big' && '$S' dev stop --remove >/dev/null 2>&1")
{
	echo "CREATE TABLE parent (id int PRIMARY KEY);"
	for i in $(seq 1 1000); do
		echo "CREATE TABLE t$i (id int PRIMARY KEY, p int REFERENCES parent, v int);"
		echo "CREATE INDEX t${i}_v ON t$i (v);"
	done
} >"$T/big.sql"
{
	for i in $(seq 1000 -1 1); do echo "DROP TABLE t$i;"; done
	echo "DROP TABLE parent;"
} >"$T/big_down.sql"
newmig 0001_big "" "$(cat "$T/big.sql")" "$(cat "$T/big_down.sql")"
expect_status 0 "$S" commit -q && expect_status 0 "$S" show && expect_out "state " \
	&& check "a migration creating 1,000 tables with keys, indexes and foreign keys is checked and committed"
cd "$T"

# idle stop, dev start's keep, and a deleted repository
mkrepo "$T/idle"
cleanup_hooks+=("cd '$T/idle' && '$S' dev stop --remove >/dev/null 2>&1")
grep -q "idle-stop = 15min" .schema/config && check "init writes [dev] idle-stop = 15min" || fail "no idle-stop in config"
printf '[dev]\n\tidle-stop = sometimes\n' >>.schema/config
newmig 0001_t "" "CREATE TABLE t (id int PRIMARY KEY);" "DROP TABLE t;"
expect_status 4 "$S" commit && one_line_error && expect_err "'sometimes' is not a duration for dev.idle-stop" \
	&& check "a bad idle-stop: exit 4, named"
sed -i 's/idle-stop = sometimes/idle-stop = 2s/' .schema/config
expect_status 0 "$S" commit -q
expect_status 0 "$S" dev status && expect_out "stops: after 2 s without use, at " && check "dev status says when it stops"
pid=$(head -n 1 "$(cluster_dir)/data/postmaster.pid")
wait_for 15 gone "$pid" && wait_for 5 no_watcher "$T/idle/.schema" \
	&& check "unused for its idle-stop, it stops, and its watcher ends" || fail "still running after idle-stop"
expect_status 0 "$S" dev status && expect_out "stopped" && check "dev status: stopped"
expect_status 0 "$S" dev start && expect_status 0 "$S" dev status && expect_out "kept running by 'schema dev start'" \
	&& check "dev start keeps it up"
pid=$(head -n 1 "$(cluster_dir)/data/postmaster.pid")
sleep 4
kill -0 "$pid" 2>/dev/null && check "dev start: still up after its idle-stop" || fail "dev start's cluster stopped"
expect_status 0 "$S" dev stop && wait_for 5 no_watcher "$T/idle/.schema" && check "dev stop ends it and its watcher"
sed -i 's/idle-stop = 2s/idle-stop = 0/' .schema/config
newmig 0002_u 0001_t "ALTER TABLE t ADD a int;" "ALTER TABLE t DROP a;"
expect_status 0 "$S" commit -q && expect_status 0 "$S" dev status && expect_out "never by itself" \
	&& check "idle-stop = 0: never stops by itself"
pid=$(head -n 1 "$(cluster_dir)/data/postmaster.pid")
idir=$(cluster_dir)
cd "$T" && rm -rf "$T/idle"
wait_for 15 gone "$pid" && wait_for 5 no_watcher "$T/idle/.schema" && check "a deleted repository's cluster stops" \
	|| fail "server $pid outlived its repository"
wait_for 5 test ! -e "$idir" && check "and its runtime directory is removed" || fail "'$idir' left behind"
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
