#!/bin/sh
# Installs the Debian packages that building, testing and the demo need,
# when they are missing. Uses sudo when not root. Quiet when all are there.
set -eu
PKGS="gcc make pkg-config libpq-dev libsodium-dev liblmdb-dev zlib1g-dev \
libcriterion-dev libpg-query-dev libjansson-dev postgresql postgresql-contrib \
lmdb-utils clang bc"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
