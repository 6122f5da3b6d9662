#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1, starting (or installing) them when they do not.
# DATABASE_URL and REDIS_URL, when set (a CI runner's service containers), name servers that are already up:
# nothing is installed or started then.
set -euo pipefail

given_up() {
  [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ] || return 1
  pg_isready -q -d "$DATABASE_URL" 2>/dev/null || return 1
  local hostport=${REDIS_URL#*://}
  hostport=${hostport##*@}
  hostport=${hostport%%/*}
  timeout 2 bash -c "exec 3<>/dev/tcp/${hostport%:*}/${hostport##*:}" 2>/dev/null
}
if given_up; then
  exit 0
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! command -v pg_ctlcluster >/dev/null || ! command -v redis-server >/dev/null; then
  echo "services: installing postgresql and redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql redis-server >/dev/null
fi

if ! pg_up; then
  echo "services: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
fi
if ! redis_up; then
  echo "services: starting Redis" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

for _ in $(seq 1 30); do pg_up && redis_up && break; sleep 1; done
pg_up || { echo "services: PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }

# The test suite connects over TCP as `postgres` without a password (tests/conftest.py). A fresh Debian
# cluster asks for one on 127.0.0.1, so on such a machine (and only when we run as root) trust loopback.
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  hba=$(su postgres -c "psql -tAc 'SHOW hba_file'")
  echo "services: trusting loopback connections in $hba (test machine)" >&2
  { printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'; cat "$hba"; } > "$hba.new"
  chown postgres: "$hba.new" && mv "$hba.new" "$hba"
  su postgres -c "psql -tAc 'SELECT pg_reload_conf()'" >/dev/null
fi
redis_up || { echo "services: Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
