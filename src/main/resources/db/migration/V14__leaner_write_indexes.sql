-- Fewer index entries per write on the two busiest tables. Every status change of a job or a booking is a
-- non-HOT update (status is indexed), so each index costs an entry per change: about 60 per booking in all.
--
-- Saga steps and ticket jobs have no owner; only tasks and e-mail sends do, and the owner index serves only
-- "my tasks" (owner = $1), which implies owner IS NOT NULL.
DROP INDEX jobs_owner;
CREATE INDEX jobs_owner ON jobs (owner, created_at DESC) WHERE owner IS NOT NULL;

-- Per-event counts and reports read the events counters (events.booked, event_finalized), never bookings by
-- event; events cannot be deleted, so the foreign key needs no index on this side either.
DROP INDEX bookings_event;
