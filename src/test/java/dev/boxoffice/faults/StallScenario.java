package dev.boxoffice.faults;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static dev.boxoffice.faults.FaultHarness.progress;
import static dev.boxoffice.testing.Await.await;

/**
 * "database stall": the private PostgreSQL is frozen (SIGSTOP of the postmaster and every backend) for 5 s under the
 * usual mixed load, and a burst of bookings larger than the nodes' waiting bounds together hits one node's edge
 * meanwhile (the edge spreads them over every node's handler). The burst's requests carry a budget shorter than
 * the stall ({@code X-Request-Budget-Ms: 2500}); the load's have the default 12 s and wait the stall out. The nodes
 * let at most {@link #LIMIT} bookings wait ({@link Cluster}). Checked, beside the shared checks (nothing accepted lost, nothing oversold):
 * <ul>
 *   <li>the burst beyond the bound is refused at once, while PostgreSQL is still frozen, with 503 and
 *       {@code Retry-After}; every 503 carries {@code Retry-After};</li>
 *   <li>bounded memory: no node's {@code boxoffice_bookings_waiting} gauge exceeds the bound (RSS reported);</li>
 *   <li>no booking is committed whose client got an error: every booking row of the scenario belongs to a 201.</li>
 * </ul>
 */
final class StallScenario {
  /** The nodes' {@code booking_queue_limit} (set in {@link Cluster}). */
  static final int LIMIT = 200;
  private static final long STALL_MS = 5_000;
  private static final String BURST_BUDGET_MS = "2500";

  private final FaultHarness.Settings s;
  private final Vertx vertx;
  private final Cluster cluster;
  private final Db db;
  private final MailSink mail;

  StallScenario(FaultHarness.Settings s, Vertx vertx, Cluster cluster, Db db, MailSink mail) {
    this.s = s;
    this.vertx = vertx;
    this.cluster = cluster;
    this.db = db;
    this.mail = mail;
  }

  private record Answer(String name, int status, String retryAfter, String error, long atMs, Long bookingId) {
  }

  Outcome run() {
    Outcome o = new Outcome("database-stall");
    long first = db.scalar("SELECT coalesce(max(id), 0) + 1 FROM bookings");
    NodeProcess via = cluster.live.get(0);
    String token = login(via);
    Map<Long, Integer> productStock = new ConcurrentHashMap<>();
    String tag = "stall";
    List<Long> hot = List.of(create(via, token, "/events", new JsonObject().put("title", tag + " hot A")
        .put("capacity", s.hotCapacity())),
      create(via, token, "/events", new JsonObject().put("title", tag + " hot B").put("capacity", s.hotCapacity())));
    long product = create(via, token, "/products", new JsonObject().put("name", tag + " scarf")
      .put("quantity", s.productStock()).put("unique_id", tag + "-" + UUID.randomUUID()));
    productStock.put(product, s.productStock());
    long roomy = create(via, token, "/events", new JsonObject().put("title", tag + " roomy").put("capacity", 1_000_000));
    Load load = new Load(vertx, token, new Load.Items(hot, List.of(product), List.of(roomy)),
      new Load.Settings(s.rate(), s.maxInFlight(), 0.25, 0.5, 0.1, 0.02), cluster.live);
    int burstSize = LIMIT * (cluster.live.size() + 1);
    WebClient burstClient = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(via.httpPort), new PoolOptions().setHttp1MaxSize(burstSize));
    Map<String, Long> rssBefore = rss();
    long begin = System.currentTimeMillis();
    load.start();
    NodeProcess.sleep(2_000);

    List<Long> frozen = freezePostgres();
    long stalledAt = System.currentTimeMillis();
    progress("PostgreSQL frozen (SIGSTOP of %d processes)", frozen.size());
    List<Future<Answer>> burst = new ArrayList<>();
    for (int i = 0; i < burstSize; i++) {
      burst.add(book(burstClient, token, roomy, "Stall burst " + i));
    }
    // sampled 1 s in (the admitted bookings wait: the burst's budget is 2.5 s), beside the clock of the stall
    java.util.concurrent.CompletableFuture<Long> waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      NodeProcess.sleep(1_000);
      return cluster.live.stream().mapToLong(StallScenario::waitingGauge).max().orElse(-1);
    });
    java.util.concurrent.CompletableFuture<Map<String, Long>> during =
      java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        NodeProcess.sleep(1_000);
        return rss();
      });
    NodeProcess.sleep(Math.max(0, stalledAt + STALL_MS - System.currentTimeMillis()));
    thaw(frozen);
    long maxWaiting = waiting.join();
    Map<String, Long> rssDuring = during.join();
    long thawedAt = System.currentTimeMillis();
    progress("PostgreSQL thawed after %.1f s", (thawedAt - stalledAt) / 1000.0);
    List<Answer> answers = await(Future.join(burst).transform(ar -> Future.succeededFuture(
      burst.stream().map(f -> f.succeeded() ? f.result() : new Answer("?", -1, null, String.valueOf(f.cause()),
        System.currentTimeMillis(), null)).toList())));
    NodeProcess.sleep(Math.max(0, begin + s.loadSeconds() * 1000L - System.currentTimeMillis()));
    load.stop();
    burstClient.close();

    int created = 0;
    int refusedAtOnce = 0;
    int outOfTime = 0;
    int without = 0;
    int other = 0;
    for (Answer a : answers) {
      if (a.status() == 201) {
        created++;
        load.bookings.add(a.bookingId()); // accepted: the shared checks follow it to a final state
      } else if (a.status() == 503) {
        if (a.retryAfter() == null || a.retryAfter().isBlank()) {
          without++;
        }
        if (a.error().startsWith("Too many bookings") && a.atMs() < thawedAt) {
          refusedAtOnce++;
        } else if (a.error().contains("time ran out")) {
          outOfTime++;
        }
      } else if (a.status() != 504) {
        other++;
        o.violations.add("burst booking " + a.name() + " answered " + a.status() + " " + a.error());
      }
    }

    Checks.Settled settled = Checks.awaitSettled(db, load.bookings, load.tasks, s.settleLimitMs());
    progress("%s: load done (%d sent, %d accepted, %d refused, %d failed, %d throttled); settled in %.1f s",
      o.name, load.sent.get(), load.accepted(), load.conflicts.get(),
      load.serverErrors.get() + load.transportErrors.get(), load.throttled.get(), settled.seconds());
    o.require(settled.done(), "not settled within %d s: %s", s.settleLimitMs() / 1000, settled.left());
    Checks.common(o, db, mail, load, productStock, first, null);
    o.put("settle_s", settled.seconds());
    for (NodeProcess n : cluster.crashed()) {
      o.violations.add(n + " died with " + n.exitStatus() + " (see " + n.log + ")");
    }

    // every booking row of the scenario has its 201: none was committed after its client got an error (or a
    // time-out, or nothing at all)
    Set<Long> answered201 = new HashSet<>(load.bookings);
    List<Long> rows = db.rows("SELECT id FROM bookings WHERE id >= ?", first).stream()
      .map(r -> ((Number) r.get("id")).longValue()).toList();
    List<Long> without201 = rows.stream().filter(id -> !answered201.contains(id)).toList();
    Set<String> burstStored = new HashSet<>();
    db.rows("SELECT name FROM bookings WHERE id >= ? AND name LIKE 'Stall burst %'", first)
      .forEach(r -> burstStored.add((String) r.get("name")));
    long erroredButStored = answers.stream().filter(a -> a.status() != 201 && burstStored.contains(a.name())).count();

    long rssGrowth = 0;
    for (Map.Entry<String, Long> e : rssDuring.entrySet()) {
      rssGrowth = Math.max(rssGrowth, e.getValue() - rssBefore.getOrDefault(e.getKey(), e.getValue()));
    }
    o.put("burst", burstSize).put("burst_201", created).put("refused_at_once", refusedAtOnce)
      .put("out_of_time_503", outOfTime).put("max_waiting", maxWaiting + "/" + LIMIT)
      .put("rss_growth_mb", rssGrowth / 1024).put("rows_without_201", without201.size())
      .put("committed_after_error", erroredButStored);
    // how many exactly depends on how fast the burst arrives (a loaded machine spreads it over the budget, and the
    // bookings whose time ran out make room): some must have met the bound and been refused while still frozen
    o.require(refusedAtOnce > 0, "none of the burst of %d was refused at once while PostgreSQL was frozen (bound %d "
      + "per node, at most %d waited)", burstSize, LIMIT, maxWaiting);
    o.require(without == 0, "%d 503(s) without Retry-After", without);
    o.require(other == 0, "%d burst answer(s) other than 201, 503, 504", other);
    o.require(maxWaiting >= 0 && maxWaiting <= LIMIT, "a node let %d bookings wait (bound %d)", maxWaiting, LIMIT);
    o.require(without201.isEmpty(), "%d booking row(s) without a 201 (committed although the client got an error), "
      + "e.g. %s", without201.size(), without201.stream().limit(5).toList());
    o.require(erroredButStored == 0, "%d burst booking(s) stored although answered with an error", erroredButStored);
    return o;
  }

  // ------------------------------------------------------------------ PostgreSQL freeze

  /** SIGSTOP of the private server's postmaster (no new backends), then of every process it started. */
  private List<Long> freezePostgres() {
    long postmaster;
    try {
      postmaster = Long.parseLong(Files.readAllLines(s.runDir().resolve("pg/data/postmaster.pid")).get(0).trim());
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the private PostgreSQL's postmaster.pid", e);
    }
    List<Long> pids = new ArrayList<>();
    pids.add(postmaster);
    signal("STOP", List.of(postmaster));
    ProcessHandle.of(postmaster).ifPresent(p -> p.children().forEach(c -> pids.add(c.pid())));
    signal("STOP", pids.subList(1, pids.size()));
    return pids;
  }

  private static void thaw(List<Long> pids) {
    List<Long> reversed = new ArrayList<>(pids);
    java.util.Collections.reverse(reversed);
    signal("CONT", reversed);
  }

  private static void signal(String signal, List<Long> pids) {
    if (pids.isEmpty()) {
      return;
    }
    List<String> cmd = new ArrayList<>(List.of("kill", "-" + signal));
    pids.forEach(p -> cmd.add(String.valueOf(p)));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed: "
          + new String(p.getInputStream().readAllBytes()));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static Future<Answer> book(WebClient web, String token, long event, String name) {
    JsonObject body = new JsonObject().put("name", name).put("email", "stall@example.com")
      .put("phone", "+1 555 0100").put("event_id", event);
    return web.post("/bookings").timeout(20_000).putHeader("Authorization", "Bearer " + token)
      .putHeader("X-Request-Budget-Ms", BURST_BUDGET_MS).sendJsonObject(body)
      .map(r -> {
        JsonObject json = null;
        try {
          json = r.bodyAsJsonObject();
        } catch (RuntimeException notJson) {
          // keep the status
        }
        String error = json == null ? String.valueOf(r.bodyAsString()) : json.getString("error", "");
        Long id = r.statusCode() == 201 && json != null ? json.getLong("booking_id") : null;
        return new Answer(name, r.statusCode(), r.getHeader("Retry-After"), error, System.currentTimeMillis(), id);
      });
  }

  /** The node's boxoffice_bookings_waiting gauge (GET /metrics is answered at the edge); -1 if unreadable. */
  private static long waitingGauge(NodeProcess n) {
    try {
      String metrics = await(n.web.get("/metrics").timeout(5_000).send()).bodyAsString();
      return metrics.lines().filter(l -> l.startsWith("boxoffice_bookings_waiting "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim())).findFirst().orElse(-1);
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Resident memory of each live node, in kB (/proc/&lt;pid&gt;/status VmRSS). */
  private Map<String, Long> rss() {
    Map<String, Long> out = new java.util.HashMap<>();
    for (NodeProcess n : cluster.live) {
      try {
        Files.readAllLines(Path.of("/proc", String.valueOf(n.pid()), "status")).stream()
          .filter(l -> l.startsWith("VmRSS:")).findFirst()
          .ifPresent(l -> out.put(n.name, Long.parseLong(l.replaceAll("[^0-9]", ""))));
      } catch (IOException e) {
        // the node is gone; reported by the crash check
      }
    }
    return out;
  }

  private static long create(NodeProcess via, String token, String path, JsonObject body) {
    HttpResponse<Buffer> r = await(via.web.post(path).putHeader("Authorization", "Bearer " + token).timeout(20_000)
      .sendJsonObject(body));
    if (r.statusCode() != 201) {
      throw new IllegalStateException("POST " + path + " answered " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject().getLong("id");
  }

  private static String login(NodeProcess node) {
    HttpResponse<Buffer> r = await(node.web.post("/token").timeout(20_000)
      .sendJsonObject(new JsonObject().put("username", "admin").put("password", "admin")));
    if (r.statusCode() != 200) {
      throw new IllegalStateException("login failed: " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject().getString("access_token");
  }
}
