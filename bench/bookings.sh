#!/usr/bin/env bash
# Booking benchmark, run by hand (not in CI). Starts the jar against the local PostgreSQL and Redis (a fresh
# database each run), drives it from a separate JVM (Vert.x WebClient) and reports bookings/s, latency, the
# pending→confirmed lag, how far finalization keeps up, and how late expiries fire.
# Usage: bench/bookings.sh [seconds, default 20] [warmup seconds, default 60: JIT and plans settle; at 30 s the
# JIT compiler still took 30-40% of the service's CPU on a 2-core machine]
# BENCH_JAVA_OPTS adds JVM options to the service (e.g. a profiler agent), BENCH_ENV its environment (e.g.
# "BOXOFFICE_WARMUP_SECONDS=20"); ONLY=expiry runs the expiry part alone. The load starts when /health/ready answers,
# as a load balancer's would.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
WARMUP="${2:-60}"
PG_ADMIN="${BENCH_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}"
DB="bo_bench_$(date +%s)"
PORT="${BENCH_PORT:-18080}"
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
PG_URI="${PG_ADMIN%/*}/$DB"

mvn -q -B package -DskipTests
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="target/classes:target/test-classes:$(cat target/bench.classpath)"

NODE=""
start_node() { # $1 payment mode, $2 hold seconds
  BOXOFFICE_PG_URI="$PG_URI" BOXOFFICE_REDIS_URI="${BENCH_REDIS_URI:-redis://127.0.0.1:6379/3}" \
  BOXOFFICE_REDIS_KEY_PREFIX="bench:$DB:" BOXOFFICE_HTTP_PORT="$PORT" BOXOFFICE_CLUSTER_PORT=5790 \
  BOXOFFICE_CLUSTER_MEMBERS=127.0.0.1:5790 BOXOFFICE_CLUSTER_NAME="bench-$DB" BOXOFFICE_PAYMENT_MODE="$1" \
  BOXOFFICE_HOLD_SECONDS="$2" BOXOFFICE_USERS_SYNC_CRON=off BOXOFFICE_ENRICH_ADDRESSES_CRON=off \
  BOXOFFICE_ENRICH_CARDS_CRON=off BOXOFFICE_LOG_LEVEL=WARN env ${BENCH_ENV:-} \
    java -Xmx1g ${BENCH_JAVA_OPTS:-} -jar target/boxoffice.jar >> "target/bench-node.log" 2>&1 &
  NODE=$!
  for _ in $(seq 1 1200); do curl -sf "localhost:$PORT/health/ready" >/dev/null && return; sleep 0.1; done
  echo "node did not start; see target/bench-node.log" >&2; exit 1
}
stop_node() { kill "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; }
trap 'stop_node; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

pct() { # $1 SQL producing a column "ms"; prints p50/p99/count
  psql "$PG_URI" -Atc "SELECT 'p50=' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)
    || 'ms p99=' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) || 'ms n=' || count(*)
    FROM ($1) t"
}
run() {
  line=$(java -Xmx512m -cp "$CP" dev.boxoffice.bench.BookingLoad --url="http://127.0.0.1:$PORT" "$@" | tail -1)
  range=$(echo "$line" | sed 's/.*events=//'); lo=${range%..*}; hi=${range#*..}
  sleep 3 # let the saga catch up before measuring the lag
  window="event_id BETWEEN $lo AND $hi
    AND created_at > (SELECT max(created_at) - interval '$SECS seconds' FROM bookings WHERE event_id BETWEEN $lo AND $hi)"
  echo "$line"
  echo "  lag(pending→confirmed) $(pct "SELECT extract(epoch FROM confirmed_at - created_at) * 1000 AS ms
    FROM bookings WHERE $window AND confirmed_at IS NOT NULL")"
  # finalization (PDF + outbox) runs behind the bookings; n = how many of the run's bookings it finished by now
  echo "  finalized 3 s after the run: $(pct "SELECT extract(epoch FROM finalized_at - confirmed_at) * 1000 AS ms
    FROM bookings WHERE $window AND finalized_at IS NOT NULL") (confirmed→finalized)"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; app + PostgreSQL + Redis + load driver on one box"
if [ "${ONLY:-}" != expiry ]; then
start_node auto 3600
run --scenario=hot --clients=32 --seconds="$SECS" --warmup="$WARMUP"
run --scenario=spread --clients=32 --seconds="$SECS" --events=1000 --warmup="$WARMUP"
run --scenario=contention --clients=200 --capacity=100
psql "$PG_URI" -Atc "SELECT 'oversold events: ' || count(*) FROM events WHERE booked > capacity"
stop_node
fi

# expiry: manual payment keeps bookings pending; each expires 5 s after creation, while the load goes on. The node
# has just become ready: its first second and first 15 s (JIT still compiling) are reported apart from the 15 s after
# 30 s of load.
start_node manual 5
java -Xmx512m -cp "$CP" dev.boxoffice.bench.BookingLoad --url="http://127.0.0.1:$PORT" --scenario=spread \
  --events=100 --clients=8 --seconds=15 --warmup=30 | tail -1
sleep 7
late="SELECT extract(epoch FROM updated_at - expires_at) * 1000 AS ms FROM bookings WHERE status = 'expired'"
first="(SELECT min(created_at) FROM bookings WHERE status = 'expired')"
last="(SELECT max(created_at) FROM bookings WHERE status = 'expired')"
echo "expiry: fired after expires_at $(pct "$late AND created_at > $last - interval '15 seconds'") (after warm-up)"
echo "  first 15 s after ready: $(pct "$late AND created_at < $first + interval '15 seconds'")"
echo "  first second after ready: $(pct "$late AND created_at < $first + interval '1 second'")"
