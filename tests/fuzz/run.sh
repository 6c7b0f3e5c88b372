#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer target with clang
# (ASan + UBSan) into build/fuzz/ and runs each for FUZZ_SECONDS seconds
# (default 30) over its seed corpus in tests/fuzz/corpus/<target>/. New
# inputs go to build/fuzz/corpus/<target>/, never into the committed
# corpus; a crashing input is kept as build/fuzz/artifacts/<target>-*.
#
#   sh tests/fuzz/run.sh                 every target
#   sh tests/fuzz/run.sh fuzz_meta ...   only these
#
# Environment: FUZZ_SECONDS, CLANG (default clang), BUILD (where `make`
# generated gen/*.c, default build/rel). Exits 1 when a target crashed,
# leaked or hit a sanitizer, 2 when something could not be built.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
CLANG=${CLANG:-clang}
out=build/fuzz
pkgs="libpq libsodium lmdb zlib jansson"

gen=
for d in "${BUILD:-build/rel}/gen" build/rel/gen build/san/gen; do
	if [ -f "$d/hooks.c" ] && [ -f "$d/man.c" ]; then
		gen=$d
		break
	fi
done
if [ -z "$gen" ]; then
	echo "fuzz: no generated sources (gen/hooks.c, gen/man.c): run make first" >&2
	exit 2
fi
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "fuzz: $CLANG not found (libFuzzer needs clang)" >&2
	exit 2
fi

pg_inc=$(pg_config --includedir 2>/dev/null)
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE \
-fsanitize=address,undefined -fno-sanitize-recover=undefined \
-Iinclude -include include/schema/banned.h ${pg_inc:+-I$pg_inc} \
$(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lpg_query -lpthread -lm -ldl"

# The library once, instrumented for coverage, as an archive so that each
# target links only what it uses.
mkdir -p "$out/obj" "$out/corpus" "$out/artifacts" "$out/logs"
newest_header=$(ls -t $(find include lib store src -name '*.h' 2>/dev/null) | head -n 1)
objs=
rebuilt=0
for src in $(find lib store src -name '*.c' 2>/dev/null | sort) \
	"$gen"/hooks.c "$gen"/man.c; do
	case $src in */main.c) continue ;; esac
	obj="$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
	objs="$objs $obj"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
	   [ "$newest_header" -nt "$obj" ]; then
		# shellcheck disable=SC2086
		if ! "$CLANG" $cflags -fsanitize=fuzzer-no-link -w -c -o "$obj" "$src"; then
			echo "fuzz: cannot compile $src" >&2
			exit 2
		fi
		rebuilt=1
	fi
done
lib="$out/libschema-fuzz.a"
if [ "$rebuilt" = 1 ] || [ ! -f "$lib" ]; then
	rm -f "$lib"
	# shellcheck disable=SC2086
	ar rcs "$lib" $objs || exit 2
fi

if [ $# -gt 0 ]; then
	targets=
	for n in "$@"; do
		targets="$targets tests/fuzz/${n%.c}.c"
	done
else
	targets=$(ls tests/fuzz/fuzz_*.c)
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fail=0
failed=
for src in $targets; do
	name=$(basename "$src" .c)
	bin="$out/$name"
	# shellcheck disable=SC2086
	if ! "$CLANG" $cflags -fsanitize=fuzzer -Wall -Wextra \
		-Wno-unused-parameter -o "$bin" "$src" "$lib" $libs; then
		echo "FAIL $name: does not build" >&2
		fail=1
		failed="$failed $name"
		continue
	fi
	mkdir -p "$out/corpus/$name" "tests/fuzz/corpus/$name"
	log="$out/logs/$name.log"
	# The scratch directory comes first: libFuzzer writes new inputs
	# into the first corpus directory it is given. Absolute paths, since
	# a target may change directory (fuzz_args).
	if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$top/$out/artifacts/$name-" \
		"$top/$out/corpus/$name" "$top/tests/fuzz/corpus/$name" >"$log" 2>&1; then
		printf 'ok   %s: %s\n' "$name" \
			"$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
	else
		tail -n 40 "$log"
		printf 'FAIL %s (log %s; input under %s/artifacts/)\n' "$name" \
			"$log" "$out"
		fail=1
		failed="$failed $name"
	fi
done
if [ "$fail" = 0 ]; then
	echo "fuzz: no findings"
else
	echo "fuzz: FAILED:$failed"
fi
exit "$fail"
