#!/usr/bin/env bash
# Before the test suite: make sure what the integration suites need is there — Redis, PostgreSQL and
# Debian's Chromium. Starts a stopped service and installs Chromium when this machine allows it (root
# with apt-get); otherwise says so, and the suites that need the missing part report themselves skipped
# (never under CI=true, where they fail instead).
set -u

say() { echo "[test-setup] $*"; }

if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    say "Redis is not answering: starting it"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || say "could not start Redis"
    for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
fi

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    say "PostgreSQL is not answering: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || say "could not start PostgreSQL"
    for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.1; done
  fi
fi

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || say "could not install chromium"
  else
    say "chromium is missing and cannot be installed here (needs root and apt-get)"
  fi
fi
# The server API's Redis path is tested from a Python process, as a Celery task would publish.
if ! /usr/bin/python3 -c 'import redis' >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's python3-redis for the server API test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-redis >/dev/null) \
      || say "could not install python3-redis"
  else
    say "python3-redis is missing and cannot be installed here (needs root and apt-get)"
  fi
fi
exit 0
