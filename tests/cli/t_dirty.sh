#!/bin/bash
# checkout, migrate, rollback and --dry-run name every directory of
# migrations/ that is not committed or was edited after its commit (a plan
# runs stored revisions only); require-clean (the default of production)
# refuses to run while there is one, --allow-dirty overrides.
. "$(dirname "$0")/lib.sh"
pg_setup

mkdir -p "$T/r" && cd "$T/r" || exit 2
"$S" init -q || exit 2
mkdir -p migrations/0001_users
printf 'CREATE TABLE users (id int PRIMARY KEY);\n' >migrations/0001_users/up.sql
printf 'DROP TABLE users;\n' >migrations/0001_users/down.sql
printf '\ncreate users\n' >migrations/0001_users/meta
add_migration 0002_email 0001_users "ALTER TABLE users ADD COLUMN email text;" \
	"ALTER TABLE users DROP COLUMN email;" >/dev/null
newdb dev
applied() { sql "SELECT count(*) FROM schema_registry.applied"; }
col() { sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = '$1'"; }

clean_err() {
	case "$err" in
	*"not committed"*|*"was edited"*) fail "a clean tree is reported dirty"; return 1 ;;
	esac
	return 0
}

expect_status 0 "$S" migrate development -q && clean_err && check "a clean tree: no warning"

# ---- a directory made by `schema new` and not committed
expect_status 0 "$S" new "add name"
printf 'ALTER TABLE users ADD COLUMN name text;\n' >migrations/0003_add_name/up.sql
printf 'ALTER TABLE users DROP COLUMN name;\n' >migrations/0003_add_name/down.sql
expect_status 0 "$S" migrate development && expect_out "nothing to do" \
	&& expect_err "warning: $T/r/migrations/0003_add_name is not committed" && expect_err "hint:" \
	&& expect_err "'schema commit'" && check "migrate names an uncommitted directory, with the hint"
expect_status 0 "$S" migrate development --dry-run && expect_err "0003_add_name is not committed" \
	&& check "migrate --dry-run names it too"
expect_status 0 "$S" checkout --dry-run --url "$DB_URL" && expect_err "0003_add_name is not committed" \
	&& check "checkout --dry-run names it"
expect_status 0 "$S" checkout --sql && expect_err "0003_add_name is not committed" \
	&& [[ "$out" != *"schema: warning"* ]] && check "checkout --sql names it on stderr, not in the script"

# ---- a committed directory edited afterwards
"$S" commit -q
printf 'ALTER TABLE users DROP COLUMN email;\nSELECT 1;\n' >migrations/0002_email/down.sql
printf 'ALTER TABLE users ADD COLUMN email varchar(200);\n' >migrations/0002_email/up.sql
expect_status 0 "$S" migrate development -q && expect_err "0002_email was edited after its commit" \
	&& expect_err "the committed revision runs" && expect_err "--new-revision" \
	&& check "migrate names an edited directory"
[ "$(col name)" = 1 ] || fail "migrate did not apply the committed 0003"
expect_status 0 "$S" rollback development -2 -q && expect_err "0002_email was edited after its commit" \
	&& check "rollback names it"
[ "$(col email)" = 0 ] && [ "$(applied)" = 1 ] || fail "rollback -2"
expect_status 0 "$S" checkout -q && expect_err "0002_email was edited after its commit" && check "checkout names it"
[ "$(sql "SELECT data_type FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'")" = text ] \
	&& check "what ran is the committed up.sql, not the edited one" || fail "the edited up.sql ran"

# ---- require-clean
newdb prod
cat >>.schema/config <<EOF
[env "production"]
	url = $DB_URL
	backup = never
EOF
expect_status 1 "$S" migrate production --yes && one_line_error \
	&& expect_err "migrate on production refused: 1 directory of $T/r/migrations is uncommitted or edited (require-clean)" \
	&& expect_err "--allow-dirty" && expect_err "0002_email was edited" \
	&& check "production refuses while a directory is edited (require-clean by default)"
[ "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'schema_registry'")" = 0 ] \
	&& check "the refused run did not touch the database" || fail "the refused run changed the database"
expect_status 0 "$S" migrate production --yes --dry-run && expect_err "would be refused" \
	&& expect_out "0 down, 3 up" && check "--dry-run shows the plan and says the run would be refused"
expect_status 1 "$S" checkout --env production --yes && expect_err "checkout on production refused" \
	&& check "checkout --env production refuses too"
expect_status 0 "$S" migrate production --yes --allow-dirty -q && [ "$(applied)" = 3 ] \
	&& check "--allow-dirty runs it"
expect_status 1 "$S" rollback production -1 --yes && expect_err "rollback on production refused" \
	&& check "rollback on production refuses too"
cp migrations/0002_email/down.sql "$T/down.edited"
git_restore() {
	printf 'ALTER TABLE users ADD COLUMN email text;\n' >migrations/0002_email/up.sql
	printf 'ALTER TABLE users DROP COLUMN email;\n' >migrations/0002_email/down.sql
}
git_restore
expect_status 0 "$S" rollback production -1 --yes -q && clean_err && [ "$(applied)" = 2 ] \
	&& check "restored to what was committed: production runs"
printf '\trequire-clean = false\n' >>.schema/config
cp "$T/down.edited" migrations/0002_email/down.sql
expect_status 0 "$S" migrate production --yes -q && expect_err "0002_email was edited" && [ "$(applied)" = 3 ] \
	&& check "require-clean = false: production warns and runs"
cat >>.schema/config <<EOF
[env "development"]
	require-clean = true
EOF
expect_status 1 "$S" rollback development -1 && expect_err "rollback on development refused" \
	&& check "require-clean = true applies to any environment"
cat >>.schema/config <<EOF
[env "staging"]
	require-clean = maybe
EOF
expect_status 4 "$S" migrate staging && one_line_error && expect_err "maybe" \
	&& check "a require-clean that is not a boolean: exit 4"

finish
