package dev.boxoffice.booking;

/** Job types of the booking saga (each saga step is one job). */
public final class BookingJobs {
  /** Simulated (pluggable) payment: pending → confirmed (approved) | payment_failed (declined). */
  public static final String PAYMENT = "booking.payment";
  /** payment_processed → confirmed, for bookings found in payment_processed (reprocessing). */
  public static final String CONFIRM = "booking.confirm";
  /** confirmed → finalized: PDF ticket + e-mail through the outbox (delivered by the same job). */
  public static final String FINALIZE = "booking.finalize";
  /** Compensation after a step died or payment failed: → cancelled, held quantity returned. */
  public static final String COMPENSATE = "booking.compensate";

  private BookingJobs() {
  }
}
