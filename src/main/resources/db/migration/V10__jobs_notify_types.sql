-- Wake-ups name the job types that became due ("<due ms>|type,type"), so a node's engines for other queues stay
-- asleep instead of all running a claim query for every booking step.
CREATE OR REPLACE FUNCTION jobs_notify_due() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  due timestamptz;
  types text;
BEGIN
  SELECT min(run_at), string_agg(DISTINCT type, ',') INTO due, types
  FROM changed WHERE status IN ('scheduled','queued','failed');
  IF due IS NOT NULL THEN
    PERFORM pg_notify('boxoffice_jobs', (floor(extract(epoch FROM due) * 1000))::bigint::text || '|' || left(types, 7000));
  END IF;
  RETURN NULL;
END $$;
