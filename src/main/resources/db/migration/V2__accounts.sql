-- Login accounts for POST /token. Passwords are stored only as salted PBKDF2 strings in the
-- `$pbkdf2$it=<iterations>$<salt>$<hash>` form of vertx-auth-common, so the cost can rise later
-- without a migration: each row carries its own parameters.
CREATE TABLE accounts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text        NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 100),
  password_hash text        NOT NULL CHECK (password_hash LIKE '$%'),
  role          text        NOT NULL CHECK (role IN ('admin', 'user')),
  created_at    timestamptz NOT NULL DEFAULT now()
);
