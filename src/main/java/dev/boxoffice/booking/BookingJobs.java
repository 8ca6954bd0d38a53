package dev.boxoffice.booking;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.NewJob;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Job types of the booking saga (each saga step is one job) and the job of one step. Every job carries
 * {@code {"booking_id": N}} and a unique key {@code booking:N:<step>}, so re-enqueueing a step while one is live
 * (reprocessing, a retried transaction) adds nothing.
 */
public final class BookingJobs {
  /** Simulated (pluggable) payment: pending → confirmed (approved) | payment_failed (declined). */
  public static final String PAYMENT = "booking.payment";
  /** payment_processed → confirmed, for bookings found in payment_processed (reprocessing). */
  public static final String CONFIRM = "booking.confirm";
  /**
   * confirmed → finalized: PDF ticket + e-mail through the outbox (delivered by the same job). Handled by the
   * tickets feature; the saga only enqueues it.
   */
  public static final String FINALIZE = "booking.finalize";
  /** Compensation after a step died or payment failed: → cancelled, held quantity returned. */
  public static final String COMPENSATE = "booking.compensate";

  private BookingJobs() {
  }

  /** The job of one saga step of one booking, under the step's unique key. */
  static NewJob step(String type, long bookingId) {
    return NewJob.of(type, new JsonObject().put("booking_id", bookingId)).uniqueKey(key(bookingId, type));
  }

  static List<NewJob> steps(String type, List<Long> bookingIds) {
    return bookingIds.stream().map(id -> step(type, id)).toList();
  }

  /**
   * As {@link #steps(String, List)}, each job continuing the trace at the same index of {@code traces} (a W3C
   * traceparent, or null), as a batch enqueues for bookings of many traces; {@code traces} null: none named.
   */
  static List<NewJob> steps(String type, List<Long> bookingIds, List<String> traces) {
    if (traces == null) {
      return steps(type, bookingIds);
    }
    List<NewJob> jobs = new ArrayList<>(bookingIds.size());
    for (int i = 0; i < bookingIds.size(); i++) {
      jobs.add(step(type, bookingIds.get(i)).trace(traces.get(i)));
    }
    return jobs;
  }

  /** {@code booking:N:<step>} with the step as the job type's last segment (payment, confirm, finalize...). */
  static String key(long bookingId, String type) {
    return "booking:" + bookingId + ":" + type.substring(type.lastIndexOf('.') + 1);
  }

  /** The booking a step's job is for; a job without one can never succeed. */
  static long bookingId(Job job) {
    Object id = job.payload().getValue("booking_id");
    if (id instanceof Number n) {
      return n.longValue();
    }
    throw JobFailure.permanent("payload has no numeric booking_id");
  }
}
