#!/usr/bin/env bash
# Cost as the data grows, run by hand (not in CI). For each size (default: 2,000 bookings and 2,000 finished jobs,
# then 2,000,000 bookings and 10,000,000 finished jobs) a database of its own (bo_scale_...) gets a node (which makes
# the schema), then rows written directly in SQL (generate_series: bookings over 10,000 owners, an outbox row per
# finalized booking, finished jobs of the saga's and the task types), VACUUM ANALYZE, and then the timings:
#   - HTTP (curl against the node, median of REPS, after one warm-up request): GET /bookings first page, a cursor
#     page half-way in, offset 10,000 (the bound) and offset 1,000,000 (refused), a user's page, a status page,
#     /outbox first and deep, /tasks, /history, /ops/jobs;
#   - SQL (EXPLAIN ANALYZE of the product's statements, median execution time of REPS, the index each reads): the
#     same pages and totals, the claim (FOR UPDATE SKIP LOCKED, 500 due jobs inserted in a rolled-back transaction),
#     the hold-expiry sweep and the lease rescue (likewise), one retention purge batch, and the job counts behind
#     /ops/jobs, /ops/queues and the metrics gauges (ops/JobCounts' two statements, and the old full GROUP BY for
#     comparison: it reads the whole table).
# Usage: bench/scale.sh            SIZES="2000:2000 2000000:10000000" REPS=5 NOBUILD=1 (jar already built) KEEP=1
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${NOBUILD:-}" ] || mvn -q -B package -DskipTests
PG_ADMIN="${BENCH_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}"
PORT="${PORT:-18091}"
REPS="${REPS:-5}"
SIZES="${SIZES:-2000:2000 2000000:10000000}"
NODE=""; DB=""

cleanup() {
  if [ -n "$NODE" ]; then kill "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; NODE=""; fi
  if [ -n "$DB" ] && [ -z "${KEEP:-}" ]; then psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; fi
  DB=""
}
trap cleanup EXIT

median() { sort -n | awk '{v[NR] = $1} END {printf "%.2f", v[int((NR + 1) / 2)]}'; }

# label, path, token: median ms of REPS requests after one warm-up, and the status
http() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $3" "localhost:$PORT$2")
  local ms
  ms=$(for _ in $(seq "$REPS"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $3" "localhost:$PORT$2"
  done | awk '{print $1 * 1000}' | median)
  printf '  http %-34s %8s ms  (%s)\n' "$1" "$ms" "$code"
}

# label, statement[, setup run first in the same transaction]: median execution time of REPS EXPLAIN ANALYZE runs,
# each in a transaction rolled back, and the scans of the last plan
sql() {
  local out ms scans
  out=$(for _ in $(seq "$REPS"); do
    psql "$PG_URI" -qAt -v ON_ERROR_STOP=1 <<SQL
BEGIN;
${3:-}
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $2;
ROLLBACK;
SQL
  done)
  ms=$(grep -o 'Execution Time: [0-9.]*' <<<"$out" | awk '{print $3}' | median)
  scans=$(tail -n 40 <<<"$out" | grep -oE '(Index Only Scan|Index Scan Backward|Index Scan|Bitmap Index Scan|Seq Scan|Parallel Seq Scan)( using| on) [a-z_]+' \
    | sed -E 's/ (using|on) /:/' | sort -u | paste -sd, -)
  printf '  sql  %-34s %8s ms  %s\n' "$1" "$ms" "$scans"
}

token() {
  curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" "localhost:$PORT/token" \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}

for size in $SIZES; do
  BOOKINGS=${size%%:*}; JOBS=${size##*:}
  DB="bo_scale_${BOOKINGS}_$(date +%s)"
  PG_URI="${PG_ADMIN%/*}/$DB"
  psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
  BOXOFFICE_PG_URI="$PG_URI" BOXOFFICE_REDIS_URI=redis://127.0.0.1:6379/3 BOXOFFICE_REDIS_KEY_PREFIX="scale:$DB:" \
   BOXOFFICE_HTTP_PORT=$PORT BOXOFFICE_CLUSTER_PORT=5793 BOXOFFICE_CLUSTER_MEMBERS=127.0.0.1:5793 \
   BOXOFFICE_CLUSTER_NAME="scale-$DB" BOXOFFICE_PAYMENT_MODE=manual BOXOFFICE_USERS_SYNC_CRON=off \
   BOXOFFICE_ENRICH_ADDRESSES_CRON=off BOXOFFICE_ENRICH_CARDS_CRON=off BOXOFFICE_JOBS_RETENTION_SECONDS=2592000 \
   BOXOFFICE_LOG_LEVEL=WARN BOXOFFICE_REQUEST_TIMEOUT_MS=60000 java -Xmx1g -jar target/boxoffice.jar > "target/scale-node-$BOOKINGS.log" 2>&1 &
  NODE=$!
  for _ in $(seq 1 120); do curl -sf "localhost:$PORT/health/ready" >/dev/null && break; sleep 1; done
  ADMIN=""; USER=""
  for _ in $(seq 1 60); do
    ADMIN=$(token admin admin || true); USER=$(token testuser testpass || true)
    [ -n "$ADMIN" ] && [ -n "$USER" ] && break; sleep 1
  done

  started=$(date +%s)
  # bookings: newest last, 100 ms apart; 10,000 owners (testuser among them); 0.1% open holds (due in an hour),
  # the rest finished. An outbox row per finalized booking. Finished jobs over the last week: 1% public tasks
  # (text.process, owned), the rest saga and ticket steps; 0.5% dead, 0.2% cancelled.
  psql "$PG_URI" -q -v ON_ERROR_STOP=1 -v n="$BOOKINGS" <<'SQL'
INSERT INTO bookings (name, email, phone, status, owner, created_at, updated_at, expires_at)
SELECT 'Guest ' || g, 'guest' || g || '@example.com', '+44 20 7946 0958',
       CASE WHEN g % 1000 = 0 THEN 'pending' WHEN g % 10 = 1 THEN 'expired' WHEN g % 10 = 2 THEN 'cancelled'
            ELSE 'finalized' END,
       CASE WHEN g % 10000 = 7 THEN 'testuser' ELSE 'user' || (g % 10000) END,
       now() - (:n - g) * interval '100 milliseconds', now() - (:n - g) * interval '100 milliseconds',
       CASE WHEN g % 1000 = 0 THEN now() + interval '1 hour'
            ELSE now() - (:n - g) * interval '100 milliseconds' + interval '10 minutes' END
FROM generate_series(1, :n) g;
INSERT INTO outbox (booking_id, "to", subject, body, status, attempts, created_at, sent_at)
SELECT id, email, 'Your ticket', 'Your ticket for booking ' || id, 'sent', 1, created_at, created_at
FROM bookings WHERE status = 'finalized';
SQL
  for ((from = 1; from <= JOBS; from += 1000000)); do
    to=$((from + 999999 < JOBS ? from + 999999 : JOBS))
    psql "$PG_URI" -q -v ON_ERROR_STOP=1 -v n="$JOBS" -v a="$from" -v b="$to" <<'SQL'
INSERT INTO jobs (id, type, payload, status, attempts, max_attempts, run_at, owner, created_at, started_at,
                  finished_at, updated_at, queue, last_error)
SELECT gen_random_uuid(), t.type, '{}', s.status, 1, 5, f - interval '50 milliseconds',
       CASE WHEN t.type = 'text.process' THEN (CASE WHEN g % 10000 = 0 THEN 'testuser' ELSE 'user' || (g % 997) END) END,
       f - interval '50 milliseconds', f - interval '20 milliseconds', f, f,
       CASE WHEN t.type = 'booking.finalize' THEN 'tickets' ELSE 'default' END,
       CASE WHEN s.status = 'dead' THEN 'bench: out of tries' END
FROM generate_series(:a, :b) g,
     LATERAL (SELECT now() - (:n - g) * (interval '7 days' / :n) AS f) ft,
     LATERAL (SELECT CASE WHEN g % 100 = 0 THEN 'text.process' WHEN g % 3 = 0 THEN 'booking.payment'
                          WHEN g % 3 = 1 THEN 'booking.confirm' ELSE 'booking.finalize' END AS type) t,
     LATERAL (SELECT CASE WHEN g % 200 = 7 THEN 'dead' WHEN g % 500 = 3 THEN 'cancelled'
                          ELSE 'succeeded' END AS status) s;
SQL
  done
  psql "$PG_URI" -qc "VACUUM ANALYZE"
  echo "== $BOOKINGS bookings, $JOBS finished jobs ($(psql "$PG_URI" -Atc "SELECT count(*) FROM outbox") outbox rows;" \
    "loaded in $(($(date +%s) - started)) s; database $(psql "$PG_URI" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))"))"

  MID=$(psql "$PG_URI" -Atc "SELECT max(id) / 2 FROM bookings")
  MID_CURSOR=$(printf '["bookings",%s]' "$MID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
  OUTBOX_MID=$(psql "$PG_URI" -Atc "SELECT max(id) / 2 FROM outbox")
  OUTBOX_CURSOR=$(printf '["outbox",%s]' "$OUTBOX_MID" | base64 -w0 | tr '+/' '-_' | tr -d '=')

  http "bookings first page (admin)" "/bookings?limit=20" "$ADMIN"
  http "bookings cursor page half-way" "/bookings?limit=20&cursor=$MID_CURSOR" "$ADMIN"
  http "bookings offset 10,000" "/bookings?limit=20&offset=10000" "$ADMIN"
  http "bookings offset 1,000,000" "/bookings?limit=20&offset=1000000" "$ADMIN"
  http "bookings user page" "/bookings?limit=20" "$USER"
  http "bookings status=cancelled" "/bookings?limit=20&status=cancelled" "$ADMIN"
  http "outbox first page" "/outbox?limit=20" "$ADMIN"
  http "outbox cursor page half-way" "/outbox?limit=20&cursor=$OUTBOX_CURSOR" "$ADMIN"
  http "tasks (admin)" "/tasks?limit=20" "$ADMIN"
  http "tasks (user)" "/tasks?limit=20" "$USER"
  http "history (admin)" "/history?limit=20" "$ADMIN"
  http "ops/jobs (counts, throughput)" "/ops/jobs" "$ADMIN"

  sql "bookings page (admin)" "SELECT * FROM bookings WHERE id < 9223372036854775807 ORDER BY id DESC LIMIT 21 OFFSET 0"
  sql "bookings total (admin)" "SELECT CASE WHEN e.rows > 20000 THEN e.rows
      ELSE (SELECT count(*) FROM (SELECT 1 FROM bookings LIMIT 10001) upto) END AS n, e.rows > 20000 AS estimated
    FROM (SELECT reltuples::bigint AS rows FROM pg_class WHERE oid = 'bookings'::regclass) e"
  sql "bookings cursor page half-way" "SELECT * FROM bookings WHERE id < $MID ORDER BY id DESC LIMIT 21 OFFSET 0"
  sql "bookings offset 10,000" "SELECT * FROM bookings WHERE id < 9223372036854775807 ORDER BY id DESC LIMIT 21 OFFSET 10000"
  sql "(offset 1,000,000, were it allowed)" "SELECT * FROM bookings WHERE id < 9223372036854775807 ORDER BY id DESC LIMIT 21 OFFSET 1000000"
  sql "bookings user page" "SELECT * FROM bookings WHERE owner = 'testuser' AND id < 9223372036854775807 ORDER BY id DESC LIMIT 21 OFFSET 0"
  sql "bookings user total" "SELECT count(*) AS n FROM (SELECT 1 FROM bookings WHERE owner = 'testuser' LIMIT 10001) upto"
  sql "bookings status page" "SELECT * FROM bookings WHERE status = 'cancelled' AND id < 9223372036854775807 ORDER BY id DESC LIMIT 21 OFFSET 0"
  sql "bookings status total (capped)" "SELECT count(*) AS n FROM (SELECT 1 FROM bookings WHERE status = 'cancelled' LIMIT 10001) upto"
  sql "outbox cursor page half-way" "SELECT id, booking_id, \"to\", subject, status FROM outbox WHERE id > $OUTBOX_MID ORDER BY id LIMIT 21"
  TASKS="type IN ('text.process', 'users.sync', 'users.enrich_addresses', 'users.enrich_cards')"
  sql "tasks page (admin)" "SELECT * FROM jobs WHERE $TASKS AND (created_at, id) < ('9999-12-31', 'ffffffff-ffff-ffff-ffff-ffffffffffff') ORDER BY created_at DESC, id DESC LIMIT 21"
  sql "tasks page (user)" "SELECT * FROM jobs WHERE $TASKS AND owner = 'testuser' AND (created_at, id) < ('9999-12-31', 'ffffffff-ffff-ffff-ffff-ffffffffffff') ORDER BY created_at DESC, id DESC LIMIT 21"
  sql "tasks total (admin, capped)" "SELECT count(*) AS n FROM (SELECT 1 FROM jobs WHERE $TASKS LIMIT 10001) upto"
  sql "history page (user)" "SELECT * FROM jobs WHERE $TASKS AND owner = 'testuser' AND status IN ('succeeded', 'dead', 'cancelled') AND (finished_at, id) < ('9999-12-31', 'ffffffff-ffff-ffff-ffff-ffffffffffff') ORDER BY finished_at DESC, id DESC LIMIT 21"
  sql "history page (admin)" "SELECT * FROM jobs WHERE $TASKS AND status IN ('succeeded', 'dead', 'cancelled') AND (finished_at, id) < ('9999-12-31', 'ffffffff-ffff-ffff-ffff-ffffffffffff') ORDER BY finished_at DESC, id DESC LIMIT 21"
  sql "claim 64 of 500 due" "WITH next AS (
      SELECT id FROM jobs
      WHERE queue = 'default' AND status IN ('scheduled','queued','failed') AND run_at <= now()
        AND type = ANY('{booking.payment,booking.confirm,booking.compensate}')
        AND NOT EXISTS (SELECT 1 FROM job_queues WHERE name = 'default' AND paused)
      ORDER BY run_at LIMIT 64 FOR UPDATE SKIP LOCKED)
    UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, locked_by = 'bench',
                      lease_until = now() + interval '30 seconds', started_at = now(), updated_at = now()
    FROM next WHERE j.id = next.id RETURNING j.id" \
    "INSERT INTO jobs (id, type, status, max_attempts, run_at, queue) SELECT gen_random_uuid(), 'booking.payment', 'queued', 5, now() - interval '1 second', 'default' FROM generate_series(1, 500);"
  sql "hold-expiry sweep, 500 due" "SELECT id FROM bookings
      WHERE status IN ('pending','payment_processed') AND expires_at <= now() AND id <> ALL('{}')
      ORDER BY expires_at LIMIT 500 FOR UPDATE SKIP LOCKED" \
    "UPDATE bookings SET expires_at = now() - interval '1 second' WHERE id IN (SELECT id FROM bookings WHERE status = 'pending' ORDER BY id LIMIT 500);"
  sql "lease rescue, 100 lost" "SELECT id FROM jobs WHERE status = 'running' AND (lease_until < now() OR locked_by = ANY('{gone}'))
      FOR UPDATE SKIP LOCKED" \
    "INSERT INTO jobs (id, type, status, attempts, max_attempts, run_at, lease_until, locked_by, queue) SELECT gen_random_uuid(), 'booking.confirm', 'running', 1, 5, now() - interval '1 minute', now() - interval '1 second', 'gone', 'default' FROM generate_series(1, 100);"
  sql "retention purge batch (5,000)" "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs
      WHERE finished_at < now() - interval '6 days' AND status IN ('succeeded', 'cancelled') AND type <> ALL('{}')
      LIMIT 5000)"
  # ops/JobCounts: live states and dead counted from their partial indexes, finished ones estimated from statistics
  sql "job counts, live and dead (exact)" "SELECT type, queue, CASE WHEN status = 'scheduled' AND run_at <= now() THEN 'queued' ELSE status END AS state, count(*) AS n
    FROM jobs WHERE status IN ('scheduled', 'queued', 'failed') GROUP BY 1, 2, 3
    UNION ALL SELECT type, queue, 'running', count(*) FROM jobs WHERE status = 'running' GROUP BY 1, 2
    UNION ALL SELECT type, queue, 'dead', count(*) FROM jobs WHERE status = 'dead' GROUP BY 1, 2" \
    "INSERT INTO jobs (id, type, status, max_attempts, run_at, queue) SELECT gen_random_uuid(), 'booking.payment', 'queued', 5, now() - interval '1 second', 'default' FROM generate_series(1, 500);
     INSERT INTO jobs (id, type, status, attempts, max_attempts, run_at, lease_until, locked_by, queue) SELECT gen_random_uuid(), 'booking.confirm', 'running', 1, 5, now(), now() + interval '1 minute', 'bench', 'default' FROM generate_series(1, 100);"
  sql "job counts, finished (estimated)" "WITH size AS (SELECT CASE WHEN c.relpages > 0
      THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::float8) ELSE c.reltuples END AS rows
      FROM pg_class c WHERE c.oid = 'jobs'::regclass)
    SELECT s.most_common_vals[i][1], s.most_common_vals[i][3], s.most_common_vals[i][2], round(s.most_common_freqs[i] * size.rows)::bigint
    FROM size, pg_stats_ext s, generate_subscripts(s.most_common_vals, 1) i
    WHERE s.schemaname = current_schema() AND s.tablename = 'jobs' AND s.statistics_name = 'jobs_kinds' AND size.rows > 20000"
  sql "(job counts, the old full GROUP BY)" "SELECT type, CASE WHEN status = 'scheduled' AND run_at <= now() THEN 'queued' ELSE status END AS state, count(*) AS n FROM jobs GROUP BY 1, 2"
  cleanup
done
