-- Each queue's engine claims through its own slice of the due index. Before, the claim filtered the shared
-- run_at index by type, so the booking steps walked past every queued ticket (and jobs_type_status grew with
-- history); now a claim reads only its queue's due rows, in order, and stops at the batch size.
ALTER TABLE jobs ADD COLUMN queue text NOT NULL DEFAULT 'default';

-- live rows of the types that run on their own queue (JobType.queue in code); finished rows keep 'default'
UPDATE jobs SET queue = CASE WHEN type = 'booking.finalize' THEN 'tickets'
                             WHEN type = 'outbox.send' THEN 'mail'
                             ELSE 'users' END
WHERE status IN ('scheduled','queued','running','failed')
  AND (type IN ('booking.finalize', 'outbox.send') OR type LIKE 'users.%');

DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (queue, run_at) WHERE status IN ('scheduled','queued','failed');
