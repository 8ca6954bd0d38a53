package dev.boxoffice.jobs;

import dev.boxoffice.platform.Clock;
import dev.boxoffice.platform.ClusterMembership;
import dev.boxoffice.platform.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claim/lease/retry core of one queue on one worker node: a verticle that wires the parts below. They all run
 * on its one event loop, so the state they share ({@link Slots}) needs no locks.
 *
 * <ul>
 *   <li>{@link DueListener}: when to claim (NOTIFY, local wake-ups, one timer for the next due time, a slow poll).</li>
 *   <li>{@link Claimer}: what is due, claimed with a lease in batches; jobs due within the look-ahead wait here.</li>
 *   <li>{@link Dispatcher}: each job to its handler over the local bus, a batch handler's jobs in one message.</li>
 *   <li>{@link OutcomeWriter}: replies written back in batches; dead jobs get their compensation.</li>
 *   <li>{@link LeaseKeeper}: leases renewed while jobs run; on the node's rescuer engine, lost leases taken back.</li>
 *   <li>{@link HandoffReceiver}: jobs this node inserted already leased to this engine ({@link JobHandoff}).</li>
 *   <li>{@link JobsSql}: every statement they run.</li>
 *   <li>{@link QueueControls}: an operator's pause (the claim reads it) and resume (a wake-up) of the queue.</li>
 * </ul>
 *
 * <p>Stop drains ({@link #stop}): a node shutting down finishes what it runs and hands back the rest.
 */
public final class JobEngine extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(JobEngine.class);

  /** On undeploy, how long jobs already running get to finish and be recorded. */
  public static final long DRAIN_MS = 10_000;

  /**
   * Engine settings; see conf/boxoffice.json (jobs_*). One engine runs per queue on each worker node; on each node
   * exactly one of them {@code rescuesLeases}: it takes back the leases every node lost, for all queues.
   */
  public record Settings(String queue, long leaseMillis, int claimBatch, int concurrency, long pollMillis,
                         boolean rescuesLeases) {
  }

  private final Pool pool;
  private final PgConnectOptions listenOptions;
  private final ClusterMembership membership;
  private final Settings settings;
  private final Clock clock;

  private Slots slots;
  private OutcomeWriter outcomes;
  private DueListener due;
  private Claimer claimer;
  private HandoffReceiver handoffs;
  private LeaseKeeper leases;

  public JobEngine(Pool pool, PgConnectOptions listenOptions, ClusterMembership membership, Settings settings,
                   Clock clock) {
    this.pool = pool;
    this.listenOptions = listenOptions;
    this.membership = membership;
    this.settings = settings;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    String nodeId = membership.nodeId();
    JobsSql sql = new JobsSql(pool, clock);
    slots = new Slots(settings.concurrency());
    outcomes = new OutcomeWriter(vertx, sql, () -> handoffs.runWaiting(), () -> claimer.wakeIfAsked());
    Dispatcher dispatcher = new Dispatcher(vertx, slots, outcomes, new JobSpans(Tracing.of(vertx)));
    due = new DueListener(vertx, clock, listenOptions, settings.pollMillis(), () -> claimer.types(),
      () -> claimer.wake());
    claimer = new Claimer(vertx, sql, clock, slots, dispatcher, due, settings, nodeId);
    handoffs = new HandoffReceiver(vertx, sql, slots, dispatcher, settings.queue(), nodeId);
    leases = new LeaseKeeper(sql, clock, slots, membership, settings, nodeId);

    handoffs.start();
    leases.start();
    QueueControls.listen(vertx, settings.queue(), () -> handoffs.paused(), () -> claimer.wake());
    return due.start().onSuccess(v -> {
      log.info("job engine for queue {} started on node {} (lease {} ms, batch {}, concurrency {})",
        settings.queue(), nodeId, settings.leaseMillis(), settings.claimBatch(), settings.concurrency());
      handoffs.open(settings.leaseMillis(), clock);
      leases.started();
      claimer.wake();
    });
  }

  /**
   * Drains: no new claims or handoffs; handed-off jobs that have not started go back to the queue at once; jobs
   * running get up to {@link #DRAIN_MS} to finish and have their outcomes written (their leases still renewed).
   * What is still running after that keeps its lease and is taken back as after a crash (member left, or the lease
   * runs out).
   */
  @Override
  public Future<?> stop() {
    claimer.stop();
    Future<?> released = handoffs.stop();
    Promise<Void> drained = Promise.promise();
    long deadline = clock.millis() + DRAIN_MS;
    vertx.setPeriodic(20, id -> {
      boolean idle = slots.taken() == 0 && outcomes.idle();
      if (idle || clock.millis() > deadline) {
        vertx.cancelTimer(id);
        if (!idle) {
          log.warn("queue {}: {} job(s) still running after {} ms; their leases bring them back", settings.queue(),
            slots.taken(), DRAIN_MS);
        }
        leases.stop();
        due.stop();
        drained.complete();
      }
    });
    return Future.join(released, drained.future()).eventually(() -> due.close());
  }
}
