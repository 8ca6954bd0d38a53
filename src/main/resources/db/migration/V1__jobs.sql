-- The durable job engine: every background unit is a row here before it is a message on the bus.
CREATE TABLE jobs (
  id           uuid PRIMARY KEY,
  type         text        NOT NULL,
  payload      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  status       text        NOT NULL CHECK (status IN ('scheduled','queued','running','succeeded','failed','dead','cancelled')),
  attempts     int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts int         NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
  run_at       timestamptz NOT NULL DEFAULT now(),
  lease_until  timestamptz,
  locked_by    text,
  last_error   text,
  result       jsonb,
  unique_key   text,
  owner        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- a unique key dedupes only while a job holding it is live
CREATE UNIQUE INDEX jobs_live_unique_key ON jobs (unique_key)
  WHERE unique_key IS NOT NULL AND status IN ('scheduled','queued','running','failed');
CREATE INDEX jobs_due ON jobs (run_at) WHERE status IN ('scheduled','queued','failed');
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX jobs_type_status ON jobs (type, status);
CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_finished ON jobs (finished_at DESC, id DESC) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_owner ON jobs (owner, created_at DESC);

-- Wake-ups: whenever rows become due (insert, retry, reprocess) every node hears the earliest due time and arms a
-- timer for it, so delayed work starts on time without polling. Statement-level, so a batch insert notifies once.
CREATE FUNCTION jobs_notify_due() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  due timestamptz;
BEGIN
  SELECT min(run_at) INTO due FROM changed WHERE status IN ('scheduled','queued','failed');
  IF due IS NOT NULL THEN
    PERFORM pg_notify('boxoffice_jobs', (floor(extract(epoch FROM due) * 1000))::bigint::text);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_due();
CREATE TRIGGER jobs_updated AFTER UPDATE ON jobs
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_due();
