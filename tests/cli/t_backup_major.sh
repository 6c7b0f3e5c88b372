#!/bin/bash
# A backup needs a pg_dump of the server's major or later: against a
# server newer than every pg_dump here (make test-pg PG=18 on Debian 12,
# whose pg_dump is 15), backup and a migrate whose policy is backup =
# always refuse before any work, naming the major needed and how to point
# at it. Against a server pg_dump can dump, the backup is taken.
. "$(dirname "$0")/lib.sh"
pg_setup
make_example "$T/repo" || { echo "not ok make_example"; exit 1; }
cd "$T/repo"
newdb main
sv=$(sql "SELECT current_setting('server_version_num')::int / 10000")
dv=$(pg_dump --version | sed 's/[^0-9]*\([0-9]*\).*/\1/')
for d in /usr/lib/postgresql/*/bin; do
	v=$(basename "$(dirname "$d")")
	[ -x "$d/pg_dump" ] && [ "$v" -gt "$dv" ] && dv=$v
done
printf '[env "production"]\n\turl = %s\n\tbackup = always\n\tconfirm = false\n' "$DB_URL" >>.schema/config
if [ "$dv" -ge "$sv" ]; then
	expect_status 0 "$S" backup -q && check "pg_dump $dv dumps PostgreSQL $sv"
	expect_status 0 "$S" migrate production -q && check "migrate production with its backup"
	finish
fi
d=$(store_digest)
expect_status 3 "$S" backup && one_line_error && expect_err "pg_dump $dv" \
	&& expect_err "pg_dump $sv or later is needed" && expect_err "PG_BINDIR" \
	&& expect_err "core.pg-bindir" && check "backup: pg_dump $dv against PostgreSQL $sv is refused, the major needed named"
[ "$(store_digest)" = "$d" ] && check "the refused backup stored nothing" || fail "store changed"
expect_status 3 "$S" migrate production && one_line_error && expect_err "refused before any change" \
	&& expect_err "pg_dump $sv or later is needed" && check "migrate production (backup = always) refuses before applying"
[ "$(sql "SELECT to_regclass('schema_registry.applied') IS NULL")" = t ] \
	&& [ "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] \
	&& check "nothing was applied" || fail "migrate applied something"
mkdir -p "$T/bin" && printf '#!/bin/sh\necho "pg_dump (PostgreSQL) %s.0"\n' "$((dv - 1))" >"$T/bin/pg_dump" && chmod 755 "$T/bin/pg_dump"
printf '[core]\n\tpg-bindir = %s\n' "$T/bin" >>.schema/config
expect_status 3 "$S" backup && expect_err "pg_dump $sv or later is needed" \
	&& check "core.pg-bindir with an older pg_dump still refuses"
finish
