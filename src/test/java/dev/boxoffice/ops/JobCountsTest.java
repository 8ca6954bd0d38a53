package dev.boxoffice.ops;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The job counts of GET /ops/jobs, GET /ops/queues and the {@code boxoffice_jobs} gauges as one job moves through
 * every state: exact while the table is small; once it is large, live and dead stay exact and succeeded and
 * cancelled are estimates, said so, within what the contract promises. The jobs here are of a type and queue no
 * engine runs, so they stay where the test puts them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobCountsTest {
  private static final String TYPE = "counts.probe";
  private static final String QUEUE = "counts";

  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());
  private static ApiClient admin;
  private static final UUID job = UUID.randomUUID();

  @BeforeAll
  static void clients() {
    admin = node.admin();
  }

  @Test
  @Order(1)
  void aJobIsCountedInEachStateItPassesThroughExactlyWhileTheTableIsSmall() {
    sql("INSERT INTO jobs (id, type, status, max_attempts, run_at, queue) "
      + "VALUES ($1, '" + TYPE + "', 'scheduled', 5, now() + interval '1 hour', '" + QUEUE + "')", job);
    expectOnly("scheduled");
    sql("UPDATE jobs SET run_at = now() - interval '1 second' WHERE id = $1", job);
    expectOnly("queued"); // a due scheduled job counts as queued
    sql("UPDATE jobs SET status = 'running', lease_until = now() + interval '1 hour', locked_by = 'x' WHERE id = $1",
      job);
    expectOnly("running");
    sql("UPDATE jobs SET status = 'failed', lease_until = NULL, run_at = now() + interval '1 hour' WHERE id = $1", job);
    expectOnly("failed");
    sql("UPDATE jobs SET status = 'dead', finished_at = now() WHERE id = $1", job);
    expectOnly("dead");
    sql("UPDATE jobs SET status = 'cancelled' WHERE id = $1", job);
    expectOnly("cancelled");
    sql("UPDATE jobs SET status = 'succeeded' WHERE id = $1", job);
    JsonObject stats = expectOnly("succeeded");
    assertThat(stats.getJsonArray("estimated")).isEmpty();
  }

  @Test
  @Order(2)
  void onceTheTableIsLargeFinishedStatesAreEstimatedAndLiveOnesStayExact() {
    // 36,000 succeeded and 4,000 cancelled jobs of the probe's type, then statistics (autovacuum would take them)
    sql("INSERT INTO jobs (id, type, status, max_attempts, run_at, queue, finished_at) "
      + "SELECT gen_random_uuid(), '" + TYPE + "', CASE WHEN g % 10 = 0 THEN 'cancelled' ELSE 'succeeded' END, 5, "
      + "now(), '" + QUEUE + "', now() FROM generate_series(1, 40000) g");
    sql("ANALYZE jobs");
    sql("UPDATE jobs SET status = 'dead' WHERE id = $1", job);

    JsonObject stats = eventually(() -> json("/ops/jobs"), s -> !s.getJsonArray("estimated").isEmpty());
    assertThat(stats.getJsonArray("estimated")).containsExactly("cancelled", "succeeded");
    JsonObject states = stats.getJsonObject("states");
    // the node's own jobs are few; the contract says "within a few percent" of a large share, coarser for a small one
    assertThat(states.getLong("succeeded")).isCloseTo(36_000L, within(1_800L));
    assertThat(states.getLong("cancelled")).isCloseTo(4_000L, within(1_000L));
    assertThat(states.getLong("dead")).isGreaterThanOrEqualTo(1L);
    JsonObject probe = type(stats);
    assertThat(probe.getLong("dead")).isEqualTo(1L); // exact, from its index

    JsonObject queue = queue();
    assertThat(queue.getJsonArray("estimated")).containsExactly("cancelled", "succeeded");
    assertThat(queue.getJsonObject("counts").getLong("succeeded")).isCloseTo(36_000L, within(1_800L));
    assertThat(queue.getJsonObject("counts").getLong("dead")).isEqualTo(1L);

    String metrics = eventually(() -> admin.get("/metrics").map(r -> r.bodyAsString()),
      t -> gauge(t, "succeeded") > 30_000 && gauge(t, "dead") == 1);
    assertThat(gauge(metrics, "succeeded")).isCloseTo(36_000d, within(1_800d));
    assertThat(gauge(metrics, "cancelled")).isCloseTo(4_000d, within(1_000d));
    assertThat(gauge(metrics, "running")).isZero();
  }

  /** /ops/queues, /ops/jobs and the gauges agree that the probe is in {@code state} and nowhere else. */
  private static JsonObject expectOnly(String state) {
    // the probe's queue holds nothing else; its counts have every state
    JsonObject counts = eventually(() -> Future.succeededFuture(queue().getJsonObject("counts")),
      c -> c.getLong(state) == 1);
    for (String other : JobStats.STATES) {
      assertThat(counts.getLong(other)).as("queue " + other).isEqualTo(other.equals(state) ? 1 : 0);
    }
    JsonObject stats = await(json("/ops/jobs"));
    assertThat(stats.getJsonObject("states").getLong(state)).isGreaterThanOrEqualTo(1L);
    JsonObject probe = type(stats); // the live states and dead, of the probe's type
    for (String live : new String[]{"scheduled", "queued", "running", "failed", "dead"}) {
      assertThat(probe == null ? 0 : probe.getLong(live)).as("type " + live).isEqualTo(live.equals(state) ? 1 : 0);
    }
    String metrics = eventually(() -> admin.get("/metrics").map(r -> r.bodyAsString()), t -> gauge(t, state) == 1);
    for (String other : JobStats.STATES) {
      assertThat(gauge(metrics, other)).as("gauge " + other).isEqualTo(other.equals(state) ? 1 : 0);
    }
    return stats;
  }

  private static JsonObject type(JsonObject stats) {
    return stats.getJsonArray("queues").stream().map(JsonObject.class::cast)
      .filter(q -> q.getString("type").equals(TYPE)).findFirst().orElse(null);
  }

  private static JsonObject queue() {
    JsonArray queues = await(admin.get("/ops/queues")).bodyAsJsonArray();
    return queues.stream().map(JsonObject.class::cast).filter(q -> q.getString("name").equals(QUEUE)).findFirst()
      .orElseThrow();
  }

  private static Future<JsonObject> json(String path) {
    return admin.get(path).map(r -> {
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      return r.bodyAsJsonObject();
    });
  }

  private static double gauge(String text, String state) {
    Matcher m = Pattern.compile("^boxoffice_jobs\\{state=\"" + state + "\",type=\"" + Pattern.quote(TYPE)
      + "\"} (\\S+)$", Pattern.MULTILINE).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static void sql(String statement, Object... args) {
    await(node.pool().preparedQuery(statement).execute(Tuple.from(args)));
  }
}
