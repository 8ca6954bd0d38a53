package dev.boxoffice.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.boxoffice.faults.FaultHarness.progress;

/**
 * "pause": one node frozen for {@link #PAUSE_MS} under the usual mixed load (SIGSTOP, as a long GC pause or a
 * stalled VM would), then woken (SIGCONT). Meanwhile the cluster sees it leave and the survivors take back its leased
 * jobs; when it wakes its attempts have lost their leases and must do nothing more (SPEC, "Fenced side effects").
 * Beside the shared checks (nothing accepted lost, nothing oversold, each finalized booking one e-mail; a copy
 * sent again in the frozen node's crash window passes only as the same message, one Message-ID), it reports how many
 * of the frozen node's e-mails and payments its fence stopped, and the seconds from waking until the node is a
 * cluster member again (every node reporting all members), which must be within {@link #REJOIN_LIMIT_MS}: the
 * woken node asks the cluster it was cut from to take it back at once (platform/ClusterRejoin), instead of running
 * alone until Hazelcast's periodic split-brain check.
 */
final class PauseScenario {
  private static final long PAUSE_MS = 12_000;
  static final long REJOIN_LIMIT_MS = 10_000;
  /** What a node's lease keeper logs when it takes back a departed member's leases (jobs/LeaseKeeper). */
  private static final String RESCUE_ON_LEAVE = "left; taking back its leased jobs";

  private final Scenarios scenarios;
  private final Cluster cluster;
  private final Db db;

  PauseScenario(Scenarios scenarios, Cluster cluster, Db db) {
    this.scenarios = scenarios;
    this.cluster = cluster;
    this.db = db;
  }

  Outcome run() {
    Outcome o = new Outcome("pause-12s");
    long first = scenarios.nextBookingId();
    Load load = scenarios.load(scenarios.items("pause"));
    NodeProcess victim = cluster.live.get(cluster.live.size() - 1);
    String victimId = victim.nodeId();
    load.start();
    NodeProcess.sleep(3_000);
    // freeze while the victim holds leases, so there is work in flight to rescue (bounded wait)
    Set<UUID> leased = db.awaitLeases(victimId);
    // requests the load would send it meanwhile would only wait; the point is what its own jobs do when it wakes
    load.removeTarget(victim);
    long rescuesBefore = logged(victim, RESCUE_ON_LEAVE);
    long pausedAt = System.currentTimeMillis();
    signal(victim, "STOP");
    progress("pause: SIGSTOP %s holding %d lease(s)", victim, leased.size());
    NodeProcess.sleep(PAUSE_MS);
    // every node's readiness, sampled together every 250 ms from the moment it wakes: when do all count all?
    ReadinessProbe probe = new ReadinessProbe(scenarios.vertx(), cluster.live);
    long contAt = System.currentTimeMillis();
    signal(victim, "CONT");
    long wokeAt = System.currentTimeMillis();
    probe.start();
    progress("pause: SIGCONT %s after %.1f s", victim, (wokeAt - pausedAt) / 1000.0);
    NodeProcess.sleep(3_000);
    load.stop();
    scenarios.settleAndCheck(o, load, first, new Checks.Crash(victimId, pausedAt, false));
    NodeProcess.sleep(Math.max(0, wokeAt + REJOIN_LIMIT_MS + 2_000 - System.currentTimeMillis()));
    probe.stop();
    java.util.OptionalLong whole = probe.oneCluster(contAt, cluster.live.size());
    double rejoin = whole.isPresent() ? (whole.getAsLong() - wokeAt) / 1000.0 : -1;
    long rescued = db.scalar("SELECT count(*) FROM jobs WHERE last_error LIKE ?", "lease lost: node " + victimId + "%");
    o.put("victim_jobs", leased.size()).put("rescued_jobs", rescued)
      .put("fenced_emails", logged(victim, "e-mail(s) not sent: their job attempts no longer hold"))
      .put("fenced_payments", logged(victim, "payment(s) not attempted: their job attempts no longer hold"))
      .put("leases_dropped", logged(victim, "lost their leases"))
      .put("peers_rescued_by_woken", logged(victim, RESCUE_ON_LEAVE) - rescuesBefore)
      .put("rejoin_s", whole.isPresent() ? rejoin : ">" + (REJOIN_LIMIT_MS / 1000 + 2));
    o.require(victim.alive(), "%s died after it was woken (%s)", victim, victim.exitStatus());
    o.require(!leased.isEmpty(), "the frozen node held no job: nothing to rescue");
    o.require(logged(victim, RESCUE_ON_LEAVE) == rescuesBefore, "%s, woken, took back the leases of members it"
      + " had lost sight of (they were alive: it was the one cut off)", victim);
    o.require(whole.isPresent() && rejoin <= REJOIN_LIMIT_MS / 1000.0, "%s was not back in the cluster within %d s"
      + " of waking (%s)", victim, REJOIN_LIMIT_MS / 1000, whole.isPresent() ? rejoin + " s" : "not at all");
    return o;
  }

  /** Log lines of the node that mention {@code text} (its engine and handlers say once per batch what they fenced). */
  static long logged(NodeProcess node, String text) {
    try (var lines = Files.lines(node.log)) {
      return lines.filter(l -> l.contains(text)).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

  static void signal(NodeProcess node, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(node.pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + node.pid() + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill -" + signal, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
