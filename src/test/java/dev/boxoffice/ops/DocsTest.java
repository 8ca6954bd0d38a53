package dev.boxoffice.ops;

import dev.boxoffice.testing.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The pages: /docs (Swagger UI from its webjar), /openapi.yaml and /ui, all public and offline. */
class DocsTest {
  // pages are served at the edge: an http-only node has them all
  @RegisterExtension
  static final TestNode node = TestNode.create().with("roles", "http");

  @Test
  void docsIsSwaggerUiOverTheContract() throws Exception {
    for (String path : new String[]{"/docs", "/docs/", "/docs/index.html"}) {
      HttpResponse<Buffer> r = await(node.api().get(path));
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(r.getHeader("Content-Type")).isEqualTo("text/html; charset=utf-8");
      assertThat(r.bodyAsString()).contains("swagger-ui", "SwaggerUIBundle", "url: '/openapi.yaml'")
        .doesNotContain("petstore", "https://");
    }
  }

  @Test
  void swaggerUiFilesComeFromTheWebjar() throws Exception {
    HttpResponse<Buffer> js = await(node.api().get("/docs/swagger-ui-bundle.js"));
    assertThat(js.statusCode()).isEqualTo(200);
    assertThat(js.getHeader("Content-Type")).contains("javascript");
    assertThat(js.body().length()).isGreaterThan(1_000_000);
    HttpResponse<Buffer> css = await(node.api().get("/docs/swagger-ui.css"));
    assertThat(css.statusCode()).isEqualTo(200);
    assertThat(css.getHeader("Content-Type")).startsWith("text/css");
    assertThat(await(node.api().get("/docs/nope.js")).statusCode()).isEqualTo(404);
    assertThat(await(node.api().get("/docs/../../META-INF/MANIFEST.MF")).statusCode()).isNotEqualTo(200);
  }

  @Test
  void openapiYamlIsServed() throws Exception {
    HttpResponse<Buffer> r = await(node.api().get("/openapi.yaml"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("Content-Type")).isEqualTo("application/yaml");
    assertThat(r.bodyAsString()).startsWith("openapi: 3.1.0").contains("operationId: getJobStats");
  }

  @Test
  void uiIsOneSelfContainedHtmlPage() throws Exception {
    HttpResponse<Buffer> r = await(node.api().get("/ui"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("Content-Type")).isEqualTo("text/html; charset=utf-8");
    assertThat(r.getHeader("Content-Security-Policy")).contains("default-src 'self'");
    String html = r.bodyAsString();
    assertThat(html).contains("id=\"login-form\"", "id=\"submit-form\"", "id=\"tasks-table\"", "/ops/jobs");
    assertThat(html).doesNotContain("<script src=\"http", "<link rel=\"stylesheet\" href=\"http");
  }
}
