package dev.boxoffice.booking;

import dev.boxoffice.ops.Metrics;
import dev.boxoffice.platform.Deadline;
import dev.boxoffice.platform.Failure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * How {@link BookingBatcher} keeps a stall of PostgreSQL from piling bookings up in memory or committing them after
 * their clients were answered:
 * <ul>
 *   <li>at most {@code booking_queue_limit} bookings wait for a transaction; beyond that a booking is refused at once
 *       (503, {@code Retry-After}) without touching PostgreSQL;</li>
 *   <li>a waiting booking whose budget runs out is answered 503 (a sweep every {@link #SWEEP_MS}) and a booking with
 *       less than {@link #MIN_START_MS} left never enters a transaction;</li>
 *   <li>each transaction is bounded by its batch's earliest deadline ({@link Guard}): its statements get that as
 *       {@code statement_timeout}, no COMMIT is sent after it, and the server refuses a COMMIT that reaches it after
 *       it (the deferred trigger {@code bookings_commit_deadline} of the schema, on the server's own clock, set
 *       relative to the time left). If the deadline passes before the COMMIT was sent, the batch's bookings are
 *       answered 503 at once: the transaction can only roll back.</li>
 * </ul>
 * The one window left: a COMMIT sent before the deadline and held up (the server frozen) beyond the edge's grace.
 * Its client gets 504 ("may still complete"); the server commits it only if it checked the deadline in time, i.e.
 * it froze between that check and the commit record (see docs/behaviour.md).
 */
final class BookingBounds {
  /** A booking with less time than this left is not put into a transaction: it could not commit in time. */
  static final long MIN_START_MS = 250;
  static final long SWEEP_MS = 100;

  private static final String BOUND = """
    SELECT set_config('statement_timeout', $1, true),
           set_config('boxoffice.commit_by', (clock_timestamp() + $2 * interval '1 millisecond')::text, true)""";

  private final Vertx vertx;
  private final int limit;
  /** The server's commit deadline may lie this much past the handler's (the bound's round trip): well within the edge's grace. */
  private final long maxBoundRoundTripMs;
  private final Counter full;
  private final Counter late;
  private long sweepTimer = -1;

  BookingBounds(Vertx vertx, int limit, long graceMs, IntSupplier waiting) {
    if (limit < 1) {
      throw new IllegalArgumentException("booking_queue_limit must be at least 1, got " + limit);
    }
    this.vertx = vertx;
    this.limit = limit;
    this.maxBoundRoundTripMs = Math.max(50, graceMs / 2);
    var registry = Metrics.registry(vertx);
    full = registry.map(r -> Counter.builder("boxoffice_bookings_refused").tag("reason", "queue_full")
      .description("bookings refused 503 at once: too many waiting for a transaction on this node").register(r))
      .orElse(null);
    late = registry.map(r -> Counter.builder("boxoffice_bookings_refused").tag("reason", "deadline")
      .description("bookings answered 503 because their budget ran out before they could commit").register(r))
      .orElse(null);
    registry.ifPresent(r -> Gauge.builder("boxoffice_bookings_waiting", waiting::getAsInt)
      .description("bookings waiting for a transaction on this node").register(r));
    registry.ifPresent(r -> Gauge.builder("boxoffice_bookings_waiting_limit", () -> limit)
      .description("booking_queue_limit").register(r));
  }

  /** Null when one more booking may wait, else the 503 to answer with. */
  Failure admit(int waiting) {
    if (waiting < limit) {
      return null;
    }
    if (full != null) {
      full.increment();
    }
    return Failure.unavailable("Too many bookings are waiting on this node; retry shortly")
      .with("retry_after", 1);
  }

  /** The 503 for a booking whose budget ran out before it could commit. */
  Failure tooLate() {
    if (late != null) {
      late.increment();
    }
    return Deadline.exhausted();
  }

  /** Runs {@code sweep} every {@link #SWEEP_MS} for as long as it returns true (bookings still waiting). */
  void sweepWhile(BooleanSupplier sweep) {
    if (sweepTimer >= 0) {
      return;
    }
    sweepTimer = vertx.setPeriodic(SWEEP_MS, id -> {
      if (!sweep.getAsBoolean()) {
        vertx.cancelTimer(id);
        sweepTimer = -1;
      }
    });
  }

  /** A guard for one transaction whose bookings' earliest deadline is {@code earliest}. */
  Guard guard(Deadline earliest, List<? extends Runnable> onAbandon) {
    return new Guard(earliest, onAbandon);
  }

  /** One transaction's deadline: bounds its statements, keeps its COMMIT in time. */
  final class Guard {
    private final Deadline earliest;
    private final long timer;
    private boolean committing;
    private boolean abandoned;

    private Guard(Deadline earliest, List<? extends Runnable> onAbandon) {
      this.earliest = earliest;
      this.timer = earliest.none() ? -1 : vertx.setTimer(Math.max(1, earliest.remainingMs()), t -> {
        if (!committing) {
          abandoned = true; // no COMMIT will be sent: the bookings can be answered now
          onAbandon.forEach(Runnable::run);
        }
      });
    }

    /** The transaction's first statement: its statement_timeout and the server-side commit deadline. */
    Future<Void> bound(SqlClient tx) {
      if (earliest.none()) {
        return Future.succeededFuture();
      }
      long left = earliest.remainingMs();
      if (left <= 0) {
        return Future.failedFuture(Deadline.exhausted());
      }
      long sent = System.nanoTime();
      return tx.preparedQuery(BOUND).execute(Tuple.of(String.valueOf(left), left)).compose(r -> {
        long roundTrip = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
        return roundTrip > maxBoundRoundTripMs || abandoned ? Future.failedFuture(Deadline.exhausted())
          : Future.succeededFuture();
      });
    }

    /** The transaction's last step: fails (rolls back) once the deadline has passed, else the COMMIT may go. */
    Future<Void> beforeCommit() {
      if (abandoned || earliest.passed()) {
        return Future.failedFuture(Deadline.exhausted());
      }
      committing = true;
      return Future.succeededFuture();
    }

    void done() {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }
  }
}
