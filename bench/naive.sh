#!/usr/bin/env bash
# Yardstick for the day's machine, run by hand: the naive booking design the issue's targets are set against, in
# PostgreSQL alone (no HTTP, no service). 32 pgbench clients each run a lock-then-update transaction on one hot row
# (SELECT ... FOR UPDATE, the conditional UPDATE, one INSERT) for SECS (20) seconds; prints transactions/s.
# Compare bench/bookings.sh's hot event with this figure taken on the same machine the same day.
set -euo pipefail
PG_ADMIN="${BENCH_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}"
DB="bo_naive_$(date +%s)"
PG_URI="${PG_ADMIN%/*}/$DB"
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
trap 'psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; rm -f "$SCRIPT"' EXIT
psql "$PG_URI" -q <<'SQL'
CREATE TABLE events (id int PRIMARY KEY, capacity int NOT NULL, booked int NOT NULL, CHECK (booked <= capacity));
INSERT INTO events VALUES (1, 1000000000, 0);
CREATE TABLE bookings (id bigserial PRIMARY KEY, event_id int NOT NULL, quantity int NOT NULL,
                       created_at timestamptz NOT NULL DEFAULT now());
SQL
SCRIPT=$(mktemp)
cat > "$SCRIPT" <<'SQL'
BEGIN;
SELECT capacity - booked FROM events WHERE id = 1 FOR UPDATE;
UPDATE events SET booked = booked + 1 WHERE id = 1 AND booked + 1 <= capacity;
INSERT INTO bookings (event_id, quantity) VALUES (1, 1);
COMMIT;
SQL
pgbench -n -M prepared -c 32 -j 2 -T "${SECS:-20}" -f "$SCRIPT" "$PG_URI" 2>&1 | grep -E "^(tps|latency average)"
