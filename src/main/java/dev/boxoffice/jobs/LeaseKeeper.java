package dev.boxoffice.jobs;

import dev.boxoffice.platform.Clock;
import dev.boxoffice.platform.ClusterMembership;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Leases. Every engine renews the leases of the attempts it holds, a third of a lease apart, so they never run out
 * while this node lives. The node's rescuer engine ({@link JobEngine.Settings#rescuesLeases}, one per node) also
 * takes back the work of nodes that stopped renewing: on the same beat every lease that ran out, at once every
 * lease of a member that left the cluster, and on start-up whatever an earlier run of this node left. Rescued jobs
 * are due again at once, or dead (with their compensation) when out of tries. Members that leave the view of a node
 * waking from a pause are not rescued at once: the node was the one cut off ({@link ClusterMembership#waking}).
 */
final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  private final JobsSql sql;
  private final Clock clock;
  private final Slots slots;
  private final ClusterMembership membership;
  private final JobEngine.Settings settings;
  private final String nodeId;
  private long beat = -1;

  LeaseKeeper(JobsSql sql, Clock clock, Slots slots, ClusterMembership membership, JobEngine.Settings settings,
              String nodeId) {
    this.sql = sql;
    this.clock = clock;
    this.slots = slots;
    this.membership = membership;
    this.settings = settings;
    this.nodeId = nodeId;
  }

  void start() {
    if (settings.rescuesLeases()) {
      membership.onMemberLeft(left -> {
        if (membership.waking()) {
          // this node was frozen past the heartbeat timeout: the others removed it, and on waking its view drops
          // them in turn. They are alive and renewing; taking their leases would fence their running attempts for
          // nothing. A member that really died meanwhile has its leases taken back when they run out (the beat).
          log.warn("cluster member {} left this node's view as it woke from a {} ms pause: this node was the one cut"
            + " off, so the member's leases are left alone (taken back only if they run out)", left,
            membership.lastPauseMs());
          return;
        }
        log.warn("cluster member {} left; taking back its leased jobs", left);
        rescue(new String[]{left});
      });
    }
    beat = clock.setPeriodic(Math.max(500, settings.leaseMillis() / 3), id -> {
      renew();
      if (settings.rescuesLeases()) {
        rescue(new String[0]);
      }
    });
  }

  /** Once the engine listens: what ran out while no node was looking. */
  void started() {
    if (settings.rescuesLeases()) {
      rescue(new String[0]);
    }
  }

  void stop() {
    clock.cancelTimer(beat);
  }

  /**
   * Renews what this engine holds; an attempt the renewal no longer finds ours (this node was paused or cut off past
   * its lease, and another node rescued the job) is dropped here: no more renewals, not started if it still waits,
   * and, if running, its side effects are refused by {@link LeaseFence}. Said once per renewal that finds any.
   */
  private void renew() {
    if (slots.noneLeased()) {
      return;
    }
    Slots.Held held = slots.held();
    sql.renew(nodeId, settings.leaseMillis(), held.ids(), held.attempts()).onSuccess(rows -> {
      if (rows.rowCount() == held.ids().length) {
        return;
      }
      Set<UUID> renewed = new HashSet<>();
      rows.forEach(r -> renewed.add(r.getUUID("id")));
      Map<UUID, Integer> lost = new HashMap<>();
      for (int i = 0; i < held.ids().length; i++) {
        if (!renewed.contains(held.ids()[i])) {
          lost.put(held.ids()[i], held.attempts()[i]);
        }
      }
      int dropped = slots.drop(lost);
      if (dropped > 0) {
        log.warn("queue {}: {} job attempt(s) lost their leases (this node was paused or cut off and their jobs were"
            + " taken back); they stop here without further side effects: {}", settings.queue(), dropped,
          lost.keySet().stream().limit(5).toList());
      }
    }).onFailure(err -> log.warn("lease renewal failed: {}", err.getMessage()));
  }

  /** Returns expired leases (and all leases of {@code departed} nodes) to the queue, or to dead when out of tries. */
  private void rescue(String[] departed) {
    sql.inTransaction(tx -> sql.rescue(tx, departed)
        .compose(rows -> {
          if (rows.size() > 0) {
            log.warn("rescued {} job(s) from lost leases{}", rows.size(),
              departed.length > 0 ? " of departed node " + departed[0] : "");
          }
          return OutcomeWriter.compensateDead(tx, rows).map(rows);
        }))
      .onSuccess(FailureLog::committed)
      .onFailure(err -> log.debug("lease rescue skipped: {}", err.getMessage()));
  }
}
