package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.platform.Deadline;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.Traces;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Row;

/**
 * A booking waiting in {@link BookingBatcher} for its batch's transaction ({@link BatchCommit}).
 * {@code key}: the request's Idempotency-Key, or null. {@code origin}: the request's span and context when it is
 * traced (null otherwise, and always while tracing is off).
 */
record PendingBooking(BookingStore.NewBooking booking, IdempotencyKeys.Key key, Promise<Row> promise,
                      Deadline deadline, Traces.Origin origin) {
  Inventory.Item item() {
    return booking.item();
  }

  /** The created booking, answered on the request's own context (in its trace) when it has one. */
  void created(Row row) {
    if (origin == null) {
      promise.tryComplete(row);
    } else {
      origin.complete(promise, row);
    }
  }

  /** The trace the booking's first job continues: the request's. */
  String traceparent() {
    return origin == null ? null : Traces.traceparent(origin.span().getSpanContext());
  }

  /** What may be in a batch once: its key; a booking without one is always distinct. */
  Object once() {
    return key != null ? key.account() + "\n" + key.key() : promise;
  }
}
