package dev.boxoffice.jobs;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.TestClock;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node whose leases were taken over while it was paused notices at its next lease renewal and lets go: a
 * handed-off job still waiting for a slot here is never started (the node that took it over runs it). One slot,
 * two jobs handed off together: the first runs and holds the slot, the second waits; the second's lease is taken over
 * (as a rescue and a claim elsewhere would), the engine's clock moves to its next renewal, then the first finishes.
 */
class LeaseLossTest {
  private static final String TYPE = "test.fence.lost";
  private static final long LEASE_SECONDS = 60;
  private static final TestClock clock = new TestClock();
  private static Boxoffice.Node node;
  private static Pool pool;

  @BeforeAll
  static void start() throws Exception {
    JobTypes.register(JobType.of(TYPE).queue("fenced"));
    String db = TestStorage.get().newDatabase("LeaseLossTest");
    node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("LeaseLossTest"))
      .mergeIn(TestNodes.noUserCrons()).put("roles", "workers").put("jobs_queues", "default:1024,fenced:1")
      .put("jobs_lease_seconds", LEASE_SECONDS), false, clock);
    pool = node.platform().pool();
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @Test
  void aHandedOffJobWhoseLeaseWasTakenOverNeverStartsHere() {
    List<UUID> started = new CopyOnWriteArrayList<>();
    Promise<Void> release = Promise.promise();
    await(JobWorkers.handle(node.vertx(), TYPE, job -> {
      started.add(job.id());
      return release.future().map(v -> new JsonObject().put("ran", true));
    }));
    JobHandoff here = JobHandoff.local(node.vertx(), TYPE).orElseThrow();
    List<Job> jobs = await(pool.withTransaction(tx -> here.enqueueAll(tx, List.of(
      NewJob.of(TYPE, new JsonObject().put("n", 1)), NewJob.of(TYPE, new JsonObject().put("n", 2))))));
    here.start(jobs);
    eventually(() -> assertThat(started).hasSize(1));
    UUID running = started.get(0);
    UUID waiting = jobs.stream().map(Job::id).filter(id -> !id.equals(running)).findFirst().orElseThrow();

    // rescued while this node was paused and claimed by another node: attempt 2 there
    await(pool.preparedQuery("UPDATE jobs SET attempts = 2, locked_by = 'elsewhere' WHERE id = $1")
      .execute(Tuple.of(waiting)));
    OffsetDateTime before = leaseUntil(running);
    clock.advance(Duration.ofSeconds(LEASE_SECONDS / 3 + 1));
    // the renewal ran (the running job's lease moved on); it found the waiting one's lease gone
    eventually(() -> assertThat(leaseUntil(running)).isAfter(before));

    release.complete();
    UUID probe = await(JobQueue.enqueue(pool, NewJob.of(TYPE, new JsonObject().put("n", 3)))).id();
    eventually(() -> JobQueue.get(pool, probe).map(Optional::orElseThrow), j -> "succeeded".equals(j.status()));

    assertThat(started).as("jobs started here").containsExactly(running, probe);
    JobRow taken = await(JobQueue.get(pool, waiting)).orElseThrow();
    assertThat(taken.status()).isEqualTo("running");
    assertThat(taken.attempts()).isEqualTo(2);
  }

  private static OffsetDateTime leaseUntil(UUID id) {
    return await(pool.preparedQuery("SELECT lease_until FROM jobs WHERE id = $1").execute(Tuple.of(id)))
      .iterator().next().getOffsetDateTime("lease_until");
  }
}
