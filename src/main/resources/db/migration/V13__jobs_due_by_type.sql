-- The due index gets the type, so that a claim (queue, types, due by now) is one index range per type. With
-- (queue, run_at) alone, the planner, whose estimate of due rows in a queue table is stale between two ANALYZEs,
-- preferred AND-ing that index with jobs_type_status, which read every live and not-yet-vacuumed entry of the
-- booking types (about 11,000 per claim under the booking benchmark).
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (queue, type, run_at) WHERE status IN ('scheduled','queued','failed');
