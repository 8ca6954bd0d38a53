package dev.boxoffice.jobs;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Finished internal jobs go once they are past the retention; tasks, dead jobs and live jobs stay. */
class JobRetentionTest {
  private static final String ROWS = """
    INSERT INTO jobs (id, type, status, max_attempts, run_at, created_at, finished_at, queue)
    SELECT gen_random_uuid(), $1, $2, 5, now() - make_interval(secs => $3), now() - make_interval(secs => $3),
           CASE WHEN $2 IN ('succeeded', 'cancelled', 'dead') THEN now() - make_interval(secs => $3) END, 'default'
    FROM generate_series(1, $4)""";
  private static final String LEFT = "SELECT type || '/' || status || '/' || coalesce((finished_at < now() - "
    + "interval '1 minute')::text, 'null') AS what, count(*) AS n FROM jobs GROUP BY 1";

  private static Boxoffice.Node node;
  private static Pool pool;

  @BeforeAll
  static void start() throws Exception {
    String db = TestStorage.get().newDatabase("JobRetentionTest");
    node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("JobRetentionTest"))
      // no job engines to touch the rows, no cron to add any, no purge but the test's own
      .put("roles", "scheduler").put("jobs_retention_seconds", 0)
      .mergeIn(TestNodes.noUserCrons()), false);
    pool = node.platform().pool();
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @Test
  void finishedInternalJobsPastTheRetentionAreDeletedAndEverythingElseStays() throws Exception {
    int old = JobRetention.BATCH + 7; // more than one batch
    rows("booking.finalize", "succeeded", 7_200, old);
    rows("booking.confirm", "cancelled", 7_200, 3);
    rows("booking.finalize", "succeeded", 10, 2);      // finished, but within the retention
    rows("outbox.send", "dead", 7_200, 2);             // waits for an operator
    rows("text.process", "succeeded", 7_200, 4);       // a task: part of /history
    rows("booking.payment", "scheduled", 7_200, 1);    // old but not finished
    rows("booking.payment", "running", 7_200, 1);

    long deleted = await(new JobRetention(pool, 3_600, List.of("text.process")).purge());

    assertThat(deleted).isEqualTo(old + 3);
    assertThat(left()).containsExactlyInAnyOrderEntriesOf(Map.of(
      "booking.finalize/succeeded/false", 2L,
      "outbox.send/dead/true", 2L,
      "text.process/succeeded/true", 4L,
      "booking.payment/scheduled/null", 1L,
      "booking.payment/running/null", 1L));
    assertThat(await(new JobRetention(pool, 3_600, List.of("text.process")).purge())).as("nothing left to do")
      .isZero();
  }

  private static void rows(String type, String status, int ageSeconds, int n) throws Exception {
    await(pool.preparedQuery(ROWS).execute(Tuple.of(type, status, ageSeconds, n)));
  }

  private static Map<String, Long> left() throws Exception {
    Map<String, Long> left = new HashMap<>();
    for (Row r : await(pool.query(LEFT).execute())) {
      left.put(r.getString("what"), r.getLong("n"));
    }
    return left;
  }
}
