package dev.boxoffice.booking;

import dev.boxoffice.inventory.ItemLock;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** Booking API handlers and saga step handlers of a worker node (hold expiry is {@link HoldExpiry}). */
public final class BookingVerticle extends VerticleBase {
  private final Platform platform;

  public BookingVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    AppConfig config = platform.config();
    BookingSaga saga;
    Reprocessing reprocessing;
    int holdSeconds;
    boolean autoPayment;
    try {
      holdSeconds = config.integer("hold_seconds");
      if (holdSeconds < 1) {
        throw new IllegalArgumentException("hold_seconds must be at least 1, got " + holdSeconds);
      }
      PaymentProvider payments = SimulatedPayments.fromSetting(config.string("payment_decline_emails"));
      autoPayment = autoPayment(config.string("payment_mode"));
      saga = new BookingSaga(vertx, platform.pool(), payments, autoPayment);
      reprocessing = new Reprocessing(platform.pool(), autoPayment);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    BookingMeters.register(vertx);
    BookingBatcher[] self = new BookingBatcher[1];
    BookingBounds bounds;
    try {
      bounds = new BookingBounds(vertx, config.integer("booking_queue_limit"), config.integer("request_grace_ms"),
        () -> self[0] == null ? 0 : self[0].waitingCount());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    BookingBatcher batcher = new BookingBatcher(vertx, platform.pool(), saga, ItemLock.of(platform), holdSeconds,
      due -> vertx.eventBus().publish(Bus.HOLDS_DUE, due), bounds);
    self[0] = batcher;
    return saga.handle(vertx).compose(v -> new BookingApi(platform.pool(), reprocessing, batcher, autoPayment,
      IdempotencyKeys.of(platform)).serve(vertx));
  }

  private static boolean autoPayment(String mode) {
    if (mode == null || mode.isBlank() || mode.trim().equalsIgnoreCase("auto")) {
      return true;
    }
    if (mode.trim().equalsIgnoreCase("manual")) {
      return false;
    }
    throw new IllegalArgumentException("payment_mode must be auto or manual, got " + mode);
  }
}
