#!/bin/bash
# Encrypted snapshots and snapshots as a side of diff, against a real
# PostgreSQL: backup keys, an encrypted round trip of the example history
# with data, restore without a key and with a wrong key (target untouched),
# a tampered chunk and a tampered manifest, fsck and gc without the key,
# deduplication across encrypted backups, the environment's key file,
# diff between a snapshot, a revision and the live database, an old
# manifest without a state, and the exit status of bad input.
. "$(dirname "$0")/lib.sh"
pg_setup
unset SCHEMA_BACKUP_KEY_FILE

digest() {
	local url=$1 t
	for t in $(psql -X -At "$url" -c "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename)
		FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'schema_restore')
		ORDER BY 1"); do
		printf '%s ' "$t"
		psql -X -At "$url" -c "COPY (SELECT * FROM $t x ORDER BY x::text) TO STDOUT" | sha256sum | cut -c1-16
	done
	psql -X -At "$url" -c "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"
	pg_dump --schema-only "$url" | grep -v '^\\\(un\)\?restrict\|^--\|^$'
}
url_of() { printf '%s' "$ADMIN_URL" | sed "s|/postgres?|/t$$_$1?|"; }
emptydb() {
	psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS t$$_$1" -c "CREATE DATABASE t$$_$1" >/dev/null
	cleanup_hooks+=("psql -X -q '$ADMIN_URL' -c 'DROP DATABASE IF EXISTS t$$_$1 WITH (FORCE)' >/dev/null 2>&1")
}
# untouched URL: nothing in the database but what CREATE DATABASE made
untouched() {
	[ "$(psql -X -At "$1" -c "SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('public', 'information_schema')")" = 0 ] \
	&& [ "$(psql -X -At "$1" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")" = 0 ]
}
snap_json() { "$S" snapshots --json --full; }
stored_objects() { mdb_stat -s objects .schema/store | sed -n 's/ *Entries: //p'; }

# --- backup keys (no repository needed)
expect_status 0 "$S" key generate --backup "$T/backup.key" && expect_out "generated backup key" \
	&& check "key generate --backup makes a key file"
[ "$(stat -c %a "$T/backup.key")" = 600 ] && check "the key file is 0600" || fail "key file mode"
grep -qxE '[0-9a-f]{64}' "$T/backup.key" && [ "$(wc -c <"$T/backup.key")" = 65 ] \
	&& check "the key file is 64 hex digits and a newline" || fail "key file format"
kid=$(printf '%s' "$out" | sed -n 's/generated backup key \([0-9a-f]*\) .*/\1/p')
before=$(sha256sum <"$T/backup.key")
expect_status 4 "$S" key generate --backup "$T/backup.key" && expect_err "already exists" && one_line_error \
	&& check "it never overwrites a key file, exit 4"
[ "$before" = "$(sha256sum <"$T/backup.key")" ] && check "the key is unchanged" || fail "key overwritten"
expect_status 2 "$S" key generate --backup "$T/k2" --name x && one_line_error && check "--backup with --name: exit 2"
expect_status 0 "$S" key generate --backup "$T/other.key" && check "a second, different key"

make_example "$T/repo" || { echo "not ok make_example"; exit 1; }
cd "$T/repo"
newdb app
expect_status 0 "$S" checkout -q head && check "example history applied"
sql "INSERT INTO users (email, password_hash, full_name)
	SELECT 'u' || g || '@example.com', md5(g::text), 'Üser ' || g FROM generate_series(1, 3000) g;
INSERT INTO tasks (user_id, name, config, status)
	SELECT 1 + g % 3000, 'task ' || g, jsonb_build_object('url', 'https://e.com/' || g, 'n', g),
	(ARRAY['pending','queued','running','succeeded'])[1 + g % 4]::task_status FROM generate_series(1, 6000) g;
INSERT INTO api_keys (user_id, name, key_prefix, key_hash)
	SELECT g, 'key', 'sk_' || g, sha256(g::text::bytea) FROM generate_series(1, 500) g;
INSERT INTO usage_records (user_id, pages, bandwidth_bytes)
	SELECT 1 + g % 3000, g % 100, g * 1000 FROM generate_series(1, 20000) g;" >/dev/null
digest "$DB_URL" >"$T/a1"

# --- bad keys and no key
n0=$(stored_objects)
expect_status 2 "$S" backup --encrypt && expect_err "needs a backup key" && one_line_error \
	&& check "--encrypt without a key: exit 2"
SCHEMA_BACKUP_KEY_FILE=$T/nope expect_status 2 "$S" backup --encrypt && expect_err "'$T/nope'" && one_line_error \
	&& check "a missing key file is named, exit 2"
cp "$T/backup.key" "$T/open.key" && chmod 644 "$T/open.key"
SCHEMA_BACKUP_KEY_FILE=$T/open.key expect_status 2 "$S" backup --encrypt && expect_err "accessible by others" \
	&& expect_err "chmod 600" && check "a key file others can read is refused, exit 2"
printf 'not a key\n' >"$T/bad.key" && chmod 600 "$T/bad.key"
SCHEMA_BACKUP_KEY_FILE=$T/bad.key expect_status 2 "$S" backup --encrypt && expect_err "not a backup key" \
	&& one_line_error && check "a malformed key file: exit 2"
[ "$(stored_objects)" = "$n0" ] && check "refused backups store nothing" || fail "objects stored by a refused backup"

# --- an encrypted backup and its round trip
export SCHEMA_BACKUP_KEY_FILE=$T/backup.key
expect_status 0 "$S" backup --encrypt -m "secret note" && expect_err "encrypted with key $kid" \
	&& check "backup --encrypt"
enc1=$out
unset SCHEMA_BACKUP_KEY_FILE
expect_status 0 "$S" snapshots && expect_out "$enc1" && expect_out "(encrypted)" && expect_out "key $kid" \
	&& check "snapshots marks it encrypted and names its key"
case "$out" in *"secret note"*) fail "the note is listed in clear" ;; *) check "its note stays sealed" ;; esac
expect_status 0 "$S" snapshots --json && expect_out '"encrypted": true' && expect_out '"database": null' \
	&& check "snapshots --json: encrypted, and what it seals is null"
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 0 "$S" snapshots --json && expect_out '"database": "t'"$$"'_app"' \
	&& expect_out '"note": "secret note"' && check "with the key, snapshots shows it whole"
enc1_full=$(snap_json | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | grep "^$enc1")
# every stored object, inflated: the rows, the note, the database's name
# and the data's DDL appear nowhere (the migrations' own scripts do)
mdb_dump -s objects .schema/store >"$T/objs"
python3 - "$T/objs" "t$$_app" <<'PY' && check "no row, note, name or dump in clear in the store" || fail "plaintext found in the store"
import sys, zlib
vals = [l[1:] for l in open(sys.argv[1]).read().split("\n")[4:] if l.startswith(" ")][1::2]
needles = ["Üser 17".encode(), b"@example.com", b"secret note", sys.argv[2].encode(), b"COPY public.users", b"pg_dump"]
for v in vals:
    b = bytes.fromhex(v)
    body = zlib.decompress(b[1:]) if b[:1] == b"z" else b[1:]
    for n in needles:
        if n in body:
            print("found", n, "in", body[:40])
            sys.exit(1)
PY

# restore without a key: refused before the target is touched
emptydb copy
expect_status 2 "$S" restore "$enc1" --into "$(url_of copy)" && expect_err "snapshot $enc1 is encrypted and no key was given" \
	&& one_line_error && check "restore without a key: one line naming the snapshot, exit 2"
untouched "$(url_of copy)" && check "the target is untouched" || fail "restore without a key touched the target"
# not even connected to: an unreachable target gives the same answer
expect_status 2 "$S" restore "$enc1" --into "postgresql:///nope?host=$T/none" && expect_err "no key was given" \
	&& check "the key is checked before connecting"
SCHEMA_BACKUP_KEY_FILE=$T/other.key expect_status 1 "$S" restore "$enc1" --into "$(url_of copy)" \
	&& expect_err "wrong key for snapshot $enc1" && one_line_error && check "restore with a wrong key: exit 1"
untouched "$(url_of copy)" && check "the target is untouched" || fail "restore with a wrong key touched the target"
SCHEMA_BACKUP_KEY_FILE=$T/other.key expect_status 1 "$S" restore "$enc1" --into "postgresql:///nope?host=$T/none" \
	&& expect_err "wrong key" && check "the wrong key is found before connecting"
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 0 "$S" restore -q "$enc1" --into "$(url_of copy)" \
	&& check "restore with the key"
digest "$(url_of copy)" >"$T/a2"
cmp -s "$T/a1" "$T/a2" && check "every row, sequence and definition is restored" \
	|| { fail "restored database differs"; diff "$T/a1" "$T/a2" | head -20; }

# --- fsck and gc without the key
expect_status 0 "$S" fsck && check "fsck is clean on an encrypted store without the key"
expect_status 0 "$S" gc && expect_out "freed 0 objects" && check "gc keeps every encrypted chunk"
emptydb after_gc
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 0 "$S" restore -q "$enc1" --into "$(url_of after_gc)" \
	&& check "the encrypted snapshot restores after gc"
digest "$(url_of after_gc)" >"$T/a3"
cmp -s "$T/a1" "$T/a3" && check "completely" || fail "restore after gc differs"

# --- a second encrypted backup deduplicates
export SCHEMA_BACKUP_KEY_FILE=$T/backup.key
expect_status 0 "$S" backup -q --encrypt --level 6 && check "a second encrypted backup (another level)"
enc2=$out
first=$(snap_json | grep -A30 "\"$enc1" | sed -n 's/.*"stored_bytes": \([0-9]*\).*/\1/p' | head -n 1)
added=$(snap_json | grep -A30 "\"$enc2" | sed -n 's/.*"added_bytes": \([0-9]*\).*/\1/p' | head -n 1)
if [ -n "$first" ] && [ -n "$added" ] && [ $((added * 20)) -lt "$first" ]; then
	check "it adds $added bytes, under 5% of $first (the DDL and manifest)"
else
	fail "second encrypted backup added '$added' of '$first'"
fi
expect_status 0 "$S" backup -q && check "a plain backup of the same database"
plain=$out
unset SCHEMA_BACKUP_KEY_FILE

# --- tampering
mdb_dump -s objects .schema/store >"$T/dump"
# flip a byte in a sealed chunk (stored raw: 'r' "chunk " is 72 6368756e6b20)
awk '/^ 726368756e6b20/ && length($0) > 20000 && !done { c = substr($0, 400, 1); r = (c == "0") ? "1" : "0";
	$0 = substr($0, 1, 399) r substr($0, 401); done = 1 } { print }' "$T/dump" >"$T/dump2"
cmp -s "$T/dump" "$T/dump2" && fail "could not flip a byte of a chunk"
mdb_load -s objects -f "$T/dump2" .schema/store 2>/dev/null
expect_status 1 "$S" fsck -q && expect_out "corrupt" && check "fsck sees the tampered chunk without the key"
emptydb victim
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 4 "$S" restore -q "$enc1" --into "$(url_of victim)" \
	&& expect_err "damaged" && one_line_error && check "restore of a tampered encrypted snapshot: exit 4"
untouched "$(url_of victim)" && check "the target is untouched" || fail "a tampered restore wrote to the target"
mdb_load -s objects -f "$T/dump" .schema/store 2>/dev/null
expect_status 0 "$S" fsck -q && check "fsck clean after repair"
# a sealed manifest re-sealed under another id: its box no longer authenticates
forged=$(python3 - "$enc1_full" "$T/dump" 2>&1 >"$T/forged.txt" <<'PY'
import hashlib, sys
want = sys.argv[1]
lines = open(sys.argv[2]).read().split("\n")
i = lines.index(" " + want)
val = bytes.fromhex(lines[i + 1][1:])
assert val[:1] == b"r"
raw = val[1:]
hdr, body = raw.split(b"\0", 1)
body = body.replace(b"sealed-snapshot 1\ntime ", b"sealed-snapshot 1\ntime 1", 1)
body = body[:-1] + bytes([body[-1] ^ 1])
raw = b"snap %d\0" % len(body) + body
oid = hashlib.blake2b(raw, digest_size=32).hexdigest()
print("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END")
print(" " + oid)
print(" " + (b"r" + raw).hex())
print("DATA=END")
sys.stderr.write(oid)
PY
)
mdb_load -s objects -f "$T/forged.txt" .schema/store
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n \nDATA=END\n' "$forged" | mdb_load -s snapshots .schema/store
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 4 "$S" restore -q "$forged" --into "$(url_of victim)" \
	&& expect_err "does not authenticate" && one_line_error && check "a tampered sealed manifest is caught: exit 4"
untouched "$(url_of victim)" && check "the target is untouched" || fail "a forged manifest touched the target"
expect_status 0 "$S" snapshots --delete "$forged" >/dev/null && "$S" gc -q && check "the forgery is dropped"

# --- gc of a deleted encrypted snapshot keeps what another one shares
expect_status 0 "$S" snapshots --delete "$enc1" && expect_status 0 "$S" gc && check "gc after deleting the first"
emptydb shared
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 0 "$S" restore -q "$enc2" --into "$(url_of shared)" \
	&& check "the second, which shares its chunks, still restores"
digest "$(url_of shared)" >"$T/a4"
cmp -s "$T/a1" "$T/a4" && check "completely" || fail "restore after gc differs"
expect_status 0 "$S" fsck && check "fsck clean"

# --- an environment's backup-key-file
cp "$T/backup.key" .schema/prod.key && chmod 600 .schema/prod.key
cat >>.schema/config <<EOF
[env "production"]
	url = $DB_URL
	backup-key-file = .schema/prod.key
EOF
expect_status 0 "$S" backup -q --env production && check "backup of an environment with a key file"
envsnap=$out
snap_json | grep -A3 "\"$envsnap" | grep -q '"encrypted": true' && check "is encrypted without --encrypt" \
	|| fail "an environment with a key file made a plain backup"
emptydb envcopy
cat >>.schema/config <<EOF
[env "copy"]
	url = $(url_of envcopy)
	backup-key-file = .schema/prod.key
EOF
expect_status 0 "$S" restore -q "$envsnap" --env copy && check "restore finds the environment's key"
expect_status 0 "$S" checkout -q --env production --yes head && check "production checkout"
last=$(snap_json | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | tail -n 1)
snap_json | grep -A3 "\"$last" | grep -q '"encrypted": true' && check "its automatic backup is encrypted" \
	|| fail "automatic backup not encrypted"

# --- diff: a snapshot against a revision and the live database
expect_status 0 "$S" diff "$plain" head && check "diff snapshot head: the same state"
expect_status 0 "$S" diff "$plain" && check "diff snapshot live: no drift"
expect_status 0 "$S" diff head "$plain" && check "either side"
sql "ALTER TABLE users ADD nickname text" >/dev/null
expect_status 1 "$S" diff "$plain" && expect_out "+  column nickname text" && check "diff snapshot live shows the drift"
expect_status 1 "$S" diff "$plain" --name-only && expect_out "table public.users" && check "--name-only"
expect_status 2 "$S" diff "$enc2" && expect_err "no key was given" && one_line_error \
	&& check "diff of an encrypted snapshot without the key: exit 2"
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 1 "$S" diff "$enc2" && expect_out "nickname" \
	&& check "with the key, diff encrypted-snapshot live"
SCHEMA_BACKUP_KEY_FILE=$T/backup.key expect_status 0 "$S" diff "snapshot:$enc2" "$plain" \
	&& check "diff of two snapshots, snapshot:<id> form"
SCHEMA_BACKUP_KEY_FILE=$T/other.key expect_status 1 "$S" diff "$enc2" head && expect_err "wrong key" \
	&& one_line_error && check "a wrong key: exit 1"
sql "ALTER TABLE users DROP nickname" >/dev/null
expect_status 4 "$S" diff snapshot:ffffffff head && one_line_error && check "an unknown snapshot: exit 4"
# an old (version 1) manifest has no state
python3 - "$T/v1.txt" <<'PY'
import hashlib, sys
z = "0" * 64
body = ("snapshot 1\ntime 5\ndatabase d\nserver 150000\nencoding UTF8\npre-data %s\npost-data %s\n" % (z, z)).encode()
raw = b"snap %d\0" % len(body) + body
oid = hashlib.blake2b(raw, digest_size=32).hexdigest()
open(sys.argv[1], "w").write("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n" % (oid, (b"r" + raw).hex()))

PY
old=$(sed -n '5s/^ //p' "$T/v1.txt")
mdb_load -s objects -f "$T/v1.txt" .schema/store
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n \nDATA=END\n' "$old" | mdb_load -s snapshots .schema/store
expect_status 4 "$S" diff "$old" head && expect_err "snapshot ${old:0:12} has no recorded state" && one_line_error \
	&& check "a snapshot from before states were recorded: said so, exit 4"
"$S" snapshots --delete "$old" >/dev/null

# --- ambiguity between kinds: a snapshot made to share a revision's prefix
rev=$("$S" log --full --oneline -n 1 | cut -c1-64)
python3 - "${rev:0:4}" "$T/amb.txt" <<'PY'
import hashlib, sys
want, out = sys.argv[1], sys.argv[2]
z = "0" * 64
for t in range(1, 10**7):
    body = ("snapshot 1\ntime %d\ndatabase d\nserver 150000\nencoding UTF8\npre-data %s\npost-data %s\n" % (t, z, z)).encode()
    raw = b"snap %d\0" % len(body) + body
    oid = hashlib.blake2b(raw, digest_size=32).hexdigest()
    if oid.startswith(want):
        break
open(out, "w").write("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n" % (oid, (b"r" + raw).hex()))
PY
amb=$(sed -n '5s/^ //p' "$T/amb.txt")
mdb_load -s objects -f "$T/amb.txt" .schema/store
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n \nDATA=END\n' "$amb" | mdb_load -s snapshots .schema/store
expect_status 4 "$S" diff "${rev:0:4}" head && expect_err "is ambiguous" && expect_err "snapshot ${amb:0:12}" \
	&& expect_err "revision ${rev:0:12}" && one_line_error && check "a prefix of both a snapshot and a revision is ambiguous, each named"
expect_status 4 "$S" diff "snapshot:${amb:0:4}" head && expect_err "has no recorded state" \
	&& check "snapshot: settles it"
"$S" snapshots --delete "$amb" >/dev/null

# --- bad input
expect_status 2 "$S" backup --encrypt=yes && one_line_error && check "--encrypt takes no value: exit 2"
expect_status 2 "$S" key generate --backup && one_line_error && check "--backup without a file: exit 2"
expect_status 4 "$S" key generate --backup "$T/no/such/dir/k" && expect_err "cannot create key file" && one_line_error \
	&& check "a key file that cannot be created: exit 4"
for c in backup restore snapshots diff key; do
	expect_status 0 "$S" "$c" --help && expect_out "EXIT STATUS" && expect_out "EXAMPLES" || fail "$c --help"
done
check "the pages have EXIT STATUS and EXAMPLES"
expect_status 0 "$S" backup --help && expect_out "encrypt" && check "backup --help documents --encrypt"
finish
