package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Clock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The engine's side of {@link JobHandoff}: jobs this node inserted already leased to this engine arrive over the
 * local bus after their commit and run as if claimed here, within the concurrency; the rest wait here (their leases
 * renewed) ahead of anything still to claim. On stop, those that never started go back to the queue.
 */
final class HandoffReceiver {
  private static final Logger log = LoggerFactory.getLogger(HandoffReceiver.class);

  private final Vertx vertx;
  private final JobsSql sql;
  private final Slots slots;
  private final Dispatcher dispatcher;
  private final String queue;
  private final String nodeId;
  private boolean stopping;

  HandoffReceiver(Vertx vertx, JobsSql sql, Slots slots, Dispatcher dispatcher, String queue, String nodeId) {
    this.vertx = vertx;
    this.sql = sql;
    this.slots = slots;
    this.dispatcher = dispatcher;
    this.queue = queue;
    this.nodeId = nodeId;
  }

  void start() {
    vertx.eventBus().<JsonObject>localConsumer(Bus.jobsHandoff(queue), m -> adopt(m.body()));
  }

  /** From now on this node's enqueuers hand jobs of the queue to this engine, leased for {@code leaseMillis}. */
  void open(long leaseMillis, Clock clock) {
    JobHandoff.engineUp(vertx, queue, nodeId, leaseMillis, clock);
  }

  /** No more handoffs; the jobs waiting go back to the queue. */
  Future<?> stop() {
    stopping = true;
    JobHandoff.engineDown(vertx, queue);
    return release(slots.giveUpWaiting());
  }

  /**
   * The queue was paused: handed-off jobs still waiting for a slot go back to the queue (not started, so not
   * attempted); those already running finish.
   */
  void paused() {
    if (!stopping) {
      release(slots.giveUpWaiting());
    }
  }

  private void adopt(JsonObject handoff) {
    List<Job> jobs = new ArrayList<>();
    handoff.getJsonArray("jobs").forEach(j -> jobs.add(Job.fromJson((JsonObject) j)));
    if (stopping) {
      release(jobs); // arrived while draining
      return;
    }
    jobs.forEach(slots::await);
    runWaiting();
  }

  /** Starts waiting jobs while there are free slots (after adoption, and whenever outcomes free some). */
  void runWaiting() {
    int room = slots.free();
    if (room <= 0 || !slots.hasWaiting()) {
      return;
    }
    List<Job> jobs = new ArrayList<>();
    while (room-- > 0 && slots.hasWaiting()) {
      jobs.add(slots.nextWaiting());
    }
    dispatcher.dispatchByType(jobs);
  }

  /** Handed-off jobs that never reached a handler: back to the queue as if never claimed. */
  private Future<?> release(List<Job> jobs) {
    if (jobs.isEmpty()) {
      return Future.succeededFuture();
    }
    return sql.release(jobs.stream().map(Job::id).toArray(UUID[]::new), nodeId)
      .onSuccess(rows -> log.info("queue {}: {} handed-off job(s) not started, back in the queue", queue,
        rows.rowCount()))
      .onFailure(err -> log.warn("queue {}: releasing {} handed-off job(s) failed, their leases bring them back: {}",
        queue, jobs.size(), err.getMessage()));
  }
}
