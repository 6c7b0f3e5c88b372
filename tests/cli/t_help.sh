#!/bin/bash
# Every command has a man page, and --help shows that page.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$T"
cmds=$("$S" 2>&1 | sed -n '/^commands:/,/^$/p' | tail -n +2 | tr ' ' '\n' | grep -v '^$')
[ -n "$cmds" ] && check "the usage lists the commands" || fail "no command list"
for c in $cmds; do
	page=$c
	case $c in generate) page=new ;; history) page=log ;; esac
	if [ ! -f "$top/man/schema-$page.1" ]; then
		fail "man/schema-$page.1 is missing for '$c'"
		continue
	fi
	expect_status 0 "$S" "$c" --help && expect_out "SYNOPSIS" && expect_out "EXIT STATUS" \
		&& check "'$c --help' shows its page"
	name=$(grep -A1 '^\.SH NAME' "$top/man/schema-$page.1" | tail -n 1 | sed 's/\\-/-/g; s/\\f[BIRP]//g' | cut -c1-20)
	expect_out "$name" && check "'$c --help' is man/schema-$page.1"
done
expect_status 0 "$S" --help && expect_out "SYNOPSIS" && check "schema --help shows schema(1)"
missing=
for c in $cmds; do
	case $c in generate|history) continue ;; esac
	grep -q "^\.B schema\\\\-$c(1)\$" "$top/man/schema.1" || missing="$missing $c"
done
[ -z "$missing" ] && check "schema(1) lists every command" || fail "schema(1) does not list:$missing"
expect_status 0 "$S" help log && expect_out "oneline" && check "schema help log"
expect_status 2 "$S" help nosuch && check "help for an unknown command: exit 2"
finish
