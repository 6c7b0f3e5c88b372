#!/bin/bash
# The apply engine against a real PostgreSQL: the example history up and
# down, branches across the merge, failures that must leave nothing
# half-applied, interruptions, concurrency, locks, hooks, policies and a
# registry edited by hand.
. "$(dirname "$0")/lib.sh"
pg_setup

make_example "$T/repo" || { echo "not ok make_example"; exit 1; }
cd "$T/repo"
newdb main

# --- the whole history up, then back to base
expect_status 0 "$S" checkout --dry-run --json && expect_out '"down": []' && check "dry-run --json plan"
[ "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname='public'")" = 0 ] && check "dry-run changes nothing" || fail "dry-run created tables"
expect_status 0 "$S" checkout -q && check "checkout head"
expect_status 0 "$S" status --json && expect_out '"state": "up to date"' && expect_out '"applied": 15' \
	&& check "status: up to date with 15 applied"
[ "$(sql "SELECT count(*) FROM schema_registry.applied")" = 15 ] && check "15 registry rows" || fail "registry rows"
expect_status 0 "$S" current && expect_out "0015_add_task_config_version" && check "current names the head"
schema_dump "$DB_URL" >"$T/full.sql" && [ -s "$T/full.sql" ] || fail "no schema dump"
expect_status 0 "$S" checkout -q base && check "checkout base"
[ "$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE nspname='public'")" = 0 ] \
	&& check "every object of public is gone" || fail "objects left in public"
[ "$(sql "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid=t.typnamespace WHERE nspname='public'")" = 0 ] \
	&& check "the enum is gone too" || fail "types left"
expect_status 0 "$S" checkout -q head && check "and up again"
schema_dump "$DB_URL" >"$T/full2.sql"
cmp -s "$T/full.sql" "$T/full2.sql" && check "up, down, up gives the same schema" || fail "schemas differ"

# --- across the merge: billing side, then proxies side
expect_status 0 "$S" checkout --dry-run 0010_add_invoices && expect_out "5 down, 0 up" && check "to 0010: the merge and what follows go down, 0011 too"
expect_out "0011_add_proxy_pools" && check "0011 is on the other side"
expect_status 0 "$S" checkout -q 0010_add_invoices && check "checkout 0010"
expect_status 0 "$S" checkout --dry-run 0011_add_proxy_pools && expect_out "1 down, 1 up" \
	&& check "0010 -> 0011: down 0010, up 0011 (0009 stays: 0011 depends on it)"
expect_status 0 "$S" checkout -q 0011_add_proxy_pools && check "checkout 0011"
[ "$(sql "SELECT to_regclass('public.invoices') IS NULL AND to_regclass('public.proxy_pools') IS NOT NULL")" = t ] \
	&& check "invoices gone, proxy_pools there" || fail "branch switch result"
expect_status 0 "$S" status && expect_out "behind" && check "status: behind the branch"
expect_status 0 "$S" rollback development 0009_add_billing_plans --dry-run && expect_out "0011_add_proxy_pools" \
	&& check "rolling back to 0009 reverts 0011, which depends on it"
expect_status 0 "$S" checkout -q head 0011_add_proxy_pools && check "several targets"
expect_status 0 "$S" rollback -q development -1 && check "rollback -1"
expect_status 0 "$S" current && expect_out "0014_create_usage_records" && check "rollback -1 reverted the last step"
expect_status 0 "$S" migrate development -q && check "migrate: up to head"
expect_status 0 "$S" checkout --dry-run -- -2 && expect_out "2 down, 0 up" && check "-2 as a checkout spec"
expect_status 0 "$S" checkout --sql --from 0012_merge_proxies_and_billing head && expect_out "CREATE INDEX CONCURRENTLY" \
	&& expect_out 'INSERT INTO "schema_registry".applied' && check "--sql prints the script with registry statements"

# --- a failing statement: its step rolls back, the registry is unchanged
add_migration 0016_bad 0015_add_task_config_version "CREATE TABLE t_ok (id int);
-- a comment line
SELECT no_such_column
  FROM t_ok;" "DROP TABLE t_ok;"
before=$(sql "SELECT count(*) FROM schema_registry.applied")
expect_status 3 "$S" checkout -q && expect_err "0016_bad/up.sql:3:" && expect_err 'column "no_such_column" does not exist' \
	&& one_line_error && check "failing statement: exit 3, file and line named"
[ "$(sql "SELECT count(*) FROM schema_registry.applied")" = "$before" ] && check "registry unchanged" || fail "registry changed"
[ "$(sql "SELECT to_regclass('public.t_ok') IS NULL")" = t ] && check "the step's first statement was rolled back" || fail "t_ok exists"
rm -rf migrations/0016_bad
"$S" branch -f main 0015_add_task_config_version >/dev/null

# --- a failing pre-checkout hook aborts before any change
cat >.schema/hooks/pre-checkout <<'HOOK'
#!/bin/sh
cat >"$SCHEMA_DIR/plan.json"
exit 1
HOOK
chmod +x .schema/hooks/pre-checkout
expect_status 1 "$S" checkout -q base && expect_err "pre-checkout hook exited with status 1" && check "failing pre-hook: exit 1"
grep -q '"down"' .schema/plan.json && check "the hook got the plan on stdin" || fail "no plan on stdin"
[ "$(sql "SELECT count(*) FROM schema_registry.applied")" = 15 ] && check "nothing changed" || fail "changed by aborted checkout"
rm .schema/hooks/pre-checkout

# --- production needs confirmation (its backup is t_snapshot's and
# t_backup_major's matter: off here, so that this holds on every major)
printf '[env "production"]\n\tbackup = never\n' >>.schema/config
expect_status 2 "$S" checkout --env production -q base </dev/null && expect_err "needs confirmation" && check "production without a terminal or --yes: refused"
[ "$(sql "SELECT count(*) FROM schema_registry.applied")" = 15 ] && check "refusal changed nothing" || fail "changed"

# --- a misspelt environment is refused before any connection
main_url=$DB_URL
newdb typo
expect_status 2 "$S" migrate prodution </dev/null && one_line_error \
	&& expect_err "unknown environment 'prodution' (did you mean 'production'?)" \
	&& check "migrate prodution: exit 2, the nearest environment named"
[ "$(sql "SELECT to_regnamespace('schema_registry') IS NULL AND to_regclass('public.users') IS NULL")" = t ] \
	&& check "and nothing was applied, not even the registry" || fail "a misspelt environment changed the database"
for args in "rollback prodution -1" "checkout --env prodution head" "backup --env prodution" \
	"status prodution" "migrate --env staging staging" "rollback stagin base"; do
	# shellcheck disable=SC2086
	DATABASE_URL="postgresql://nobody@/nodb?host=$T/nosuchdir" run "$S" $args </dev/null
	case "$args:$status" in
	*prodution*:2 | *stagin\ *:2) check "'$args': exit 2 before connecting" ;;
	migrate\ --env\ staging\ staging:3) check "'$args': a known environment goes on to connect" ;;
	*) fail "'$args': status $status" ;;
	esac
done
expect_status 2 "$S" migrate dev </dev/null && expect_err "did you mean 'development'?" \
	&& check "'dev' is not an environment: the nearest is named"
printf '[env "qa-eu"]\n\tconfirm = false\n' >>.schema/config
expect_status 0 "$S" migrate qa-eu --dry-run && check "an environment defined in the config is accepted"
expect_status 2 "$S" migrate qa-ue --dry-run && expect_err "did you mean 'qa-eu'?" \
	&& check "a configured environment is among the candidates"
sed -i '/qa-eu/,$d' .schema/config
DB_URL=$main_url
export DATABASE_URL=$main_url

# --- the advisory lock: a second run waits, then names the holder
psql -X -q "$DB_URL" -c "SELECT pg_advisory_lock(21315, hashtext('schema:schema_registry')), pg_sleep(4)" >/dev/null &
holder=$!
sleep 1
expect_status 3 "$S" checkout -q --lock-timeout 1 base && expect_err "holds the lock" && expect_err "pid " \
	&& check "lock held elsewhere: exit 3 naming the pid"
expect_status 3 "$S" checkout -q --lock-timeout 1s base && expect_err "holds the lock" \
	&& check "--lock-timeout 1s: the duration syntax of the config"
expect_status 3 "$S" checkout -q --lock-timeout 300ms base && expect_err "300 ms" \
	&& check "--lock-timeout 300ms"
wait $holder
expect_status 2 "$S" checkout -q --lock-timeout 5x base && one_line_error \
	&& expect_err "--lock-timeout needs a duration (500ms, 5s, 2min or seconds), not '5x'" \
	&& check "--lock-timeout 5x: exit 2"

# --- lock-timeout and statement-timeout of an environment, one syntax:
# a bare number is seconds (the server alone would read milliseconds)
newdb durations
mkdir -p "$T/dur" && (cd "$T/dur" && "$S" init -q && mkdir -p migrations/0001_settings &&
	printf "CREATE TABLE settings AS SELECT current_setting('lock_timeout') AS lt,\n  current_setting('statement_timeout') AS st;\n" \
		>migrations/0001_settings/up.sql &&
	printf 'DROP TABLE settings;\n' >migrations/0001_settings/down.sql &&
	printf '\nsettings\n' >migrations/0001_settings/meta && "$S" commit -q &&
	printf '[env "qa"]\n\tlock-timeout = 5\n\tstatement-timeout = 2min\n' >>.schema/config)
cd "$T/dur"
expect_status 0 "$S" migrate qa -q && check "migrate qa with durations in the config"
[ "$(sql "SELECT lt || ' ' || st FROM settings")" = "5s 2min" ] \
	&& check "lock-timeout = 5 is 5 seconds, statement-timeout = 2min" || fail "settings: $(sql "TABLE settings")"
printf '\tlock-timeout = 5 parsecs\n' >>.schema/config
expect_status 4 "$S" migrate qa -q && expect_err "'5 parsecs' is not a duration for env.qa.lock-timeout" \
	&& check "a bad duration in the config names the key"
cd "$T/repo"
DB_URL=$main_url
export DATABASE_URL=$main_url

# --- a user who may not create the registry is told what and why
newdb perm
role="t$$_app"
sql "DROP ROLE IF EXISTS $role; CREATE ROLE $role LOGIN;
     CREATE SCHEMA app AUTHORIZATION $role;" >/dev/null
cleanup_hooks+=("psql -X -q '$ADMIN_URL' -c 'DROP DATABASE IF EXISTS t$$_perm WITH (FORCE)' -c 'DROP ROLE IF EXISTS $role' >/dev/null 2>&1")
app_url=$(printf '%s' "$DB_URL" | sed "s|postgresql://postgres@|postgresql://$role@|")
mkdir -p "$T/perm/migrations/0001_t" && cd "$T/perm" && "$S" init -q
printf 'CREATE TABLE app.t (id int);\n' >migrations/0001_t/up.sql
printf 'DROP TABLE app.t;\n' >migrations/0001_t/down.sql
printf '\nt\n' >migrations/0001_t/meta
"$S" commit -q
expect_status 3 "$S" checkout -q --url "$app_url" && one_line_error \
	&& expect_err "creating the registry schema schema_registry: permission denied for database" \
	&& expect_err "42501" && expect_err "hint: grant the user CREATE on the database" \
	&& expect_err "core.registry" && check "no right to create the registry: what was done, and the hint"
[ "$(sql "SELECT to_regclass('app.t') IS NULL")" = t ] && check "and nothing was applied" || fail "applied without a registry"
sed -i 's/registry = schema_registry/registry = app/' .schema/config
expect_status 0 "$S" checkout -q --url "$app_url" \
	&& check "core.registry naming a schema the user owns: works without CREATE on the database"
[ "$(sql "SELECT count(*) FROM app.applied")" = 1 ] && check "the registry lives in that schema" || fail "registry in app"
cd "$T/repo"
DB_URL=$main_url
export DATABASE_URL=$main_url

# --- two concurrent checkouts never apply a step twice
newdb conc
"$S" checkout -q head >"$T/c1" 2>&1 & p1=$!
"$S" checkout -q head >"$T/c2" 2>&1 & p2=$!
wait $p1; s1=$?; wait $p2; s2=$?
[ "$s1" = 0 ] && [ "$s2" = 0 ] && check "both concurrent checkouts succeed" || fail "concurrent: $s1 $s2 $(cat $T/c1 $T/c2)"
[ "$(sql "SELECT count(*) FROM schema_registry.events WHERE action='up'")" = 15 ] && check "each step applied once" || fail "steps applied twice"

# --- kill -9 during a long step, then a rerun completes
newdb kill
add_migration 0016_slow 0015_add_task_config_version "CREATE TABLE t_slow (id int);
SELECT pg_sleep(2);" "DROP TABLE t_slow;"
"$S" checkout -q 0015_add_task_config_version
"$S" checkout -q head >/dev/null 2>&1 & pk=$!
sleep 1
kill -9 $pk; wait $pk 2>/dev/null
[ "$(sql "SELECT count(*) FROM schema_registry.applied")" = 15 ] && check "after kill -9 the slow step is not recorded" || fail "recorded after kill"
expect_status 0 "$S" checkout -q head && check "the rerun completes"
[ "$(sql "SELECT count(*) FROM schema_registry.applied")" = 16 ] && [ "$(sql "SELECT to_regclass('public.t_slow') IS NOT NULL")" = t ] \
	&& check "exactly at the new revision boundary" || fail "rerun state"

# --- pg_terminate_backend mid-step: exit 3, nothing half-applied
"$S" checkout -q 0015_add_task_config_version
"$S" checkout -q head >"$T/term" 2>&1 & pt=$!
sleep 1
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'schema' AND pid <> pg_backend_pid()" >/dev/null
wait $pt; st=$?
[ "$st" = 3 ] && check "terminated session: exit 3" || fail "terminate status $st: $(cat "$T/term")"
[ "$(sql "SELECT to_regclass('public.t_slow') IS NULL")" = t ] && [ "$(sql "SELECT count(*) FROM schema_registry.applied")" = 15 ] \
	&& check "terminated step left nothing" || fail "half applied after terminate"
rm -rf migrations/0016_slow
"$S" branch -f main 0015_add_task_config_version >/dev/null

# --- a notx step that fails midway resumes at the failed statement
newdb notx
"$S" checkout -q head
add_migration 0016_notx 0015_add_task_config_version "CREATE INDEX CONCURRENTLY t_a ON results (task_run_id);
CREATE INDEX CONCURRENTLY t_b ON results (scraped_at);
CREATE INDEX CONCURRENTLY t_c ON results (url);" "DROP INDEX CONCURRENTLY t_c;
DROP INDEX CONCURRENTLY t_b;
DROP INDEX CONCURRENTLY t_a;"
sql "CREATE INDEX t_b ON results (task_run_id)" >/dev/null
expect_status 3 "$S" checkout -q && expect_err "0016_notx/up.sql:2:" && expect_err "already exists" && check "notx step fails at statement 2"
expect_status 0 "$S" status && expect_out "interrupted" && check "status reports the interrupted step"
sql "DROP INDEX t_b" >/dev/null
expect_status 0 "$S" checkout -q && expect_err "resuming" && expect_err "statement 2 of 3" && check "rerun resumes at statement 2"
[ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname IN ('t_a','t_b','t_c')")" = 3 ] && check "all three indexes exist once" || fail "indexes"
[ "$(sql "SELECT count(*) FROM schema_registry.progress")" = 0 ] && check "progress rows cleared" || fail "progress left"
# an edited statement that already ran is refused
"$S" checkout -q 0015_add_task_config_version
sql "CREATE INDEX t_b ON results (task_run_id)" >/dev/null
expect_status 3 "$S" checkout -q
sed -i 's/t_a ON results (task_run_id)/t_a ON results (task_run_id, id)/' migrations/0016_notx/up.sql
"$S" commit -q --new-revision
sql "DROP INDEX t_b" >/dev/null
expect_status 1 "$S" checkout -q && expect_err "statement 1 already ran" && check "an edited statement that already ran is refused"

# --- a registry edited by hand
newdb edit
"$S" checkout -q 0015_add_task_config_version
expect_status 0 "$S" audit && check "audit verifies a clean chain"
sql "UPDATE schema_registry.events SET actor = 'mallory' WHERE seq = 3" >/dev/null
expect_status 1 "$S" audit && expect_out "ALTERED" && check "audit: an altered row, exit 1"
expect_status 1 "$S" validate && expect_out "hash chain" && check "validate reports the altered audit trail"
newdb edit2
"$S" checkout -q 0015_add_task_config_version
sql "DELETE FROM schema_registry.events WHERE seq = 2" >/dev/null
expect_status 1 "$S" audit && expect_out "BROKEN CHAIN" && check "audit: a removed row breaks the chain"
newdb edit3
"$S" checkout -q 0015_add_task_config_version
sql "UPDATE schema_registry.applied SET down_sql = 'SELECT 1' WHERE revision LIKE '$("$S" log --full --oneline -n1 0004_create_tasks | cut -c1-12)%'" >/dev/null
expect_status 1 "$S" validate && expect_out "edited by hand" && check "validate: an applied row edited by hand"

# --- stamp: adopt a database without running anything
newdb stamp
expect_status 1 "$S" stamp 0005_create_task_runs && expect_err "cannot verify" && check "stamp refuses what it cannot compare"
expect_status 0 "$S" stamp --force 0005_create_task_runs && expect_out "5 recorded" && check "stamp --force records five revisions"
[ "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname='public'")" = 0 ] && check "stamp ran nothing" || fail "stamp ran scripts"
expect_status 0 "$S" audit && expect_out "stamp" && check "stamp has an audit event"

# --- a revision the repository lacks is rolled back from the registry
newdb foreign
"$S" checkout -q 0015_add_task_config_version
mkdir "$T/other" && cd "$T/other"
cp -r "$T/repo/migrations" . && rm -rf migrations/0016_notx migrations/0015_*
"$S" init -q && "$S" commit -q
expect_status 0 "$S" checkout -q head && check "a clone without 0015 reverts it using the registry's down script"
[ "$(sql "SELECT count(*) FROM schema_registry.applied")" = 14 ] && check "now at 0014" || fail "foreign rollback"

# --- connection errors and passwords
cd "$T/repo"
expect_status 3 "$S" status --url "postgresql://u:s3cretpw@/nodb?host=$T/nowhere" && one_line_error && check "unreachable server: exit 3"
case "$err$out" in *s3cretpw*) fail "password in output" ;; *) check "the password is not shown" ;; esac

# --- a password on the command line is not in the process list, the
# output, the audit trail or a hook's environment
newdb pw
pwurl=$(printf '%s' "$DB_URL" | sed 's|postgresql://postgres@|postgresql://postgres:s3cretpw@|')
unset DATABASE_URL
cd "$T/repo"
cat >.schema/hooks/pre-checkout <<'HOOK'
#!/bin/sh
env >"$SCHEMA_DIR/hook-env"
cat >/dev/null
HOOK
chmod +x .schema/hooks/pre-checkout
"$S" branch -f main 0015_add_task_config_version >/dev/null
add_migration 0016_slow_pw 0015_add_task_config_version "SELECT pg_sleep(3);" "SELECT 1;"
"$S" checkout --url "$pwurl" 0016_slow_pw >"$T/pw.out" 2>&1 & pp=$!
cmdline=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	sleep 0.2
	cmdline=$(tr '\0' ' ' </proc/$pp/cmdline 2>/dev/null)
	[ -n "$cmdline" ] && break
done
wait $pp; spw=$?
[ "$spw" = 0 ] && check "checkout with a password in --url" || fail "pw checkout: $(cat "$T/pw.out")"
case "$cmdline" in *s3cretpw*) fail "password in the process list: $cmdline" ;; *postgres*) check "the process list shows no password" ;; *) fail "no cmdline read" ;; esac
grep -q s3cretpw "$T/pw.out" && fail "password in the output" || check "the output shows no password"
grep -q s3cretpw .schema/hook-env && fail "password in the hook environment" || check "the hook environment has no password"
[ "$(sql "SELECT count(*) FROM schema_registry.events WHERE actor || detail LIKE '%s3cretpw%'")" = 0 ] && check "the audit trail has no password" || fail "password in audit"
rm .schema/hooks/pre-checkout .schema/hook-env
rm -rf migrations/0016_slow_pw
"$S" branch -f main 0015_add_task_config_version >/dev/null
finish
