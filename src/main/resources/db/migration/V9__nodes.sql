-- Every node (any roles) upserts its row at start and heartbeats it every few seconds; GET /ops/nodes reads it.
-- A node is alive while its heartbeat is fresh (and, when clustered, while it is a cluster member).
CREATE TABLE nodes (
  node_id    text        PRIMARY KEY,
  roles      text        NOT NULL,
  http_port  int,
  started_at timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz
);

-- The monitoring page asks for the latest failures every couple of seconds; keep that off the big job scans.
CREATE INDEX jobs_failures ON jobs (updated_at DESC, id DESC) WHERE status IN ('failed', 'dead');
