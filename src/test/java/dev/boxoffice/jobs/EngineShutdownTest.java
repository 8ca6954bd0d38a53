package dev.boxoffice.jobs;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.Database;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** A node that closes drains its job engines: running jobs finish and are recorded, waiting ones go back. */
@ExtendWith(VertxExtension.class)
class EngineShutdownTest {
  private static final int CONCURRENCY = 2;
  private static final int JOBS = 6;

  @Test
  void closingANodeLetsRunningJobsFinishAndPutsHandedOffJobsThatNeverStartedBackInTheQueue(Vertx vertx)
    throws Exception {
    JobTypes.register(JobType.of("test.sleepy").queue("sleepy"));
    String db = TestStorage.get().newDatabase("EngineShutdown");
    Boxoffice.Node node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("EngineShutdown"))
      .put("roles", "workers").put("jobs_queues", "default:1024,sleepy:" + CONCURRENCY), false);
    AtomicInteger started = new AtomicInteger();
    // the running jobs finish once the node is closing, however long closing takes to begin
    Promise<Void> closing = Promise.promise();
    await(JobWorkers.handle(node.vertx(), "test.sleepy", job -> {
      started.incrementAndGet();
      return closing.future().map(v -> new JsonObject().put("slept", true));
    }));
    JobHandoff here = JobHandoff.local(node.vertx(), "test.sleepy").orElseThrow();
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      batch.add(NewJob.of("test.sleepy", new JsonObject().put("i", i)));
    }
    List<Job> jobs = await(node.platform().pool().withTransaction(tx -> here.enqueueAll(tx, batch)));
    here.start(jobs);
    eventually(() -> assertThat(started.get()).as("jobs running when the node closes").isEqualTo(CONCURRENCY));

    Future<Void> closed = node.close();
    // the engine no longer takes handoffs: it is draining
    eventually(() -> assertThat(JobHandoff.local(node.vertx(), "test.sleepy")).isEmpty());
    closing.complete();
    await(closed);

    assertThat(started.get()).as("nothing new started while draining").isEqualTo(CONCURRENCY);
    Pool pool = Database.pool(vertx, db, 1);
    try {
      List<String> states = new ArrayList<>();
      for (Row row : await(pool.preparedQuery("""
          SELECT status, attempts, locked_by IS NULL AS free, result FROM jobs WHERE id = ANY($1)""")
        .execute(Tuple.of((Object) jobs.stream().map(Job::id).toArray(UUID[]::new))))) {
        states.add(row.getString("status") + "/" + row.getInteger("attempts") + "/" + row.getBoolean("free"));
      }
      assertThat(states).as("status/attempts/unleased of each job").containsExactlyInAnyOrder(
        "succeeded/1/false", "succeeded/1/false",
        "queued/0/true", "queued/0/true", "queued/0/true", "queued/0/true");
    } finally {
      pool.close();
    }
  }
}
