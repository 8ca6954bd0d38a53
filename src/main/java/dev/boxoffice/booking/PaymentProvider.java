package dev.boxoffice.booking;

import io.vertx.core.Future;

/**
 * The saga's payment step. A real provider would be called with {@code idempotencyKey} so that a job run twice (lease
 * rescue after a crash) charges once; and the saga calls it only for job attempts that still hold their leases
 * ({@code LeaseFence}), so a node woken from a pause whose work was taken over calls nothing. A failed future is a transient error: the job retries, and compensation
 * cancels the booking once it is out of attempts. A decline is an answer, not an error.
 */
public interface PaymentProvider {

  /** What is charged: no card data ever passes through here or into logs. */
  record Charge(long bookingId, String email, String name, int quantity, String idempotencyKey) {
  }

  /** An approval carries the provider's reference for the charge: the confirmed booking records it. */
  record Outcome(boolean approved, String reason, String reference) {
    public static Outcome approve(String reference) {
      return new Outcome(true, null, reference);
    }

    public static Outcome decline(String reason) {
      return new Outcome(false, reason, null);
    }
  }

  Future<Outcome> charge(Charge charge);
}
