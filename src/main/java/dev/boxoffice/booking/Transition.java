package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.Optional;

/**
 * A conditional status change of one booking: {@code UPDATE ... WHERE id = $1 AND status = ANY(from)}. Concurrent
 * writers (API, saga jobs, expiry, finalization) all go through these, so at most one of two racing transitions
 * changes the row; the loser sees no row and decides from the current status. No other code writes a status.
 *
 * <p>Each transition's {@code from} set is either all {@link BookingStatus#HOLDING} or none of it, so whether the
 * held quantity must return is known from the transition alone: it returns when a row changed from a holding status
 * to a non-holding one, in the caller's transaction (the quantity return rule of {@link BookingStatus}).
 */
public record Transition(String name, List<String> from, String to, String sql, String sqlMany) {
  // One booking (WHERE id = $1, its payment reference $5) or many (id = ANY($1), the reference at the same position
  // of $5: an array lookup keeps the primary-key plan that a join to unnest() could lose), then the transition's own
  // condition, then what comes back: the whole row for one booking (the API answers with it), only what the
  // quantity return and the batch callers read for many (whole rows would be decoded for nothing on the hot path).
  // A confirmation keeps the reference a booking already has (a processed payment) and otherwise records the one
  // given: what it was confirmed with is then always on the row.
  private static final String UPDATE = """
    UPDATE bookings SET status = $3, updated_at = now(),
           confirmed_at = CASE WHEN $3 = 'confirmed' THEN now() ELSE confirmed_at END,
           finalized_at = CASE WHEN $3 = 'finalized' THEN now() ELSE finalized_at END,
           last_error = coalesce($4, last_error),
           payment_ref = CASE WHEN $3 = 'confirmed' THEN coalesce(payment_ref, %s) ELSE payment_ref END
    WHERE id %s AND status = ANY($2) %s
    RETURNING %s""";
  /** A confirmation also returns how long ago its booking was created (BookingMeters' confirm lag). */
  static final String CONFIRM_LAG = "confirm_lag";

  /**
   * The saga's payment step when the provider approves: straight to confirmed in the same statement, so a booking
   * takes one job and one transaction from pending to confirmed (payment_processed is what a booking shows when its
   * payment went through but the confirmation has not, e.g. a legacy row or a manual reprocess).
   */
  public static final Transition PAYMENT_CONFIRMED = of("payment approved",
    List.of(BookingStatus.PENDING), BookingStatus.CONFIRMED, "AND expires_at > now()");
  /** Payment declined: the hold returns now, compensation then cancels. */
  public static final Transition PAYMENT_DECLINED = of("payment declined",
    List.of(BookingStatus.PENDING), BookingStatus.PAYMENT_FAILED, "");
  /** Manual confirm (POST: manual payment mode, or an admin); never after the hold has run out. */
  public static final Transition CONFIRM = of("confirm",
    List.of(BookingStatus.PENDING, BookingStatus.PAYMENT_PROCESSED), BookingStatus.CONFIRMED,
    "AND expires_at > now()");
  /** The saga's confirm step, and a user's confirm in auto payment mode: only after a processed payment. */
  public static final Transition CONFIRM_PAID = of("confirm after payment",
    List.of(BookingStatus.PAYMENT_PROCESSED), BookingStatus.CONFIRMED, "AND expires_at > now()");
  /** Cancel (POST) of a booking that still holds quantity. */
  public static final Transition CANCEL_HOLDING = of("cancel",
    List.of(BookingStatus.PENDING, BookingStatus.PAYMENT_PROCESSED, BookingStatus.CONFIRMED),
    BookingStatus.CANCELLED, "");
  /** Cancel (POST) or compensation of a booking whose payment failed: its hold is already back. */
  public static final Transition CANCEL_FAILED = of("cancel after failed payment",
    List.of(BookingStatus.PAYMENT_FAILED), BookingStatus.CANCELLED, "");
  /** Compensation: a saga step died before confirmation. Confirmed/finalized bookings are left alone. */
  public static final Transition COMPENSATE_HOLDING = of("compensate",
    List.of(BookingStatus.PENDING, BookingStatus.PAYMENT_PROCESSED), BookingStatus.CANCELLED, "");
  /** Ticket issued (finalization, many at once): the quantity stays held, now for good. */
  public static final Transition FINALIZE = of("finalize",
    List.of(BookingStatus.CONFIRMED), BookingStatus.FINALIZED, "");
  /** At expires_at: not yet confirmed. */
  public static final Transition EXPIRE = of("expire",
    List.of(BookingStatus.PENDING, BookingStatus.PAYMENT_PROCESSED), BookingStatus.EXPIRED,
    "AND expires_at <= now()");
  /** Every transition, for the meters. */
  static final List<Transition> ALL = List.of(PAYMENT_CONFIRMED, PAYMENT_DECLINED, CONFIRM, CONFIRM_PAID,
    CANCEL_HOLDING, CANCEL_FAILED, COMPENSATE_HOLDING, FINALIZE, EXPIRE);

  private static Transition of(String name, List<String> from, String to, String condition) {
    long holding = from.stream().filter(BookingStatus.HOLDING::contains).count();
    if (holding != 0 && holding != from.size()) {
      throw new IllegalArgumentException("transition " + name + " mixes holding and non-holding statuses");
    }
    String lag = BookingStatus.CONFIRMED.equals(to)
      ? ", extract(epoch FROM clock_timestamp() - created_at)::float8 AS " + CONFIRM_LAG : "";
    return new Transition(name, from, to, UPDATE.formatted("$5::text", "= $1", condition, "*" + lag),
      UPDATE.formatted("($5::text[])[array_position($1::bigint[], id)]", "= ANY($1)", condition,
        "id, event_id, product_id, quantity" + lag));
  }

  /** The name in metrics: {@code payment_approved}, {@code confirm_after_payment}... */
  public String metricName() {
    return name.replace(' ', '_');
  }

  /**
   * Applies the change to every listed booking that is in a {@code from} status, in one statement; returns the
   * changed rows' {@code id, event_id, product_id, quantity}. Released quantity is returned per item in one UPDATE each.
   */
  public Future<List<Row>> applyAll(SqlClient tx, List<Long> bookingIds, String lastError) {
    return applyAll(tx, bookingIds, lastError, null);
  }

  /**
   * {@link #applyAll(SqlClient, List, String)} where a confirmation records {@code paymentRefs.get(i)} for
   * {@code bookingIds.get(i)} (null list or element: none).
   */
  public Future<List<Row>> applyAll(SqlClient tx, List<Long> bookingIds, String lastError, List<String> paymentRefs) {
    String[] refs = paymentRefs == null ? new String[bookingIds.size()] : paymentRefs.toArray(new String[0]);
    return tx.preparedQuery(sqlMany)
      .execute(Tuple.of(bookingIds.toArray(new Long[0]), from.toArray(new String[0]), to, lastError, refs))
      .compose(rows -> {
        List<Row> changed = new java.util.ArrayList<>(rows.size());
        // returned in the order booking batches lock items (events, then products, by id): no deadlock with them
        java.util.Map<Inventory.Item, Integer> released = new java.util.TreeMap<>(Inventory.Item.LOCK_ORDER);
        boolean releases = releases();
        for (Row row : rows) {
          changed.add(row);
          BookingLog.debug(row.getLong("id"), "booking {} → {} ({})", row.getLong("id"), to, name);
          if (releases) {
            released.merge(BookingStore.item(row), row.getInteger("quantity"), Integer::sum);
          }
        }
        BookingMeters.changed(tx, this, changed);
        List<Future<Void>> returns = new java.util.ArrayList<>();
        released.forEach((item, quantity) -> returns.add(Inventory.release(tx, item, quantity)));
        return Future.all(returns).map(changed);
      });
  }

  /** True when this transition gives the held quantity back. */
  public boolean releases() {
    return BookingStatus.HOLDING.contains(from.get(0)) && !BookingStatus.HOLDING.contains(to);
  }

  /** Applies the change if the booking is in a {@code from} status; the changed row, or empty. */
  public Future<Optional<Row>> apply(SqlClient tx, long bookingId, String lastError) {
    return apply(tx, bookingId, lastError, null);
  }

  /** {@link #apply(SqlClient, long, String)}; a confirmation without a payment reference yet records {@code paymentRef}. */
  public Future<Optional<Row>> apply(SqlClient tx, long bookingId, String lastError, String paymentRef) {
    return tx.preparedQuery(sql).execute(Tuple.of(bookingId, from.toArray(new String[0]), to, lastError, paymentRef))
      .compose(rows -> {
        if (rows.size() == 0) {
          return Future.succeededFuture(Optional.<Row>empty());
        }
        Row row = rows.iterator().next();
        BookingLog.debug(bookingId, "booking {} → {} ({})", bookingId, to, name);
        BookingMeters.changed(tx, this, List.of(row));
        if (!releases()) {
          return Future.succeededFuture(Optional.of(row));
        }
        return Inventory.release(tx, BookingStore.item(row), row.getInteger("quantity"))
          .map(v -> Optional.of(row));
      });
  }
}
