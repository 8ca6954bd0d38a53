package dev.boxoffice.faults;

import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static dev.boxoffice.faults.FaultHarness.progress;

/**
 * "rolling-restart": HAProxy (the shipped {@code haproxy.cfg}, see {@link Balancer}) in front of three nodes, steady
 * booking load through it ({@link #RATE}/s, each booking with an {@code Idempotency-Key}), and every node restarted in
 * turn as an orchestrator does it: SIGTERM, wait for the process to exit, start it again, wait until it is ready and
 * the balancer has it UP, then the next. Passes when the load saw no failure at all: every request answered 201 or a
 * legitimate 409 (sold out), none a 5xx, none a 409 for its own key still in flight, none unanswered; plus the shared
 * checks (nothing lost or oversold, one e-mail per ticket). It also checks the order the node's shutdown relies on:
 * the balancer marked each node DOWN before its drain delay ran out, i.e. before it stopped accepting connections.
 */
final class RollingRestartScenario {
  /** Bookings/s through the balancer; FAULTS_LB_RATE overrides it (a machine shared with other work). */
  static final double RATE = Double.parseDouble(System.getenv().getOrDefault("FAULTS_LB_RATE", "150"));
  /** BOXOFFICE_SHUTDOWN_DRAIN_MS of the nodes: the prod default. */
  static final int DRAIN_MS = 5_000;
  private static final long WARM_UP_MS = 10_000;
  /** After a restarted node is UP at the balancer, before the next one is stopped. */
  private static final long STEADY_MS = 5_000;
  private static final long TAIL_MS = 10_000;
  private static final long EXIT_LIMIT_MS = DRAIN_MS + 30_000;
  private static final long START_LIMIT_MS = 300_000;
  private static final long UP_LIMIT_MS = 30_000;
  private static final Pattern HANDED_BACK = Pattern.compile("closing: (\\d+) API request\\(s\\) from other members");

  private final FaultHarness.Settings s;
  private final Vertx vertx;
  private final Scenarios scenarios;
  private final Cluster cluster;

  RollingRestartScenario(FaultHarness.Settings s, Vertx vertx, Scenarios scenarios, Cluster cluster) {
    this.s = s;
    this.vertx = vertx;
    this.scenarios = scenarios;
    this.cluster = cluster;
  }

  /** One node's restart, in seconds from its SIGTERM. */
  private record Restart(String node, double downS, double exitS, String exit, double readyS, double upS) {
    String brief() {
      return String.format(Locale.ROOT, "%s:down@%.1f/exit@%.1f/ready@%.1f/up@%.1f", node, downS, exitS, readyS, upS);
    }
  }

  Outcome run() {
    Outcome o = new Outcome("rolling-restart");
    Path haproxy = Balancer.executable().orElseThrow(() -> new IllegalStateException("no haproxy on this machine"));
    long first = scenarios.nextBookingId();
    Load.Items items = scenarios.items("rolling");
    Set<Integer> taken = new HashSet<>();
    cluster.all.forEach(n -> {
      taken.add(n.httpPort);
      taken.add(n.clusterPort);
    });
    Balancer lb;
    try {
      lb = Balancer.start(vertx, haproxy, Path.of("haproxy.cfg").toAbsolutePath(), cluster.live,
        Cluster.freePort(taken), s.runDir(), s.outDir(), s.maxInFlight());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start haproxy: " + e.getMessage(), e);
    }
    try (lb) {
      for (NodeProcess n : cluster.live) {
        if (lb.await(n.name, "UP", UP_LIMIT_MS) < 0) {
          throw new IllegalStateException("the balancer never had " + n.name + " UP: " + lb.states() + " (see "
            + lb.log + ")");
        }
      }
      progress("rolling-restart: %s in front of %s, every server UP", lb, cluster.live);
      Load load = Load.through(vertx, scenarios.token(), items,
        new Load.Settings(RATE, s.maxInFlight(), 0, 0.2, 0.05, 0, true), new Load.Target("balancer", lb.web));
      load.start();
      List<Restart> restarts = new ArrayList<>();
      try {
        NodeProcess.sleep(WARM_UP_MS);
        for (NodeProcess node : List.copyOf(cluster.live)) {
          restarts.add(restart(lb, node, o));
          NodeProcess.sleep(STEADY_MS);
        }
        NodeProcess.sleep(TAIL_MS);
      } catch (IllegalStateException e) { // a node that did not come back: report what the load saw until then
        o.violations.add("gave up: " + e.getMessage());
        progress("rolling-restart: gave up: %s", e.getMessage());
      } finally {
        load.stop(); // also when a step gave up: no request may outlive the balancer's client
      }
      Map<String, String> backend = lb.backend();
      progress("rolling-restart: %d requests in %.1f s through the balancer; answers by status %s; balancer retries "
          + "%s, redispatches %s", load.sent.get(), load.seconds(), statuses(load), backend.get("wretr"),
        backend.get("wredis"));
      load.failureSamples.forEach(f -> progress("rolling-restart: failed: %s", f));
      scenarios.settleAndCheck(o, load, first);
      long[] lat = load.bookingLatencyNs.stream().mapToLong(Long::longValue).sorted().toArray();
      o.put("requests", load.sent.get()).put("rate_per_s", load.sent.get() / load.seconds())
        .put("restarts", restarts.size()).put("statuses", statuses(load))
        .put("client_timeouts_or_resets", load.transportErrors.get()).put("key_in_flight_409", load.keyConflicts.get())
        .put("balancer_retries", backend.getOrDefault("wretr", "-"))
        .put("balancer_redispatches", backend.getOrDefault("wredis", "-"))
        .put("handed_back", handedBack())
        .put("p99_ms", percentileMs(lat, 99)).put("max_ms", lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6)
        .put("drain_ms", DRAIN_MS)
        .put("steps_s", restarts.stream().map(Restart::brief).collect(Collectors.joining(",")));
      o.require(load.failed() == 0, "%d request(s) failed as the client saw them (5xx, 409 for a key in flight, no "
        + "answer): %s", load.failed(), load.failureSamples);
      o.require(restarts.size() == s.nodes(), "only %d of %d node(s) restarted", restarts.size(), s.nodes());
    }
    return o;
  }

  /** SIGTERM, exit, start again, ready, UP at the balancer; each step a violation when it does not happen. */
  private Restart restart(Balancer lb, NodeProcess node, Outcome o) {
    long t0 = System.currentTimeMillis();
    progress("rolling-restart: SIGTERM %s", node);
    node.terminate();
    long down = lb.await(node.name, "DOWN", EXIT_LIMIT_MS);
    boolean exited = node.awaitExit(Math.max(1, t0 + EXIT_LIMIT_MS - System.currentTimeMillis()));
    long exitAt = System.currentTimeMillis();
    o.require(down > 0, "the balancer never marked %s DOWN (%s)", node.name, lb.states());
    o.require(down < 0 || down - t0 < DRAIN_MS, "the balancer marked %s DOWN %d ms after SIGTERM, after its drain "
      + "delay (%d ms) ran out: it stopped accepting while still in rotation", node.name, down - t0, DRAIN_MS);
    if (!exited) {
      o.violations.add(node.name + " did not exit within " + EXIT_LIMIT_MS / 1000 + " s of SIGTERM; killed");
      node.kill9();
    }
    String exit = node.exitStatus();
    NodeProcess fresh;
    try {
      fresh = cluster.restart(node);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + node.name + " again: " + e.getMessage(), e);
    }
    fresh.awaitReady(cluster.live.size(), START_LIMIT_MS);
    long ready = System.currentTimeMillis();
    long up = lb.await(node.name, "UP", UP_LIMIT_MS);
    o.require(up > 0, "the balancer did not have %s UP again within %d s of its readiness (%s)", node.name,
      UP_LIMIT_MS / 1000, lb.states());
    Restart r = new Restart(node.name, (down - t0) / 1000.0, (exitAt - t0) / 1000.0, exit, (ready - t0) / 1000.0,
      (up - t0) / 1000.0);
    progress("rolling-restart: %s DOWN at the balancer %.1f s after SIGTERM, exited (%s) at %.1f s, ready again at "
      + "%.1f s, UP at %.1f s", node.name, r.downS(), exit, r.exitS(), r.readyS(), r.upS());
    return r;
  }

  /** Requests the closing nodes handed back to other members' edges (their log line "closing: N API request(s)"). */
  private long handedBack() {
    long total = 0;
    Set<Path> logs = new HashSet<>();
    cluster.all.forEach(n -> logs.add(n.log));
    for (Path log : logs) {
      try (var lines = Files.lines(log)) {
        total += lines.map(HANDED_BACK::matcher).filter(Matcher::find).mapToLong(m -> Long.parseLong(m.group(1)))
          .sum();
      } catch (IOException | java.io.UncheckedIOException e) {
        return -1;
      }
    }
    return total;
  }

  private static String statuses(Load load) {
    return new TreeMap<>(load.statuses).entrySet().stream().map(e -> (e.getKey() == 0 ? "none" : e.getKey()) + ":"
      + e.getValue().get()).collect(Collectors.joining(","));
  }

  private static double percentileMs(long[] sorted, int p) {
    return sorted.length == 0 ? 0
      : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
  }
}
