-- Holds expire from the bookings table itself: expires_at is the persisted due time, and this index (holding
-- statuses only, so it stays as small as the set of open holds) gives each node the earliest one to arm a timer
-- for, and a sweep the due ones in order. Before, every booking also had a booking.expire job: an insert in the
-- booking's transaction and a cancel at confirmation, each a write to every jobs index.
CREATE INDEX bookings_holding_until ON bookings (expires_at) WHERE status IN ('pending','payment_processed');

-- Expiry jobs left from before are redundant now (the sweep finds their bookings) and have no handler any more.
UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now(),
                last_error = 'replaced by the hold expiry sweep (V15)'
WHERE type = 'booking.expire' AND status NOT IN ('succeeded','dead','cancelled');
