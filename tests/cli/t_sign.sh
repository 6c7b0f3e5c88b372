#!/bin/bash
# Signing keys, signed revisions and tags, trusted keys and require-signed,
# signed audit events, and passwords that never leak.
. "$(dirname "$0")/lib.sh"
export XDG_CONFIG_HOME="$T/cfg"
unset SCHEMA_SIGNING_KEY
pg_setup

# --- keys
cd "$T"
expect_status 0 "$S" key generate && expect_out "generated key 'default'" && check "key generate"
[ "$(stat -c %a "$T/cfg/schema/keys")" = 700 ] && check "key directory is 0700" || fail "key dir mode"
[ "$(stat -c %a "$T/cfg/schema/keys/default.key")" = 600 ] && [ "$(stat -c %a "$T/cfg/schema/keys/default.pub")" = 600 ] \
	&& check "key files are 0600" || fail "key file modes"
before=$(sha256sum "$T/cfg/schema/keys/default.key")
expect_status 4 "$S" key generate && expect_err "already exists" && one_line_error && check "key generate refuses to overwrite"
[ "$before" = "$(sha256sum "$T/cfg/schema/keys/default.key")" ] && check "the key is unchanged" || fail "key overwritten"
expect_status 0 "$S" key generate --name mallory && check "a second key"
expect_status 2 "$S" key generate --name ../x && expect_err "not a key name" && check "a bad key name: exit 2"
expect_status 0 "$S" key list && expect_out "default" && expect_out "mallory" && check "key list"
expect_status 0 "$S" key export && [[ "$out" =~ ^ed25519\ [0-9a-f]{64}\ default$ ]] && check "key export prints the public key line" || fail "export format: $out"
expect_status 4 "$S" key export nobody && expect_err "no key 'nobody'" && check "export of a missing key"
expect_status 2 "$S" key frobnicate && check "unknown key subcommand: exit 2"

# --- signed revisions
make_history "$T/repo" >/dev/null
cd "$T/repo"
"$S" new "signed one" >/dev/null
echo "CREATE TABLE signed_one (id int);" >migrations/0006_signed_one/up.sql
echo "DROP TABLE signed_one;" >migrations/0006_signed_one/down.sql
id_before=$("$S" log --full --oneline -n1 2>/dev/null | cut -c1-64)
expect_status 0 "$S" commit -S && check "commit -S"
sid=$("$S" log --full --oneline -n1 | cut -c1-64)
expect_status 0 "$S" show --no-scripts && expect_out "signed by default (" && expect_out "): untrusted" && check "show: untrusted before the key is trusted"
expect_status 0 "$S" show --json --no-scripts && expect_out '"signer": "default"' && expect_out '"status": "untrusted"' \
	&& check "show --json: the signature, untrusted"
"$S" key export >.schema/trusted_keys
expect_status 0 "$S" show --no-scripts && expect_out "): good" && check "show: good once trusted"
fpr=$("$S" key list | awk '$2 == "default" { print $1 }')
expect_status 0 "$S" show --json --no-scripts && expect_out '"status": "good"' && expect_out "\"key\": \"$fpr\"" \
	&& check "show --json: good, with the key's fingerprint"
expect_status 0 "$S" log --json -n 2 && expect_out '"signature": null' && expect_out '"signatures": []' \
	&& expect_out '"signature": {' && check "log --json: the signed revision's signature, null for the unsigned one"
[ "$("$S" log --json | grep -c '"signatures"')" = "$("$S" log --oneline | wc -l)" ] \
	&& check "log --json: a signatures field for every revision" || fail "signatures fields"
expect_status 0 "$S" log --show-signature -n 2 && expect_out "signed by default" && check "log --show-signature"
"$S" log --show-signature -n 2 --oneline | grep -c "signed by" | grep -qx 1 && check "only the signed revision shows a signature" || fail "signature count"
expect_status 0 "$S" fsck && expect_err "1 signatures" && check "fsck verifies the signature"
expect_status 0 "$S" gc && expect_status 0 "$S" show --no-scripts && expect_out "): good" && check "gc keeps signatures"
# the signature is a separate object: the same directory gives the same id unsigned
mkdir "$T/clone" && cp -r migrations "$T/clone/" && (cd "$T/clone" && "$S" init -q && "$S" commit -q)
[ "$(cd "$T/clone" && "$S" log --full --oneline -n1 | cut -c1-64)" = "$sid" ] && check "a signature does not change the revision id" || fail "id changed by signing"
expect_status 0 "$S" tag -s v1 && check "tag -s"
expect_status 0 "$S" show --no-scripts v1 && expect_out "tag v1 signed by default" && check "show prints the tag's signature"
expect_status 0 "$S" tag -f v1 head~1 && expect_status 0 "$S" show --no-scripts v1 && [[ "$out" != *"tag v1 signed"* ]] && check "a moved tag loses its signature" || fail "moved tag still signed"
expect_status 4 "$S" commit -S --key nobody && expect_err "no key 'nobody'" && check "commit -S with a missing key"

# a forged signature object: fsck names it
python3 - "$sid" <<'PY' >"$T/forged.txt"
import hashlib, sys
body = ("target rev %s\nkey ed25519 %s forger\nsig %s\n" % (sys.argv[1], "11" * 32, "22" * 64)).encode()
raw = b"sig %d\0" % len(body) + body
oid = hashlib.blake2b(raw, digest_size=32).hexdigest()
print("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END")
print(" " + oid)
print(" " + (b"r" + raw).hex())
print("DATA=END")
PY
mdb_load -s objects .schema/store <"$T/forged.txt"
expect_status 1 "$S" fsck && expect_out "bad-signature" && expect_out "BAD signature of revision $sid by forger" && check "fsck: a forged signature exits 1 and is named"

# --- require-signed
newdb prod
cat >>.schema/config <<CFG
[env "prod"]
	url = $DB_URL
	require-signed = true
	confirm = false
CFG
# the history below the signed revision is unsigned
expect_status 1 "$S" checkout --env prod head && expect_err "is unsigned" && expect_err "environment 'prod' requires" && one_line_error && check "require-signed refuses unsigned revisions on the path"
[ "$(sql "SELECT to_regclass('schema_registry.applied') IS NULL")" = t ] && check "the refused database was not touched" || fail "registry created"
"$S" checkout --url "$DB_URL" -q 0005_merge_feat >/dev/null 2>&1
expect_status 0 "$S" migrate prod && check "the signed revision checks out under require-signed (the rest applied already)"
# an up script edited after signing: a new, unsigned revision
echo "CREATE TABLE signed_one (id int, evil text);" >migrations/0006_signed_one/up.sql
expect_status 1 "$S" commit && expect_err "edited after it was committed" && check "an edited signed directory is refused by commit"
expect_status 0 "$S" commit --new-revision -q && check "recorded as a new revision"
newid=$("$S" log --oneline -n1 | cut -c1-12)
expect_status 1 "$S" checkout --env prod head && expect_err "revision $newid (0006_signed_one) is unsigned" && check "require-signed refuses the edited revision, named"
expect_status 0 "$S" show --no-scripts "$newid" && [[ "$out" != *"signed by"* ]] && check "the edited revision carries no signature" || fail "edited rev signed"
# an untrusted signer
expect_status 0 "$S" commit -S --key mallory -q 2>/dev/null; true
"$S" new "by mallory" >/dev/null
echo "SELECT 1;" >migrations/0007_by_mallory/up.sql
echo "SELECT 1;" >migrations/0007_by_mallory/down.sql
"$S" branch -f main "$newid" >/dev/null 2>&1
sed -i "s/^parent .*/parent 0006_signed_one/" migrations/0007_by_mallory/meta
expect_status 0 "$S" commit -q --key mallory && check "commit signed by an untrusted key"
mid=$("$S" log --oneline -n1 | cut -c1-12)
expect_status 0 "$S" show --no-scripts "$mid" && expect_out "signed by mallory (" && expect_out "untrusted" && check "show: untrusted signer"
newdb prod2
sed -i "s|url = .*|url = ${DB_URL//&/\\&}|" .schema/config
"$S" checkout --url "$DB_URL" -q "$newid~1" >/dev/null 2>&1
expect_status 0 "$S" commit -q 2>/dev/null
expect_status 1 "$S" checkout --env prod "$mid" && expect_err "is unsigned" && check "require-signed: the path is checked revision by revision"
expect_status 0 "$S" checkout --url "$DB_URL" -q "$mid" && check "without require-signed the untrusted signer is accepted"

# --- signed audit events
newdb audit
expect_status 0 "$S" checkout -q 0005_merge_feat && check "checkout with a signing key"
[ "$(sql "SELECT count(*) FROM schema_registry.events WHERE sig IS NULL")" = 0 ] && check "every event carries a signature" || fail "unsigned events"
[ "$(sql "SELECT value FROM schema_registry.meta WHERE key = 'format'")" = 3 ] && check "registry format 3"
expect_status 0 "$S" audit && expect_out "signed by default" && expect_err "signed events verified" && check "audit verifies the chain and the signatures"
# a forged row whose hash is recomputed: the chain holds, the signature does not
sql "UPDATE schema_registry.events SET detail = detail || ' ', hash = encode(sha256(convert_to(prev_hash || '|' || at_us || '|' || actor || '|' || action || '|' || coalesce(revision, '') || '|' || detail || ' ', 'UTF8')), 'hex') WHERE seq = (SELECT max(seq) FROM schema_registry.events)" >/dev/null
last=$(sql "SELECT max(seq) FROM schema_registry.events")
expect_status 1 "$S" audit && expect_out "BAD SIGNATURE" && check "audit: a forged row with a recomputed hash fails its signature"
printf '%s\n' "$out" | grep -E "^ *$last .*BAD SIGNATURE" >/dev/null && check "the forged row is named" || fail "forged row not named"
expect_err "1 event fails verification" && check "the forged row counts once"
# a signed row edited without its hash: wrong hash and wrong signature, one event
sql "UPDATE schema_registry.events SET detail = detail || ' ' WHERE seq = (SELECT min(seq) FROM schema_registry.events)" >/dev/null
expect_status 1 "$S" audit && expect_err "2 events fail verification" && check "an edited signed row counts once too"
# an untrusted operator
newdb audit2
SCHEMA_SIGNING_KEY=mallory "$S" checkout -q 0005_merge_feat
expect_status 1 "$S" audit && expect_out "UNTRUSTED SIGNER" && expect_err "not in" && check "audit: events signed by an untrusted key exit 1"
# upgrade from format 2
newdb up2
SCHEMA_SIGNING_KEY=nobody "$S" checkout -q 0002_add_email 2>/dev/null
sql "ALTER TABLE schema_registry.events DROP COLUMN sig; UPDATE schema_registry.meta SET value = '2' WHERE key = 'format'" >/dev/null
expect_status 0 "$S" audit && check "audit reads a format 2 registry"
expect_status 0 "$S" checkout -q 0005_merge_feat && check "checkout upgrades a format 2 registry"
[ "$(sql "SELECT value FROM schema_registry.meta WHERE key = 'format'")" = 3 ] && check "upgraded to format 3"
expect_status 0 "$S" audit && check "the upgraded registry verifies"

# --- passwords through a URL, PGPASSWORD, SCHEMA_DB_PASSWORD or .pgpass
# (the test cluster trusts every connection, so a password is harmless)
cat >.schema/hooks/pre-checkout <<'HOOK'
#!/bin/sh
env >>"$SCHEMA_DIR/hook-env"
cat >/dev/null
HOOK
chmod +x .schema/hooks/pre-checkout
"$S" branch -f main 0005_merge_feat >/dev/null
rm -rf migrations/0006_signed_one migrations/0007_by_mallory
add_migration 0006_slow 0005_merge_feat "SELECT pg_sleep(1.5);" "SELECT 1;"
host=$(printf '%s' "$ADMIN_URL" | sed 's|.*host=||; s|&.*||')
leakcheck() { # leakcheck WHAT SECRET: run a checkout in the background, watch ps
	local what=$1 secret=$2 pid cmdline="" i
	"$S" checkout 0006_slow >"$T/pw.out" 2>&1 & pid=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.1
		cmdline="$cmdline $(ps -eo args 2>/dev/null | grep -v grep | grep -F -- "$S" || true)"
	done
	wait $pid
	local st=$?
	[ "$st" = 0 ] || fail "$what: checkout failed: $(cat "$T/pw.out")"
	case "$cmdline" in *"$secret"*) fail "$what: password in the process list" ;; *) check "$what: the process list shows no password" ;; esac
	grep -q -- "$secret" "$T/pw.out" && fail "$what: password in the output" || check "$what: output and errors show no password"
	grep -q -- "$secret" .schema/hook-env && fail "$what: password in the hook environment" || check "$what: the hook environment has no password"
	[ "$(sql "SELECT count(*) FROM schema_registry.events WHERE (actor || detail || coalesce(sig, '')) LIKE '%$secret%'")" = 0 ] \
		&& check "$what: the audit rows have no password" || fail "$what: password in audit"
	"$S" checkout -q 0005_merge_feat >/dev/null 2>&1
	rm -f .schema/hook-env
}
newdb pw
pwdb=$DB_URL
unset DATABASE_URL
export DATABASE_URL=$(printf '%s' "$pwdb" | sed 's|postgresql://postgres@|postgresql://postgres:urlPw4711@|')
leakcheck "DATABASE_URL" urlPw4711
export DATABASE_URL="$pwdb&password=qryPw4711"
leakcheck "a password in DATABASE_URL's query" qryPw4711
export DATABASE_URL=$pwdb
PGPASSWORD=pgPw4711 leakcheck "PGPASSWORD" pgPw4711
dbname=$(printf '%s' "$pwdb" | sed 's|^postgresql://postgres@/||; s|?.*||')
unset DATABASE_URL
SCHEMA_DB_HOST=$host SCHEMA_DB_NAME=$dbname SCHEMA_DB_USER=postgres SCHEMA_DB_PASSWORD=sdbPw4711 leakcheck "SCHEMA_DB_PASSWORD" sdbPw4711
export DATABASE_URL=$pwdb
printf '*:*:*:*:passPw4711\n' >"$T/pgpass" && chmod 600 "$T/pgpass"
PGPASSFILE="$T/pgpass" leakcheck ".pgpass" passPw4711
# a failing connection with a password in the URL
expect_status 3 "$S" status --url "postgresql://u:errPw4711@/nodb?host=$T/nowhere" && case "$err$out" in *errPw4711*) fail "password in an error" ;; *) check "a connection error shows no password" ;; esac
rm -f .schema/hooks/pre-checkout
finish
