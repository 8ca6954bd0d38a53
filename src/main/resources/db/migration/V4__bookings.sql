-- Bookings and their saga state. The row is the saga: every step is a conditional status UPDATE on it, and the
-- quantity it holds on an event or product is taken/returned in the same transaction as the status change.
CREATE TABLE bookings (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name              text        NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
  email             text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  phone             text        NOT NULL CHECK (length(phone) BETWEEN 5 AND 32),
  status            text        NOT NULL DEFAULT 'pending' CHECK (status IN
                      ('pending','payment_processed','payment_failed','confirmed','finalized','cancelled','expired')),
  -- events cannot be deleted; a deleted product leaves its bookings in place without the reference
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
  CONSTRAINT bookings_one_item CHECK (event_id IS NULL OR product_id IS NULL)
);

-- listing: newest first, for admin (all) and for one owner
CREATE INDEX bookings_newest ON bookings (created_at DESC, id DESC);
CREATE INDEX bookings_owner ON bookings (owner, created_at DESC, id DESC);
-- reprocessing and status filters on the open (non-final) states stay small however many bookings finish
CREATE INDEX bookings_open ON bookings (status, id)
  WHERE status IN ('pending','payment_processed','payment_failed','confirmed');
-- counting and reports per item
CREATE INDEX bookings_event ON bookings (event_id, status) WHERE event_id IS NOT NULL;
CREATE INDEX bookings_product ON bookings (product_id) WHERE product_id IS NOT NULL;
