package dev.boxoffice.jobs;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.TestClock;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job engine's promises: run, retry with backoff, die with the last error, delay on time, dedupe, rescue. The
 * node runs on a {@link TestClock}: waits for due times, backoff and leases are the clock moved forward, and attempt
 * times are read from it.
 */
@ExtendWith(VertxExtension.class)
class JobEngineTest {
  private static final TestClock clock = new TestClock();
  private static final long LEASE_MS = 3_000;
  private static Boxoffice.Node node;
  private static Pool pool;
  private static final Map<String, List<Long>> attemptTimes = new ConcurrentHashMap<>();
  private static final AtomicInteger compensations = new AtomicInteger();
  /** Concurrency of the "narrow" queue, and what its slow handler saw at once. */
  private static final int NARROW = 4;
  private static final AtomicInteger slowNow = new AtomicInteger();
  private static final AtomicInteger slowMax = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    JobTypes.register(
      JobType.of("test.echo"),
      JobType.of("test.flaky").maxAttempts(3).backoff(Duration.ofMillis(150), 2.0, Duration.ofSeconds(5)),
      JobType.of("test.permanent").maxAttempts(5).onDead("test.compensate"),
      JobType.of("test.compensate"),
      JobType.of("test.record"),
      JobType.of("test.slow").queue("narrow"));
    String db = TestStorage.get().newDatabase("JobEngineTest");
    // a one-minute poll: anything that happens sooner was driven by timers and notifications
    node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("JobEngineTest"))
      .put("roles", "workers").put("jobs_poll_seconds", 60).put("jobs_lease_seconds", LEASE_MS / 1000)
      .put("jobs_queues", "default:1024,narrow:" + NARROW), false, clock);
    pool = node.platform().pool();
    var vertx = node.vertx();
    await(JobWorkers.handle(vertx, "test.echo", job ->
      Future.succeededFuture(new JsonObject().put("echo", job.payload().getString("text")))));
    await(JobWorkers.handle(vertx, "test.flaky", job -> {
      record(job);
      return Future.failedFuture(new IllegalStateException("boom on attempt " + job.attempt()));
    }));
    await(JobWorkers.handle(vertx, "test.permanent", job -> Future.failedFuture(JobFailure.permanent("card expired"))));
    await(JobWorkers.handle(vertx, "test.compensate", job -> {
      compensations.incrementAndGet();
      return Future.succeededFuture(new JsonObject().put("compensated", job.payload().getString("failed_job")));
    }));
    await(JobWorkers.handle(vertx, "test.record", job -> {
      record(job);
      return Future.succeededFuture(new JsonObject());
    }));
    await(JobWorkers.handle(vertx, "test.slow", job -> {
      record(job);
      slowMax.accumulateAndGet(slowNow.incrementAndGet(), Math::max);
      return vertx.timer(30).map(t -> {
        slowNow.decrementAndGet();
        return new JsonObject();
      });
    }));
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @Test
  void anEnqueuedJobRunsAndKeepsItsResult() throws Exception {
    UUID id = await(JobQueue.enqueue(pool, NewJob.of("test.echo", new JsonObject().put("text", "hi")))).id();
    JobRow job = awaitStatus(id, "succeeded");
    assertThat(job.result().getString("echo")).isEqualTo("hi");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.finishedAt()).isNotNull();
  }

  @Test
  void aFailingJobIsRetriedWithGrowingBackoffThenDiesWithItsLastError() throws Exception {
    String key = UUID.randomUUID().toString();
    UUID id = await(JobQueue.enqueue(pool, NewJob.of("test.flaky", new JsonObject().put("key", key)))).id();
    // each time it waits for its retry, time moves on to the retry's due time
    JobRow job = eventually(() -> {
      JobRow now = await(JobQueue.get(pool, id)).orElseThrow();
      if ("failed".equals(now.status())) {
        clock.advanceTo(now.runAt());
      }
      return Future.succeededFuture(now);
    }, row -> "dead".equals(row.status()));
    assertThat(job.attempts()).isEqualTo(3);
    assertThat(job.lastError()).isEqualTo("boom on attempt 3");
    List<Long> times = attemptTimes.get(key);
    assertThat(times).hasSize(3);
    long firstGap = times.get(1) - times.get(0);
    long secondGap = times.get(2) - times.get(1);
    assertThat(firstGap).isGreaterThanOrEqualTo(100); // 150 ms ± 20% jitter
    assertThat(secondGap).isGreaterThan(firstGap);     // 300 ms ± 20%: exponential
  }

  @Test
  void aPermanentFailureSkipsTheRemainingAttemptsAndRunsTheCompensation() throws Exception {
    int before = compensations.get();
    UUID id = await(JobQueue.enqueue(pool, NewJob.of("test.permanent", new JsonObject()))).id();
    JobRow job = awaitStatus(id, "dead");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.lastError()).isEqualTo("card expired");
    Row compensation = awaitRow("SELECT * FROM jobs WHERE unique_key = $1 AND status = 'succeeded'",
      Tuple.of("test.compensate:" + id));
    assertThat(((JsonObject) compensation.getValue("result")).getString("compensated")).isEqualTo(id.toString());
    assertThat(compensations.get()).isEqualTo(before + 1);
  }

  @Test
  void aJobHandedOffToItsOwnNodesEngineRunsOnceWithoutBeingClaimed() throws Exception {
    String key = UUID.randomUUID().toString();
    JobHandoff here = JobHandoff.local(node.vertx(), "test.record").orElseThrow();
    List<Job> jobs = await(pool.withTransaction(tx ->
      here.enqueueAll(tx, List.of(NewJob.of("test.record", new JsonObject().put("key", key))))));
    assertThat(jobs).hasSize(1);
    JobRow inserted = await(JobQueue.get(pool, jobs.get(0).id())).orElseThrow();
    assertThat(inserted.status()).isEqualTo("running");
    assertThat(inserted.attempts()).isEqualTo(1);

    long handedOff = clock.millis();
    here.start(jobs);

    JobRow job = awaitStatus(jobs.get(0).id(), "succeeded");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(attemptTimes.get(key)).hasSize(1);
    // neither the poll (a minute) nor a lease rescue (3 s lease) ran it
    assertThat(attemptTimes.get(key).get(0) - handedOff).isLessThan(1000);
  }

  @Test
  void aHandedOffJobWhoseStartNeverCameIsRescuedWhenItsLeaseRunsOut() throws Exception {
    String key = UUID.randomUUID().toString();
    JobHandoff here = JobHandoff.local(node.vertx(), "test.record").orElseThrow();
    // committed, then the node "crashed" before handing it over: no start()
    List<Job> jobs = await(pool.withTransaction(tx ->
      here.enqueueAll(tx, List.of(NewJob.of("test.record", new JsonObject().put("key", key))))));

    // time passes, half a lease renewal beat at a time, until the lease has run out and the rescue took the job
    // back; the second attempt then runs on time as it comes
    JobRow job = eventually(() -> {
      JobRow now = await(JobQueue.get(pool, jobs.get(0).id())).orElseThrow();
      if ("running".equals(now.status()) && now.attempts() == 1) {
        clock.advance(Duration.ofMillis(LEASE_MS / 6));
      }
      return Future.succeededFuture(now);
    }, row -> "succeeded".equals(row.status()));
    assertThat(job.attempts()).isEqualTo(2);
    assertThat(job.lastError()).startsWith("lease lost");
    assertThat(attemptTimes.get(key)).hasSize(1);
  }

  @Test
  void aHandoffAddsNothingWhileALiveJobHoldsTheUniqueKey() throws Exception {
    String uniqueKey = "handoff:" + UUID.randomUUID();
    UUID live = await(JobQueue.enqueue(pool, NewJob.of("test.record", new JsonObject())
      .uniqueKey(uniqueKey).at(Instant.ofEpochMilli(clock.millis()).plusSeconds(3600)))).id();
    JobHandoff here = JobHandoff.local(node.vertx(), "test.record").orElseThrow();

    List<Job> jobs = await(pool.withTransaction(tx ->
      here.enqueueAll(tx, List.of(NewJob.of("test.record", new JsonObject()).uniqueKey(uniqueKey)))));

    assertThat(jobs).isEmpty();
    assertThat(await(pool.preparedQuery("SELECT count(*) AS n FROM jobs WHERE unique_key = $1")
      .execute(Tuple.of(uniqueKey))).iterator().next().getLong("n")).isEqualTo(1);
    await(JobQueue.cancel(pool, live));
  }

  @Test
  void thereIsNoHandoffForATypeThisNodeDoesNotHandle() {
    JobTypes.register(JobType.of("test.handled-elsewhere"));
    assertThat(JobHandoff.local(node.vertx(), "test.handled-elsewhere")).isEmpty();
    assertThat(JobHandoff.local(node.vertx(), "test.record")).isPresent();
  }

  @Test
  void handedOffJobsBeyondTheQueuesConcurrencyWaitForRoomAndAllRunOnce() throws Exception {
    String key = UUID.randomUUID().toString();
    JobHandoff here = JobHandoff.local(node.vertx(), "test.slow").orElseThrow();
    List<NewJob> many = new java.util.ArrayList<>();
    for (int i = 0; i < 6 * NARROW; i++) {
      many.add(NewJob.of("test.slow", new JsonObject().put("key", key + ":" + i)));
    }
    List<Job> jobs = await(pool.withTransaction(tx -> here.enqueueAll(tx, many)));

    here.start(jobs);

    for (Job job : jobs) {
      assertThat(awaitStatus(job.id(), "succeeded").attempts()).isEqualTo(1);
    }
    for (int i = 0; i < many.size(); i++) {
      assertThat(attemptTimes.get(key + ":" + i)).as("job %d ran once", i).hasSize(1);
    }
    assertThat(slowMax.get()).isEqualTo(NARROW);
  }

  @Test
  void aDelayedJobStartsAtItsDueTimeDrivenByATimerNotThePoll() throws Exception {
    String key = UUID.randomUUID().toString();
    // further ahead than real time gets while the test looks for the engine's timer
    Instant due = Instant.ofEpochMilli(clock.millis()).plusSeconds(10);
    UUID id = await(JobQueue.enqueue(pool, NewJob.of("test.record", new JsonObject().put("key", key)).at(due))).id();
    assertThat(await(JobQueue.get(pool, id)).orElseThrow().status()).isEqualTo("scheduled");
    // the engine armed its timer for the due time (less half the look-ahead); time moves on to when it fires
    long timer = eventually(() -> Future.succeededFuture(timerFor(due)), Optional::isPresent).orElseThrow();
    clock.advanceTo(Instant.ofEpochMilli(timer));
    awaitStatus(id, "succeeded");
    long started = attemptTimes.get(key).get(0);
    assertThat(started).isGreaterThanOrEqualTo(due.toEpochMilli());
    assertThat(started - due.toEpochMilli()).isLessThan(1000); // the poll is a minute away
  }

  @Test
  void aUniqueKeyReturnsTheLiveJobInsteadOfASecondOne() throws Exception {
    String key = "once-" + UUID.randomUUID();
    Instant later = Instant.ofEpochMilli(clock.millis()).plusSeconds(3600);
    JobQueue.Enqueued first = await(JobQueue.enqueue(pool, NewJob.of("test.echo", new JsonObject()).at(later)
      .uniqueKey(key)));
    JobQueue.Enqueued second = await(JobQueue.enqueue(pool, NewJob.of("test.echo", new JsonObject()).uniqueKey(key)));
    assertThat(first.created()).isTrue();
    assertThat(second.created()).isFalse();
    assertThat(second.id()).isEqualTo(first.id());
  }

  @Test
  void aCancelledScheduledJobNeverRunsAndCanBeRetried() throws Exception {
    String key = UUID.randomUUID().toString();
    UUID id = await(JobQueue.enqueue(pool, NewJob.of("test.record", new JsonObject().put("key", key))
      .at(Instant.ofEpochMilli(clock.millis()).plusMillis(700)))).id();
    assertThat(await(JobQueue.cancel(pool, id))).isPresent();
    clock.advance(Duration.ofMillis(1200));
    // a job due now, enqueued after the due time passed: once it ran, so had anything that due time woke
    UUID after = await(JobQueue.enqueue(pool, NewJob.of("test.record", new JsonObject()))).id();
    awaitStatus(after, "succeeded");
    assertThat(attemptTimes.get(key)).isNull();
    assertThat(await(JobQueue.get(pool, id)).orElseThrow().status()).isEqualTo("cancelled");
    assertThat(await(JobQueue.cancel(pool, id))).isEmpty(); // finished: nothing to cancel

    assertThat(await(JobQueue.retry(pool, id))).isPresent();
    awaitStatus(id, "succeeded");
    assertThat(attemptTimes.get(key)).hasSize(1);
  }

  @Test
  void aJobWhoseLeaseExpiredOnAVanishedNodeIsRescuedAndCompleted() throws Exception {
    UUID id = UUID.randomUUID();
    await(pool.preparedQuery("""
        INSERT INTO jobs (id, type, payload, status, attempts, max_attempts, run_at, locked_by, lease_until, started_at)
        VALUES ($1, 'test.echo', '{"text":"rescued"}', 'running', 1, 3, now(), 'ghost-node', now() - interval '1 second',
                now() - interval '31 seconds')""").execute(Tuple.of(id)));
    clock.advance(Duration.ofMillis(LEASE_MS / 3)); // the next lease beat, when expired leases are rescued
    JobRow job = awaitStatus(id, "succeeded");
    assertThat(job.attempts()).isEqualTo(2);
    assertThat(job.lastError()).contains("lease lost: node ghost-node");
    assertThat(job.result().getString("echo")).isEqualTo("rescued");
  }

  @Test
  void aBatchOfJobsAllRunExactlyOnce() throws Exception {
    String key = UUID.randomUUID().toString();
    List<JsonObject> payloads = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 500; i++) {
      payloads.add(new JsonObject().put("key", key + ":" + i));
    }
    assertThat(await(JobQueue.enqueueBatch(pool, "test.record", payloads))).isEqualTo(500);
    int done = eventually(() -> pool.query("SELECT count(*) AS n FROM jobs WHERE type = 'test.record' "
        + "AND status = 'succeeded' AND payload->>'key' LIKE '" + key + ":%'").execute()
      .map(rows -> rows.iterator().next().getInteger("n")), n -> n == 500);
    assertThat(done).isEqualTo(500);
    for (int i = 0; i < 500; i++) {
      assertThat(attemptTimes.get(key + ":" + i)).as("job %d ran once", i).hasSize(1);
    }
  }

  private static void record(Job job) {
    String key = job.payload().getString("key");
    if (key != null) {
      attemptTimes.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(clock.millis());
    }
  }

  /** A timer of the engine's set to fire within the claim's look-ahead before {@code due}. */
  private static Optional<Long> timerFor(Instant due) {
    long at = due.toEpochMilli();
    return clock.deadlines().stream().filter(d -> d >= at - Claimer.LOOKAHEAD_MS && d <= at).findFirst();
  }

  private static JobRow awaitStatus(UUID id, String status) {
    return eventually(() -> JobQueue.get(pool, id).map(Optional::orElseThrow), job -> status.equals(job.status()));
  }

  private static Row awaitRow(String sql, Tuple args) {
    return eventually(() -> pool.preparedQuery(sql).execute(args), rows -> rows.size() > 0).iterator().next();
  }
}
