package dev.boxoffice.booking;

import java.util.List;
import java.util.Set;

/**
 * Booking statuses and which of them hold quantity.
 *
 * <p>Quantity return rule: a booking holds its quantity (events.booked / products.quantity) while its status is in
 * {@link #HOLDING}. A transition from a holding status to a non-holding one ({@code payment_failed},
 * {@code cancelled}, {@code expired}) releases it, in the same transaction as the conditional status UPDATE, and only
 * when that UPDATE changed a row. Since a status leaves the holding set at most once, the quantity returns exactly
 * once, whatever races (cancel vs expiry, a job run twice) happen. See {@link Transition}.
 */
public final class BookingStatus {
  public static final String PENDING = "pending";
  public static final String PAYMENT_PROCESSED = "payment_processed";
  public static final String PAYMENT_FAILED = "payment_failed";
  public static final String CONFIRMED = "confirmed";
  public static final String FINALIZED = "finalized";
  public static final String CANCELLED = "cancelled";
  public static final String EXPIRED = "expired";

  public static final Set<String> HOLDING = Set.of(PENDING, PAYMENT_PROCESSED, CONFIRMED, FINALIZED);

  /** States the saga has not finished with; reprocessing looks at these. */
  public static final List<String> OPEN = List.of(PENDING, PAYMENT_PROCESSED, PAYMENT_FAILED, CONFIRMED);

  private BookingStatus() {
  }
}
