package dev.boxoffice.jobs;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.Database;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
    await(JobWorkers.handle(node.vertx(), "test.sleepy", job -> {
      started.incrementAndGet();
      return node.vertx().timer(700).map(t -> new JsonObject().put("slept", true));
    }));
    JobHandoff here = JobHandoff.local(node.vertx(), "test.sleepy").orElseThrow();
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      batch.add(NewJob.of("test.sleepy", new JsonObject().put("i", i)));
    }
    List<Job> jobs = await(node.platform().pool().withTransaction(tx -> here.enqueueAll(tx, batch)));
    here.start(jobs);
    long deadline = System.currentTimeMillis() + 5_000;
    while (started.get() < CONCURRENCY && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(started.get()).as("jobs running when the node closes").isEqualTo(CONCURRENCY);

    TestNodes.stop(node);

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

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}
