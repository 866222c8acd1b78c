#!/bin/sh
# Install the Debian packages lcbackup needs to build, test and run its demo.
# A fast no-op when everything is present; runs `apt-get update` only when something is missing.
set -eu

PKGS="build-essential pkg-config libcurl4-openssl-dev libssl-dev libcjson-dev libzstd-dev
libarchive-dev libsqlite3-dev libxml2-dev libpq-dev zstd sqlite3 postgresql postgresql-contrib
python3 python3-botocore python3-awscrt awscli curl ca-certificates tar time chromium"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages:$missing" >&2
    echo "setup: run as root, or: sudo apt-get install$missing" >&2
    exit 78
fi

echo "setup: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
