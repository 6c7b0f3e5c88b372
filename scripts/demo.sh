#!/bin/sh
# make demo: the example history of migrations/ through the whole tool,
# against a private PostgreSQL cluster that is started here and stopped at
# the end. Nothing outside a temporary directory is touched.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
S="$top/schema"
work=$(mktemp -d /tmp/schema-demo.XXXXXX)
chmod 755 "$work"
pg="$work/pg"
cleanup() {
	[ -d "$work/app/.schema" ] &&
		(cd "$work/app" && "$S" dev stop >/dev/null 2>&1) || true
	sh "$top/tests/pg-cluster.sh" stop "$pg" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
export SCHEMA_AUTHOR_NAME="Demo" SCHEMA_AUTHOR_EMAIL="demo@selextract.example"
unset PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD SCHEMA_DIR

say() { printf '\n\033[1m$ %s\033[0m\n' "$*" | sed "s|$S|schema|"; }
run() { say "$*"; "$@"; }
m="$top/migrations"

mkdir "$work/app" && cd "$work/app"
run "$S" init
mkdir -p migrations
cp -r "$m"/000[1-8]_* migrations/
# commit applies each new revision up and down on the scratch cluster
# (.schema/dev, started on first use) and records the state it reaches
run "$S" commit
run "$S" dev status
run "$S" branch billing
run "$S" switch billing
cp -r "$m"/0009_* "$m"/0010_* migrations/
run "$S" commit
run "$S" switch main
cp -r "$m"/0011_* migrations/
run "$S" commit
run "$S" merge main billing -m "Merge the proxies and billing branches"
merge=$(ls migrations | grep '^0012_')
for d in "$m"/0013_* "$m"/0014_* "$m"/0015_*; do
	cp -r "$d" migrations/
	sed -i "s/^parent 0012_merge_proxies_and_billing$/parent $merge/" \
		"migrations/$(basename "$d")/meta"
done
run "$S" commit
run "$S" tag v1.0
run "$S" log --graph --oneline
run "$S" heads
run "$S" show --no-scripts 0011_add_proxy_pools
run "$S" fsck

say "tests/pg-cluster.sh start $pg"
DATABASE_URL=$(sh "$top/tests/pg-cluster.sh" start "$pg")
export DATABASE_URL
echo "$DATABASE_URL"
run "$S" status
run "$S" checkout --dry-run head
run "$S" checkout head
run "$S" status
run "$S" checkout --dry-run 0010_add_invoices
run "$S" checkout 0010_add_invoices
run "$S" current
run "$S" checkout head
run "$S" rollback development -1
run "$S" status
run "$S" migrate development
run "$S" audit
run "$S" validate

# states: what the database looks like, and drift after a manual change
run "$S" diff
psql -X -q "$DATABASE_URL" -c "ALTER TABLE users ADD COLUMN nickname text"
run "$S" status
psql -X -q "$DATABASE_URL" -c "ALTER TABLE users DROP COLUMN nickname"

# snapshots: back up, restore by hash into another database
psql -X -q "$DATABASE_URL" -c "INSERT INTO users (email, password_hash) SELECT 'user' || g || '@example.com', md5(g::text) FROM generate_series(1, 1000) g"
say "schema backup -m 'demo'"
snap=$("$S" backup -m "demo")
echo "$snap"
run "$S" snapshots
copy=$(printf '%s' "$DATABASE_URL" | sed 's|/postgres?|/restored?|')
psql -X -q "$DATABASE_URL" -c "CREATE DATABASE restored"
run "$S" restore "$snap" --into "$copy"
say "psql: users in the restored database"
psql -X -At "$copy" -c "SELECT count(*) FROM users"
# the snapshot records the schema's state: compare it with the head's
run "$S" diff "snapshot:$snap" head

# an encrypted snapshot: unreadable without the key, restored with it
run "$S" key generate --backup "$work/backup.key"
export SCHEMA_BACKUP_KEY_FILE="$work/backup.key"
say "schema backup --encrypt -m 'demo, encrypted'"
esnap=$("$S" backup --encrypt -m "demo, encrypted")
echo "$esnap"
run "$S" snapshots
psql -X -q "$DATABASE_URL" -c "CREATE DATABASE restored2"
copy2=$(printf '%s' "$DATABASE_URL" | sed 's|/postgres?|/restored2?|')
say "SCHEMA_BACKUP_KEY_FILE= schema restore $esnap --into ...   # no key: refused"
SCHEMA_BACKUP_KEY_FILE= "$S" restore "$esnap" --into "$copy2" || true
run "$S" restore "$esnap" --into "$copy2"
unset SCHEMA_BACKUP_KEY_FILE

# task-config versions: scraping task configs 1.0 -> 1.1 -> 2.0
t="$m/tasks/scrape"
run "$S" task add scrape 1.0 --schema "$t/1.0.schema.json"
run "$S" task add scrape 1.1 --schema "$t/1.1.schema.json" --from 1.0 --up "$t/1.0-1.1.up.json" --down "$t/1.0-1.1.down.json"
run "$S" task add scrape 2.0 --schema "$t/2.0.schema.json" --from 1.1 --up "$t/1.1-2.0.up.json" --down "$t/1.1-2.0.down.json"
run "$S" task log scrape
run "$S" task migrate scrape "$t/example-1.0.json" --to 2.0
printf '\ndemo finished: the cluster is stopped and %s removed\n' "$work"
