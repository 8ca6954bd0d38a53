package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.PausableProxy;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readiness when PostgreSQL goes silent rather than refusing: a pausable proxy between the node and the server stops
 * all traffic, as a cut network does (nothing refused, nothing answered). The node says 503 once its own probe of
 * PostgreSQL goes unanswered for a second, and 200 again when the server answers; a pool that is merely busy is not
 * mistaken for a lost database.
 */
@ExtendWith(VertxExtension.class)
class ReadinessCutOffTest {
  private static PausableProxy proxy;
  private static Boxoffice.Node node;
  private static ApiClient web;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    String pg = TestStorage.get().newDatabase("ReadinessCutOffTest");
    proxy = await(PausableProxy.forUri(vertx, pg));
    node = TestNodes.start(TestNodes.settings(proxy.uri(pg), TestStorage.redisPrefix("ReadinessCutOffTest"))
      .mergeIn(TestNodes.noUserCrons()).put("payment_mode", "manual").put("pg_pool_size", 1), false);
    web = ApiClient.create(vertx, node.platform().config().integer("http_port"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(proxy.resume());
    TestNodes.stop(node);
    await(proxy.close());
  }

  @Test
  void aSilentDatabaseTurnsTheNodeUnreadyAndItsReturnReadyAgain() {
    eventually(Duration.ofSeconds(20), () -> web.get("/health/ready"), r -> r.statusCode() == 200);

    await(proxy.pause());
    try {
      HttpResponse<Buffer> down = eventually(Duration.ofSeconds(10), () -> web.get("/health/ready"),
        r -> r.statusCode() == 503);
      assertThat(check(down, "postgres").getString("status")).isEqualTo("DOWN");
    } finally {
      await(proxy.resume());
    }
    eventually(Duration.ofSeconds(20), () -> web.get("/health/ready"), r -> r.statusCode() == 200);
  }

  @Test
  void aBusyPoolIsNotAnUnreachableDatabase() {
    Pool pool = node.platform().pool();
    // the pool's only connection busy for 3 s: requests wait for it, readiness does not
    Future<RowSet<Row>> busy = pool.query("SELECT pg_sleep(3)").execute();
    for (int i = 0; i < 4; i++) {
      HttpResponse<Buffer> r = await(web.get("/health/ready"));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    }
    await(busy);
  }

  private static JsonObject check(HttpResponse<Buffer> r, String id) {
    return r.bodyAsJsonObject().getJsonArray("checks").stream().map(JsonObject.class::cast)
      .filter(c -> id.equals(c.getString("id"))).findFirst().orElseThrow(() -> new AssertionError(
        "no check " + id + " in " + r.bodyAsString()));
  }
}
