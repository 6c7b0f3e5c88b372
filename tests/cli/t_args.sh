#!/bin/bash
# Every command of the command table, and every subcommand, given bad
# argument shapes (an unknown option, a missing or malformed value, too
# many arguments) ends with a documented exit status (0 to 4) and one
# error line: never a signal, never a sanitizer report. Options are taken
# from each command's man page, so a new option is covered as it is
# documented.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
# Nothing here may reach a real server or start one: every database is a
# socket that does not exist, and there are no server programs.
export DATABASE_URL="postgresql://nobody@/nodb?host=$T/nosuchdir"
export SCHEMA_DEV_URL="postgresql://nobody@/nodb?host=$T/nosuchdir"
export PG_BINDIR="$T/no-server-programs"
unset PGHOST PGPORT PGDATABASE PGUSER PGSERVICE

cd "$T" || exit 1
mkdir repo && cd repo || exit 1
expect_status 0 "$S" init -q && check "a repository to run the commands in"
"$S" new "create users" >/dev/null 2>&1
d=$(ls -d migrations/*_create_users)
printf 'CREATE TABLE users (id int);\n' >"$d/up.sql"
printf 'DROP TABLE users;\n' >"$d/down.sql"
expect_status 0 "$S" commit -q && check "one committed revision"

cmds=$("$S" 2>&1 | sed -n '/^commands:/,/^$/p' | tail -n +2 | tr ' ' '\n' | grep -v '^$')
[ -n "$cmds" ] && check "the usage lists the commands" || fail "no command list"
subs="dev:start dev:stop dev:url dev:status key:generate key:list key:export
task:add task:log task:migrate task:show task:validate"

long=$(printf 'x%.0s' $(seq 1 3000))
bad=0
runs=0
# try <args...>: one run; a signal, a timeout, a status above 4 or a
# sanitizer report is a failure.
try() {
	local rc
	runs=$((runs + 1))
	timeout 20 "$S" "$@" </dev/null >"$T/.out" 2>"$T/.err"
	rc=$?
	if [ "$rc" -ge 5 ] || grep -q -e 'Sanitizer' -e 'runtime error' "$T/.err"; then
		bad=$((bad + 1))
		status=$rc out=$(head -c 300 "$T/.out") err=$(head -c 600 "$T/.err")
		fail "'schema $*' ended with status $rc"
	fi
}

for entry in $cmds $subs; do
	# shellcheck disable=SC2206 # "dev:start" -> dev start
	words=(${entry//:/ })
	page=${words[0]}
	case $page in generate) page=new ;; history) page=log ;; esac
	opts=$(grep -o '\\-\\-[a-z][a-z\\-]*' "$top/man/schema-$page.1" 2>/dev/null |
		sed 's/\\-/-/g' | sort -u | grep -v -e '^--help$' -e '^--$')
	for a in --no-such-option -Z "-n x" -- - "x y z w v u" "%s%n%x" -1 \
		"--env prodution"; do
		# shellcheck disable=SC2086 # split the shapes on purpose
		try "${words[@]}" $a
	done
	try "${words[@]}" ""
	try "${words[@]}" "$long"
	for o in $opts; do
		try "${words[@]}" "$o"
		try "${words[@]}" "$o" x y z w
		try "${words[@]}" "$o=%n%s"
	done
done
[ "$bad" = 0 ] && check "$runs runs: no crash, no hang, every status 0-4"

# The argument is named, on one line, with the right status.
expect_status 2 "$S" status --bogus && one_line_error &&
	expect_err "unknown option '--bogus' for 'status'" && check "status --bogus"
expect_status 2 "$S" status -v && expect_err "unknown option '-v'" && check "status -v"
expect_status 2 "$S" status -n x && expect_err "'-n'" && check "status -n x"
expect_status 2 "$S" status development extra &&
	expect_err "unexpected argument 'extra'" && check "status development extra"
expect_status 2 "$S" status --url && expect_err "option '--url' of 'status' needs a value" &&
	check "status --url (no value)"
expect_status 2 "$S" status --jsn && expect_err "(did you mean '--json'?)" &&
	check "a mistyped option gets the nearest one"
expect_status 2 "$S" checkout --dry-rn && expect_err "did you mean '--dry-run'?" &&
	check "checkout --dry-rn"
expect_status 2 "$S" stauts && expect_err "unknown command 'stauts' (did you mean 'status'?)" &&
	check "a mistyped command gets the nearest one"
expect_status 2 "$S" help stauts && expect_err "did you mean 'status'?" && check "help stauts"
expect_status 2 "$S" --repo && expect_err "'--repo' needs a value" && check "--repo with no value"
expect_status 4 "$S" log mian && expect_err "unknown revision 'mian' (did you mean 'main'?)" &&
	check "a mistyped branch gets the nearest one"
expect_status 4 "$S" show haed && expect_err "did you mean 'head'?" && check "show haed"
expect_status 2 "$S" dev start extra && expect_err "'extra'" && check "dev start extra"
expect_status 2 "$S" key generate a b && check "key generate a b"
expect_status 2 "$S" task migrate && check "task migrate with nothing"
expect_status 2 "$S" task nosuch && expect_err "unknown subcommand 'nosuch' for 'task'" && check "task nosuch"
expect_status 2 "$S" task lg && expect_err "did you mean 'log'?" && check "task lg"
expect_status 2 "$S" dev stats && expect_err "did you mean 'status'?" && check "dev stats"
expect_status 2 "$S" key lst && expect_err "did you mean 'list'?" && check "key lst"
finish
