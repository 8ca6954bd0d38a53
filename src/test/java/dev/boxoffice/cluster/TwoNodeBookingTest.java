package dev.boxoffice.cluster;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clustered nodes in one JVM: node A runs only the HTTP edge, node B only workers. Everything A accepts is
 * answered and processed on B across the event bus; A never claims a job.
 */
@ExtendWith(VertxExtension.class)
class TwoNodeBookingTest {
  private static Boxoffice.Node edge;
  private static Boxoffice.Node worker;

  @BeforeAll
  static void start() throws Exception {
    String db = TestStorage.get().newDatabase("TwoNodeBookingTest");
    String cluster = "two-" + UUID.randomUUID().toString().substring(0, 8);
    int pa = TestStorage.freePort();
    int pb = TestStorage.freePort();
    JsonObject base = TestNodes.settings(db, TestStorage.redisPrefix("TwoNodeBookingTest"));
    worker = TestNodes.start(TestNodes.clustered(base.copy().put("roles", "workers,scheduler"), cluster, pb, pa, pb),
      true);
    edge = TestNodes.start(TestNodes.clustered(base.copy().put("roles", "http")
      .put("http_port", TestStorage.freePort()), cluster, pa, pa, pb), true);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(edge);
    TestNodes.stop(worker);
  }

  @Test
  void aBookingAcceptedByTheEdgeNodeIsProcessedByTheWorkerNode(Vertx vertx) throws Exception {
    ApiClient api = await(ApiClient.create(vertx, edge.platform().config().integer("http_port"))
      .login("admin", "admin"));
    var created = await(api.post("/bookings", new JsonObject().put("name", "Grace Hopper")
      .put("email", "grace@example.com").put("phone", "+1 202 555 0100")));
    assertThat(created.statusCode()).isEqualTo(201);
    long id = created.bodyAsJsonObject().getLong("booking_id");

    String status = eventually(() -> api.get("/bookings/" + id).map(r -> r.bodyAsJsonObject().getString("status")),
      s -> "confirmed".equals(s) || "finalized".equals(s));
    assertThat(status).isIn("confirmed", "finalized");

    List<String> runners = new ArrayList<>();
    for (Row row : await(worker.platform().pool().preparedQuery(
      "SELECT DISTINCT locked_by FROM jobs WHERE payload->>'booking_id' = $1 AND locked_by IS NOT NULL")
      .execute(Tuple.of(String.valueOf(id))))) {
      runners.add(row.getString("locked_by"));
    }
    assertThat(runners).containsExactly(worker.platform().membership().nodeId());
  }

  @Test
  void readinessOnEitherNodeCountsBothMembers(Vertx vertx) throws Exception {
    var ready = await(ApiClient.create(vertx, edge.platform().config().integer("http_port")).get("/health/ready"));
    assertThat(ready.statusCode()).isEqualTo(200);
    JsonObject cluster = ready.bodyAsJsonObject().getJsonArray("checks").stream()
      .map(JsonObject.class::cast).filter(c -> "cluster".equals(c.getString("id"))).findFirst().orElseThrow();
    assertThat(cluster.getJsonObject("data").getInteger("members")).isEqualTo(2);
  }
}
