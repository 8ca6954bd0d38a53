package dev.boxoffice.faults;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static dev.boxoffice.faults.FaultHarness.progress;

/**
 * {@code --mode=throughput}: bookings/s through 1 node, then through 2 nodes, one line each. No fault is injected;
 * it shares the cluster, the admin token and the items with {@link Scenarios}.
 */
final class ThroughputRun {
  private final FaultHarness.Settings s;
  private final Vertx vertx;
  private final Scenarios scenarios;
  private final Cluster cluster;
  private final Db db;

  ThroughputRun(FaultHarness.Settings s, Vertx vertx, Scenarios scenarios, Cluster cluster, Db db) {
    this.s = s;
    this.vertx = vertx;
    this.scenarios = scenarios;
    this.cluster = cluster;
    this.db = db;
  }

  void run() {
    scenarios.startCluster(1);
    System.out.println(line());
    try {
      cluster.start();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    cluster.awaitAll(Scenarios.START_TIMEOUT_MS);
    System.out.println(line());
  }

  /**
   * Closed loop, bookings only, spread over 16 roomy events (one hot event would measure the item lock instead):
   * a 5 s warm-up (JIT) whose saga is let finish, then the measured run, then the time until every accepted
   * booking is finalized (PDF rendered, e-mail sent), which is the end-to-end rate.
   */
  private String line() {
    int nodes = cluster.live.size();
    List<Long> roomy = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      roomy.add(scenarios.create("/events", new JsonObject().put("title", "throughput " + nodes + " #" + i)
        .put("capacity", 10_000_000)));
    }
    Load.Items items = new Load.Items(List.of(), List.of(), roomy);
    Load.Settings closedLoop = new Load.Settings(0, s.maxInFlight(), 0, 0, 0, 0);
    Load warmUp = new Load(vertx, scenarios.token(), items, closedLoop, cluster.live);
    warmUp.start();
    NodeProcess.sleep(5_000);
    warmUp.stop();
    boolean saga = s.paymentMode().equals("auto");
    if (saga) {
      awaitFinalized(warmUp.bookings, 300_000);
    }
    progress("throughput with %d node(s): %d requests in flight for %d s", nodes, s.maxInFlight(), s.loadSeconds());
    Load load = new Load(vertx, scenarios.token(), items, closedLoop, cluster.live);
    long begin = System.currentTimeMillis();
    load.start();
    NodeProcess.sleep(s.loadSeconds() * 1000L);
    load.stop();
    double seconds = load.seconds();
    long[] lat = load.bookingLatencyNs.stream().mapToLong(Long::longValue).sorted().toArray();
    String line = String.format(Locale.ROOT, "throughput %d node%s, payment %s: accepted=%d in %.1f s = %.0f "
        + "bookings/s (p50 %.1f ms, p99 %.1f ms, %d in flight, failed=%d)", nodes, nodes == 1 ? "" : "s",
      s.paymentMode(), load.bookings.size(), seconds, load.bookings.size() / seconds, pct(lat, 50), pct(lat, 99),
      s.maxInFlight(), load.serverErrors.get() + load.transportErrors.get() + load.unexpected.get());
    if (!saga) {
      return line + "; bookings left pending (no saga, no PDF)";
    }
    long open = awaitFinalized(load.bookings, 600_000);
    double endToEnd = (System.currentTimeMillis() - begin) / 1000.0;
    return line + String.format(Locale.ROOT, "; all finalized (PDF + e-mail) after %.1f s = %.0f bookings/s end to "
      + "end%s", endToEnd, load.bookings.size() / endToEnd, open > 0 ? " (" + open + " NOT finalized)" : "");
  }

  /** Waits until all these bookings are finalized; how many are not (0 when all are). */
  private long awaitFinalized(Set<Long> bookings, long limitMs) {
    long limit = System.currentTimeMillis() + limitMs;
    long open = Long.MAX_VALUE;
    while (System.currentTimeMillis() < limit) {
      open = bookings.isEmpty() ? 0 : db.scalar("SELECT count(*) FROM bookings WHERE id = ANY(?) "
        + "AND status <> 'finalized'", (Object) Db.longs(bookings));
      if (open == 0) {
        break;
      }
      NodeProcess.sleep(500);
    }
    return open;
  }

  private static double pct(long[] sorted, int p) {
    return sorted.length == 0 ? 0
      : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
  }
}
