package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.ClusterMembership;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The claim/lease/retry core. One per worker node, on one event loop, so its state needs no locks.
 *
 * <ul>
 *   <li>Claim: due rows of the types handled on this node, {@code FOR UPDATE SKIP LOCKED}, in batches, each with a
 *   lease naming this node.</li>
 *   <li>Run: each claimed job goes to its handler over the event bus ({@link Bus#jobRun}); replies are gathered and
 *   written back in batches.</li>
 *   <li>Wake-ups: Postgres NOTIFY (from the jobs triggers) and local enqueues wake the loop; the earliest future due
 *   time is armed with {@code vertx.setTimer}; a slow poll is only a safety net.</li>
 *   <li>Handoffs: jobs this node inserted already leased to this engine ({@link JobHandoff}) arrive over the local
 *   bus after their commit and run without a claim.</li>
 *   <li>Leases: renewed while a job runs; work of a node that stops renewing (or leaves the cluster) is rescued.</li>
 *   <li>Stop: drains ({@link #stop}) so that a node shutting down finishes what it runs and hands back the rest.</li>
 * </ul>
 */
public final class JobEngine extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(JobEngine.class);
  static final String CHANNEL = "boxoffice_jobs";
  /** How far ahead of its due time a job may be claimed (it still starts at its due time). */
  private static final long LOOKAHEAD_MS = 50;

  /*
   * Claims what is due now or within the look-ahead window; a job claimed early waits for its due time in a local
   * timer, so delayed work starts within a millisecond or two of run_at instead of a query round-trip later.
   */
  private static final String CLAIM = """
    WITH next AS (
      SELECT id FROM jobs
      WHERE queue = $6 AND status IN ('scheduled','queued','failed')
        AND run_at <= now() + $5 * interval '1 millisecond' AND type = ANY($3)
      ORDER BY run_at
      LIMIT $4
      FOR UPDATE SKIP LOCKED)
    UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, locked_by = $1,
                      lease_until = greatest(now(), j.run_at) + $2 * interval '1 millisecond',
                      started_at = greatest(now(), j.run_at), updated_at = now()
    FROM next WHERE j.id = next.id
    RETURNING j.id, j.type, j.payload, j.attempts, j.max_attempts, j.owner,
              (extract(epoch FROM j.run_at) * 1000)::bigint AS due""";

  // the earliest of each type's first due row: one short ordered walk of the due index per type
  private static final String NEXT_DUE = """
    SELECT min(n.due) AS due FROM unnest($1::text[]) AS t(type), LATERAL (
      SELECT (extract(epoch FROM run_at) * 1000)::bigint AS due FROM jobs
      WHERE queue = $2 AND type = t.type AND status IN ('scheduled','queued','failed')
      ORDER BY run_at LIMIT 1) n""";

  /*
   * Outcomes arrive as parallel arrays: unnest() tells the planner how many rows there are, so it looks each job up
   * by its key. jsonb_to_recordset() counted as 100 rows and got a hash join over every 'running' row, reading
   * thousands of dead index entries per write under load.
   */
  private static final String COMPLETE = """
    UPDATE jobs j SET status = 'succeeded', result = d.result, finished_at = now(), updated_at = now(),
                      lease_until = NULL
    FROM unnest($1::uuid[], $2::int[], $3::jsonb[]) AS d(id, attempt, result)
    WHERE j.id = d.id AND j.attempts = d.attempt AND j.status = 'running'""";

  private static final String FAIL = """
    UPDATE jobs j SET
      status      = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
      run_at      = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN j.run_at
                         ELSE now() + d.delay_ms * interval '1 millisecond' END,
      finished_at = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN now() END,
      last_error  = d.error, lease_until = NULL, updated_at = now()
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bool[], $5::int8[]) AS d(id, attempt, error, permanent, delay_ms)
    WHERE j.id = d.id AND j.attempts = d.attempt AND j.status = 'running'
    RETURNING j.id, j.type, j.status, j.payload, j.owner, j.last_error""";

  private static final String RENEW = """
    UPDATE jobs SET lease_until = now() + $2 * interval '1 millisecond'
    WHERE status = 'running' AND locked_by = $1 AND id = ANY($3)""";

  private static final String RESCUE = """
    WITH lost AS (
      SELECT id FROM jobs
      WHERE status = 'running' AND (lease_until < now() OR locked_by = ANY($1))
      FOR UPDATE SKIP LOCKED)
    UPDATE jobs j SET
      status      = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
      finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
      run_at = now(), lease_until = NULL, updated_at = now(),
      last_error  = 'lease lost: node ' || coalesce(j.locked_by, '?') || ' stopped during attempt ' || j.attempts
    FROM lost WHERE j.id = lost.id
    RETURNING j.id, j.type, j.status, j.payload, j.owner, j.last_error""";

  // handed-off jobs that never reached a handler: back to the queue as if never claimed (the attempt was not made)
  private static final String RELEASE = """
    UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, lease_until = NULL,
                    started_at = NULL, run_at = now(), updated_at = now()
    WHERE id = ANY($1) AND status = 'running' AND locked_by = $2 AND attempts > 0""";

  /** On undeploy, how long jobs already running get to finish and be recorded. */
  public static final long DRAIN_MS = 10_000;

  /** Engine settings; see conf/boxoffice.json (jobs_*). One engine runs per queue on each worker node. */
  public record Settings(String queue, long leaseMillis, int claimBatch, int concurrency, long pollMillis) {
  }

  private final Pool pool;
  private final PgConnectOptions listenOptions;
  private final ClusterMembership membership;
  private final Settings settings;

  private String nodeId;
  private PgSubscriber subscriber;
  private boolean stopping;
  private int inFlight;
  private boolean claiming;
  private boolean wakeAgain;
  private long timerId = -1;
  private long timerDue = Long.MAX_VALUE;
  /** Attempts leased to this node, running or (handed off) waiting for room: their leases are renewed. */
  private final Map<UUID, Integer> running = new HashMap<>();
  private final ArrayDeque<Job> handedOff = new ArrayDeque<>();
  private List<Succeeded> succeeded = new ArrayList<>();
  private List<Failed> failed = new ArrayList<>();

  /** Outcomes waiting for the next flush. */
  private record Succeeded(UUID id, int attempt, JsonObject result) {
  }

  private record Failed(UUID id, int attempt, String error, boolean permanent, long delayMs) {
  }
  private boolean flushing;
  private boolean flushQueued;

  public JobEngine(Pool pool, PgConnectOptions listenOptions, ClusterMembership membership, Settings settings) {
    this.pool = pool;
    this.listenOptions = listenOptions;
    this.membership = membership;
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    nodeId = membership.nodeId();
    // one engine per node (the default queue's) does the housekeeping for all queues
    boolean housekeeping = JobType.DEFAULT_QUEUE.equals(settings.queue());
    vertx.eventBus().localConsumer(Bus.JOBS_WAKE, m -> wake());
    vertx.eventBus().<JsonObject>localConsumer(Bus.jobsHandoff(settings.queue()), m -> adopt(m.body()));
    if (housekeeping) {
      membership.onMemberLeft(left -> {
        log.warn("cluster member {} left; taking back its leased jobs", left);
        rescue(new String[]{left});
      });
    }
    vertx.setPeriodic(settings.pollMillis(), id -> wake());
    vertx.setPeriodic(Math.max(500, settings.leaseMillis() / 3), id -> {
      renewLeases();
      if (housekeeping) {
        rescue(new String[0]);
      }
    });
    subscriber = PgSubscriber.subscriber(vertx, listenOptions)
      .reconnectPolicy(retries -> 1000L);
    subscriber.channel(CHANNEL).handler(this::onDueNotice);
    subscriber.closeHandler(v -> {
      if (!stopping) {
        log.warn("job wake-up channel closed; relying on the poll until it reconnects");
      }
    });
    return subscriber.connect()
      .recover(err -> {
        // not fatal: the periodic poll keeps work moving, and the subscriber reconnects on its own
        log.warn("LISTEN {} failed: {}", CHANNEL, err.getMessage());
        return Future.succeededFuture();
      })
      .onSuccess(v -> {
        log.info("job engine for queue {} started on node {} (lease {} ms, batch {}, concurrency {})",
          settings.queue(), nodeId, settings.leaseMillis(), settings.claimBatch(), settings.concurrency());
        JobHandoff.engineUp(vertx, settings.queue(), nodeId, settings.leaseMillis());
        if (housekeeping) {
          rescue(new String[0]);
        }
        wake();
      });
  }

  /**
   * Drains: no new claims or handoffs; handed-off jobs that have not started go back to the queue at once; jobs
   * running get up to {@link #DRAIN_MS} to finish and have their outcomes written. What is still running after that
   * keeps its lease and is taken back as after a crash (member left, or the lease runs out).
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    JobHandoff.engineDown(vertx, settings.queue());
    Future<?> released = release(new ArrayList<>(handedOff));
    handedOff.clear();
    Promise<Void> drained = Promise.promise();
    long deadline = System.currentTimeMillis() + DRAIN_MS;
    vertx.setPeriodic(20, id -> {
      boolean idle = inFlight == 0 && !flushing && succeeded.isEmpty() && failed.isEmpty();
      if (idle || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(id);
        if (!idle) {
          log.warn("queue {}: {} job(s) still running after {} ms; their leases bring them back", settings.queue(),
            inFlight, DRAIN_MS);
        }
        drained.complete();
      }
    });
    return Future.join(released, drained.future())
      .eventually(() -> subscriber == null ? Future.succeededFuture() : subscriber.close());
  }

  private Future<?> release(List<Job> jobs) {
    if (jobs.isEmpty()) {
      return Future.succeededFuture();
    }
    jobs.forEach(job -> running.remove(job.id()));
    return pool.preparedQuery(RELEASE)
      .execute(Tuple.of(jobs.stream().map(Job::id).toArray(UUID[]::new), nodeId))
      .onSuccess(rows -> log.info("queue {}: {} handed-off job(s) not started, back in the queue", settings.queue(),
        rows.rowCount()))
      .onFailure(err -> log.warn("queue {}: releasing {} handed-off job(s) failed, their leases bring them back: {}",
        settings.queue(), jobs.size(), err.getMessage()));
  }

  /** {@code "<due epoch ms>|type,type"}: wake now or arm a timer, if any of the types is ours. */
  private void onDueNotice(String payload) {
    int bar = payload.indexOf('|');
    if (bar > 0 && !concernsMe(payload.substring(bar + 1))) {
      return;
    }
    try {
      long due = Long.parseLong((bar > 0 ? payload.substring(0, bar) : payload).trim());
      if (due <= System.currentTimeMillis()) {
        wake();
      } else {
        armTimer(due);
      }
    } catch (NumberFormatException e) {
      wake();
    }
  }

  private boolean concernsMe(String types) {
    String[] mine = myTypes();
    for (String type : types.split(",")) {
      for (String t : mine) {
        if (t.equals(type)) {
          return true;
        }
      }
    }
    return false;
  }

  private void wake() {
    if (stopping) {
      return;
    }
    if (claiming) {
      wakeAgain = true;
      return;
    }
    int room = settings.concurrency() - inFlight - handedOff.size();
    String[] types = myTypes();
    if (room <= 0 || types.length == 0) {
      // full: the completions will wake us; no types: a handler registration will
      wakeAgain = room <= 0;
      return;
    }
    int n = Math.min(settings.claimBatch(), room);
    claiming = true;
    wakeAgain = false;
    pool.preparedQuery(CLAIM)
      .execute(Tuple.of(nodeId, settings.leaseMillis(), types, n, LOOKAHEAD_MS, settings.queue()))
      .onComplete(ar -> {
      claiming = false;
      if (ar.failed()) {
        log.warn("claim failed: {}", ar.cause().getMessage());
        armTimer(System.currentTimeMillis() + 1000);
        return;
      }
      long now = System.currentTimeMillis();
      Map<String, List<Job>> batches = new HashMap<>();
      for (Row row : ar.result()) {
        Job job = Job.from(row);
        long wait = row.getLong("due") - now;
        if (wait > 0) {
          inFlight++; // counted from the claim: the job holds a slot while it waits
          vertx.setTimer(wait, t -> {
            inFlight--;
            dispatch(List.of(job));
          });
        } else {
          batches.computeIfAbsent(job.type(), k -> new ArrayList<>()).add(job);
        }
      }
      batches.values().forEach(this::dispatch);
      if (ar.result().size() == n || wakeAgain) {
        vertx.runOnContext(v -> wake());
      } else {
        armNextDue(types);
      }
    });
  }

  /**
   * Jobs this node inserted already leased to this engine ({@link JobHandoff}): run as if claimed here, within the
   * concurrency limit; the rest wait here (their leases renewed) ahead of anything still to claim.
   */
  private void adopt(JsonObject handoff) {
    List<Job> jobs = new ArrayList<>();
    handoff.getJsonArray("jobs").forEach(j -> jobs.add(Job.fromJson((JsonObject) j)));
    if (stopping) {
      release(jobs); // arrived while draining
      return;
    }
    jobs.forEach(job -> {
      handedOff.add(job);
      running.put(job.id(), job.attempt());
    });
    runHandedOff();
  }

  private void runHandedOff() {
    int room = settings.concurrency() - inFlight;
    if (room <= 0 || handedOff.isEmpty()) {
      return;
    }
    Map<String, List<Job>> batches = new HashMap<>();
    while (room-- > 0 && !handedOff.isEmpty()) {
      Job job = handedOff.poll();
      batches.computeIfAbsent(job.type(), k -> new ArrayList<>()).add(job);
    }
    batches.values().forEach(this::dispatch);
  }

  /** The job types handled on this node that belong to this engine's queue. */
  private String[] myTypes() {
    return JobWorkers.registeredTypes(vertx).stream()
      .filter(t -> JobTypes.find(t).map(JobType::queue).orElse(JobType.DEFAULT_QUEUE).equals(settings.queue()))
      .toArray(String[]::new);
  }

  private void armNextDue(String[] types) {
    pool.preparedQuery(NEXT_DUE).execute(Tuple.of(types, settings.queue())).onSuccess(rows -> {
      Long due = rows.iterator().next().getLong("due");
      if (due != null) {
        armTimer(due);
      }
    });
  }

  /** Keeps one timer, for the earliest known due time; later due times are re-armed after it fires. */
  private void armTimer(long dueMillis) {
    if (dueMillis >= timerDue) {
      return;
    }
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    long delay = Math.max(1, dueMillis - LOOKAHEAD_MS / 2 - System.currentTimeMillis());
    if (delay > settings.pollMillis() * 12) {
      timerId = -1;
      timerDue = Long.MAX_VALUE;
      return; // far away: the poll will get closer first
    }
    timerDue = dueMillis;
    timerId = vertx.setTimer(delay, id -> {
      timerId = -1;
      timerDue = Long.MAX_VALUE;
      wake();
    });
  }

  /** Jobs of one type: to the batch handler in one message if there is one, else one message per job. */
  private void dispatch(List<Job> jobs) {
    String typeName = jobs.get(0).type();
    JobType type = JobTypes.find(typeName).orElseGet(() -> JobType.of(typeName));
    DeliveryOptions delivery = new DeliveryOptions().setLocalOnly(true).setSendTimeout(type.timeout().toMillis());
    jobs.forEach(job -> {
      inFlight++;
      running.put(job.id(), job.attempt());
    });
    if (!JobWorkers.isBatch(vertx, typeName)) {
      for (Job job : jobs) {
        vertx.eventBus().<JsonObject>request(Bus.jobRun(typeName), job.toJson(), delivery).onComplete(ar -> {
          if (ar.succeeded()) {
            recordSuccess(job, ar.result().body());
          } else {
            recordError(job, type, ar.cause());
          }
          scheduleFlush();
        });
      }
      return;
    }
    JsonArray batch = new JsonArray();
    jobs.forEach(job -> batch.add(job.toJson()));
    vertx.eventBus().<JsonObject>request(Bus.jobBatch(typeName), new JsonObject().put("jobs", batch), delivery)
      .onComplete(ar -> {
        JsonObject results = ar.succeeded() ? ar.result().body().getJsonObject("results") : null;
        JsonObject failures = ar.succeeded() ? ar.result().body().getJsonObject("failures") : null;
        for (Job job : jobs) {
          String id = job.id().toString();
          if (ar.failed()) {
            recordError(job, type, ar.cause());
          } else if (failures.containsKey(id)) {
            JsonObject f = failures.getJsonObject(id);
            recordFailure(job, type, f.getString("error"), f.getBoolean("permanent", false));
          } else {
            recordSuccess(job, results.getJsonObject(id));
          }
        }
        scheduleFlush();
      });
  }

  private void recordSuccess(Job job, JsonObject result) {
    inFlight--;
    running.remove(job.id());
    succeeded.add(new Succeeded(job.id(), job.attempt(), result));
  }

  private void recordError(Job job, JobType type, Throwable err) {
    boolean permanent = err instanceof ReplyException re && re.failureCode() == JobFailure.PERMANENT;
    recordFailure(job, type, Failures.text(err), permanent);
  }

  private void recordFailure(Job job, JobType type, String error, boolean permanent) {
    inFlight--;
    running.remove(job.id());
    failed.add(new Failed(job.id(), job.attempt(), storable(error), permanent, type.retryDelayMillis(job.attempt())));
  }

  /**
   * An error message Postgres can keep: jsonb and text refuse NUL characters, and one message quoting binary data
   * (a driver echoing a bad parameter) made every outcome of its batch fail to record, so the jobs ran again.
   */
  static String storable(String error) {
    if (error == null) {
      return null;
    }
    String clean = error.indexOf('\u0000') < 0 ? error : error.replace('\u0000', '?');
    return clean.length() <= 2000 ? clean : clean.substring(0, 2000);
  }

  /** Completions ride together: one statement for everything that finished since the last write. */
  private void scheduleFlush() {
    if (flushing) {
      flushQueued = true;
      return;
    }
    flushing = true;
    vertx.runOnContext(v -> flush());
  }

  private void flush() {
    List<Succeeded> ok = succeeded;
    List<Failed> ko = failed;
    succeeded = new ArrayList<>();
    failed = new ArrayList<>();
    Future<?> done = ok.isEmpty() ? Future.succeededFuture()
      : pool.preparedQuery(COMPLETE).execute(Tuple.of(ok.stream().map(Succeeded::id).toArray(UUID[]::new),
        ok.stream().map(Succeeded::attempt).toArray(Integer[]::new),
        ok.stream().map(Succeeded::result).toArray(JsonObject[]::new)));
    Future<?> retried = ko.isEmpty() ? Future.succeededFuture()
      : pool.withTransaction(tx -> tx.preparedQuery(FAIL).execute(Tuple.of(
          ko.stream().map(Failed::id).toArray(UUID[]::new), ko.stream().map(Failed::attempt).toArray(Integer[]::new),
          ko.stream().map(Failed::error).toArray(String[]::new),
          ko.stream().map(Failed::permanent).toArray(Boolean[]::new),
          ko.stream().map(Failed::delayMs).toArray(Long[]::new)))
        .compose(rows -> afterFailures(tx, rows)));
    Future.join(done, retried).onComplete(ar -> {
      if (ar.failed()) {
        // rows stay 'running' and the lease brings them back; handlers are idempotent
        log.warn("recording job outcomes failed ({} ok, {} failed): {}", ok.size(), ko.size(),
          ar.cause().getMessage());
      }
      flushing = false;
      runHandedOff();
      if (flushQueued || !succeeded.isEmpty() || !failed.isEmpty()) {
        flushQueued = false;
        scheduleFlush();
      }
      if (wakeAgain && !claiming) {
        wake();
      }
    });
  }

  /** Dead jobs whose type names a compensation get it, in the same transaction; retries get a timer. */
  private Future<Void> afterFailures(SqlClient tx, RowSet<Row> rows) {
    List<Future<?>> compensations = new ArrayList<>();
    for (Row row : rows) {
      String type = row.getString("type");
      if ("dead".equals(row.getString("status"))) {
        log.warn("job {} ({}) is dead: {}", row.getUUID("id"), type, row.getString("last_error"));
        JobTypes.find(type).map(JobType::onDead).ifPresent(onDead -> {
          JsonObject payload = ((JsonObject) row.getValue("payload")).copy()
            .put("failed_job", row.getUUID("id").toString()).put("failure", row.getString("last_error"));
          compensations.add(JobQueue.enqueue(tx, NewJob.of(onDead, payload).owner(row.getString("owner"))
            .uniqueKey(onDead + ":" + row.getUUID("id"))));
        });
      }
    }
    return Future.all(compensations).mapEmpty();
  }

  private void renewLeases() {
    if (running.isEmpty()) {
      return;
    }
    UUID[] ids = running.keySet().toArray(new UUID[0]);
    pool.preparedQuery(RENEW).execute(Tuple.of(nodeId, settings.leaseMillis(), ids))
      .onFailure(err -> log.warn("lease renewal failed: {}", err.getMessage()));
  }

  /** Returns expired leases (and all leases of {@code departed} nodes) to the queue, or to dead when out of tries. */
  private void rescue(String[] departed) {
    pool.withTransaction(tx -> tx.preparedQuery(RESCUE).execute(Tuple.of((Object) departed))
        .compose(rows -> {
          if (rows.size() > 0) {
            log.warn("rescued {} job(s) from lost leases{}", rows.size(),
              departed.length > 0 ? " of departed node " + departed[0] : "");
          }
          return afterFailures(tx, rows);
        }))
      .onFailure(err -> log.debug("lease rescue skipped: {}", err.getMessage()));
  }
}
