package dev.boxoffice.bench;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import static dev.boxoffice.testing.Await.await;

/**
 * Job engine benchmark (run by hand: bench/jobs.sh). Reports
 * (1) end-to-end throughput of N no-op jobs enqueued in batches and run by one node, and
 * (2) how late delayed jobs start after their due time (p50/p99/max).
 */
public final class JobEngineBench {
  public static void main(String[] args) throws Exception {
    int total = Integer.parseInt(System.getProperty("jobs", "100000"));
    int batch = Integer.parseInt(System.getProperty("batch", "1000"));
    int delayed = Integer.parseInt(System.getProperty("delayed", "2000"));
    JobTypes.register(JobType.of("bench.noop"), JobType.of("bench.delayed"));
    String db = TestStorage.get().newDatabase("bench_jobs");
    Boxoffice.Node node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("bench"))
      .put("roles", "workers").put("pg_pool_size", 8)
      .put("jobs_claim_batch", Integer.parseInt(System.getProperty("claim", "256")))
      .put("jobs_queues", "default:" + System.getProperty("concurrency", "512")), false);
    Pool pool = node.platform().pool();
    AtomicLong done = new AtomicLong();
    ConcurrentLinkedQueue<Long> lateness = new ConcurrentLinkedQueue<>();
    await(JobWorkers.handle(node.vertx(), "bench.noop", job -> {
      done.incrementAndGet();
      return Future.succeededFuture(new JsonObject());
    }));
    await(JobWorkers.handle(node.vertx(), "bench.delayed", job -> {
      lateness.add(System.currentTimeMillis() - job.payload().getLong("due"));
      return Future.succeededFuture(new JsonObject());
    }));

    // (1) throughput, end to end: from the first enqueue until every row is 'succeeded'
    long start = System.nanoTime();
    List<Future<Integer>> inserts = new ArrayList<>();
    for (int sent = 0; sent < total; sent += batch) {
      List<JsonObject> payloads = new ArrayList<>(batch);
      for (int i = 0; i < Math.min(batch, total - sent); i++) {
        payloads.add(new JsonObject().put("n", sent + i));
      }
      inserts.add(JobQueue.enqueueBatch(pool, "bench.noop", payloads));
      if (inserts.size() >= 4) { // a few batches in flight, as a producer would
        await(Future.all(inserts));
        inserts.clear();
      }
    }
    await(Future.all(inserts));
    double enqueueSeconds = (System.nanoTime() - start) / 1e9;
    while (succeeded(pool, "bench.noop") < total) {
      Thread.sleep(20);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("jobs: %d no-op jobs, batches of %d: enqueued in %.2f s, all succeeded after %.2f s "
      + "=> %.0f jobs/s end to end (handler calls: %d)%n", total, batch, enqueueSeconds, seconds, total / seconds,
      done.get());

    // (2) delayed jobs: due times spread over 10 s; lateness = handler start - due time
    long base = System.currentTimeMillis() + 2000;
    for (int i = 0; i < delayed; i++) {
      long due = base + (i * 10_000L) / delayed;
      await(JobQueue.enqueue(pool, NewJob.of("bench.delayed", new JsonObject().put("due", due))
        .at(Instant.ofEpochMilli(due))));
    }
    while (lateness.size() < delayed) {
      Thread.sleep(50);
    }
    long[] late = lateness.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf("delayed: %d jobs due over 10 s: start after due p50 %d ms, p99 %d ms, max %d ms "
        + "(negative would mean early: min %d ms)%n", delayed, pct(late, 50), pct(late, 99), late[late.length - 1],
      late[0]);
    TestNodes.stop(node);
    System.exit(0);
  }

  private static long succeeded(Pool pool, String type) throws Exception {
    return await(pool.preparedQuery("SELECT count(*) AS n FROM jobs WHERE type = $1 AND status = 'succeeded'")
      .execute(io.vertx.sqlclient.Tuple.of(type))).iterator().next().getLong("n");
  }

  private static long pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

}
