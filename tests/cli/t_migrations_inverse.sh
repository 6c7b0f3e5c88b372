#!/usr/bin/env bash
# Proves that every down.sql in migrations/ is the true inverse of its up.sql:
# for each revision, pg_dump --schema-only after up then down is byte for byte
# the dump from before up. Also checks:
#   - every directory and meta file (header syntax and order, parents and
#     depends named earlier in the sequence, one author line, increasing
#     times, subject and body layout, final newline);
#   - verify.sql succeeds after every up (in the same transaction);
#   - a revision whose ancestors and dependencies are not all the revisions
#     before it in sequence order (one side of a branch) is checked again on
#     a database holding exactly those;
#   - the sides of each merge give the same schema in either order;
#   - up after down gives the same schema as up alone: the whole history up
#     in one go gives the schema the walk reached, and every down in reverse
#     order then gives back an empty schema.
# The history is applied in sequence (directory name) order, which this test
# requires to put parents and dependencies first.
#
# Env: PG_CLUSTER (default tests/pg-cluster.sh), MIGRATIONS (default
# migrations/), SCHEMA_TEST_PG_URL (a running cluster to use instead of
# starting one), T_MIG_JOBS (sessions of the walk, default 4), T_MIG_KEEP
# (keep the work directory). SCHEMA_BIN is not used: the SQL alone is tested.
# Exit status: 0 all good, 1 a check failed, 2 the setup failed.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
PG_CLUSTER=${PG_CLUSTER:-$top/tests/pg-cluster.sh}
MIGRATIONS=${MIGRATIONS:-$top/migrations}
me=${0##*/}

fail() {
	printf 'FAIL %s\n' "$*" >&2
	exit 1
}

setup_fail() {
	printf '%s: error: %s\n' "$me" "$*" >&2
	exit 2
}

[ -d "$MIGRATIONS" ] || setup_fail "no migrations directory '$MIGRATIONS'"
MIGRATIONS=$(cd "$MIGRATIONS" && pwd)
[ -f "$PG_CLUSTER" ] || setup_fail "no cluster script '$PG_CLUSTER'"
for prog in psql pg_dump awk diff; do
	command -v "$prog" >/dev/null || setup_fail "'$prog' is not installed"
done

# Only the URL decides where we connect.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE \
	PGSERVICEFILE PGOPTIONS PGSSLMODE PGTARGETSESSIONATTRS
export PGOPTIONS='-c client_min_messages=warning'

work=$(mktemp -d "${TMPDIR:-/tmp}/t_migrations_inverse.XXXXXX")
# Under tests/run.sh the cluster of the run (SCHEMA_TEST_PG_URL) is used,
# with databases named after this process; alone, the test starts its own.
shared=${SCHEMA_TEST_PG_URL:-}
dbp=tmi$$_
cluster=""
cluster_pid=""
declare -A pid=() rc=()
created=()
cleanup() {
	local p s drop=()
	for p in "${pid[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$cluster_pid" ]; then
		wait "$cluster_pid" 2>/dev/null || true
	fi
	if [ -n "$cluster" ]; then
		sh "$PG_CLUSTER" stop "$cluster" >/dev/null 2>&1 ||
			printf '%s: warning: could not stop the cluster in %s\n' "$me" "$cluster" >&2
	elif [ "${#created[@]}" -gt 0 ]; then
		for s in "${created[@]}"; do
			drop+=(-c "DROP DATABASE IF EXISTS $dbp$s WITH (FORCE)")
		done
		psql -X -q -d "$shared" "${drop[@]}" >/dev/null 2>&1 ||
			printf '%s: warning: could not drop the databases %s*\n' "$me" "$dbp" >&2
	fi
	if [ -n "${T_MIG_KEEP:-}" ]; then
		printf '%s: kept %s\n' "$me" "$work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ -n "$shared" ]; then
	printf '%s\n' "$shared" >"$work/url"
else
	# The cluster starts while the history is read.
	cluster=$(mktemp -d /tmp/t_mig_pg.XXXXXX)
	sh "$PG_CLUSTER" start "$cluster" >"$work/url" 2>"$work/cluster.log" &
	cluster_pid=$!
fi

# ---------------------------------------------------------------- the history

revs=()
for d in "$MIGRATIONS"/*/; do
	d=${d%/}
	# Only <digits>_<slug> directories are migrations (as for schema
	# itself); migrations/tasks/ holds the task-config versions.
	[[ ${d##*/} =~ ^[0-9]+_ ]] || continue
	revs+=("${d##*/}")
done
n=${#revs[@]}
[ "$n" -gt 0 ] || fail "no revisions in $MIGRATIONS"

declare -A idx=() parents=() depends=() notx=() when=()
for i in "${!revs[@]}"; do
	idx[${revs[$i]}]=$i
done

problems=""
problem() {
	problems+="$*"$'\n'
}

metas=()
for rev in "${revs[@]}"; do
	dir=$MIGRATIONS/$rev
	[[ $rev =~ ^[0-9]{4}_[a-z0-9]+(_[a-z0-9]+)*$ ]] ||
		problem "$rev: directory name is not NNNN_slug (lowercase, underscores)"
	for f in up.sql down.sql meta; do
		[ -f "$dir/$f" ] || problem "$rev: $f is missing"
	done
	for f in "$dir"/* "$dir"/.[!.]*; do
		[ -e "$f" ] || continue
		case ${f##*/} in
		up.sql | down.sql | verify.sql | meta) ;;
		*) problem "$rev: unexpected file ${f##*/}" ;;
		esac
	done
	[ -f "$dir/meta" ] || continue
	metas+=("$dir/meta")
	content=""
	IFS= read -r -d '' content <"$dir/meta" || true
	[ -z "$content" ] || [ "${content: -1}" = $'\n' ] ||
		problem "$dir/meta: does not end with a newline"
done

# One awk reads every meta: problems as "E msg", facts as "P rev parent",
# "D rev dependency", "X rev" (flag notx), "T rev unix-seconds".
meta_facts() {
	awk '
	function err(msg) { printf "E %s:%d: %s\n", FILENAME, FNR, msg }
	function errend(msg) { printf "E %s:%d: %s\n", file, lines, msg }
	function finish() {
		if (file == "") return
		if (state == "head") errend("no blank line and message after the headers")
		if (state == "subject") errend("no subject line")
		if (state == "body" && bodylines == 0) errend("blank line after the subject but no body")
		if (state == "body" && bodylines > 0 && lastline == "") errend("trailing blank lines")
		if (authors != 1) errend("needs exactly one author line, found " authors)
	}
	BEGIN {
		rank["parent"] = 1; rank["depends"] = 2; rank["label"] = 3
		rank["flag"] = 4; rank["author"] = 5
		revname = "^[0-9][0-9][0-9][0-9]_[a-z0-9_]+$"
	}
	FNR == 1 {
		finish()
		file = FILENAME; n = split(file, part, "/"); rev = part[n - 1]
		state = "head"; authors = 0; last = 0; bodylines = 0; lastline = ""
	}
	{ lines = FNR }
	/[ \t]$/ { err("trailing whitespace") }
	/\r/ { err("carriage return") }
	state == "head" && $0 == "" { state = "subject"; next }
	state == "head" {
		if (!($1 in rank)) { err("unknown header line: " $0); next }
		if (rank[$1] < last)
			err("header \"" $1 "\" out of order (parent, depends, label, flag, author)")
		last = rank[$1]
		if ($1 == "parent" || $1 == "depends") {
			if (NF != 2 || $2 !~ revname) err("bad " $1 " line: " $0)
			else print ($1 == "parent" ? "P " : "D ") rev " " $2
		} else if ($1 == "label") {
			if (NF != 2 || $2 !~ /^[a-z0-9][a-z0-9_.-]*$/) err("bad label line: " $0)
		} else if ($1 == "flag") {
			if (NF != 2 || ($2 != "notx" && $2 != "irreversible")) err("bad flag line: " $0)
			else if ($2 == "notx") print "X " rev
		} else {
			authors++
			if ($0 !~ /^author [^<> ][^<>]* <[^<> ]+@[^<> ]+> [0-9]+ [+-][0-9][0-9][0-9][0-9]$/)
				err("bad author line (author Name <email> <unix-seconds> <+hhmm>): " $0)
			else print "T " rev " " $(NF - 1)
		}
		next
	}
	state == "subject" {
		if ($0 == "") err("empty subject line")
		state = "gap"; next
	}
	state == "gap" {
		state = "body"
		if ($0 == "") next
		err("the body must be separated from the subject by one blank line")
	}
	{ bodylines++; lastline = $0 }
	END { finish() }' "${metas[@]}"
}

if [ "${#metas[@]}" -gt 0 ]; then
	while read -r kind rev arg; do
		case $kind in
		E) problem "$rev $arg" ;;
		P) parents[$rev]+="$arg " ;;
		D) depends[$rev]+="$arg " ;;
		X) notx[$rev]=1 ;;
		T) when[$rev]=$arg ;;
		esac
	done < <(meta_facts)
fi

prev_time=-1
for i in "${!revs[@]}"; do
	rev=${revs[$i]}
	for p in ${parents[$rev]:-} ${depends[$rev]:-}; do
		if [ -z "${idx[$p]+x}" ]; then
			problem "$rev: names $p, which is not a directory in migrations/"
		elif [ "${idx[$p]}" -ge "$i" ]; then
			problem "$rev: names $p, which does not come before it in sequence order"
		fi
	done
	t=${when[$rev]:-}
	if [ -n "$t" ]; then
		[ "$t" -gt "$prev_time" ] ||
			problem "$rev: author time $t is not after the one before ($prev_time)"
		prev_time=$t
	fi
done
[ -z "$problems" ] || fail "the history in $MIGRATIONS is malformed:"$'\n'"$problems"

# closure[i]: a string of 0/1, one per revision in sequence order, marking
# everything revision i needs applied before it (ancestors and dependencies,
# transitively). Parents come earlier in the sequence, so one pass suffices.
printf -v zeros '%*s' "$n" ''
zeros=${zeros// /0}
declare -a closure=()
for i in "${!revs[@]}"; do
	c=$zeros
	for p in ${parents[${revs[$i]}]:-} ${depends[${revs[$i]}]:-}; do
		j=${idx[$p]}
		pc=${closure[$j]}
		c=${c:0:j}1${c:j+1}
		for ((k = 0; k < j; k++)); do
			if [ "${pc:k:1}" = 1 ]; then
				c=${c:0:k}1${c:k+1}
			fi
		done
	done
	closure[i]=$c
done

is_merge() {
	local p
	read -r -a p <<<"${parents[$1]:-}"
	[ "${#p[@]}" -ge 2 ]
}

# ---------------------------------------------------------------- the scripts

# A psql process and its connection cost about 0.1 s, a pg_dump about 0.2 s:
# so each database is driven by one psql session running a generated script,
# which dumps the schema with \! pg_dump at each point of interest. The
# sessions run side by side; their dumps are compared once they are over.

url_base=""
url_query=""
dburl() { # DB -> $REPLY
	REPLY="$url_base/$1?$url_query"
}

pq() { # quote for a psql meta-command argument -> $REPLY
	REPLY="'${1//\'/\'\'}'"
}

sq() { # quote for sh -> $REPLY
	REPLY="'${1//\'/\'\\\'\'}'"
}

emit_script() { # REV up|down: one step in its own transaction unless notx
	local rev=$1 what=$2 d=$MIGRATIONS/$1
	printf '\\echo @ %s/%s.sql\n' "$rev" "$what"
	if [ -z "${notx[$rev]:-}" ]; then
		printf 'BEGIN;\n'
	fi
	pq "$d/$what.sql"
	printf '\\i %s\n' "$REPLY"
	if [ "$what" = up ] && [ -f "$d/verify.sql" ]; then
		printf '\\echo @ %s/verify.sql\n' "$rev"
		pq "$d/verify.sql"
		printf '\\i %s\n' "$REPLY"
	fi
	if [ -z "${notx[$rev]:-}" ]; then
		printf 'COMMIT;\n'
	fi
}

# The URL is known only once the cluster is up: the scripts take it from the
# environment (T_MIG_BASE, T_MIG_QUERY) that psql hands down to \!.
emit_dump() { # DB NAME: the schema of DB into $work/NAME.raw
	local u f l x
	u="\"\$T_MIG_BASE/$dbp$1?\$T_MIG_QUERY\""
	sq "$work/$2.raw"
	f=$REPLY
	sq "$work/dump.log"
	l=$REPLY
	sq "$work/$2.failed"
	x=$REPLY
	printf '\\! pg_dump --schema-only -d %s -f %s 2>>%s || : >%s\n' "$u" "$f" "$l" "$x"
}

emit_check() { # DB REV NAME: up, down, dump NAME.down, up again
	emit_script "$2" up
	emit_script "$2" down
	emit_dump "$1" "$3.down"
	emit_script "$2" up
}

# The walk: every revision in sequence order, checked on top of all the
# revisions before it. It is cut into T_MIG_JOBS (default 4) pieces that run
# side by side; each piece starts by applying the revisions before it once,
# without checks. Dumps: w.I.before, w.I.down; after[I] names the dump of
# the schema once revision I went up, down and up again.
sessions=()
jobs=${T_MIG_JOBS:-4}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || setup_fail "T_MIG_JOBS must be a positive number"
[ "$jobs" -le "$n" ] || jobs=$n
walk_of=() after=() cuts=()
for ((c = 0; c < jobs; c++)); do
	from=$((n * c / jobs))
	to=$((n * (c + 1) / jobs))
	db=walk$c
	sessions+=("$db")
	[ "$c" = 0 ] || cuts+=("$from")
	{
		for ((i = 0; i < from; i++)); do
			emit_script "${revs[$i]}" up
		done
		emit_dump "$db" "w.$from.before"
		for ((i = from; i < to; i++)); do
			emit_check "$db" "${revs[$i]}" "w.$i"
			walk_of[i]=$db
			after[i]=w.$((i + 1)).before
			if [ "$((i + 1))" = "$to" ] && [ "$to" != "$n" ]; then
				after[i]=w.$to.again
			fi
			emit_dump "$db" "${after[$i]}"
		done
	} >"$work/$db.psql"
done

declare -A iso=() alt=()
for i in "${!revs[@]}"; do
	rev=${revs[$i]}
	# A revision that needs less than every revision before it (it sits on
	# one side of a branch) is checked again on exactly what it needs.
	printf -v prefix '%*s' "$i" ''
	prefix=${prefix// /1}${zeros:i}
	if [ "${closure[$i]}" != "$prefix" ]; then
		iso[$i]=1
		{
			for ((k = 0; k < i; k++)); do
				if [ "${closure[$i]:k:1}" = 1 ]; then
					emit_script "${revs[$k]}" up
				fi
			done
			emit_dump "iso$i" "iso$i.before"
			emit_check "iso$i" "$rev" "iso$i"
		} >"$work/iso$i.psql"
		sessions+=("iso$i")
	fi
	# A merge: its closure again, taking at each step the highest sequence
	# number that is ready, so that the sides go in the other order.
	if is_merge "$rev"; then
		alt[$i]=1
		applied=$zeros
		{
			while :; do
				pick=-1
				for ((k = i; k >= 0; k--)); do
					[ "${applied:k:1}" = 0 ] || continue
					[ "$k" = "$i" ] || [ "${closure[$i]:k:1}" = 1 ] || continue
					ready=1
					for p in ${parents[${revs[$k]}]:-} ${depends[${revs[$k]}]:-}; do
						[ "${applied:${idx[$p]}:1}" = 1 ] || ready=0
					done
					if [ "$ready" = 1 ]; then
						pick=$k
						break
					fi
				done
				[ "$pick" -ge 0 ] || break
				emit_script "${revs[$pick]}" up
				applied=${applied:0:pick}1${applied:pick+1}
			done
			emit_dump "alt$i" "alt$i.end"
		} >"$work/alt$i.psql"
		sessions+=("alt$i")
	fi
done

# The whole history up, then every down in reverse order.
{
	emit_dump whole whole.empty
	for rev in "${revs[@]}"; do
		emit_script "$rev" up
	done
	emit_dump whole whole.up
	for ((i = n - 1; i >= 0; i--)); do
		emit_script "${revs[$i]}" down
	done
	emit_dump whole whole.down
} >"$work/whole.psql"
sessions+=(whole)

# ---------------------------------------------------------------- the runs

if [ -n "$cluster_pid" ] && ! wait "$cluster_pid"; then
	cluster_pid=""
	setup_fail "cannot start a cluster with $PG_CLUSTER: $(cat "$work/cluster.log")"
fi
cluster_pid=""
url=$(cat "$work/url")
url_base=${url%%\?*}
url_base=${url_base%/*}
url_query=${url#*\?}
[ "$url_base" != "$url" ] ||
	setup_fail "unexpected URL '$url' (want postgresql://USER@/DB?host=DIR)"

export T_MIG_BASE=$url_base T_MIG_QUERY=$url_query
create=()
for s in "${sessions[@]}"; do
	create+=(-c "CREATE DATABASE $dbp$s")
done
created=("${sessions[@]}")
psql -X -q -v ON_ERROR_STOP=1 -d "$url" "${create[@]}" >"$work/create.log" 2>&1 ||
	setup_fail "cannot create the test databases: $(cat "$work/create.log")"

for s in "${sessions[@]}"; do
	dburl "$dbp$s"
	psql -X -q -v ON_ERROR_STOP=1 -d "$REPLY" -f "$work/$s.psql" \
		>"$work/$s.log" 2>&1 &
	pid[$s]=$!
done
for s in "${sessions[@]}"; do
	if wait "${pid[$s]}"; then rc[$s]=0; else rc[$s]=$?; fi
	unset "pid[$s]"
done

# ---------------------------------------------------------------- the verdict

session_failed() { # SESSION: report where its script stopped
	[ "${rc[$1]}" != 0 ] || fail "internal: session $1 succeeded but a dump is missing"
	fail "$(awk '/^@ / { at = $2; buf = ""; next } { buf = buf $0 "\n" }
		END { printf "%s failed on database '"$1"':\n%s", at, buf }' "$work/$1.log")"
}

ready() { # NAME: the filtered dump exists
	local f=$work/$1
	[ ! -e "$f.failed" ] || fail "pg_dump failed: $(head -n 5 "$work/dump.log")"
	[ -f "$f.raw" ] || return 1
	# Recent pg_dump releases (15.14 and later) frame the dump with
	# \restrict and \unrestrict lines that carry a random key.
	if [ ! -f "$f.sql" ]; then
		grep -v -e '^\\restrict ' -e '^\\unrestrict ' "$f.raw" >"$f.sql" || true
	fi
}

same() { # SESSION A B MESSAGE
	ready "$2" || session_failed "$1"
	ready "$3" || session_failed "$1"
	if ! diff -u "$work/$2.sql" "$work/$3.sql" >"$work/diff" 2>&1; then
		fail "$4:"$'\n'"$(head -n 60 "$work/diff")"
	fi
}

inverse() { # SESSION NAME REV
	same "$1" "$2.before" "$2.down" \
		"$3: down.sql does not restore the schema from before up.sql (- before up, + after down)"
}

for i in "${!revs[@]}"; do
	rev=${revs[$i]}
	note=""
	inverse "${walk_of[$i]}" "w.$i" "$rev"
	post=${after[$i]}
	ready "$post" || session_failed "${walk_of[$i]}"
	if ! is_merge "$rev" && cmp -s "$work/w.$i.before.sql" "$work/$post.sql"; then
		note+=" (up.sql changes no schema object)"
	fi
	if [ -n "${iso[$i]:-}" ]; then
		inverse "iso$i" "iso$i" "$rev"
		note+=" (also alone on its ancestors and dependencies)"
	fi
	if [ -n "${alt[$i]:-}" ]; then
		same "alt$i" "$post" "alt$i.end" \
			"$rev: its sides give different schemas in the other order (- sequence order, + other order)"
		note+=" (sides agree in either order)"
	fi
	printf 'ok %s%s\n' "$rev" "$note"
done

# Where a piece of the walk ended (every up, down and up again) is where the
# next one started (every up once).
for cut in "${cuts[@]}"; do
	same "${walk_of[$cut]}" "w.$cut.again" "w.$cut.before" \
		"${revs[$((cut - 1))]} and before: up.sql after down.sql gives another schema than up.sql alone (- again, + once)"
done
same whole "w.$n.before" whole.up \
	"every up in one go gives another schema than the walk (- walk, + in one go)"
same whole whole.empty whole.down \
	"every down in reverse order does not give back an empty schema (- empty, + after)"
for s in "${sessions[@]}"; do
	[ "${rc[$s]}" = 0 ] || session_failed "$s"
done
printf 'ok all %d ups, then all %d downs in reverse order, back to an empty schema\n' "$n" "$n"
