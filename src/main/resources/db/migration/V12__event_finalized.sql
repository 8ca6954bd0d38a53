-- The finalized counter moves off the events row. Every booking batch of an event locks that row (FOR UPDATE, to
-- allocate what is left), and finalization batches adding to the counter there queued behind those batches and
-- they behind it: on a hot event, half of both sides' time went to waiting for each other. Finalization now adds
-- to its own row per event, which nothing on the booking path locks.
CREATE TABLE event_finalized (
  event_id  bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  finalized int    NOT NULL CHECK (finalized >= 0)
);

-- The former CHECK (finalized <= booked), across the two tables: a finalized booking never returns its quantity,
-- so booked cannot drop below finalized afterwards and checking when the counter grows is enough. Reads the
-- events row without locking it.
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

INSERT INTO event_finalized (event_id, finalized) SELECT id, finalized FROM events WHERE finalized > 0;
ALTER TABLE events DROP CONSTRAINT events_finalized_within_booked;
ALTER TABLE events DROP COLUMN finalized;
