-- Ticket e-mails are delivered by the finalization job that writes them, after its commit, instead of by a separate
-- outbox.send job per message (a jobs insert, claim and completion per booking, and a NOTIFY round trip before the
-- mail left). job_id names that job: only it delivers the row, and the job engine runs one attempt of a job at a
-- time, which is what the send job's unique key used to guarantee. NULL for rows written before this migration:
-- any finalization job of their booking may deliver those.
ALTER TABLE outbox ADD COLUMN job_id uuid;

-- Live send jobs left from before become finalization jobs of their booking (whose booking is finalized, so they
-- only deliver the pending row) and keep their attempts and schedule; the row is theirs.
UPDATE outbox o SET job_id = j.id
FROM jobs j
WHERE j.type = 'outbox.send' AND j.status IN ('scheduled','queued','running','failed')
  AND j.unique_key = 'outbox:' || o.id;

UPDATE jobs SET type = 'booking.finalize', queue = 'tickets', payload = jsonb_build_object('booking_id', o.booking_id),
                updated_at = now()
FROM outbox o
WHERE jobs.type = 'outbox.send' AND jobs.status IN ('scheduled','queued','running','failed')
  AND jobs.unique_key = 'outbox:' || o.id;
