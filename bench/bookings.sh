#!/usr/bin/env bash
# Booking benchmark, run by hand (not in CI). Starts the jar against the local PostgreSQL and Redis (a fresh
# database each run), drives it from a separate JVM (Vert.x WebClient) and reports bookings/s, latency and the
# pending→confirmed lag. Usage: bench/bookings.sh [seconds]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-20}"
PG_ADMIN="${BENCH_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}"
DB="bo_bench_$(date +%s)"
PORT="${BENCH_PORT:-18080}"
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
PG_URI="${PG_ADMIN%/*}/$DB"

mvn -q -B package -DskipTests
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="target/classes:target/test-classes:$(cat target/bench.classpath)"

BOXOFFICE_PG_URI="$PG_URI" BOXOFFICE_REDIS_URI="${BENCH_REDIS_URI:-redis://127.0.0.1:6379/3}" \
BOXOFFICE_REDIS_KEY_PREFIX="bench:$DB:" BOXOFFICE_HTTP_PORT="$PORT" BOXOFFICE_CLUSTER_PORT=5790 \
BOXOFFICE_CLUSTER_MEMBERS=127.0.0.1:5790 BOXOFFICE_CLUSTER_NAME="bench-$DB" BOXOFFICE_HOLD_SECONDS=3600 \
BOXOFFICE_LOG_LEVEL=WARN java -Xmx1g -jar target/boxoffice.jar > "target/bench-node.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "localhost:$PORT/healthz" >/dev/null && break; sleep 1; done

lag() { # pending→confirmed lag of the bookings on the given events
  psql "$PG_URI" -Atc "SELECT 'lag p50=' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)
    || 'ms p99=' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) || 'ms confirmed='
    || count(*) FROM (SELECT extract(epoch FROM confirmed_at - created_at) * 1000 AS ms FROM bookings
    WHERE event_id BETWEEN $1 AND $2 AND confirmed_at IS NOT NULL) t"
}
run() {
  line=$(java -Xmx512m -cp "$CP" dev.boxoffice.bench.BookingLoad --url="http://127.0.0.1:$PORT" "$@" | tail -1)
  range=$(echo "$line" | sed 's/.*events=//'); lo=${range%..*}; hi=${range#*..}
  sleep 2 # let the saga catch up before measuring the lag
  echo "$line $(lag "$lo" "$hi")"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; app + PostgreSQL + Redis + load on one box"
run --scenario=hot --clients=32 --seconds="$SECONDS_PER_RUN"
run --scenario=spread --clients=32 --seconds="$SECONDS_PER_RUN" --events=1000
run --scenario=contention --clients=200 --capacity=100
psql "$PG_URI" -Atc "SELECT 'oversold events: ' || count(*) FROM events WHERE booked > capacity"
kill $NODE; wait $NODE 2>/dev/null || true
psql "$PG_ADMIN" -qc "DROP DATABASE $DB WITH (FORCE)" || true
