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
