package dev.boxoffice.http;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code BOXOFFICE_OPS_PORT}: the operators' routes (/metrics, /docs, /openapi.yaml, /ui, /users/ui, /info,
 * /ops/*) leave the HTTP port, which answers them 404 like a route that does not exist, token or not; the
 * operators' port serves them, and the API the pages read. Health stays on both (the balancer checks it).
 */
class OperatorsPortTest {
  private static final int OPS_PORT = TestStorage.freePort();
  private static final List<String> OPERATORS = List.of("/metrics", "/openapi.yaml", "/docs", "/docs/swagger-ui.css",
    "/ui", "/users/ui", "/info", "/ops/nodes", "/ops/jobs", "/ops/queues");

  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons()).with("ops_port", OPS_PORT);

  @Test
  void theHttpPortAnswersTheOperatorsRoutesAsRoutesThatDoNotExist() throws Exception {
    ApiClient admin = node.admin();
    for (String path : OPERATORS) {
      HttpResponse<Buffer> r = await(admin.get(path));
      assertThat(r.statusCode()).as("GET " + path + " on the HTTP port").isEqualTo(404);
      assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("No such route: GET " + path);
      assertThat(await(admin.request(HttpMethod.HEAD, path).send()).statusCode()).as("HEAD " + path).isEqualTo(404);
    }
    assertThat(await(node.api().get("/health/ready")).statusCode()).isEqualTo(200);
    assertThat(await(node.api().get("/healthz")).statusCode()).isEqualTo(200);
    assertThat(await(node.api().withToken(TestTokens.user()).get("/bookings")).statusCode()).isEqualTo(200);
  }

  @Test
  void theOperatorsPortServesThemAndTheApiThePagesRead() throws Exception {
    ApiClient ops = ApiClient.create(node.vertx(), OPS_PORT).withToken(TestTokens.admin());
    for (String path : OPERATORS) {
      assertThat(await(ops.get(path)).statusCode()).as("GET " + path + " on the operators' port").isEqualTo(200);
    }
    assertThat(await(ops.get("/metrics")).bodyAsString()).contains("boxoffice_build_info");
    assertThat(await(ops.get("/health/ready")).statusCode()).isEqualTo(200);
    assertThat(await(ops.withToken(null).get("/ops/nodes")).statusCode()).as("still admin only").isEqualTo(401);
    assertThat(await(ops.get("/bookings")).statusCode()).isEqualTo(200);
  }
}
