package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Clock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vertx.sqlclient.SqlClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Enqueue-and-claim, for jobs that the enqueuing node runs itself as soon as its transaction commits. The rows are
 * inserted already {@code running}, leased to this node's engine of their queue (attempt 1), and after the commit
 * that engine is handed the jobs directly. This skips the claim (an UPDATE touching every jobs index) and the
 * NOTIFY → claim round trip, which was most of the time between a booking's commit and its payment step.
 *
 * <p>Nothing new to recover: a handed-off job is a claimed job. If the node dies (or the handoff message is lost)
 * before the job completes, its lease is rescued like any other (a member left, or the lease expired) and another
 * node retries it. Only available while an engine for the queue runs here and a handler for the type is registered
 * here; otherwise callers enqueue the normal way.
 *
 * <p>A paused queue ({@link QueueControls}) is obeyed in the insert itself: its new jobs go in {@code queued}, not
 * leased, and are not handed over; they run once the queue is resumed, claimed like any other.
 * Jobs handed over before the pause and still waiting here for a slot go back to the queue when the pause is heard.
 */
public final class JobHandoff {
  private static final String ENGINES = "boxoffice.jobs.engines";

  /** A queue's engine on this node, as enqueuers need it: who leases, for how long, on which clock. */
  private record Engine(String node, long leaseMillis, Clock clock) implements Shareable {
  }

  private final Vertx vertx;
  private final String queue;
  private final Engine engine;

  private JobHandoff(Vertx vertx, String queue, Engine engine) {
    this.vertx = vertx;
    this.queue = queue;
    this.engine = engine;
  }

  /** A handoff for jobs of {@code type}, if this node can run them: its queue's engine and the handler are here. */
  public static Optional<JobHandoff> local(Vertx vertx, String type) {
    String queue = JobTypes.get(type).queue();
    Engine engine = engines(vertx).get(queue);
    if (engine == null || !JobWorkers.registeredTypes(vertx).contains(type)) {
      return Optional.empty();
    }
    return Optional.of(new JobHandoff(vertx, queue, engine));
  }

  /**
   * Enqueues {@code jobs} of one type, due now, in the caller's transaction: handed off to this node's engine when
   * the type runs here, else the normal way ({@link JobQueue#enqueueAll}). Run the returned action once the
   * transaction has committed.
   */
  public static Future<Runnable> enqueueAll(Vertx vertx, SqlClient tx, String type, List<NewJob> jobs) {
    Optional<JobHandoff> here = local(vertx, type);
    if (here.isEmpty()) {
      return JobQueue.enqueueAll(tx, jobs).map(n -> () -> { });
    }
    return here.get().enqueueAll(tx, jobs).map(claimed -> () -> here.get().start(claimed));
  }

  /**
   * Inserts {@code jobs} (due now, all of this handoff's queue) claimed by this node, in the caller's transaction;
   * the jobs to {@link #start} once it has committed.
   */
  public Future<List<Job>> enqueueAll(SqlClient tx, List<NewJob> jobs) {
    if (jobs.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    JobQueue.Columns c = JobQueue.Columns.of(jobs);
    for (int i = 0; i < jobs.size(); i++) {
      if (!queue.equals(c.queues()[i]) || c.runAt()[i] != null) {
        throw new IllegalArgumentException("a handoff takes jobs due now on queue " + queue + ", got " + c.types()[i]);
      }
    }
    return JobsSql.insertRunning(tx, c, engine.leaseMillis(), engine.node(), queue, engine.clock().sqlNow())
      .map(rows -> {
        List<Job> claimed = new ArrayList<>(rows.size());
        rows.forEach(row -> {
          if ("running".equals(row.getString("status"))) {
            claimed.add(Job.from(row)); // not while the queue is paused: then the row went in queued
          }
        });
        return claimed;
      });
  }

  /** After the commit: the jobs to this node's engine, which runs them as if it had claimed them. */
  public void start(List<Job> jobs) {
    if (jobs.isEmpty()) {
      return;
    }
    JsonArray batch = new JsonArray();
    jobs.forEach(job -> batch.add(job.toJson()));
    vertx.eventBus().send(Bus.jobsHandoff(queue), new JsonObject().put("jobs", batch),
      new DeliveryOptions().setLocalOnly(true));
  }

  /** The engine of {@code queue} on this node takes handoffs from now on. */
  static void engineUp(Vertx vertx, String queue, String nodeId, long leaseMillis, Clock clock) {
    engines(vertx).put(queue, new Engine(nodeId, leaseMillis, clock));
  }

  static void engineDown(Vertx vertx, String queue) {
    engines(vertx).remove(queue);
  }

  private static LocalMap<String, Engine> engines(Vertx vertx) {
    return vertx.sharedData().getLocalMap(ENGINES);
  }
}
