package dev.boxoffice.faults;

import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.boxoffice.faults.FaultHarness.progress;

/**
 * The network faults of bench/net/, on nodes that each have their own address in their own network namespace: a node
 * cut off from the others (not from PostgreSQL), a node cut off from PostgreSQL, and latency between the nodes. The
 * faults themselves are made by {@code bench/net/netctl.sh} (tc filters and netem inside the namespaces); this class
 * drives the load, makes the fault, measures, heals and checks, with the fault harness's shared checks (nothing
 * accepted lost, nothing oversold, one e-mail per finalized booking).
 */
final class NetScenarios {
  /** How long a partition lasts: well past the heartbeat timeout (6 s), so each side really drops the other. */
  private static final long PARTITION_MS = 15_000;
  private static final long REJOIN_LIMIT_MS = 15_000;
  private static final long UNREADY_LIMIT_MS = 2_000;
  private static final long BACK_LIMIT_MS = 30_000;
  private static final long LATENCY_PHASE_MS = 15_000;
  private static final int LATENCY_MS = 100;

  private final FaultHarness.Settings s;
  private final Vertx vertx;
  private final Cluster cluster;
  private final Db db;
  private final Scenarios scenarios;
  private final Path ctl;

  NetScenarios(FaultHarness.Settings s, Vertx vertx, Cluster cluster, Db db, Scenarios scenarios, Path ctl) {
    this.s = s;
    this.vertx = vertx;
    this.cluster = cluster;
    this.db = db;
    this.scenarios = scenarios;
    this.ctl = ctl;
  }

  /**
   * One node cut off from the other nodes (both directions), still reaching PostgreSQL, Redis and the SMTP sink,
   * under load through every node (a balancer does not know); healed after {@link #PARTITION_MS}. Must hold: nothing
   * lost or oversold, no booking mailed twice as different messages, one cluster again within
   * {@link #REJOIN_LIMIT_MS} of the heal.
   */
  Outcome partition() {
    Outcome o = new Outcome("partition");
    long first = scenarios.nextBookingId();
    Load load = scenarios.load(scenarios.items("partition"));
    NodeProcess victim = cluster.live.get(cluster.live.size() - 1);
    int size = cluster.live.size();
    ReadinessProbe probe = new ReadinessProbe(vertx, cluster.live).start();
    load.start();
    NodeProcess.sleep(3_000);
    long cutAt = ctl("isolate", index(victim));
    progress("partition: %s cut off from the other nodes (PostgreSQL, Redis and SMTP still reachable)", victim);
    NodeProcess.sleep(Math.max(0, cutAt + PARTITION_MS - System.currentTimeMillis()));
    // both sides must have dropped each other meanwhile, or the scenario tested nothing
    OptionalLong split = probe.firstMoment(cutAt, latest -> latest.entrySet().stream().allMatch(e ->
      e.getValue().members() == (e.getKey().equals(victim.name) ? 1 : size - 1)));
    long splitAt = split.orElse(-1);
    long healAt = System.currentTimeMillis();
    ctl("heal", index(victim));
    progress("partition: healed after %.1f s (split seen after %s)", (healAt - cutAt) / 1000.0,
      splitAt < 0 ? "never" : String.format(java.util.Locale.ROOT, "%.1f s", (splitAt - cutAt) / 1000.0));
    NodeProcess.sleep(REJOIN_LIMIT_MS + 2_000);
    OptionalLong whole = probe.oneCluster(healAt, size);
    long joinedAt = whole.orElse(-1);
    load.stop();
    probe.stop();
    scenarios.settleAndCheck(o, load, first, null, true);
    double rejoin = joinedAt < 0 ? -1 : (joinedAt - healAt) / 1000.0;
    o.put("split_s", splitAt < 0 ? "never" : (splitAt - cutAt) / 1000.0)
      .put("rejoin_s", joinedAt < 0 ? ">" + (REJOIN_LIMIT_MS + 2_000) / 1000 : rejoin)
      .put("victim_accepted", load.acceptedVia.getOrDefault(victim.name, new java.util.concurrent.atomic.AtomicInteger())
        .get());
    o.require(splitAt >= 0, "the cluster never split: %s kept seeing the others", victim);
    o.require(joinedAt >= 0 && rejoin <= REJOIN_LIMIT_MS / 1000.0, "not one cluster again within %d s of the heal"
      + " (%s)", REJOIN_LIMIT_MS / 1000, joinedAt < 0 ? "never" : rejoin + " s");
    o.require(victim.alive(), "%s died (%s)", victim, victim.exitStatus());
    return o;
  }

  /**
   * One node cut off from PostgreSQL (both directions), still in the cluster. It must answer readiness 503 within
   * {@link #UNREADY_LIMIT_MS} (the balancer then stops sending it requests), the others must take back its leased
   * jobs (its leases run out: it cannot renew them), and once healed it must be ready again; the other nodes stay
   * ready throughout.
   */
  Outcome postgresCut() {
    Outcome o = new Outcome("postgres-cut");
    long first = scenarios.nextBookingId();
    Load load = scenarios.load(scenarios.items("pgcut"));
    NodeProcess victim = cluster.live.get(cluster.live.size() - 1);
    String victimId = victim.nodeId();
    ReadinessProbe probe = new ReadinessProbe(vertx, cluster.live).start();
    load.start();
    NodeProcess.sleep(3_000);
    Set<UUID> leased = db.awaitLeases(victimId);
    long cutAt = ctl("pg-cut", index(victim));
    progress("postgres-cut: %s cut off from PostgreSQL holding %d lease(s)", victim, leased.size());
    OptionalLong unready = OptionalLong.empty();
    long until = cutAt + 10_000;
    while (unready.isEmpty() && System.currentTimeMillis() < until) {
      NodeProcess.sleep(50);
      unready = probe.firstAnswerAfter(victim, 503, cutAt);
    }
    load.removeTarget(victim); // as a balancer does once the health check fails
    // past its lease (it cannot renew): the others take its work back meanwhile
    NodeProcess.sleep(Math.max(0, cutAt + (s.leaseSeconds() + 6) * 1000L - System.currentTimeMillis()));
    long healAt = System.currentTimeMillis();
    ctl("pg-heal", index(victim));
    OptionalLong back = OptionalLong.empty();
    until = healAt + BACK_LIMIT_MS;
    while (back.isEmpty() && System.currentTimeMillis() < until) {
      NodeProcess.sleep(100);
      back = probe.firstReadyAfter(victim, healAt);
    }
    progress("postgres-cut: healed after %.1f s; %s ready again %s", (healAt - cutAt) / 1000.0, victim,
      back.isEmpty() ? "never" : String.format(java.util.Locale.ROOT, "after %.1f s",
        (back.getAsLong() - healAt) / 1000.0));
    load.addTarget(victim);
    NodeProcess.sleep(4_000);
    load.stop();
    probe.stop();
    int othersUnready = 0;
    for (NodeProcess n : cluster.live) {
      if (n != victim && probe.saw(n, 503, cutAt, healAt)) {
        othersUnready++;
      }
    }
    scenarios.settleAndCheck(o, load, first, new Checks.Crash(victimId, cutAt, false), true);
    long rescued = db.scalar("SELECT count(*) FROM jobs WHERE last_error LIKE ?", "lease lost: node " + victimId + "%");
    long stillHeld = leased.isEmpty() ? 0 : db.scalar("SELECT count(*) FROM jobs WHERE id = ANY(?) AND status = "
      + "'running' AND locked_by = ?", leased.toArray(new UUID[0]), victimId);
    long afterHeal = load.acceptedVia.getOrDefault(victim.name, new java.util.concurrent.atomic.AtomicInteger()).get();
    double unreadyS = unready.isEmpty() ? -1 : (unready.getAsLong() - cutAt) / 1000.0;
    o.put("unready_s", unready.isEmpty() ? "never" : unreadyS)
      .put("victim_jobs", leased.size()).put("rescued_jobs", rescued).put("still_held", stillHeld)
      .put("back_s", back.isEmpty() ? "never" : (back.getAsLong() - healAt) / 1000.0)
      .put("others_unready", othersUnready).put("victim_accepted", afterHeal);
    o.require(unready.isPresent() && unreadyS <= UNREADY_LIMIT_MS / 1000.0,
      "%s did not turn unready within %d s of losing PostgreSQL (%s)", victim, UNREADY_LIMIT_MS / 1000,
      unready.isEmpty() ? "never" : unreadyS + " s");
    o.require(!leased.isEmpty(), "the victim held no job when it was cut off: nothing to rescue");
    o.require(leased.isEmpty() || rescued > 0, "none of the victim's %d leased job(s) was taken back", leased.size());
    o.require(stillHeld == 0, "%d job(s) still leased by the victim", stillHeld);
    o.require(back.isPresent(), "%s not ready again within %d s of the heal", victim, BACK_LIMIT_MS / 1000);
    o.require(othersUnready == 0, "%d other node(s) answered 503 while only the victim had lost PostgreSQL",
      othersUnready);
    o.require(victim.alive(), "%s died (%s)", victim, victim.exitStatus());
    return o;
  }

  /**
   * {@link #LATENCY_MS} ms added to every packet from one node to another (tc netem, not towards PostgreSQL or Redis)
   * under a closed-loop load (32 requests always in flight through every node): bookings/s before and with the
   * latency are reported; no request may fail once the latency is on (failures before it are reported).
   */
  Outcome latency() {
    Outcome o = new Outcome("latency-" + LATENCY_MS + "ms");
    long first = scenarios.nextBookingId();
    Load load = scenarios.closedLoad(scenarios.items("latency"), 32);
    long begin = System.currentTimeMillis();
    load.start();
    NodeProcess.sleep(LATENCY_PHASE_MS);
    ctl("latency", String.valueOf(LATENCY_MS));
    long slowFrom = System.currentTimeMillis();
    progress("latency: %d ms added to every packet between nodes", LATENCY_MS);
    NodeProcess.sleep(LATENCY_PHASE_MS);
    long slowTo = System.currentTimeMillis();
    load.stop();
    ctl("latency", "off");
    scenarios.settleAndCheck(o, load, first);
    // the first 2 s of each phase left out: warm-up, and the requests in flight when the latency came
    double before = load.bookingsAcceptedBetween(begin + 2_000, slowFrom) / ((slowFrom - begin - 2_000) / 1000.0);
    double with = load.bookingsAcceptedBetween(slowFrom + 2_000, slowTo) / ((slowTo - slowFrom - 2_000) / 1000.0);
    // failures are told apart by phase: on a box loaded by other work requests fail without any latency too
    // (PostgreSQL too slow for a booking's budget), which says nothing about the latency
    long errorsBefore = load.failedBetween(begin, slowFrom);
    long errorsWith = load.failedBetween(slowFrom, Long.MAX_VALUE);
    o.put("bookings_per_s_before", before).put("bookings_per_s_with_latency", with)
      .put("failed_before", errorsBefore).put("failed_with_latency", errorsWith);
    o.require(errorsWith == 0, "%d request(s) failed with the latency (%d before it)", errorsWith, errorsBefore);
    return o;
  }

  /** Removes every fault netctl.sh made (after a scenario that aborted half way); best effort. */
  void clearFaults() {
    try {
      ctl("clear");
    } catch (IllegalStateException e) {
      progress("clearing the faults failed: %s", e.getMessage());
    }
  }

  /** The node's number in the run (node1 → 1), as netctl.sh names its namespace. */
  private static String index(NodeProcess node) {
    return node.name.substring("node".length());
  }

  /**
   * Runs {@code netctl.sh <args>} (its output kept in netctl.log) and returns the moment the fault took effect,
   * as netctl.sh reports it (a cut: its first route), else when netctl.sh returned. A fault that cannot be made or
   * healed aborts the run.
   */
  private long ctl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", ctl.toString()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      java.nio.file.Files.writeString(s.outDir().resolve("netctl.log"), "$ netctl.sh " + String.join(" ", args)
        + "\n" + out, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("netctl.sh " + String.join(" ", args) + " took over 30 s");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("netctl.sh " + String.join(" ", args) + " failed (exit " + p.exitValue()
          + "; see " + s.outDir().resolve("netctl.log") + ")");
      }
      java.util.regex.Matcher at = java.util.regex.Pattern.compile("cut-at-ms=(\\d+)").matcher(out);
      return at.find() ? Long.parseLong(at.group(1)) : System.currentTimeMillis();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run netctl.sh", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
