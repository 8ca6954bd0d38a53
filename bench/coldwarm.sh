#!/usr/bin/env bash
# A fresh node's first seconds and its warm speed, for the hot event and for 1,000 events: for each shape a new
# database and a new node; the load starts the moment /health/ready answers 200 and runs in phases back to back:
# cold (the first COLD=20 s after ready), settle (SETTLE=40 s, not reported), warm (WARM=20 s). Each phase prints
# bookings/s, latency, and the CPU the node and PostgreSQL spent per created booking; then the bookings per
# transaction of the booking batches, the payment confirmations and the finalizations, and the pending → confirmed
# lag in that phase. PostgreSQL's CPU is its backends' for this database (other work on a shared server is left
# out; so are the WAL writer and checkpointer). The driver warms its own JIT against a stand-in server before the
# node starts, and the events are inserted with psql, so nothing warms the node before its cold phase.
# Usage: bench/coldwarm.sh [checkout dir, default this one]; SHAPES ("hot spread"), JAVA (the node's java, default the
# one on the PATH), JOPTS (JVM options of the node),
# NOBUILD=1 (use the built jar as it is), ENV (extra environment of the node, e.g. "BOXOFFICE_X=1"),
# STMTLOG=1: PostgreSQL logs every statement of this database with its duration (log_min_duration_statement = 0,
# set on the database only) and the run ends with each statement's executions and milliseconds per booking (slows the
# run down: take the counts from it, not the rates; needs read access to the server's log).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
if [ -z "${NOBUILD:-}" ]; then
  mvn -q -B package -DskipTests
  mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
fi
PG_ADMIN=postgresql://postgres@127.0.0.1:5432/postgres
CP="target/classes:target/test-classes:$(cat target/bench.classpath)"
PHASES="cold:${COLD:-20},settle:${SETTLE:-40},warm:${WARM:-20}"
echo "load: $(uptime | sed 's/.*load average/load average/')  JOPTS=${JOPTS:-} ENV=${ENV:-}"
for shape in ${SHAPES:-hot spread}; do
  n=1; [ "$shape" = spread ] && n=1000
  DB="bo_cw_$(date +%s%N | cut -c1-13)"; PORT=18082
  psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
  PG_URI="${PG_ADMIN%/*}/$DB"
  PGLOG=$(psql "$PG_ADMIN" -Atc "SELECT CASE WHEN pg_current_logfile() IS NOT NULL THEN current_setting('data_directory') || '/' || pg_current_logfile() END")
  PGLOG=${PGLOG:-$(ls -t /var/log/postgresql/postgresql-*.log 2>/dev/null | head -1)}
  if [ -n "${STMTLOG:-}" ]; then
    psql "$PG_ADMIN" -qc "ALTER DATABASE $DB SET log_min_duration_statement = 0"
    LOGSTART=$(wc -l < "$PGLOG")
  fi
  PIDFILE=$(mktemp); OUT=$(mktemp)
  java -Xmx512m -cp "$CP" dev.boxoffice.bench.BookingLoad --url="http://127.0.0.1:$PORT" --scenario="$shape" \
    --clients=32 --self-warmup=10 --wait-ready=180 --event-ids="1..$n" --phases="$PHASES" --node-pid-file="$PIDFILE" --pg-db="$DB" \
    > "$OUT" 2>&1 &
  LOAD=$!
  for _ in $(seq 1 300); do grep -q self-warmed "$OUT" && break; sleep 0.1; done
  launched=$(date +%s%3N)
  env ${ENV:-} BOXOFFICE_PG_URI="$PG_URI" BOXOFFICE_REDIS_URI=redis://127.0.0.1:6379/3 BOXOFFICE_REDIS_KEY_PREFIX="cw:$DB:" \
   BOXOFFICE_HTTP_PORT=$PORT BOXOFFICE_CLUSTER_PORT=5793 BOXOFFICE_CLUSTER_MEMBERS=127.0.0.1:5793 \
   BOXOFFICE_CLUSTER_NAME="cw-$DB" BOXOFFICE_PAYMENT_MODE=auto BOXOFFICE_HOLD_SECONDS=3600 \
   BOXOFFICE_USERS_SYNC_CRON=off BOXOFFICE_ENRICH_ADDRESSES_CRON=off BOXOFFICE_ENRICH_CARDS_CRON=off \
   BOXOFFICE_LOG_LEVEL=WARN ${JAVA:-java} -Xmx1g ${JOPTS:-} -jar target/boxoffice.jar > "target/cw-node-$shape.log" 2>&1 &
  NODE=$!
  echo $NODE > "$PIDFILE"
  trap 'kill $NODE $LOAD 2>/dev/null; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
  for _ in $(seq 1 1200); do
    psql "$PG_URI" -qAtc "INSERT INTO events (title, capacity) SELECT '$shape event ' || g, 10000000
      FROM generate_series(1, $n) g" >/dev/null 2>&1 && break
    sleep 0.1
  done
  wait $LOAD || { cat "$OUT"; exit 1; }
  ready=$(sed -n 's/^ready at //p' "$OUT")
  echo "$shape: ready $((ready - launched)) ms after launch"
  sleep 3 # the saga catches up before the per-phase figures are read
  grep '^phase=' "$OUT" | grep -v '^phase=settle' | while read -r line; do
    from=$(echo "$line" | sed 's/.* from=\([0-9]*\).*/\1/'); to=$(echo "$line" | sed 's/.* to=\([0-9]*\).*/\1/')
    echo "  $(echo "$line" | sed 's/ from=[0-9]* to=[0-9]*//')"
    psql "$PG_URI" -Atc "SELECT '    bookings per transaction: booking ' || round(count(*)::numeric / nullif(count(DISTINCT created_at), 0), 1)
        || ', confirmation ' || round(count(confirmed_at)::numeric / nullif(count(DISTINCT confirmed_at), 0), 1)
        || ', finalization ' || round(count(finalized_at)::numeric / nullif(count(DISTINCT finalized_at), 0), 1)
        || '; lag p50=' || round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM confirmed_at - created_at) * 1000))::numeric, 1)
        || ' p99=' || round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM confirmed_at - created_at) * 1000))::numeric, 1) || ' ms'
      FROM bookings WHERE created_at >= to_timestamp($from / 1000.0) AND created_at < to_timestamp($to / 1000.0)"
  done
  psql "$PG_URI" -Atc "SELECT '  whole run: ' || round(xact_commit::numeric / nullif((SELECT count(*) FROM bookings), 0), 2)
      || ' transactions, ' || round(tup_inserted::numeric / nullif((SELECT count(*) FROM bookings), 0), 2) || ' rows inserted, '
      || round(tup_updated::numeric / nullif((SELECT count(*) FROM bookings), 0), 2) || ' rows updated per booking'
    FROM pg_stat_database WHERE datname = current_database()"
  kill $NODE 2>/dev/null; wait $NODE 2>/dev/null || true
  if [ -n "${STMTLOG:-}" ]; then
    total=$(psql "$PG_URI" -Atc "SELECT count(*) FROM bookings")
    echo "  statements per booking ($total bookings; executions, ms):"
    tail -n +"$((LOGSTART + 1))" "$PGLOG" | grep -E 'duration: [0-9.]+ ms  (execute|statement)' \
      | sed -E 's/.*duration: ([0-9.]+) ms  (execute [^:]*|statement): (.*)/\1\t\3/' \
      | awk -F'\t' -v n="$total" '{k = substr($2, 1, 90); c[k]++; d[k] += $1}
          END {for (k in c) printf "    %7.3f %7.3f  %s\n", c[k] / n, d[k] / n, k}' | sort -k2 -nr | head -25
  fi
  trap - EXIT
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  rm -f "$PIDFILE" "$OUT"
done
