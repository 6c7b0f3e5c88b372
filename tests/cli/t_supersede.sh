#!/bin/bash
# commit --new-revision: the new revision supersedes the one the directory
# was committed as (Sqitch's rework, git's amend). The old one is no head
# and on no branch, validate does not check it, a database that has it
# applied is planned down (with the registry's down) then up to the new
# one, and log shows the supersession.
. "$(dirname "$0")/lib.sh"
pg_setup

mkdir -p "$T/a" && cd "$T/a" || exit 2
"$S" init -q || exit 2
mkmig() { # mkmig NAME PARENT UP DOWN
	mkdir -p "migrations/$1"
	printf '%s\n' "$3" >"migrations/$1/up.sql"
	printf '%s\n' "$4" >"migrations/$1/down.sql"
	if [ -n "$2" ]; then printf 'parent %s\n\n%s\n' "$2" "$1"; else printf '\n%s\n' "$1"; fi >"migrations/$1/meta"
}
mkmig 0001_users "" "CREATE TABLE users (id int PRIMARY KEY);" "DROP TABLE users;"
mkmig 0002_email 0001_users "ALTER TABLE users ADD COLUMN email text;" "ALTER TABLE users DROP COLUMN email;"
mkmig 0003_name 0002_email "ALTER TABLE users ADD COLUMN name text;" "ALTER TABLE users DROP COLUMN name;"
expect_status 0 "$S" commit -q || exit 2
cp -r migrations "$T/migrations.v1"
id() { "$S" log --all --oneline --full | grep " $1\$" | cut -d' ' -f1; }
old2=$("$S" log --oneline --full 0002_email -n 1 | cut -d' ' -f1)
old3=$("$S" log --oneline --full 0003_name -n 1 | cut -d' ' -f1)
"$S" branch feat
emailtype() { sql "SELECT data_type FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'"; }
applied() { sql "SELECT string_agg(left(revision, 12), ' ' ORDER BY seq) FROM schema_registry.applied"; }
newdb old
expect_status 0 "$S" migrate development -q
newdb old2
expect_status 0 "$S" migrate development -q

# ---- re-recording an edited directory
printf 'ALTER TABLE users ADD COLUMN email varchar(200);\n' >migrations/0002_email/up.sql
expect_status 1 "$S" commit && expect_err "--new-revision" || fail "the edit is not refused"
expect_status 0 "$S" commit --new-revision && expect_err "0002_email/meta: supersedes ${old2:0:12}" \
	&& expect_err "0003_name/meta: supersedes ${old3:0:12}" && expect_out "main -> " \
	&& check "commit --new-revision writes a supersedes line into each re-recorded meta"
grep -qx "supersedes $old2" migrations/0002_email/meta && grep -qx "supersedes $old3" migrations/0003_name/meta \
	&& check "the lines name the full ids of the revisions they replace" || fail "meta: $(cat migrations/0002_email/meta)"
new2=$("$S" log --oneline --full 0002_email -n 1 | cut -d' ' -f1)
new3=$("$S" log --oneline --full 0003_name -n 1 | cut -d' ' -f1)
expect_status 0 "$S" show 0002_email && expect_out "supersedes $old2" && check "the new revision carries it"
one_head() { # one_head ID: `heads` lists exactly that revision
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ "$out" == "${1:0:12} "* ]]
}
expect_status 0 "$S" heads && one_head "$new3" && check "the superseded revisions are no heads" || fail "heads: $out"
expect_status 0 "$S" log --oneline && [[ "$out" != *"${old2:0:12}"* ]] && [[ "$out" != *"${old3:0:12}"* ]] \
	&& check "nor on the branch"
expect_status 0 "$S" branch -v && [[ "$(printf '%s\n' "$out" | grep ' feat ')" == *"${new3:0:12}"* ]] \
	&& check "another branch at the superseded tip moves to the new one" || fail "branches: $out"
expect_status 0 "$S" log -n 2 && expect_out "Supersedes: ${old3:0:12} 0003_name" \
	&& expect_out "Supersedes: ${old2:0:12} 0002_email" && check "log shows the supersession"
expect_status 0 "$S" log --json -n 1 && expect_out "\"supersedes\": [" && expect_out "$old3" \
	&& check "log --json lists what a revision supersedes"
expect_status 0 "$S" fsck && check "fsck accepts it"
expect_status 0 "$S" commit && expect_out "nothing to commit" && check "nothing left to commit"

# ---- a database that has the old revisions applied
export DATABASE_URL=$(printf '%s' "$ADMIN_URL" | sed "s|/postgres?|/t$$_old?|")
DB_URL=$DATABASE_URL
expect_status 0 "$S" migrate development --dry-run && expect_out "2 down, 2 up" \
	&& [[ "$(printf '%s\n' "$out" | sed -n 2p)" == *"down ${old3:0:12}"* ]] \
	&& [[ "$(printf '%s\n' "$out" | sed -n 3p)" == *"down ${old2:0:12}"* ]] \
	&& [[ "$(printf '%s\n' "$out" | sed -n 4p)" == *"up   ${new2:0:12}"* ]] \
	&& [[ "$(printf '%s\n' "$out" | sed -n 5p)" == *"up   ${new3:0:12}"* ]] \
	&& check "migrate plans the superseded revisions down, then the new ones up"
expect_status 0 "$S" migrate development -q && [ "$(emailtype)" = "character varying" ] \
	&& [ "$(applied)" = "$(id 0001_users | cut -c1-12) ${new2:0:12} ${new3:0:12}" ] \
	&& check "and runs it" || fail "applied: $(applied), email: $(emailtype)"
expect_status 0 "$S" migrate development && expect_out "nothing to do" && check "then there is nothing to do"
expect_status 0 "$S" rollback development -1 -q && [ "$(applied)" = "$(id 0001_users | cut -c1-12) ${new2:0:12}" ] \
	&& check "rollback -1 reverts the new tip"

# ---- checkout heads in a fresh database: only the new revisions
newdb fresh
expect_status 0 "$S" checkout -q heads && [ "$(emailtype)" = "character varying" ] \
	&& [ "$(applied)" = "$(id 0001_users | cut -c1-12) ${new2:0:12} ${new3:0:12}" ] \
	&& check "checkout heads applies the new revisions only"

# ---- another clone that never had the old revisions: the registry's down
mkdir -p "$T/b" && cd "$T/b" && "$S" init -q && cp -r "$T/a/migrations" . && "$S" commit -q
[ "$("$S" log --oneline --full -n 1 | cut -d' ' -f1)" = "$new3" ] || fail "the clone's ids differ"
expect_status 4 "$S" show "$old2" && check "the clone does not have the old revision"
export DATABASE_URL=$(printf '%s' "$ADMIN_URL" | sed "s|/postgres?|/t$$_old2?|")
DB_URL=$DATABASE_URL
expect_status 0 "$S" migrate development && expect_out "down ${old3:0:12}" && expect_out "down ${old2:0:12}" \
	&& [ "$(emailtype)" = "character varying" ] \
	&& [ "$(applied)" = "$(id 0001_users | cut -c1-12) ${new2:0:12} ${new3:0:12}" ] \
	&& check "a clone without the old revisions reverts them with the registry's down scripts"
expect_status 0 "$S" validate --no-states && check "validate in the clone: no problem"

# ---- a clone that has the old revisions and pulls the re-recorded text
mkdir -p "$T/c" && cd "$T/c" && "$S" init -q && cp -r "$T/migrations.v1" migrations && "$S" commit -q
rm -rf migrations && cp -r "$T/a/migrations" .
expect_status 0 "$S" commit && expect_out "main -> ${new3:0:12}" \
	&& check "directories that already supersede what they were committed as commit without --new-revision"
expect_status 0 "$S" heads && one_head "$new3" && check "and the old ones stop being heads" || fail "heads: $out"

# ---- a meta with CRLF line ends gets the line in its headers
mkdir -p "$T/d/migrations/0001_t" && cd "$T/d" && "$S" init -q
printf 'CREATE TABLE t (id int);\n' >migrations/0001_t/up.sql
printf 'DROP TABLE t;\n' >migrations/0001_t/down.sql
printf 'label core\r\n\r\ncreate t\r\n' >migrations/0001_t/meta
expect_status 0 "$S" commit -q
printf 'CREATE TABLE t (id bigint);\n' >migrations/0001_t/up.sql
expect_status 0 "$S" commit --new-revision -q && expect_status 0 "$S" show 0001_t \
	&& expect_out "supersedes " && [[ "$out" == *"    create t"* ]] && [[ "$out" != *"create t"*"supersedes"* ]] \
	&& check "CRLF meta: the supersedes line goes into the headers, not the message" || fail "meta: $(cat -A migrations/0001_t/meta)"

# ---- validate does not check a superseded revision
cd "$T/a"
printf 'SELECT 1;\n' >migrations/0003_name/down.sql
expect_status 0 "$S" commit --new-revision -q
grep -c '^supersedes ' migrations/0003_name/meta | grep -qx 2 \
	&& check "a second re-recording supersedes both earlier revisions" || fail "meta: $(cat migrations/0003_name/meta)"
export SCHEMA_CHECK=1 SCHEMA_DEV_URL=$ADMIN_URL
expect_status 1 "$S" validate && expect_out "reversible: 0003_name" && check "validate reports the broken down"
printf 'ALTER TABLE users DROP COLUMN name;\n' >migrations/0003_name/down.sql
expect_status 0 "$S" commit --new-revision -q && check "the fix is re-recorded, checked"
expect_status 0 "$S" validate && expect_err "0 problems" && expect_err "superseded, not checked" \
	&& check "validate does not report the superseded revisions"
new3c=$("$S" log --oneline --full -n 1 | cut -d' ' -f1)
expect_status 0 "$S" heads && one_head "$new3c" && check "one head after two re-recordings" || fail "heads: $out"

finish
