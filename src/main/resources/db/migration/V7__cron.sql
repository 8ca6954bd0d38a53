-- Cron: one row per (schedule, tick) that has run. Every scheduler node tries to insert the row at the tick; the
-- primary key lets exactly one succeed, and that node enqueues the job in the same transaction.
CREATE TABLE cron_ticks (
  schedule  text        NOT NULL,
  tick      timestamptz NOT NULL,
  job_id    uuid,
  fired_by  text,
  fired_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule, tick)
);

-- The latest tick each schedule has run (or, for a new schedule, the tick it was first seen at): a node starting
-- after a pause runs the latest missed tick once.
CREATE TABLE cron_state (
  schedule   text        PRIMARY KEY,
  last_tick  timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
