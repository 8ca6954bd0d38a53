-- Updates wake the engines only when a job becomes due again (a retry after a failure, a rescued lease, a manual
-- retry): a row trigger with a WHEN condition, checked in C, instead of a statement trigger that captured every
-- updated row in a transition table and scanned it in PL/pgSQL. Claims, completions and lease renewals (nearly all
-- updates) now skip the trigger entirely. Inserts keep the statement trigger: one notice per statement.
DROP TRIGGER jobs_updated ON jobs;

CREATE FUNCTION jobs_notify_due_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- identical notices of one transaction (a rescue of many jobs of one type) are delivered once
  PERFORM pg_notify('boxoffice_jobs', (floor(extract(epoch FROM NEW.run_at) * 1000))::bigint::text || '|' || NEW.type);
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_due_again AFTER UPDATE ON jobs FOR EACH ROW
  WHEN (NEW.status IN ('scheduled','queued','failed'))
  EXECUTE FUNCTION jobs_notify_due_again();
