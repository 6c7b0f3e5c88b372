#!/bin/sh
# A private, throwaway PostgreSQL cluster for tests, the demo and benchmarks.
#
#   tests/pg-cluster.sh start DIR   create and start a cluster in DIR (DIR must
#                                   be missing or empty), print its URL:
#                                   postgresql://postgres@/postgres?host=DIR&port=5432
#   tests/pg-cluster.sh url DIR     print the URL of a cluster made by start
#   tests/pg-cluster.sh stop DIR    stop the cluster and remove DIR
#
# The server listens on a unix socket in DIR only (no TCP), trusts every local
# connection and runs with fsync off: never put data you want to keep there.
# The superuser is "postgres". Layout: DIR/data (PGDATA), DIR/server.log,
# DIR/initdb.log, DIR/.s.PGSQL.5432 (the socket), DIR/.pg-cluster (marker).
#
# Server binaries: $PG_BINDIR if set, else the highest /usr/lib/postgresql/*/bin
# (Debian), else /usr/pgsql-*/bin (RHEL), else `pg_config --bindir`, else PATH.
# initdb refuses to run as root: under uid 0 the server runs as the user
# $PG_CLUSTER_USER (default postgres), DIR is given to that user and every
# directory above DIR is made traversable (o+x) for it if it is not already.
#
# Exit status: 0 ok, 1 failure (message on stderr), 2 usage.
set -eu

prog=${0##*/}
port=5432
marker=.pg-cluster

die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit 1
}

usage() {
	printf 'usage: %s start|url|stop DIR\n' "$prog" >&2
	exit 2
}

# Percent-encode a path for the query part of a libpq URL.
urlencode() {
	printf '%s' "$1" | od -An -v -tx1 | awk '
		BEGIN { for (i = 0; i < 256; i++) code[sprintf("%02x", i)] = i }
		{
			for (f = 1; f <= NF; f++) {
				c = code[$f]
				if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) ||
				    (c >= 97 && c <= 122) || c == 45 || c == 46 ||
				    c == 47 || c == 95 || c == 126)
					printf "%c", c
				else
					printf "%%%s", toupper($f)
			}
		}'
}

print_url() {
	printf 'postgresql://postgres@/postgres?host=%s&port=%s\n' "$(urlencode "$1")" "$port"
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		[ -x "$PG_BINDIR/initdb" ] || die "no initdb in PG_BINDIR '$PG_BINDIR'"
		printf '%s\n' "$PG_BINDIR"
		return
	fi
	best=""
	for d in /usr/lib/postgresql/*/bin /usr/pgsql-*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best="$best$d
"
	done
	if [ -n "$best" ]; then
		# Highest major version: sort on the version component.
		printf '%s' "$best" | awk -F/ '{
			v = ($2 == "usr" && $3 == "lib") ? $5 : substr($3, 7)
			print v "\t" $0
		}' | sort -t '	' -k1,1n | tail -n 1 | cut -f 2
		return
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			printf '%s\n' "$d"
			return
		fi
	fi
	d=$(command -v initdb 2>/dev/null || true)
	[ -n "$d" ] || die "cannot find the PostgreSQL server programs (initdb, pg_ctl)" \
		"; install the server package or set PG_BINDIR"
	dirname "$d"
}

# Run a server program as the cluster's owner.
as_owner() {
	if [ "$uid" = 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u "$owner" -- "$@"
		else
			# shellcheck disable=SC2016 # expanded by the inner shell
			su -s /bin/sh -c 'exec "$0" "$@"' "$owner" -- "$@"
		fi
	else
		"$@"
	fi
}

# Under root: let the owner reach DIR through every directory above it.
make_traversable() {
	p=$(dirname "$1")
	while :; do
		if ! as_owner test -x "$p"; then
			chmod o+x "$p" ||
				die "cannot make '$p' traversable for user $owner"
			printf '%s: note: made %s traversable (o+x) for user %s\n' \
				"$prog" "$p" "$owner" >&2
		fi
		[ "$p" = / ] && break
		p=$(dirname "$p")
	done
}

# Absolute, symlink-free form of an existing directory.
absdir() {
	(cd "$1" && pwd -P)
}

is_running() {
	[ -f "$1/data/postmaster.pid" ] &&
		as_owner "$bindir/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

cmd_start() {
	dir=$1
	made=
	[ -e "$dir" ] || made=1
	mkdir -p "$dir" || die "cannot create '$dir'"
	dir=$(absdir "$dir") || die "cannot enter '$dir'"
	if [ -n "$(ls -A "$dir")" ]; then
		die "'$dir' is not empty; give a new or empty directory"
	fi
	# A unix socket path has at most 107 bytes on Linux.
	sock="$dir/.s.PGSQL.$port"
	if [ "${#sock}" -gt 107 ]; then
		[ -z "$made" ] || rmdir "$dir"
		die "'$dir' is too long for a unix socket path (${#sock} > 107 bytes)"
	fi
	: >"$dir/$marker" || die "cannot write in '$dir'"

	if [ "$uid" = 0 ]; then
		id -u "$owner" >/dev/null 2>&1 ||
			die "running as root needs a user '$owner' to own the server" \
				"(set PG_CLUSTER_USER to another user)"
		chown "$owner" "$dir" || die "cannot give '$dir' to user $owner"
		chmod 700 "$dir"
		make_traversable "$dir"
	fi

	locale=C
	if locale -a 2>/dev/null | grep -qix 'c\.utf-\{0,1\}8'; then
		locale=C.UTF-8
	fi
	# The server programs complain when they cannot read the working directory.
	cd "$dir"
	if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
		-E UTF8 --locale="$locale" --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed in '$dir/data'"
	fi
	sockq=$(printf '%s' "$dir" | sed "s/'/''/g")
	cat >>"$dir/data/postgresql.conf" <<-EOF

	# tests/pg-cluster.sh: private, disposable, unix socket only
	listen_addresses = ''
	unix_socket_directories = '$sockq'
	port = $port
	fsync = off
	synchronous_commit = off
	full_page_writes = off
	max_connections = 50
	shared_buffers = 32MB
	max_wal_size = 256MB
	log_min_messages = warning
	log_min_error_statement = error
	EOF
	if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		-w -t 60 start >/dev/null 2>&1; then
		tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop \
			>/dev/null 2>&1 || true
		die "the server in '$dir' did not start (log: $dir/server.log)"
	fi
	print_url "$dir"
}

cmd_url() {
	[ -f "$1/$marker" ] || die "'$1' holds no cluster made by $prog"
	print_url "$(absdir "$1")"
}

cmd_stop() {
	[ -e "$1" ] || return 0
	dir=$(absdir "$1") || die "cannot enter '$1'"
	# Never remove a directory this script did not make.
	if [ ! -f "$dir/$marker" ] && [ -n "$(ls -A "$dir")" ]; then
		die "'$dir' holds no cluster made by $prog; not removing it"
	fi
	cd /
	if is_running "$dir"; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
			>/dev/null 2>&1 || die "cannot stop the server in '$dir'"
	fi
	rm -rf "$dir"
}

[ $# -eq 2 ] || usage
[ -n "$2" ] || usage
uid=$(id -u)
owner=${PG_CLUSTER_USER:-postgres}
case $1 in
start)
	bindir=$(find_bindir)
	cmd_start "$2"
	;;
url) cmd_url "$2" ;;
stop)
	bindir=$(find_bindir)
	cmd_stop "$2"
	;;
*) usage ;;
esac
