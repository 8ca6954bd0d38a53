package dev.boxoffice.booking;

import dev.boxoffice.ops.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;

import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the booking path counts, in place of a log line per booking (those are DEBUG):
 * <ul>
 *   <li>{@code boxoffice_booking_transitions_total{transition, to}}: bookings created ({@code transition="create"},
 *       {@code to="pending"}) and every status change by {@link Transition} (its name in snake case, and the status
 *       it leads to);</li>
 *   <li>{@code boxoffice_booking_confirm_lag_seconds{transition}}: a histogram of the time from a booking's creation
 *       (its {@code created_at}) to its confirmation. {@code payment_approved} and {@code confirm_after_payment} are
 *       the saga's own; {@code confirm} includes the time the owner or an admin took.</li>
 * </ul>
 * A change is counted once its transaction has committed, never when it rolls back (a batch that fails and is
 * redone one booking at a time counts each booking once). The meters are the node's that does the work: each node
 * of a JVM (tests) has its own registry, found from the Vert.x context the code runs on; without one (no context,
 * metrics off) nothing is counted.
 */
final class BookingMeters {
  static final String CREATE = "create";
  /** Confirmation lag buckets: the saga's lag is milliseconds; a person's, seconds to the hold's minute. */
  private static final Duration[] LAG_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
    Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
    Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
    Duration.ofSeconds(30), Duration.ofSeconds(60)};
  private static final Map<MeterRegistry, BookingMeters> BY_REGISTRY =
    Collections.synchronizedMap(new WeakHashMap<>());

  // the meters only, never the registry: the registry is the map's weak key, and each test node's goes with it
  private final Map<String, Counter> transitions = new HashMap<>();
  private final Map<String, Timer> lags = new HashMap<>();

  /** Every series, registered at zero: rates and alerts have them from the node's start. */
  private BookingMeters(MeterRegistry registry) {
    transitions.put(CREATE, counter(registry, CREATE, BookingStatus.PENDING));
    for (Transition t : Transition.ALL) {
      transitions.put(t.metricName(), counter(registry, t.metricName(), t.to()));
      if (confirms(t)) {
        lags.put(t.metricName(), Timer.builder("boxoffice.booking.confirm.lag")
          .description("From a booking's creation to its confirmation, by the transition that confirmed it")
          .tags("transition", t.metricName()).serviceLevelObjectives(LAG_BUCKETS).register(registry));
      }
    }
  }

  /** Sets up the meters of this node (its worker verticles count into them from then on). */
  static void register(Vertx vertx) {
    Metrics.registry(vertx).ifPresent(r -> BY_REGISTRY.computeIfAbsent(r, BookingMeters::new));
  }

  /** {@code n} bookings committed. */
  static void created(int n) {
    BookingMeters m = current();
    if (m != null && n > 0) {
      m.transitions.get(CREATE).increment(n);
    }
  }

  /** {@code t} changed {@code rows} in {@code tx}: counted when (and if) that transaction commits. */
  static void changed(SqlClient tx, Transition t, List<Row> rows) {
    BookingMeters m = rows.isEmpty() ? null : current();
    if (m == null) {
      return;
    }
    double[] lagSeconds = confirms(t) ? rows.stream().mapToDouble(r -> r.getDouble(Transition.CONFIRM_LAG)).toArray()
      : null;
    Runnable count = () -> {
      m.transitions.get(t.metricName()).increment(rows.size());
      if (lagSeconds != null) {
        Timer timer = m.lags.get(t.metricName());
        for (double s : lagSeconds) {
          timer.record((long) (Math.max(0, s) * 1e9), TimeUnit.NANOSECONDS);
        }
      }
    };
    Transaction transaction = tx instanceof SqlConnection c ? c.transaction() : null;
    if (transaction == null) {
      count.run(); // no transaction: the statement has committed
    } else {
      transaction.completion().onSuccess(v -> count.run());
    }
  }

  static boolean confirms(Transition t) {
    return BookingStatus.CONFIRMED.equals(t.to());
  }

  /** The meters of the node whose Vert.x context this runs on; null outside one, or when it has none. */
  private static BookingMeters current() {
    Context context = Vertx.currentContext();
    if (context == null) {
      return null;
    }
    return Metrics.registry(context.owner()).map(BY_REGISTRY::get).orElse(null);
  }

  private static Counter counter(MeterRegistry registry, String transition, String to) {
    return Counter.builder("boxoffice.booking.transitions")
      .description("Bookings created and booking status changes, counted when their transaction commits")
      .tags("transition", transition, "to", to).register(registry);
  }
}
