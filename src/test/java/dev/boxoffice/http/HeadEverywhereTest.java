package dev.boxoffice.http;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.openapi.impl.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * HEAD wherever GET is served: every GET of openapi.yaml (/ops/*, the pages, /info, the health routes, the
 * ticket...) and the routes outside it (/metrics, /docs and its files, /openapi.yaml) answer HEAD with the GET's
 * status and content type, and no body.
 */
class HeadEverywhereTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());

  @Test
  void everyGetRouteAnswersHeadWithTheSameStatusAndContentTypeAndNoBody() throws Exception {
    ApiClient admin = node.admin();
    List<String> paths = new ArrayList<>(List.of("/metrics", "/openapi.yaml", "/docs", "/docs/",
      "/docs/swagger-ui.css"));
    JsonObject contract = await(Utils.readYamlOrJson(node.vertx(), "openapi.yaml"));
    JsonObject declared = contract.getJsonObject("paths");
    for (String template : declared.fieldNames()) {
      if (declared.getJsonObject(template).containsKey("get")) {
        // a parameter's value need not exist: a 404 or 422 must be the same for HEAD as for GET
        paths.add(template.replaceAll("\\{[^}]+}", "1"));
      }
    }
    assertThat(paths).contains("/ops/nodes", "/ops/jobs", "/ops/queues", "/ui", "/users/ui", "/info",
      "/health/ready", "/bookings/1/ticket");

    for (String path : paths) {
      HttpResponse<Buffer> get = await(admin.get(path));
      HttpResponse<Buffer> head = await(admin.request(HttpMethod.HEAD, path).send());
      assertThat(head.statusCode()).as("HEAD " + path).isEqualTo(get.statusCode());
      assertThat(head.getHeader("Content-Type")).as("HEAD " + path).isEqualTo(get.getHeader("Content-Type"));
      assertThat(head.body() == null || head.body().length() == 0).as("HEAD " + path + " has no body").isTrue();
      assertThat(get.statusCode()).as("GET " + path).isNotEqualTo(405);
    }
  }
}
