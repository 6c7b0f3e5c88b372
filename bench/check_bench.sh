#!/bin/sh
# commit of one revision with its scratch-cluster check (up, state, down,
# state again), warm private cluster, on top of the example history; best
# of 5, each a new revision. Aim: under 300 ms. For scale, in the same run:
# the same commit with --no-check, and psql running the revision's up and
# down against the scratch cluster (the floor of applying it at all).
#   bench/check_bench.sh SCHEMA_BINARY
set -eu
[ $# = 1 ] || { echo "usage: $0 SCHEMA_BINARY" >&2; exit 2; }
S=$1
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/schema-check-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
	(cd "$work/repo" && "$S" dev stop >/dev/null 2>&1) || :
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export SCHEMA_CHECK=1 SCHEMA_AUTHOR_NAME=Bench SCHEMA_AUTHOR_EMAIL=bench@example.com
unset SCHEMA_DEV_URL

now() { date +%s.%N; }
mkdir "$work/repo" && cd "$work/repo"
"$S" init -q
rm -rf migrations && cp -r "$top/migrations" migrations && rm -rf migrations/tasks
s=$(now)
"$S" commit -q 2>/dev/null
e=$(now)
printf 'commit the 15-revision example history, checked (cold cluster): %.2f s\n' "$(echo "$e - $s" | bc)"

prev=0015_add_task_config_version
n=16
# one_commit FLAGS: a new revision on top of prev, committed; seconds in t
one_commit() {
	d=$(printf '%04d_bench_%d' "$n" "$n")
	mkdir "migrations/$d"
	printf 'ALTER TABLE users ADD COLUMN c%d text;\nCREATE INDEX users_c%d_idx ON users (c%d);\n' "$n" "$n" "$n" >"migrations/$d/up.sql"
	printf 'DROP INDEX users_c%d_idx;\nALTER TABLE users DROP COLUMN c%d;\n' "$n" "$n" >"migrations/$d/down.sql"
	printf 'parent %s\n\nbench %d\n' "$prev" "$n" >"migrations/$d/meta"
	s=$(now)
	"$S" commit -q $1
	e=$(now)
	prev=$d
	n=$((n + 1))
	t=$(echo "$e - $s" | bc)
}
best_of() {
	b=""
	for i in 1 2 3 4 5; do
		one_commit "$1"
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
}
best_of ""
checked=$b
best_of "--no-check"
unchecked=$b
url=$("$S" dev url)
psql -X -q "$url" -c "CREATE DATABASE floor" >/dev/null
furl=$(printf '%s' "$url" | sed 's|/postgres?|/floor?|')
psql -X -q "$furl" -c "CREATE TABLE users (id int)" >/dev/null
b=""
for i in 1 2 3 4 5; do
	s=$(now)
	psql -X -q "$furl" -c "ALTER TABLE users ADD COLUMN c$i text; CREATE INDEX users_c${i}_idx ON users (c$i);" >/dev/null
	psql -X -q "$furl" -c "DROP INDEX users_c${i}_idx; ALTER TABLE users DROP COLUMN c$i;" >/dev/null
	e=$(now)
	t=$(echo "$e - $s" | bc)
	if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
done
printf 'commit one revision, checked (warm):  %.4f s (aim < 0.300 s)\n' "$checked"
printf 'commit one revision, --no-check:      %.4f s\n' "$unchecked"
printf 'psql up + down of the same revision:  %.4f s (floor)\n' "$b"
printf 'checked commit / floor:               %.2fx\n' "$(echo "$checked / $b" | bc -l)"
