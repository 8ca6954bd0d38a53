#!/usr/bin/env bash
# Private PostgreSQL and Redis for the fault harness: never the machine's shared 5432/6379, so other people's tests
# are not disturbed and restarting them mid-load is safe. State lives in $FAULTS_RUN (a temp dir):
#   services.sh init                      pick free ports, initdb, write $FAULTS_RUN/env
#   services.sh pg-start | pg-stop [mode] start PostgreSQL (waits until it accepts connections) / stop it
#                                         (mode: fast | immediate = crash, default immediate)
#   services.sh redis-start | redis-stop  start / shut down Redis (no persistence: locks are lost, as in a crash)
#   services.sh cleanup                   stop everything this run started (boxoffice nodes too), remove $FAULTS_RUN
# bench/net/ places each server at its own address inside its own network namespace: at init, FAULTS_PG_HOST /
# FAULTS_REDIS_HOST (default 127.0.0.1) and FAULTS_PG_NETNS / FAULTS_REDIS_NETNS (default none) say where; they are
# kept in $FAULTS_RUN/env with the ports, so the later commands need not be told again; FAULTS_PG_CLIENTS (a CIDR)
# lets PostgreSQL trust clients from that network too.
set -euo pipefail
: "${FAULTS_RUN:?FAULTS_RUN must name the run directory}"
# the PostgreSQL server binaries: FAULTS_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin, else pg_config's
PG_BIN="${FAULTS_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || PG_BIN="$(pg_config --bindir 2>/dev/null || true)"
[ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL server binaries (initdb) found; set FAULTS_PG_BIN" >&2; exit 1; }

# initdb refuses root; run the PostgreSQL binaries as the postgres account then
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# the same inside a network namespace (first argument; empty: here)
as_pg_in() {
  local ns=$1; shift
  local in=()
  [ -n "$ns" ] && in=(ip netns exec "$ns")
  if [ "$(id -u)" = 0 ]; then "${in[@]}" runuser -u postgres -- "$@"; else "${in[@]}" "$@"; fi
}

free_port() { # a port nobody listens on, away from the usual ones
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2; return 1
}

load_env() { # shellcheck disable=SC1091
  . "$FAULTS_RUN/env"
  PG_HOST=${PG_HOST:-127.0.0.1}; REDIS_HOST=${REDIS_HOST:-127.0.0.1}
}

# in_ns <namespace or empty> <command...>: run the command inside that network namespace (or here)
in_ns() {
  local ns=$1; shift
  if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

wait_for() { # wait_for <seconds> <command...>: poll until the command succeeds
  local limit=$1; shift
  local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.2
  done
}

case "${1:-}" in
  init)
    mkdir -p "$FAULTS_RUN"
    PG_PORT=$(free_port); REDIS_PORT=$(free_port)
    while [ "$REDIS_PORT" = "$PG_PORT" ]; do REDIS_PORT=$(free_port); done
    printf 'PG_PORT=%s\nREDIS_PORT=%s\nPG_HOST=%s\nREDIS_HOST=%s\nPG_NETNS=%s\nREDIS_NETNS=%s\n' "$PG_PORT" \
      "$REDIS_PORT" "${FAULTS_PG_HOST:-127.0.0.1}" "${FAULTS_REDIS_HOST:-127.0.0.1}" "${FAULTS_PG_NETNS:-}" \
      "${FAULTS_REDIS_NETNS:-}" > "$FAULTS_RUN/env"
    mkdir -p "$FAULTS_RUN/pg"
    [ "$(id -u)" = 0 ] && chown postgres "$FAULTS_RUN" "$FAULTS_RUN/pg"
    as_pg "$PG_BIN/initdb" -D "$FAULTS_RUN/pg/data" -U postgres --auth=trust -E UTF8 --no-sync \
      > "$FAULTS_RUN/initdb.log" 2>&1 || { cat "$FAULTS_RUN/initdb.log" >&2; exit 1; }
    # clients from elsewhere than loopback (bench/net/: the nodes' namespaces), e.g. FAULTS_PG_CLIENTS=10.77.0.0/24
    if [ -n "${FAULTS_PG_CLIENTS:-}" ]; then
      echo "host all all $FAULTS_PG_CLIENTS trust" >> "$FAULTS_RUN/pg/data/pg_hba.conf"
    fi
    ;;
  pg-start)
    load_env
    as_pg_in "$PG_NETNS" "$PG_BIN/pg_ctl" -D "$FAULTS_RUN/pg/data" -l "$FAULTS_RUN/pg/postgres.log" -w -t 30 \
      -o "-p $PG_PORT -k $FAULTS_RUN/pg -c listen_addresses=$PG_HOST -c max_connections=200 -c fsync=off" \
      start > /dev/null
    wait_for 30 pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || { echo "PostgreSQL did not come up" >&2; exit 1; }
    ;;
  pg-stop)
    load_env
    as_pg "$PG_BIN/pg_ctl" -D "$FAULTS_RUN/pg/data" -m "${2:-immediate}" -w -t 30 stop > /dev/null
    ;;
  redis-start)
    load_env
    # protected mode off: a private Redis, reached from the nodes' namespaces when it is not on loopback
    in_ns "$REDIS_NETNS" redis-server --port "$REDIS_PORT" --bind "$REDIS_HOST" --protected-mode no --save "" \
      --appendonly no --daemonize yes --dir "$FAULTS_RUN" --pidfile "$FAULTS_RUN/redis.pid" --logfile "$FAULTS_RUN/redis.log"
    wait_for 15 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping || { echo "Redis did not come up" >&2; exit 1; }
    ;;
  redis-stop)
    load_env
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave > /dev/null 2>&1 || true
    wait_for 15 sh -c "! redis-cli -h $REDIS_HOST -p $REDIS_PORT ping" || { echo "Redis did not stop" >&2; exit 1; }
    ;;
  cleanup)
    # boxoffice nodes the driver started (it records their pids); only processes that still run our jar
    for f in "$FAULTS_RUN"/nodes/*.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f")
      if grep -q "boxoffice.jar" "/proc/$pid/cmdline" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    done
    # the rolling restart's HAProxy
    if [ -f "$FAULTS_RUN/haproxy.pid" ]; then
      pid=$(cat "$FAULTS_RUN/haproxy.pid")
      if grep -q "haproxy" "/proc/$pid/cmdline" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    if [ -f "$FAULTS_RUN/env" ]; then
      load_env
      if [ -f "$FAULTS_RUN/redis.pid" ] && kill -0 "$(cat "$FAULTS_RUN/redis.pid")" 2>/dev/null; then
        redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave > /dev/null 2>&1 \
          || kill "$(cat "$FAULTS_RUN/redis.pid")" 2>/dev/null || true
      fi
      if [ -f "$FAULTS_RUN/pg/data/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$FAULTS_RUN/pg/data" -m immediate -w -t 20 stop > /dev/null 2>&1 || true
      fi
    fi
    case "$FAULTS_RUN" in /tmp/bo-faults.*) rm -rf "$FAULTS_RUN" ;; esac
    ;;
  *)
    echo "usage: FAULTS_RUN=<dir> $0 init|pg-start|pg-stop [fast|immediate]|redis-start|redis-stop|cleanup" >&2
    exit 2
    ;;
esac
