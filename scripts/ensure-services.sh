#!/usr/bin/env bash
# Makes sure the services the test suite needs are installed and running on this machine:
# Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (trust auth for local connections).
# Installs them from Debian's packages when missing. Safe to run repeatedly.
set -euo pipefail

log() { echo "[ensure-services] $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- Redis -------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  log "redis-server not found: installing"
  apt_install redis-server
fi
if ! port_open 6379; then
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do port_open 6379 && break; sleep 0.1; done
fi
port_open 6379 || { log "Redis did not come up"; exit 1; }

# --- PostgreSQL --------------------------------------------------------------
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "PostgreSQL not found: installing"
  apt_install postgresql postgresql-client
fi
if ! port_open 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    log "no PostgreSQL cluster found: creating one"
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    as_root pg_createcluster "$version" main
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 100); do port_open 5432 && break; sleep 0.1; done
fi
port_open 5432 || { log "PostgreSQL did not come up"; exit 1; }

# Tests connect as the postgres superuser over 127.0.0.1 without a password.
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
  log "enabling trust auth for local connections in $hba"
  as_root sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
  version=$(basename "$(dirname "$(dirname "$hba")")")
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  sleep 1
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null
fi
log "redis and postgres are ready"
