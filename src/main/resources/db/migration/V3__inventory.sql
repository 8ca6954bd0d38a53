-- Sellable things. The counters are the truth for holds: one conditional UPDATE takes or returns quantity,
-- and the CHECKs make overselling impossible even if application code had a bug.
CREATE TABLE events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title      text          NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  capacity   int           NOT NULL CHECK (capacity >= 1),
  booked     int           NOT NULL DEFAULT 0,
  finalized  int           NOT NULL DEFAULT 0,
  price      numeric(12,2) CHECK (price >= 0),
  starts_at  timestamptz,
  created_at timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT events_never_oversold CHECK (booked >= 0 AND booked <= capacity),
  CONSTRAINT events_finalized_within_booked CHECK (finalized >= 0 AND finalized <= booked)
);

CREATE TABLE products (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  quantity   int         NOT NULL CHECK (quantity >= 0),
  unique_id  text        NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
