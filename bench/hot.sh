#!/usr/bin/env bash
# Hot event only, for comparing commits back to back on one machine (figures move a lot between machines).
# Usage: bench/hot.sh [checkout dir, default this one]   e.g. git worktree add /tmp/old <rev>; bench/hot.sh /tmp/old
# SECS (20) and WARMUP (60) set the run; JOPTS adds JVM options to the service; KEEP=1 keeps the database;
# SCENARIO="--scenario=spread --events=1000" runs another BookingLoad scenario instead of the hot event.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
mvn -q -B package -DskipTests
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
PG_ADMIN=postgresql://postgres@127.0.0.1:5432/postgres
DB="bo_hot_$(date +%s)"; PORT=18081
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
PG_URI="${PG_ADMIN%/*}/$DB"
CP="target/classes:target/test-classes:$(cat target/bench.classpath)"
BOXOFFICE_PG_URI="$PG_URI" BOXOFFICE_REDIS_URI=redis://127.0.0.1:6379/3 BOXOFFICE_REDIS_KEY_PREFIX="hot:$DB:" \
 BOXOFFICE_HTTP_PORT=$PORT BOXOFFICE_CLUSTER_PORT=5791 BOXOFFICE_CLUSTER_MEMBERS=127.0.0.1:5791 BOXOFFICE_CLUSTER_NAME="hot-$DB" \
 BOXOFFICE_PAYMENT_MODE=auto BOXOFFICE_HOLD_SECONDS=3600 BOXOFFICE_USERS_SYNC_CRON=off BOXOFFICE_ENRICH_ADDRESSES_CRON=off \
 BOXOFFICE_ENRICH_CARDS_CRON=off BOXOFFICE_LOG_LEVEL=WARN java -Xmx1g ${JOPTS:-} -jar target/boxoffice.jar > target/hot-node.log 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; [ -n "${KEEP:-}" ] || psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
for _ in $(seq 1 120); do curl -sf "localhost:$PORT/healthz" >/dev/null && break; sleep 1; done
# CPU seconds of the service and of PostgreSQL over the measured window: per booking, steadier than the rate
# when the machine's speed drifts between runs
ticks() { cat "${@/%//stat}" 2>/dev/null | sed 's/.*) //' | awk '{t += $12 + $13} END {print t + 0}'; }
cpu() { ticks $(pgrep -x postgres | sed 's|^|/proc/|'); ticks /proc/$NODE; }
java -Xmx512m -cp "$CP" dev.boxoffice.bench.BookingLoad --url="http://127.0.0.1:$PORT" ${SCENARIO:---scenario=hot} --clients=32 \
  --seconds=${SECS:-20} --warmup=${WARMUP:-60} > target/hot-load.out &
LOAD=$!
sleep "${WARMUP:-60}"; before=$(cpu | paste -sd' '); b0=$(psql "$PG_URI" -Atc "SELECT count(*) FROM bookings")
wait $LOAD; after=$(cpu | paste -sd' '); b1=$(psql "$PG_URI" -Atc "SELECT count(*) FROM bookings")
tail -1 target/hot-load.out
echo "$before $after $b0 $b1" | awk '{n = $6 - $5; printf "cpu per booking: node %.2f ms, postgres %.2f ms\n", ($4 - $2) * 10 / n, ($3 - $1) * 10 / n}'
sleep 3
psql "$PG_URI" -Atc "SELECT 'lag p50=' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric,1) || ' p99=' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric,1) FROM (SELECT extract(epoch FROM confirmed_at - created_at)*1000 AS ms FROM bookings WHERE confirmed_at IS NOT NULL AND created_at > (SELECT max(created_at) - interval '20 seconds' FROM bookings)) t"
