package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** GET /ops/nodes (and its retention) and GET /ops/jobs: what the monitoring page reads. */
class OpsApiTest {
  /** Nodes gone longer than this (an hour here; a day by default) are forgotten. */
  private static final int RETENTION_SECONDS = 3600;
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons())
    .with("nodes_retention_seconds", RETENTION_SECONDS);
  private static ApiClient admin;
  private static ApiClient user;

  @BeforeAll
  static void clients() {
    admin = node.admin();
    user = node.user();
  }

  @Test
  void nodesListsThisNodeAliveWithItsRoles() throws Exception {
    HttpResponse<Buffer> r = await(admin.get("/ops/nodes"));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject self = find(r.bodyAsJsonArray(), node.platform().membership().nodeId());
    assertThat(self.getJsonArray("roles")).isEqualTo(new JsonArray(List.of("http", "workers", "scheduler")));
    assertThat(self.getBoolean("alive")).isTrue();
    assertThat(self.getInteger("http_port")).isEqualTo(node.port());
    assertThat(Instant.parse(self.getString("last_seen"))).isAfterOrEqualTo(Instant.parse(self.getString("started_at")));
  }

  @Test
  void aStoppedNodeIsListedAsGoneAfterTheAliveOnes() throws Exception {
    Boxoffice.Node scheduler = TestNodes.start(node.settings().put("roles", "scheduler"), false);
    String id = scheduler.platform().membership().nodeId();
    JsonObject listed = find(await(admin.get("/ops/nodes")).bodyAsJsonArray(), id);
    assertThat(listed.getJsonArray("roles")).isEqualTo(new JsonArray(List.of("scheduler")));
    assertThat(listed.getValue("http_port")).isNull();
    assertThat(listed.getBoolean("alive")).isTrue();

    TestNodes.stop(scheduler);
    JsonArray nodes = await(admin.get("/ops/nodes")).bodyAsJsonArray();
    assertThat(find(nodes, id).getBoolean("alive")).isFalse();
    assertThat(nodes.getJsonObject(0).getString("node_id")).isEqualTo(node.platform().membership().nodeId());
    assertThat(nodes.getJsonObject(nodes.size() - 1).getBoolean("alive")).isFalse();
  }

  @Test
  void nodesGoneLongerThanTheRetentionAreForgottenAndTheirRowsDeleted() throws Exception {
    String recent = "gone-30-minutes-ago-" + UUID.randomUUID();
    String old = "gone-2-hours-ago-" + UUID.randomUUID();
    await(node.pool().preparedQuery("""
        INSERT INTO nodes (node_id, roles, http_port, started_at, last_seen, stopped_at) VALUES
          ($1, 'http', 8080, now() - interval '1 day', now() - interval '30 minutes', now() - interval '30 minutes'),
          ($2, 'workers', NULL, now() - interval '1 day', now() - interval '2 hours', NULL)""")
      .execute(Tuple.of(recent, old)));

    JsonArray nodes = await(admin.get("/ops/nodes")).bodyAsJsonArray();
    assertThat(find(nodes, recent).getBoolean("alive")).as("within the retention: listed as gone").isFalse();
    assertThat(nodes.stream().map(n -> ((JsonObject) n).getString("node_id"))).doesNotContain(old);
    // the next heartbeat (every 5 s) deletes the row; the recent one stays
    eventually(() -> assertThat(await(node.pool().preparedQuery("SELECT node_id FROM nodes WHERE node_id = ANY($1)")
      .execute(Tuple.of((Object) new String[] {recent, old}))).size()).isEqualTo(1));
  }

  @Test
  void jobStatsCountSucceededAndDeadTasksAndListTheFailure() throws Exception {
    String ok = created(admin.post("/tasks", new JsonObject().put("type", "text.process")
      .put("payload", new JsonObject().put("data", "stats ok"))));
    String dead = created(admin.post("/tasks", new JsonObject().put("type", "text.process")
      .put("payload", new JsonObject().put("data", "fail:5 stats")).put("max_attempts", 1)));

    JsonObject stats = poll("/ops/jobs?minutes=5", s -> s.getJsonObject("states").getLong("succeeded") >= 1
      && s.getJsonObject("states").getLong("dead") >= 1);

    assertThat(stats.getJsonObject("states").fieldNames()).containsExactlyInAnyOrder("scheduled", "queued",
      "running", "succeeded", "failed", "dead", "cancelled");
    JsonObject text = stats.getJsonArray("queues").stream().map(JsonObject.class::cast)
      .filter(q -> q.getString("type").equals("text.process")).findFirst().orElseThrow();
    assertThat(text.getString("queue")).isEqualTo("default");
    assertThat(text.getLong("dead")).isGreaterThanOrEqualTo(1);
    assertThat(text.fieldNames()).contains("scheduled", "queued", "running", "failed", "dead");

    JsonArray throughput = stats.getJsonArray("throughput");
    assertThat(throughput).hasSize(5);
    long succeeded = 0;
    long deaths = 0;
    for (Object p : throughput) {
      succeeded += ((JsonObject) p).getLong("succeeded");
      deaths += ((JsonObject) p).getLong("dead");
    }
    assertThat(succeeded).isGreaterThanOrEqualTo(1);
    assertThat(deaths).isGreaterThanOrEqualTo(1);
    assertThat(Instant.parse(throughput.getJsonObject(0).getString("minute")))
      .isBefore(Instant.parse(throughput.getJsonObject(4).getString("minute")));

    JsonObject failure = find(stats.getJsonArray("recent_failures"), dead, "id");
    assertThat(failure.getString("status")).isEqualTo("dead");
    assertThat(failure.getString("task_id")).isEqualTo(dead);
    assertThat(failure.getString("last_error")).contains("simulated failure");
    assertThat(stats.getJsonArray("recent_failures").stream().map(o -> ((JsonObject) o).getString("id")))
      .doesNotContain(ok);
  }

  @Test
  void opsNeedTheAdminRole() throws Exception {
    assertThat(await(user.get("/ops/nodes")).statusCode()).isEqualTo(403);
    assertThat(await(user.get("/ops/jobs")).statusCode()).isEqualTo(403);
    assertThat(await(admin.withToken(null).get("/ops/jobs")).statusCode()).isEqualTo(401);
    assertThat(await(admin.get("/ops/jobs?minutes=0")).statusCode()).isEqualTo(422);
    assertThat(await(admin.get("/ops/jobs?minutes=121")).statusCode()).isEqualTo(422);
  }

  private static String created(Future<HttpResponse<Buffer>> post) throws Exception {
    HttpResponse<Buffer> r = await(post);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    return r.bodyAsJsonObject().getString("id");
  }

  /** GET {@code path} as the admin until its body satisfies {@code done}; every answer on the way must be 200. */
  private static JsonObject poll(String path, Predicate<JsonObject> done) {
    return eventually(() -> admin.get(path).map(r -> {
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      return r.bodyAsJsonObject();
    }), done);
  }

  private static JsonObject find(JsonArray items, String id) {
    return find(items, id, "node_id");
  }

  private static JsonObject find(JsonArray items, String id, String field) {
    return items.stream().map(JsonObject.class::cast).filter(o -> id.equals(o.getString(field))).findFirst()
      .orElseThrow(() -> new AssertionError(id + " not in " + items.encodePrettily()));
  }
}
