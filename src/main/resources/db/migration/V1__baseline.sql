-- The whole schema, by feature. A database made by an older build (a longer migration history) is refused at
-- start-up (Database.migrate); it is not upgraded.

-- ==================================================================================================== accounts

-- Login accounts for POST /token. Passwords are stored only as salted PBKDF2 strings in the
-- `$pbkdf2$it=<iterations>$<salt>$<hash>` form of vertx-auth-common, so the cost can rise later
-- without a migration: each row carries its own parameters.
CREATE TABLE accounts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text        NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 100),
  password_hash text        NOT NULL CHECK (password_hash LIKE '$%'),
  role          text        NOT NULL CHECK (role IN ('admin', 'user')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- A disabled account cannot log in and its tokens are refused; accounts are disabled, never deleted, so that
  -- bookings and tasks keep a known owner.
  disabled      boolean     NOT NULL DEFAULT false,
  -- Tokens carry the version they were issued under (claim "ver"); every change of password, role or disabled
  -- raises it, so the tokens issued before stop working at their next use (auth/TokenGate).
  token_version int         NOT NULL DEFAULT 0
);

-- =================================================================================================== inventory

-- Sellable things. The counters are the truth for holds: one conditional UPDATE takes or returns quantity,
-- and the CHECKs make overselling impossible even if application code had a bug. Events cannot be deleted.
-- How many of an event's tickets are finalized is in event_finalized, not here (see there).
-- Bounds: capacity and stock are at most 1,000,000,000 (the contract's bound), so every sum the counters see (a
-- batch's hold, a sweep's return: at most 256 x 1000 each) stays far below 2^31 and no statement on them can
-- overflow; booked <= capacity, so returning tickets to an event can never break a CHECK either.
CREATE TABLE events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title      text          NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  capacity   int           NOT NULL CHECK (capacity BETWEEN 1 AND 1000000000),
  booked     int           NOT NULL DEFAULT 0,
  price      numeric(12,2) CHECK (price >= 0),
  starts_at  timestamptz,
  created_at timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT events_never_oversold CHECK (booked >= 0 AND booked <= capacity)
);

CREATE TABLE products (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text        NOT NULL CHECK (length(name) BETWEEN 2 AND 200), -- 2..200 as the contract says
  -- the stock left. An admin may set it to the bound while bookings hold some; what they return later tops the
  -- stock up to the bound at most (Inventory's release saturates), so a cancel or an expiry never breaks this
  quantity   int         NOT NULL CHECK (quantity BETWEEN 0 AND 1000000000),
  unique_id  text        NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- ==================================================================================================== bookings

-- Bookings and their saga state. The row is the saga: every step is a conditional status UPDATE on it, and the
-- quantity it holds on an event or product is taken/returned in the same transaction as the status change.
-- Bookings are never deleted.
CREATE TABLE bookings (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name              text        NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
  email             text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  phone             text        NOT NULL CHECK (length(phone) BETWEEN 5 AND 32),
  status            text        NOT NULL DEFAULT 'pending' CHECK (status IN
                      ('pending','payment_processed','payment_failed','confirmed','finalized','cancelled','expired')),
  -- events cannot be deleted; a deleted product (DELETE /products/{id}) leaves its bookings in place without the
  -- reference
  event_id          bigint      REFERENCES events (id),
  product_id        bigint      REFERENCES products (id) ON DELETE SET NULL,
  quantity          int         NOT NULL DEFAULT 1 CHECK (quantity BETWEEN 1 AND 1000),
  owner             text        NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  expires_at        timestamptz NOT NULL,
  confirmed_at      timestamptz,
  finalized_at      timestamptz,
  ticket_emailed_at timestamptz,
  last_error        text,
  -- what the booking was confirmed with: the payment provider's reference (auto mode), or manual:<username> when a
  -- person confirmed it without a processed payment (manual mode, or an admin). Set once, by the confirmation.
  payment_ref       text,
  CONSTRAINT bookings_one_item CHECK (event_id IS NULL OR product_id IS NULL)
);

-- Every status change is a non-HOT update (status is indexed), so each index here costs an entry per change; keep
-- only the ones a read needs.
-- Listing (GET /bookings) is newest first by id, in keyset pages (below the cursor's id): everyone's walks the
-- primary key backwards, one owner's this index, one status's the next; each page is one index range scan, as
-- cheap at millions of bookings as at thousands. The id is the order (not created_at, the transaction's start,
-- which a whole batch shares), so no index on created_at.
CREATE INDEX bookings_owner ON bookings (owner, id);
-- status filters of the listing, and reprocessing (the open states, by id). Complete rather than partial to the open
-- states: a page of 'finalized' bookings must not walk every other booking either.
CREATE INDEX bookings_status ON bookings (status, id);
-- the foreign key's side for DELETE /products/{id}. None for event_id: per-event counts and reports read the
-- events counters (events.booked, event_finalized), never bookings by event, and events cannot be deleted.
CREATE INDEX bookings_product ON bookings (product_id) WHERE product_id IS NOT NULL;
-- Holds expire from this table itself: expires_at is the persisted due time, and this index (holding statuses
-- only, so it stays as small as the set of open holds) gives each node the earliest one to arm a timer for, and a
-- sweep the due ones in order. No job per booking: that was an insert in the booking's transaction and a cancel
-- at confirmation, each a write to every jobs index.
CREATE INDEX bookings_holding_until ON bookings (expires_at) WHERE status IN ('pending','payment_processed');
-- A booking whose client has been answered (its deadline gone: 503, or the edge's 504) must never commit later. The
-- group commit sets boxoffice.commit_by (SET LOCAL, on this server's clock, from the time its batch has left) and
-- sends no COMMIT after it; but a COMMIT sent in time can still reach a stalled server late. This check runs at
-- COMMIT (deferred) and refuses it then, as a statement timeout would (57014); the transaction rolls back. The WHEN
-- clause is evaluated at insert time: inserts without the setting queue nothing.
CREATE FUNCTION bookings_commit_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF clock_timestamp() > current_setting('boxoffice.commit_by', true)::timestamptz THEN
    RAISE EXCEPTION 'commit deadline % passed: the booking''s client has been answered',
      current_setting('boxoffice.commit_by', true) USING ERRCODE = '57014';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER bookings_commit_deadline AFTER INSERT ON bookings DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (coalesce(current_setting('boxoffice.commit_by', true), '') <> '')
  EXECUTE FUNCTION bookings_commit_deadline();

-- ================================================================================================ finalization

-- Ticket finalization: the issued ticket, the e-mail outbox and the finalized counters. The finalization job is
-- the only writer of these rows: it inserts them in the same transaction that moves their booking to 'finalized'.

-- One PDF per booking, written once when the booking is finalized. A ticket is ~2.2 KB, just over the size at which
-- PostgreSQL would try to compress the row (the PDF is compressed already: wasted work on every ticket) and then move
-- it to the TOAST table (a second insert): toast_tuple_target keeps rows up to a page inline, and EXTERNAL storage
-- never tries to compress a bigger one.
CREATE TABLE tickets (
  booking_id bigint      PRIMARY KEY REFERENCES bookings (id),
  pdf        bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- the first scan at the gate (POST /tickets/scan) and the account that scanned it: set once, atomically
  -- (UPDATE ... WHERE scanned_at IS NULL), so a ticket admits once and later scans report this time
  scanned_at timestamptz,
  scanned_by text
) WITH (toast_tuple_target = 8160);
ALTER TABLE tickets ALTER COLUMN pdf SET STORAGE EXTERNAL;

-- Outgoing e-mail. A row is written in the transaction that creates the fact it announces, and delivered by the
-- finalization job that wrote it, after its commit (no send job per message: that was a jobs insert, claim and
-- completion per booking, and a NOTIFY round trip before the mail left).
-- unique (booking_id, kind): a booking gets at most one message of each kind, however often finalization runs
-- (its leading booking_id also serves the joins from bookings and the foreign key).
-- status: pending → sent (SMTP accepted it) | recorded (no SMTP configured: kept here only) | failed (out of tries).
CREATE TABLE outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  booking_id bigint      NOT NULL REFERENCES bookings (id),
  kind       text        NOT NULL DEFAULT 'ticket',
  "to"       text        NOT NULL,
  subject    text        NOT NULL,
  body       text        NOT NULL,
  status     text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','recorded','failed')),
  attempts   int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz,
  -- The finalization job that wrote the row: only it delivers it, and the job engine runs one attempt of a job at
  -- a time, so no two deliveries of a row run at once. Finalization always sets it; a NULL row may be delivered by
  -- any finalization job of its booking. No foreign key: job retention deletes finished jobs, the row stays.
  job_id     uuid,
  -- The job attempt that last claimed the row for sending (OutboxSender's fenced claim): a message leaves only
  -- after one statement has checked that this attempt still holds its job's lease (jobs.attempts, locked_by,
  -- status 'running') and written its name here. A node paused past its lease finds its attempt superseded and
  -- sends nothing; the pair also tells which attempt sent (or re-sent) a message. Its attempts counter grows once
  -- per claiming attempt.
  claimed_by_job  uuid,
  claimed_attempt int,
  CONSTRAINT outbox_one_per_kind UNIQUE (booking_id, kind)
);

-- Finalized tickets per event, on a row of their own rather than on the events row: every booking batch of an event
-- locks the events row (FOR UPDATE, to allocate what is left), and finalization batches adding to a counter there
-- queued behind those batches and they behind it (on a hot event, half of both sides' time went to waiting for each
-- other). Nothing on the booking path locks this row.
CREATE TABLE event_finalized (
  event_id  bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  finalized int    NOT NULL CHECK (finalized >= 0)
);

-- finalized <= booked, across the two tables: a finalized booking never returns its quantity, so booked cannot
-- drop below finalized afterwards and checking when the counter grows is enough. Reads the events row without
-- locking it.
CREATE FUNCTION event_finalized_within_booked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.finalized > (SELECT booked FROM events WHERE id = NEW.event_id) THEN
    RAISE EXCEPTION 'event % would have % finalized of % booked', NEW.event_id, NEW.finalized,
      (SELECT booked FROM events WHERE id = NEW.event_id)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'event_finalized_within_booked';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER event_finalized_within_booked BEFORE INSERT OR UPDATE ON event_finalized
  FOR EACH ROW EXECUTE FUNCTION event_finalized_within_booked();

-- ======================================================================================================== jobs

-- The durable job engine: every background unit is a row here before it is a message on the bus. No foreign keys
-- point here (outbox.job_id, cron_ticks.job_id): job retention deletes finished jobs whose outcome those rows keep.
CREATE TABLE jobs (
  id           uuid PRIMARY KEY,
  type         text        NOT NULL,
  payload      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  status       text        NOT NULL CHECK (status IN
                 ('scheduled','queued','running','succeeded','failed','dead','cancelled')),
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
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- the queue whose engine runs the job (JobType.queue in code); each claims only through its own slice of jobs_due
  queue        text        NOT NULL DEFAULT 'default',
  -- the W3C traceparent of what enqueued the job (a request, the attempt of the step before) when that was traced:
  -- each attempt continues its trace, on whichever node claims it (platform/Tracing). NULL when tracing is off.
  traceparent  text
);

-- Every status change of a job is a non-HOT update (status is indexed), so each index costs an entry per change.
-- a unique key dedupes only while a job holding it is live
CREATE UNIQUE INDEX jobs_live_unique_key ON jobs (unique_key)
  WHERE unique_key IS NOT NULL AND status IN ('scheduled','queued','running','failed');
-- A claim (queue, types, due by now) is one index range per type, and reads only its queue's due rows, in order,
-- stopping at the batch size. Without the queue the booking steps walked past every queued ticket; without the
-- type the planner, whose estimate of due rows in a queue table is stale between two ANALYZEs, preferred AND-ing
-- (queue, run_at) with jobs_type_status, which read every live and not-yet-vacuumed entry of the booking types
-- (about 11,000 per claim under the booking benchmark).
-- The included columns let the job counts (ops/JobCounts: /ops/jobs, /ops/queues, the gauges) count the live jobs
-- from these partial indexes alone, however many finished jobs the table keeps.
CREATE INDEX jobs_due ON jobs (queue, type, run_at) INCLUDE (status) WHERE status IN ('scheduled','queued','failed');
CREATE INDEX jobs_leases ON jobs (lease_until) INCLUDE (type, queue) WHERE status = 'running';
-- dead jobs stay until an operator acts (retention purges only succeeded and cancelled ones): counted from here
CREATE INDEX jobs_dead ON jobs (type, queue) WHERE status = 'dead';
CREATE INDEX jobs_type_status ON jobs (type, status);
-- metrics, throughput and retention: finished jobs by time
CREATE INDEX jobs_finished ON jobs (finished_at DESC, id DESC) WHERE finished_at IS NOT NULL;
-- The task lists (GET /tasks newest first, GET /history latest finished first) read keyset pages of tasks only: the
-- public task types (TaskTypes.PUBLIC, written here again; ListPagesTest checks the two agree) rather than every
-- job, so the millions of finished saga steps and ticket jobs are never walked past, and the internal jobs, nearly
-- all of the writes, add no entry here.
CREATE INDEX jobs_tasks ON jobs (created_at DESC, id DESC)
  WHERE type IN ('text.process', 'users.sync', 'users.enrich_addresses', 'users.enrich_cards');
CREATE INDEX jobs_history ON jobs (finished_at DESC, id DESC)
  WHERE type IN ('text.process', 'users.sync', 'users.enrich_addresses', 'users.enrich_cards')
    AND status IN ('succeeded', 'dead', 'cancelled');
-- Saga steps and ticket jobs have no owner, and these serve only "my tasks" and "my history" (owner = $1), which
-- imply owner IS NOT NULL. The public types are in the predicates too: the planner takes an owner's share of the
-- table times the tasks' share (about 1%) as the rows of a user's page, expects one, and with an index that did
-- not imply the type read every task of the user by bitmap and sorted them (300 of them for 21, 16 ms at 3
-- million jobs, growing with the user's history); an index whose predicate implies the type gets the ordered
-- scan that stops after the page.
CREATE INDEX jobs_owner ON jobs (owner, created_at DESC, id DESC)
  WHERE owner IS NOT NULL AND type IN ('text.process', 'users.sync', 'users.enrich_addresses', 'users.enrich_cards');
CREATE INDEX jobs_owner_history ON jobs (owner, finished_at DESC, id DESC)
  WHERE owner IS NOT NULL AND type IN ('text.process', 'users.sync', 'users.enrich_addresses', 'users.enrich_cards')
    AND status IN ('succeeded', 'dead', 'cancelled');
-- The monitoring page asks for the latest failures every couple of seconds; keep that off the big job scans.
CREATE INDEX jobs_failures ON jobs (updated_at DESC, id DESC) WHERE status IN ('failed', 'dead');
-- How many succeeded and cancelled jobs there are of each type is estimated from these statistics once the table
-- is large (ops/JobCounts): the share of each combination, which per-column statistics cannot give (1% of the jobs
-- are tasks, whatever share of all jobs has succeeded). The MCV list holds up to 100 combinations (the default
-- statistics target): every type's finished states, with room to spare.
CREATE STATISTICS jobs_kinds (mcv) ON type, status, queue FROM jobs;

-- Wake-ups: whenever rows become due every node hears the earliest due time and arms a timer for it, so delayed
-- work starts on time without polling. The notice names the job types that became due ("<due ms>|type,type"), so a
-- node's engines for other queues stay asleep instead of all running a claim query for every booking step.
-- Inserts: a statement trigger, so a batch insert notifies once.
CREATE FUNCTION jobs_notify_due() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_due();

-- Updates wake the engines only when a job becomes due again (a retry after a failure, a rescued lease, a manual
-- retry): a row trigger with a WHEN condition, checked in C, so claims, completions and lease renewals (nearly all
-- updates) skip the trigger entirely, where a statement trigger captured every updated row in a transition table
-- and scanned it in PL/pgSQL.
CREATE FUNCTION jobs_notify_due_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- identical notices of one transaction (a rescue of many jobs of one type) are delivered once
  PERFORM pg_notify('boxoffice_jobs', (floor(extract(epoch FROM NEW.run_at) * 1000))::bigint::text || '|' || NEW.type);
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_due_again AFTER UPDATE ON jobs FOR EACH ROW
  WHEN (NEW.status IN ('scheduled','queued','failed'))
  EXECUTE FUNCTION jobs_notify_due_again();

-- Operators' queue controls (POST /ops/queues/{queue}/pause|resume). A row per queue an operator has touched; no
-- row means running. Persisted rather than only broadcast so the pause is cluster-wide and durable: every claim
-- (and the handoff insert) reads it, so a node that missed the bus message, or started after the pause, obeys it.
CREATE TABLE job_queues (
  name       text        PRIMARY KEY,
  paused     boolean     NOT NULL DEFAULT false,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text
);

-- ======================================================================================================== cron

-- One row per (schedule, tick) that has run. Every scheduler node tries to insert the row at the tick; the primary
-- key lets exactly one succeed, and that node enqueues the job in the same transaction. job_id has no foreign key:
-- job retention deletes the job, the tick stays.
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

-- ======================================================================================================= users

-- The user directory synced from the provider (users.sync), and its 1:1 enrichments (users.enrich_*).
CREATE TABLE users (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  external_id        bigint      NOT NULL UNIQUE CHECK (external_id > 0),
  first_name         text        NOT NULL,
  last_name          text        NOT NULL,
  email              text        NOT NULL,
  phone              text,
  username           text        NOT NULL,
  -- when enrichment last asked the provider; NULL = not yet. Checked without a row = the provider has none.
  address_checked_at timestamptz,
  card_checked_at    timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- user_id is the key: one address per user, so concurrent enrichment runs upsert instead of duplicating.
CREATE TABLE addresses (
  user_id     bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  address     text,
  city        text,
  state       text,
  state_code  text,
  postal_code text,
  country     text,
  lat         double precision,
  lng         double precision,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Only what masking needs: never the full card number (the CHECK refuses anything but four digits).
CREATE TABLE cards (
  user_id      bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  last4        text        NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  card_type    text,
  expire_month smallint    CHECK (expire_month BETWEEN 1 AND 12),
  expire_year  smallint    CHECK (expire_year BETWEEN 2000 AND 2199),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- enrichment picks the oldest users not yet looked up
CREATE INDEX users_address_pending ON users (id) WHERE address_checked_at IS NULL;
CREATE INDEX users_card_pending ON users (id) WHERE card_checked_at IS NULL;

-- ======================================================================================================= nodes

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

-- The deployment this database belongs to: one row, a random id made when the schema is created. Every clustered
-- node publishes it when it joins (platform/DeploymentCheck) and refuses to start in a cluster whose members use
-- another database, which would answer from other data (a dev node with its own database given the prod members).
-- A row, not the server's system identifier or the database name: a proxy, a replica promoted after a fail-over,
-- or a renamed host still serve the same deployment.
CREATE TABLE deployment (
  single     boolean     PRIMARY KEY DEFAULT true CHECK (single),
  id         uuid        NOT NULL DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO deployment DEFAULT VALUES;

-- ============================================================================================= idempotency keys

-- Idempotency-Key (IETF httpapi draft) of POST /bookings, /tasks, /submit, /events, /products: one row per account
-- and key, written in the same transaction as the work it guards, so a key is answered exactly when its work
-- committed. The request claims the row first (INSERT ... ON CONFLICT DO NOTHING): a concurrent duplicate waits
-- on the uncommitted row and then replays, whatever Redis (which only turns an in-flight duplicate into a quick
-- 409) knows. status and body are the stored answer (2xx only), NULL only inside the claiming transaction, which
-- fills them in or deletes the row before it commits. fingerprint: SHA-256 of the operation and the canonical
-- body, to refuse (422) the key reused for another request. Kept until expires_at (24 h), then deleted by
-- IdempotencyRetention; a claim may also take over an expired row the sweep has not reached yet.
CREATE TABLE idempotency_keys (
  account     text        NOT NULL,
  key         text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  operation   text        NOT NULL,
  fingerprint text        NOT NULL,
  status      int         CHECK (status BETWEEN 200 AND 299),
  body        text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (account, key)
);

-- the retention sweep's range
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
