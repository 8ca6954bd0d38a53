-- Ticket finalization: the issued ticket and the e-mail outbox.
--
-- No foreign keys to bookings on purpose: bookings is created by V4, which is developed on another branch, and the
-- finalization job is the only writer of these rows (it inserts them in the same transaction that moves its
-- booking to 'finalized'), so the reference cannot dangle. booking_id is indexed (the primary key of tickets, the
-- leading column of outbox's unique key) for the joins from bookings.

-- One PDF per booking, written once when the booking is finalized.
CREATE TABLE tickets (
  booking_id bigint      PRIMARY KEY,
  pdf        bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Outgoing e-mail. A row is written in the transaction that creates the fact it announces; a job then delivers it.
-- unique (booking_id, kind): a booking gets at most one message of each kind, however often finalization runs.
-- status: pending → sent (SMTP accepted it) | recorded (no SMTP configured: kept here only) | failed (out of tries).
CREATE TABLE outbox (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  booking_id bigint      NOT NULL,
  kind       text        NOT NULL DEFAULT 'ticket',
  "to"       text        NOT NULL,
  subject    text        NOT NULL,
  body       text        NOT NULL,
  status     text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','recorded','failed')),
  attempts   int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz,
  CONSTRAINT outbox_one_per_kind UNIQUE (booking_id, kind)
);
