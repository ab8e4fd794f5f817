#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 with trust auth, as the
# tests and the demo expect (CONTRACT.md's default DATABASE_URL). On a
# Debian machine with nothing installed it installs Debian's `postgresql`,
# creates a cluster and starts it; an installed but stopped cluster is
# started. It changes nothing when Postgres already answers.
set -euo pipefail

ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; }
ready && exit 0

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "postgres.sh: installing Debian's postgresql (nothing answers on 127.0.0.1:5432)"
  as_root apt-get update -qq
  # The package creates and starts a cluster where it can; below we make
  # sure of both, since a container has no init system to start it.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if [ ! -d "/etc/postgresql/$ver/main" ]; then
  echo "postgres.sh: creating cluster $ver/main"
  as_root pg_createcluster "$ver" main
fi

# The tests connect as postgres over TCP without a password: trust on
# loopback, as on the development machines. Only loopback is opened.
hba="/etc/postgresql/$ver/main/pg_hba.conf"
if ! as_root grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
  echo "postgres.sh: trust auth for 127.0.0.1 in $hba"
  as_root sed -i -E 's/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1\/32[[:space:]]+)[a-z0-9-]+/\1trust/' "$hba"
  as_root grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba" ||
    echo "host all all 127.0.0.1/32 trust" | as_root tee -a "$hba" >/dev/null
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload 2>/dev/null || true
fi

echo "postgres.sh: starting cluster $ver/main"
as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
for _ in $(seq 1 30); do
  ready && exit 0
  sleep 1
done
echo "postgres.sh: PostgreSQL does not answer on 127.0.0.1:5432 (see /var/log/postgresql/)" >&2
exit 1
