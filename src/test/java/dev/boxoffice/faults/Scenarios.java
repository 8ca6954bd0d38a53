package dev.boxoffice.faults;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static dev.boxoffice.faults.FaultHarness.progress;
import static dev.boxoffice.testing.Await.await;

/**
 * The cluster's start, the first scenarios (kill -9, late join, Redis and PostgreSQL restarts), each returning its
 * {@link Outcome}, and what the other scenarios share: the load, its items and the settle-and-check step.
 */
final class Scenarios {
  // generous: on a box loaded by other work three JVMs starting at once took over 2 minutes
  static final long START_TIMEOUT_MS = 300_000;
  private static final double RECOVERY_LIMIT_S = 10;

  private final FaultHarness.Settings s;
  private final Vertx vertx;
  private final Cluster cluster;
  private final Db db;
  private final MailSink mail;
  private final Map<Long, Integer> productStock = new ConcurrentHashMap<>();
  private String token;

  Scenarios(FaultHarness.Settings s, Vertx vertx, Cluster cluster, Db db, MailSink mail) {
    this.s = s;
    this.vertx = vertx;
    this.cluster = cluster;
    this.db = db;
    this.mail = mail;
  }

  /** The first node alone (it migrates the database), then the others together; all must see each other. */
  void startCluster(int nodes) {
    long t0 = System.currentTimeMillis();
    try {
      NodeProcess first = cluster.start();
      first.awaitReady(1, START_TIMEOUT_MS);
      for (int i = 1; i < nodes; i++) {
        cluster.start();
      }
      cluster.awaitAll(START_TIMEOUT_MS);
      token = login(first);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot start a node: " + e.getMessage(), e);
    }
    progress("%d nodes up and clustered in %.1f s: %s", nodes, (System.currentTimeMillis() - t0) / 1000.0,
      cluster.live);
  }

  // ------------------------------------------------------------------ 1. kill -9 under load

  Outcome kill9() {
    Outcome o = new Outcome("kill-9");
    long first = nextBookingId();
    Load load = load(items("kill"));
    NodeProcess victim = cluster.live.get(cluster.live.size() - 1);
    String victimId = victim.nodeId();
    long loadMs = s.loadSeconds() * 1000L;
    long begin = System.currentTimeMillis();
    load.start();
    NodeProcess.sleep(loadMs * 4 / 10);
    // kill while the victim holds leases, so there is work in flight to rescue (bounded wait)
    Set<UUID> leased = db.awaitLeases(victimId);
    load.removeTarget(victim);
    // holds only the table knows of, as if the victim wrote them and died before announcing them (auto payment
    // confirms every accepted booking, so the load itself leaves nothing to expire): survivors must find them
    int orphans = db.rows("""
      INSERT INTO bookings (name, email, phone, owner, expires_at)
      SELECT 'Orphan hold ' || g, 'orphan@example.com', '+44 20 7946 0958', 'faults', now() + interval '2 seconds'
      FROM generate_series(1, 3) g RETURNING id""").size();
    long killAt = System.currentTimeMillis();
    cluster.kill9(victim);
    progress("kill -9 %s holding %d lease(s), %.1f s into the load", victim, leased.size(),
      (killAt - begin) / 1000.0);
    NodeProcess.sleep(Math.max(0, begin + loadMs - System.currentTimeMillis()));
    load.stop();
    settleAndCheck(o, load, first, new Checks.Crash(victimId, killAt, s.strictEmail()));

    // the victim's work: jobs it held at the kill, or that the survivors took back from it
    db.rows("SELECT id FROM jobs WHERE last_error LIKE ?", "lease lost: node " + victimId + "%")
      .forEach(r -> leased.add((UUID) r.get("id")));
    List<Map<String, Object>> jobs = leased.isEmpty() ? List.of() : db.rows("""
      SELECT id, type, status, payload->>'booking_id' AS booking, extract(epoch FROM finished_at) * 1000 AS done,
             extract(epoch FROM started_at) * 1000 AS started,
             CASE WHEN last_error LIKE 'lease lost: %' THEN extract(epoch FROM run_at) * 1000 END AS taken_back
      FROM jobs WHERE id = ANY(?)""", (Object) leased.toArray(new UUID[0]));
    double last = killAt;
    double reclaimed = killAt;
    double takenBack = killAt;
    int rescued = 0;
    String slowest = "-";
    Set<Long> touched = new HashSet<>();
    Map<String, Integer> byType = new java.util.TreeMap<>();
    int unfinished = 0;
    for (Map<String, Object> j : jobs) {
      byType.merge((String) j.get("type"), 1, Integer::sum);
      if (j.get("started") != null) {
        reclaimed = Math.max(reclaimed, ((Number) j.get("started")).doubleValue()); // its run on a survivor
      }
      if (j.get("taken_back") != null) {
        takenBack = Math.max(takenBack, ((Number) j.get("taken_back")).doubleValue()); // rescue sets run_at = now()
        rescued++;
      }
      if (j.get("done") == null) {
        unfinished++;
      } else if (((Number) j.get("done")).doubleValue() > last) {
        last = ((Number) j.get("done")).doubleValue();
        slowest = "job " + j.get("id") + " (" + j.get("type") + ", " + j.get("status") + ")";
      }
      if (j.get("booking") != null) {
        touched.add(Long.parseLong((String) j.get("booking")));
      }
    }
    if (!touched.isEmpty()) {
      for (Map<String, Object> b : db.rows("""
          SELECT id, status, extract(epoch FROM CASE WHEN status = 'finalized' THEN finalized_at ELSE updated_at END)
                 * 1000 AS done
          FROM bookings WHERE id = ANY(?) AND status IN """ + Checks.FINAL_BOOKING, (Object) Db.longs(touched))) {
        double done = ((Number) b.get("done")).doubleValue();
        if (done > last) {
          last = done;
          slowest = "booking " + b.get("id") + " (" + b.get("status") + ")";
        }
      }
    }
    progress("kill-9: the victim's jobs by type %s: taken back %.1f s after the kill, all running again on survivors "
      + "after %.1f s (queues permitting); the last to finish: %s, %.1f s after the kill", byType,
      (takenBack - killAt) / 1000.0, (reclaimed - killAt) / 1000.0, slowest, (last - killAt) / 1000.0);
    double recovery = (last - killAt) / 1000.0;
    double rescue = (takenBack - killAt) / 1000.0;
    long stillLeased = db.scalar("SELECT count(*) FROM jobs WHERE status = 'running' AND locked_by = ?", victimId);
    long expiriesAfterKill = db.scalar("""
      SELECT count(*) FROM bookings WHERE status = 'expired'
        AND id >= ? AND updated_at > to_timestamp(?::double precision / 1000)""",
      first, killAt);
    long orphanLateMs = db.scalar("""
      SELECT coalesce(max(extract(epoch FROM updated_at - expires_at) * 1000), -1)::bigint FROM bookings
      WHERE id >= ? AND name LIKE 'Orphan hold %' AND status = 'expired'""", first);
    int viaVictim = load.acceptedVia.getOrDefault(victim.name, new java.util.concurrent.atomic.AtomicInteger()).get();
    o.put("recovery_s", recovery).put("taken_back_s", rescue).put("rerun_s", (reclaimed - killAt) / 1000.0)
      .put("victim_jobs", leased.size()).put("rescued_jobs", rescued).put("victim_items", touched.size())
      .put("victim_accepted", viaVictim).put("expiries_fired_after_kill", expiriesAfterKill)
      .put("orphan_expiry_late_ms", orphanLateMs);
    o.require(!jobs.isEmpty(), "the victim held no job when it was killed: nothing to rescue");
    o.require(unfinished == 0, "%d job(s) of the killed node never finished", unfinished);
    o.require(stillLeased == 0, "%d job(s) still leased by the killed node", stillLeased);
    // taken back when the member is seen to leave, at the latest when the lease runs out (plus a rescue period)
    o.require(rescue <= s.leaseSeconds() + 5, "the killed node's jobs were taken back after %.1f s (limit lease + 5 s)",
      rescue);
    o.require(viaVictim > 0, "the victim accepted nothing before it was killed");
    o.require(expiriesAfterKill >= orphans, "%d expiries fired after the kill, fewer than the %d holds left pending",
      expiriesAfterKill, orphans);
    // found when the member left (or by the 5 s poll at worst), then expired at their due time
    o.require(orphanLateMs >= 0 && orphanLateMs <= 6_000, "the holds left pending expired %d ms late", orphanLateMs);
    return o;
  }

  // ------------------------------------------------------------------ 4. a node joins later and takes work

  Outcome lateJoin() {
    Outcome o = new Outcome("late-join");
    long first = nextBookingId();
    Load.Items items = items("join");
    long t0 = System.currentTimeMillis();
    NodeProcess joiner;
    try {
      joiner = cluster.start();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot start the late joiner: " + e.getMessage(), e);
    }
    joiner.awaitReady(cluster.live.size(), START_TIMEOUT_MS);
    long joinedAt = System.currentTimeMillis();
    cluster.awaitAll(30_000);
    progress("%s joined in %.1f s; every node reports %d members", joiner, (joinedAt - t0) / 1000.0,
      cluster.live.size());
    Load load = load(items);
    load.start();
    NodeProcess.sleep(s.loadSeconds() * 1000L);
    load.stop();
    settleAndCheck(o, load, first);
    long jobs = db.scalar("SELECT count(*) FROM jobs WHERE locked_by = ? AND started_at >= to_timestamp("
      + "?::double precision / 1000)", joiner.nodeId(), joinedAt);
    int http = load.acceptedVia.getOrDefault(joiner.name, new java.util.concurrent.atomic.AtomicInteger()).get();
    o.put("recovery_s", (joinedAt - t0) / 1000.0).put("members", cluster.live.size()).put("joiner_jobs", jobs)
      .put("joiner_accepted", http);
    o.require(jobs > 0, "the late joiner claimed no job");
    o.require(http > 0, "the late joiner accepted no request");
    return o;
  }

  // ------------------------------------------------------------------ 2. Redis restart under load

  Outcome redisRestart() {
    Outcome o = new Outcome("redis-restart");
    long first = nextBookingId();
    Map<String, Long> pids = pids();
    Load load = load(items("redis"));
    ReadinessProbe probe = new ReadinessProbe(vertx, cluster.live);
    long loadMs = s.loadSeconds() * 1000L;
    long begin = System.currentTimeMillis();
    load.start();
    probe.start();
    NodeProcess.sleep(loadMs * 35 / 100);
    long down = System.currentTimeMillis();
    cluster.service("redis-stop");
    progress("Redis stopped");
    NodeProcess.sleep(s.outageSeconds() * 1000L);
    cluster.service("redis-start");
    long up = System.currentTimeMillis();
    progress("Redis started again after %.1f s", (up - down) / 1000.0);
    NodeProcess.sleep(Math.max(3_000, begin + loadMs - System.currentTimeMillis()));
    long end = System.currentTimeMillis();
    load.stop();
    probe.stop();
    long during = load.bookingsAcceptedBetween(down + 500, up);
    long after = load.bookingsAcceptedBetween(up, end + 60_000);
    double recovery = probe.allReadySeconds(up);
    settleAndCheck(o, load, first);
    int restarted = restartedSince(pids);
    long notReady = cluster.live.stream().filter(n -> probe.saw(n, 503, down + 500, up)).count();
    o.put("recovery_s", recovery).put("accepted_during_outage", during).put("accepted_after", after)
      .put("ready_503_while_down", notReady + "/" + cluster.live.size()).put("node_restarts", restarted);
    o.require(during > 0, "no booking was accepted while Redis was down");
    o.require(after > 0, "no booking was accepted after Redis came back");
    o.require(restarted == 0, "%d node(s) restarted or died", restarted);
    o.require(notReady == 0, "%d node(s) answered readiness 503 while only Redis was down", notReady);
    o.require(recovery <= RECOVERY_LIMIT_S, "readiness back %.1f s after Redis returned (limit %.0f s)", recovery,
      RECOVERY_LIMIT_S);
    return o;
  }

  // ------------------------------------------------------------------ 3. PostgreSQL restart under load

  Outcome postgresRestart() {
    Outcome o = new Outcome("postgres-restart");
    long first = nextBookingId();
    Map<String, Long> pids = pids();
    Load load = load(items("postgres"));
    ReadinessProbe probe = new ReadinessProbe(vertx, cluster.live);
    long loadMs = s.loadSeconds() * 1000L;
    long begin = System.currentTimeMillis();
    load.start();
    probe.start();
    NodeProcess.sleep(loadMs * 35 / 100);
    long down = System.currentTimeMillis();
    cluster.service("pg-stop", "immediate");
    progress("PostgreSQL stopped (immediate: as if it crashed)");
    NodeProcess.sleep(s.outageSeconds() * 1000L);
    long downUntil = System.currentTimeMillis();
    cluster.service("pg-start");
    long up = System.currentTimeMillis();
    progress("PostgreSQL accepting connections again after %.1f s", (up - down) / 1000.0);
    NodeProcess.sleep(Math.max((long) (RECOVERY_LIMIT_S * 1000) + 1_000, begin + loadMs - System.currentTimeMillis()));
    load.stop();
    probe.stop();
    double recovery = probe.allReadySeconds(up);
    int notReadyWhileDown = 0;
    for (NodeProcess n : cluster.live) {
      if (probe.saw(n, 503, down, downUntil)) {
        notReadyWhileDown++;
      }
    }
    long acceptedAfter = load.bookingsAcceptedBetween(up, Long.MAX_VALUE);
    settleAndCheck(o, load, first);
    int restarted = restartedSince(pids);
    o.put("recovery_s", recovery).put("ready_503_while_down", notReadyWhileDown + "/" + cluster.live.size())
      .put("accepted_after", acceptedAfter).put("node_restarts", restarted);
    o.require(notReadyWhileDown == cluster.live.size(), "only %d of %d node(s) answered 503 while PostgreSQL was down",
      notReadyWhileDown, cluster.live.size());
    o.require(recovery <= RECOVERY_LIMIT_S, "readiness back %.1f s after PostgreSQL returned (limit %.0f s)",
      recovery, RECOVERY_LIMIT_S);
    o.require(acceptedAfter > 0, "no booking was accepted after PostgreSQL came back");
    o.require(restarted == 0, "%d node(s) restarted or died", restarted);
    return o;
  }

  // ------------------------------------------------------------------ helpers

  /** Waits for everything to settle, then runs the shared checks; nodes that died on their own are violations. */
  void settleAndCheck(Outcome o, Load load, long firstBookingId) {
    settleAndCheck(o, load, firstBookingId, null);
  }

  void settleAndCheck(Outcome o, Load load, long firstBookingId, Checks.Crash crash) {
    settleAndCheck(o, load, firstBookingId, crash, false);
  }

  /** {@code copiesAllowed}: see {@link Checks#common(Outcome, Db, MailSink, Load, Map, long, Checks.Crash, boolean)}. */
  void settleAndCheck(Outcome o, Load load, long firstBookingId, Checks.Crash crash, boolean copiesAllowed) {
    Checks.Settled settled = Checks.awaitSettled(db, load.bookings, load.tasks, s.settleLimitMs());
    progress("%s: load done (%d sent, %d accepted, %d refused, %d failed, %d throttled); settled in %.1f s",
      o.name, load.sent.get(), load.accepted(), load.conflicts.get(),
      load.serverErrors.get() + load.transportErrors.get(), load.throttled.get(), settled.seconds());
    o.require(settled.done(), "not settled within %d s: %s", s.settleLimitMs() / 1000, settled.left());
    Checks.common(o, db, mail, load, productStock, firstBookingId, crash, copiesAllowed);
    o.put("settle_s", settled.seconds());
    for (NodeProcess n : cluster.crashed()) {
      o.violations.add(n + " died with " + n.exitStatus() + " (see " + n.log + ")");
    }
  }

  /** Closed loop ({@code inFlight} requests always outstanding), the same mix as {@link #load}. */
  Load closedLoad(Load.Items items, int inFlight) {
    return new Load(vertx, token, items, new Load.Settings(0, inFlight, 0.25, 0.5, 0.1, 0.02), cluster.live);
  }

  Load load(Load.Items items) {
    // a quarter tasks (2 % of them fail once and succeed on the retry); half the bookings on the hot items,
    // a tenth declined by the payment provider (compensation cancels them)
    return new Load(vertx, token, items, new Load.Settings(s.rate(), s.maxInFlight(), 0.25, 0.5, 0.1, 0.02),
      cluster.live);
  }

  /** Two hot events and a hot product, smaller than the demand, and a roomy event that never sells out. */
  Load.Items items(String tag) {
    List<Long> hot = List.of(
      create("/events", new JsonObject().put("title", tag + " hot A").put("capacity", s.hotCapacity())),
      create("/events", new JsonObject().put("title", tag + " hot B").put("capacity", s.hotCapacity())));
    long product = create("/products", new JsonObject().put("name", tag + " scarf").put("quantity", s.productStock())
      .put("unique_id", tag + "-" + UUID.randomUUID()));
    productStock.put(product, s.productStock());
    long roomy = create("/events", new JsonObject().put("title", tag + " roomy").put("capacity", 1_000_000));
    return new Load.Items(hot, List.of(product), List.of(roomy));
  }

  /** Creates an event or a product through the first node as admin; its id. */
  long create(String path, JsonObject body) {
    NodeProcess via = cluster.live.get(0);
    HttpResponse<Buffer> r = await(via.web.post(path).putHeader("Authorization", "Bearer " + token).timeout(20_000)
      .sendJsonObject(body));
    if (r.statusCode() != 201) {
      throw new IllegalStateException("POST " + path + " answered " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject().getLong("id");
  }

  /** The admin token the load uses (after {@link #startCluster}). */
  String token() {
    return token;
  }

  String login(NodeProcess node) {
    HttpResponse<Buffer> r = await(node.web.post("/token").timeout(20_000)
      .sendJsonObject(new JsonObject().put("username", "admin").put("password", "admin")));
    if (r.statusCode() != 200) {
      throw new IllegalStateException("login failed: " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject().getString("access_token");
  }

  Vertx vertx() {
    return vertx;
  }

  long nextBookingId() {
    return db.scalar("SELECT coalesce(max(id), 0) + 1 FROM bookings");
  }

  private Map<String, Long> pids() {
    Map<String, Long> pids = new HashMap<>();
    cluster.live.forEach(n -> pids.put(n.name, n.pid()));
    return pids;
  }

  private int restartedSince(Map<String, Long> before) {
    int n = 0;
    for (NodeProcess node : cluster.live) {
      if (!node.alive() || !Long.valueOf(node.pid()).equals(before.get(node.name))) {
        n++;
      }
    }
    return n;
  }
}
