package dev.boxoffice.ops;

import dev.boxoffice.platform.NodeLifecycle;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readiness answers whether this node can serve bookings. The node's Redis is a closed port all along (as if it were
 * down); its PostgreSQL is its own test database, made unreachable by refusing connections to it.
 */
class ReadinessTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons())
    .with("redis_uri", "redis://127.0.0.1:" + TestStorage.freePort()).with("payment_mode", "manual");

  @Test
  void redisDownIsReportedButTheNodeIsReadyAndTakesBookings() {
    HttpResponse<Buffer> r = await(node.api().get("/health/ready"));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("UP");
    assertThat(check(r, "redis").getString("status")).isEqualTo("DOWN");
    assertThat(check(r, "postgres").getString("status")).isEqualTo("UP");
    assertThat(await(node.user().post("/bookings", body("Ready Anyway", "ready@example.com"))).statusCode())
      .as("what readiness promises").isEqualTo(201);
  }

  @Test
  void postgresUnreachableIs503UntilItIsBack() throws Exception {
    String uri = node.db();
    String db = uri.substring(uri.lastIndexOf('/') + 1);
    // from the server's maintenance database: a database cannot refuse connections to itself
    try (Connection c = TestStorage.connect(uri.substring(0, uri.lastIndexOf('/') + 1) + "postgres");
         Statement st = c.createStatement()) {
      try {
        st.execute("ALTER DATABASE " + db + " ALLOW_CONNECTIONS false");
        st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");

        HttpResponse<Buffer> down = eventually(Duration.ofSeconds(20), () -> node.api().get("/health/ready"),
          resp -> resp.statusCode() == 503);
        assertThat(down.bodyAsJsonObject().getString("status")).isEqualTo("DOWN");
        assertThat(check(down, "postgres").getString("status")).isEqualTo("DOWN");
      } finally {
        st.execute("ALTER DATABASE " + db + " ALLOW_CONNECTIONS true");
      }
    }
    eventually(Duration.ofSeconds(20), () -> node.api().get("/health/ready"), resp -> resp.statusCode() == 200);
  }

  @Test
  void aNodeStillStartingIs503() {
    Router router = Router.router(node.vertx());
    router.get("/health/ready").handler(Health.readiness(node.platform(), () -> NodeLifecycle.State.STARTING));
    HttpServer server = await(node.vertx().createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    try {
      HttpResponse<Buffer> r = await(ApiClient.create(node.vertx(), server.actualPort()).get("/health/ready"));

      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(check(r, "startup").getJsonObject("data").getString("state")).isEqualTo("starting");
      assertThat(check(r, "postgres").getString("status")).isEqualTo("UP");
    } finally {
      await(server.close());
    }
  }

  private static JsonObject check(HttpResponse<Buffer> r, String id) {
    return r.bodyAsJsonObject().getJsonArray("checks").stream().map(JsonObject.class::cast)
      .filter(c -> id.equals(c.getString("id"))).findFirst().orElseThrow(() -> new AssertionError(
        "no check " + id + " in " + r.bodyAsString()));
  }

}
