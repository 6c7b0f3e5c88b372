#!/bin/bash
# History commands against the real binary: the happy path and every bad
# input of the foundation issue, each with its message, exit status, and
# an unchanged store.
. "$(dirname "$0")/lib.sh"

# --- no repository
mkdir -p "$T/empty" && cd "$T/empty"
expect_status 4 "$S" log && expect_err "no repository found" && one_line_error \
	&& check "no repository: exit 4, one line, hint"
expect_err "hint: run 'schema init'" && check "no repository: hint names init"
expect_status 4 "$S" --repo "$T/nowhere" heads && expect_err "no repository at" \
	&& check "--repo naming nothing: exit 4"

# --- a history with a branch and a merge
make_history "$T/h" || { echo "not ok make_history"; exit 1; }
cd "$T/h"
expect_status 0 "$S" log --oneline && [ "$(echo "$out" | wc -l)" = 5 ] \
	&& check "log --oneline lists the 5 revisions" || fail "log lines"
expect_status 0 "$S" log --graph --oneline && expect_out "|\\" && expect_out "|/" \
	&& check "log --graph draws the branch and the merge"
expect_status 0 "$S" heads && [ "$(echo "$out" | wc -l)" = 1 ] \
	&& check "one head after the merge" || fail "heads count"
expect_status 0 "$S" log --oneline main~1..main && [ "$(echo "$out" | wc -l)" = 2 ] \
	&& check "A..B shows what B has and A lacks" || fail "range"
expect_status 0 "$S" log --json -n 1 && expect_out '"subject": "merge feat"' \
	&& check "log --json"
# every revision has one author time here: -n must still give the order
# of the whole log, not pop a shared parent before its other child
all=$("$S" log --oneline)
for k in 2 3 4 5; do
	[ "$("$S" log --oneline -n $k)" = "$(printf '%s\n' "$all" | head -n $k)" ] \
		|| fail "log -n $k differs from the head of log"
done
check "log -n N is the head of log, also with equal author times"
expect_status 0 "$S" show head^2 && expect_out "feature work" && expect_out "--- up.sql" \
	&& check "show head^2 names the second parent"
expect_status 0 "$S" show 0002_add_email && expect_out "ALTER TABLE users ADD email" \
	&& check "a migration directory name is a spec"
expect_status 0 "$S" fsck && check "fsck on a clean store"
expect_status 0 "$S" branch && expect_out "* main" && expect_out "  feat" \
	&& check "branch lists with * before the current one"
expect_status 0 "$S" tag v1 head~1 && expect_status 0 "$S" tag && expect_out v1 \
	&& check "tag create and list"
expect_status 0 "$S" log --oneline -n 1 v1 && expect_out "add name" \
	&& check "tag as spec"
id=$("$S" log --oneline -n 1 | cut -c1-8)
expect_status 0 "$S" show "$id" && check "8-digit prefix resolves"

# --- unknown and ambiguous specs
expect_status 4 "$S" show nope && expect_err "unknown revision 'nope'" \
	&& expect_err "hint: branches: feat, main" && check "unknown spec: exit 4, candidates hinted"
"$S" branch v1 head >/dev/null
expect_status 4 "$S" show v1 && expect_err "'v1' is ambiguous: branch v1, tag v1" \
	&& one_line_error && check "branch and tag of one name: ambiguous, both listed"
"$S" branch -d v1 >/dev/null
d0=$(store_digest)
expect_status 2 "$S" show 'head~x' && check "malformed suffix: usage error"
expect_status 4 "$S" show 'head~99' && expect_err "goes past the root" && check "~N past the root"
expect_status 4 "$S" show 'head^3' && expect_err "has 2 parents, not 3" && check "^N past the parents"
expect_status 4 "$S" show ab && expect_err "unknown revision 'ab'" && check "a 2-digit prefix is no id"
[ "$d0" = "$(store_digest)" ] && check "failed lookups change nothing" || fail "store changed"
d1=$(store_digest)

# --- invalid ref names
for bad in 'a..b' 'x.lock' 'a b' 'head' 'a~1' 'x/' 'a^' '@'; do
	expect_status 2 "$S" branch "$bad" && expect_err "valid ref" && one_line_error \
		&& check "branch '$bad' refused"
done
expect_status 2 "$S" branch -- -x && expect_err "valid ref" && check "branch '-x' refused"
expect_status 2 "$S" tag 'bad:name' && check "tag with ':' refused"
[ "$d1" = "$(store_digest)" ] && check "refused names change nothing" || fail "store changed by refused name"
expect_status 4 "$S" branch feat && expect_err "already exists" && check "existing branch refused"
expect_status 1 "$S" branch -d main && expect_err "current branch" && check "current branch not deleted"

# --- malformed meta: file and line named, store unchanged
"$S" new "bad meta" >/dev/null
dir=$(ls -d migrations/*_bad_meta)
printf 'parent 0005_merge_feat\nbogus value\n\nbad meta\n' >"$dir/meta"
d2=$(store_digest)
expect_status 4 "$S" commit && expect_err "$dir/meta:2: unknown header 'bogus'" && one_line_error \
	&& check "malformed meta names file and line"
printf 'parent 0005_merge_feat\nauthor nobody\n\nbad meta\n' >"$dir/meta"
expect_status 4 "$S" commit && expect_err "meta:2: author must be" && check "bad author line"
printf 'parent 0005_merge_feat\n' >"$dir/meta"
expect_status 4 "$S" commit && expect_err "message" && check "meta without a message"
printf 'parent 0099_missing\n\nbad meta\n' >"$dir/meta"
expect_status 4 "$S" commit && expect_err "parent '0099_missing' does not exist" && one_line_error \
	&& check "missing parent named"
printf 'parent deadbeef\n\nbad meta\n' >"$dir/meta"
expect_status 4 "$S" commit && expect_err "parent 'deadbeef' does not exist" && check "unknown parent id"
printf 'flag fast\n\nbad meta\n' >"$dir/meta"
expect_status 4 "$S" commit && expect_err "unknown flag 'fast'" && check "unknown flag"
printf 'parent 0005_merge_feat\n\nbad meta\n' >"$dir/meta"
rm "$dir/up.sql"
expect_status 4 "$S" commit && expect_err "up.sql is missing" && check "missing up.sql named"
[ "$d2" = "$(store_digest)" ] && check "failed commits change nothing" || fail "store changed by failed commit"
rm -rf "$dir"

# --- a committed directory edited afterwards
echo "ALTER TABLE users ADD email varchar(200);" >migrations/0002_add_email/up.sql
d3=$(store_digest)
expect_status 1 "$S" commit && expect_err "0002_add_email was edited after it was committed" \
	&& expect_err "--new-revision" && check "edited directory refused"
[ "$d3" = "$(store_digest)" ] && check "refused edit changes nothing" || fail "store changed"
expect_status 0 "$S" commit --new-revision && check "--new-revision records the edit"
expect_status 0 "$S" show 0002_add_email && expect_out "varchar(200)" && check "the directory now names the new revision"
expect_status 0 "$S" fsck && check "fsck after re-recording"

# --- a corrupted object: a flipped byte in a stored value
make_history "$T/c" >/dev/null
cd "$T/c"
id=$("$S" log --oneline --full -n 1 | cut -d' ' -f1)
mdb_dump -s objects .schema/store >"$T/dump"
awk -v key=" $id" '
	prev == key && !done { c = substr($0, length($0), 1); r = (c == "0") ? "1" : "0";
		$0 = substr($0, 1, length($0) - 1) r; done = 1 }
	{ print; prev = $0 }' "$T/dump" >"$T/dump2"
cmp -s "$T/dump" "$T/dump2" && fail "could not flip a byte"
mdb_load -s objects -f "$T/dump2" .schema/store 2>/dev/null
expect_status 4 "$S" show "$id" && expect_err "is corrupt" && one_line_error \
	&& check "reading a corrupted object fails with exit 4"
expect_status 1 "$S" fsck && expect_out "corrupt $id" && check "fsck names the corrupted id, exit 1"

# --- LMDB map full and disk full: nothing half-written
cd "$T/h"
"$S" new "big" >/dev/null
dir=$(ls -d migrations/*_big)
# large and incompressible, and SQL: commit parses every script
{ printf "SELECT '"; head -c 3000000 /dev/urandom | base64; printf "';\n"; } >"$dir/up.sql"
d4=$(store_digest)
SCHEMA_MAP_SIZE=1048576 expect_status 4 "$S" commit && expect_err "store is full" && one_line_error \
	&& check "a full LMDB map: exit 4"
[ "$d4" = "$(store_digest)" ] && check "map full changes nothing" || fail "store changed by map full"
size=$(stat -c %s .schema/store/data.mdb)
blocks=$(( size / 512 + 8 ))
run bash -c "trap '' XFSZ; ulimit -f $blocks; exec \"$S\" commit"
[ "$status" = 4 ] && expect_err "store is full" && check "a full disk (file size limit): exit 4" || fail "disk full status"
[ "$d4" = "$(store_digest)" ] && check "disk full changes nothing" || fail "store changed by disk full"
expect_status 0 "$S" fsck && check "fsck clean after the failed writes"
expect_status 0 "$S" commit -q && check "the same commit succeeds with room"
rm -rf "$dir"

# --- two commits at once: one waits, neither loses work
cd "$T/h"
cat >.schema/hooks/pre-commit <<'HOOK'
#!/bin/sh
sleep 1
HOOK
chmod +x .schema/hooks/pre-commit
"$S" new "first concurrent" >/dev/null
"$S" new "second concurrent" >/dev/null
"$S" commit -q & p1=$!
sleep 0.2
"$S" commit -q & p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
rm .schema/hooks/pre-commit
[ "$s1" = 0 ] && [ "$s2" = 0 ] && check "two concurrent commits both succeed" || fail "concurrent commit status $s1 $s2"
expect_status 0 "$S" log --oneline -n 2 && expect_out "second concurrent" && expect_out "first concurrent" \
	&& check "both revisions are on the branch"
expect_status 0 "$S" fsck && check "fsck after concurrent commits"

# --- usage errors
expect_status 2 "$S" log --bogus && expect_err "unknown option '--bogus'" && one_line_error \
	&& check "unknown option: exit 2"
expect_status 2 "$S" frobnicate && check "unknown command: exit 2"
expect_status 2 "$S" merge a && check "merge with one revision: exit 2"
expect_status 2 "$S" new && expect_err "needs a message" && check "new without message"
expect_status 4 "$S" init && expect_err "already exists" && check "init twice refused"
finish
