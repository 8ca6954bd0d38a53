package dev.boxoffice.jobs;

import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job whose outcome the database refuses (here a result holding a NUL, which jsonb cannot store) fails on its own
 * with that error; the jobs recorded in the same batch succeed at their first attempt.
 */
class PoisonedOutcomeTest {
  private static final String TYPE = "test.poisoned_result";
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons()).with("roles", "workers");

  @BeforeAll
  static void handler() {
    JobTypes.register(JobType.of(TYPE).maxAttempts(2).backoff(Duration.ofMillis(100), 1.0, Duration.ofMillis(100)));
    await(JobWorkers.handle(node.vertx(), TYPE, job -> Future.succeededFuture(new JsonObject()
      .put("echo", job.payload().getBoolean("poison", false) ? "nul \u0000 in the result" : "fine"))));
  }

  @Test
  void aResultTheDatabaseRefusesFailsItsOwnJobAndTheBatchIsRecorded() {
    List<JsonObject> payloads = new ArrayList<>();
    IntStream.range(0, 20).forEach(i -> payloads.add(new JsonObject().put("n", i).put("poison", i == 7)));
    // one statement: claimed, run and (but for the isolation) recorded together
    await(JobQueue.enqueueBatch(node.pool(), TYPE, payloads));

    List<Row> rows = eventually(() -> node.pool().preparedQuery(
          "SELECT payload, status, attempts, last_error FROM jobs WHERE type = $1 ORDER BY payload->>'n'")
        .execute(io.vertx.sqlclient.Tuple.of(TYPE)).map(rs -> {
          List<Row> list = new ArrayList<>();
          rs.forEach(list::add);
          return list;
        }),
      list -> list.stream().allMatch(r -> r.getString("status").equals("succeeded") || r.getString("status").equals("dead")));

    assertThat(rows).hasSize(20);
    for (Row r : rows) {
      JsonObject payload = (JsonObject) r.getValue("payload");
      if (payload.getBoolean("poison")) {
        assertThat(r.getString("status")).isEqualTo("dead");
        assertThat(r.getInteger("attempts")).isEqualTo(2);
        assertThat(r.getString("last_error")).startsWith("outcome could not be recorded");
      } else {
        assertThat(r.getString("status")).as(payload.encode()).isEqualTo("succeeded");
        assertThat(r.getInteger("attempts")).as("recorded at the first attempt, poison or not").isEqualTo(1);
      }
    }
  }
}
