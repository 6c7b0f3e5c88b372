#!/bin/bash
# commit reads every script it stores, whatever the checks: each one must
# be UTF-8 and parse (file:line:column and the parser's message), no hint
# proposes --no-check for a broken script, and a script still the
# template of `schema new` is committed with a warning naming it.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/r" && cd "$T/r" || exit 2
"$S" init -q || exit 2

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

no_skip_hint() {
	case "$err" in
	*--no-check*) fail "a hint proposes --no-check for a broken script"; return 1 ;;
	esac
	return 0
}

newmig 0001_t "" "CREATE TABLE t (id int PRIMARY KEY);" "DROP TABLE t;"
expect_status 0 "$S" commit -q

# ---- syntax errors, with the checks off (SCHEMA_CHECK=0) and --no-check
newmig 0002_bad 0001_t "ALTER TABLE t ADD COLUMN a int;
SELECT a FRM t;" "ALTER TABLE t DROP COLUMN a;"
d=$(store_digest)
expect_status 4 "$S" commit && one_line_error && expect_err "0002_bad/up.sql:2:14: syntax error at or near \"t\"" \
	&& no_skip_hint && check "a syntax error in up.sql: refused with file:line:column, checks off"
expect_status 4 "$S" commit --no-check && one_line_error && expect_err "0002_bad/up.sql:2:14: syntax error" \
	&& no_skip_hint && check "commit --no-check still parses up.sql"
[ "$(store_digest)" = "$d" ] && check "nothing stored for a broken script" || fail "store changed"

printf 'ALTER TABLE t ADD COLUMN a int;\n' >migrations/0002_bad/up.sql
printf 'ALTER TABLE t DROP COLUMN a;\nDROP TABLE;\n' >migrations/0002_bad/down.sql
expect_status 4 "$S" commit --no-check && one_line_error && expect_err "0002_bad/down.sql:2:11: syntax error at or near \";\"" \
	&& no_skip_hint && check "a syntax error in down.sql: refused with file:line:column"
printf 'ALTER TABLE t DROP COLUMN a;\n' >migrations/0002_bad/down.sql
printf 'SELECT a FROM t\nWHERE;\n' >migrations/0002_bad/verify.sql
expect_status 4 "$S" commit --no-check && one_line_error && expect_err "0002_bad/verify.sql:2:6: syntax error" \
	&& no_skip_hint && check "a syntax error in verify.sql: refused with file:line:column"
[ "$(store_digest)" = "$d" ] || fail "store changed by a refused commit"

# ---- the same UTF-8 check for every script
printf 'SELECT a FROM t;\n' >migrations/0002_bad/verify.sql
printf 'ALTER TABLE t DROP COLUMN a;\n-- caf\xe9\n' >migrations/0002_bad/down.sql
expect_status 4 "$S" commit --no-check && one_line_error && expect_err "0002_bad/down.sql:2: invalid UTF-8" \
	&& no_skip_hint && check "a non-UTF-8 down.sql: refused with file and line"
printf 'ALTER TABLE t DROP COLUMN a;\n' >migrations/0002_bad/down.sql
printf 'SELECT a FROM t;\nSELECT \x27\xff\x27;\n' >migrations/0002_bad/verify.sql
expect_status 4 "$S" commit && one_line_error && expect_err "0002_bad/verify.sql:2: invalid UTF-8" \
	&& check "a non-UTF-8 verify.sql: refused with file and line"
printf 'SELECT\n  \xc3(;\n' >migrations/0002_bad/up.sql
expect_status 4 "$S" commit && one_line_error && expect_err "0002_bad/up.sql:2: invalid UTF-8" \
	&& check "a non-UTF-8 up.sql: the same message"
[ "$(store_digest)" = "$d" ] || fail "store changed by a refused commit"
printf 'ALTER TABLE t ADD COLUMN a int;\n' >migrations/0002_bad/up.sql
printf 'SELECT a FROM t;\n' >migrations/0002_bad/verify.sql
expect_status 0 "$S" commit -q && [ -z "$err" ] && check "the fixed scripts commit without a warning"

# ---- the template of `schema new`
expect_status 0 "$S" new "add b"
expect_status 0 "$S" commit -q && expect_err "0003_add_b/up.sql holds no statement" \
	&& expect_err "0003_add_b/down.sql holds no statement" && expect_err "template of 'schema new'" \
	&& check "a template up.sql and down.sql: committed with a warning naming each"
expect_status 0 "$S" new "add c"
printf 'ALTER TABLE t ADD COLUMN c int;\n' >migrations/0004_add_c/up.sql
expect_status 0 "$S" commit -q && expect_err "0004_add_c/down.sql holds no statement" \
	&& [[ "$err" != *"0004_add_c/up.sql"* ]] && check "only the script still a template is named"
expect_status 0 "$S" commit && [[ "$err" != *"holds no statement"* ]] && check "a committed template is not warned about again"
expect_status 0 "$S" switch -c side head~1 >/dev/null
newmig 0005_side 0003_add_b "ALTER TABLE t ADD COLUMN s int;" "ALTER TABLE t DROP COLUMN s;"
expect_status 0 "$S" commit -q
expect_status 0 "$S" switch main >/dev/null
expect_status 0 "$S" merge main side -m "merge side" && [[ "$err" != *"holds no statement"* ]] \
	&& check "a merge's empty scripts are not warned about"

# ---- with the scratch checks on, a script that does not apply
pg_setup
export SCHEMA_CHECK=1 SCHEMA_DEV_URL=$ADMIN_URL
newmig 0007_noapply 0006_merge_side "ALTER TABLE nosuch ADD COLUMN x int;" "ALTER TABLE nosuch DROP COLUMN x;"
expect_status 1 "$S" commit && one_line_error && expect_err "0007_noapply does not apply" && expect_err "nosuch" \
	&& no_skip_hint && check "a script that fails on the scratch database: no hint to skip the check"

finish
