#!/bin/sh
# make bench: reproducible figures against the floor, printed as a table.
# Sections: history (100,000 revisions). Later sections add the apply engine.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build/rel}
S="$top/$BUILD/schema"
N=${BENCH_REVISIONS:-100000}
out=$(mktemp -d /tmp/schema-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
export SCHEMA_AUTHOR_NAME=Bench SCHEMA_AUTHOR_EMAIL=bench@example.com NO_COLOR=1

# best of 5 wall-clock seconds of a command
best() {
	b=""
	for i in 1 2 3 4 5; do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	printf '%.4f' "$b"
}

echo "== history: $N revisions (a side branch of 10 merged back every 50)"
cd "$out"
"$S" init -q
s=$(date +%s.%N)
"$top/$BUILD/bench/genhist" .schema "$N"
e=$(date +%s.%N)
printf 'generate %d revisions: %.2f s\n' "$N" "$(echo "$e - $s" | bc)"
size=$(stat -c %s .schema/store/data.mdb)
printf 'store: %d bytes, %d bytes per revision (3 objects each)\n' "$size" $((size / N))
printf 'log --oneline (all):   %s s\n' "$(best "$S" log --oneline)"
printf 'log --oneline -n 20:   %s s\n' "$(best "$S" log --oneline -n 20)"
printf 'heads:                 %s s\n' "$(best "$S" heads)"
printf 'fsck:                  %s s\n' "$(best "$S" fsck)"
# commit one more revision on top of the generated history
commit_one() {
	i=$1
	d="migrations/$(printf '%07d' "$i")_bench_$i"
	mkdir -p "$d"
	printf 'CREATE TABLE b_%d (id int);\n' "$i" >"$d/up.sql"
	printf 'DROP TABLE b_%d;\n' "$i" >"$d/down.sql"
	printf 'parent %s\n\nbench commit %d\n' "$2" "$i" >"$d/meta"
	s=$(date +%s.%N)
	"$S" commit -q
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
head=$("$S" log --oneline --full -n 1 | cut -d' ' -f1)
b=""
prev=$head
for i in 1 2 3 4 5; do
	t=$(commit_one "$i" "$prev")
	prev=$(printf '%07d_bench_%d' "$i" "$i")
	if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
done
printf 'commit one revision:   %.4f s (best of 5, worktree of 5 directories)\n' "$b"
# the same on a fresh repository: commit time must not grow with history
mkdir fresh && cd fresh && "$S" init -q
b=""
prev=""
for i in 1 2 3 4 5; do
	d="migrations/$(printf '%07d' "$i")_bench_$i"
	mkdir -p "$d"
	echo "CREATE TABLE b_$i (id int);" >"$d/up.sql"
	echo "DROP TABLE b_$i;" >"$d/down.sql"
	if [ -n "$prev" ]; then printf 'parent %s\n\nc %d\n' "$prev" "$i" >"$d/meta"; else printf '\nc %d\n' "$i" >"$d/meta"; fi
	prev=$(basename "$d")
	s=$(date +%s.%N); "$S" commit -q; e=$(date +%s.%N)
	t=$(echo "$e - $s" | bc)
	if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
done
printf 'commit on an empty history: %.4f s (same worktree size)\n' "$b"
