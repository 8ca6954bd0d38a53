package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** GET /metrics: Prometheus text with the Vert.x meters of this node and the cluster's job meters. */
class MetricsTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());

  @Test
  void metricsArePrometheusTextWithHttpEventBusAndPoolMeters() throws Exception {
    assertThat(await(node.api().get("/healthz")).statusCode()).isEqualTo(200);
    HttpResponse<Buffer> r = await(node.api().get("/metrics"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("Content-Type")).startsWith("text/plain");
    String text = r.bodyAsString();
    assertThat(text).contains("# TYPE vertx_http_server_requests_total counter");
    assertThat(text).containsPattern("vertx_http_server_requests_total\\{[^}]*route=\"/healthz\"");
    assertThat(text).contains("vertx_eventbus_");
    assertThat(text).contains("vertx_pool_");
    assertThat(text).contains("jvm_memory_used_bytes");
  }

  @Test
  void jobMetricsCountFinishedTasksByTypeAndOutcome() throws Exception {
    ApiClient admin = node.admin();
    for (String data : new String[]{"metrics one", "metrics two", "fail:1 metrics three"}) {
      HttpResponse<Buffer> r = await(admin.post("/tasks", new JsonObject().put("type", "text.process")
        .put("payload", new JsonObject().put("data", data)).put("max_attempts", 1)));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    }
    // the meters read the jobs table every 5 s, a couple of seconds behind its clock; a scrape can land while a
    // refresh is registering them (seen in CI: both counters, no duration meter yet), so wait for every meter asserted
    String text = eventually(MetricsTest::boxofficeLines,
      t -> value(t, "boxoffice_jobs_completed_total", "succeeded") >= 2
      && value(t, "boxoffice_jobs_completed_total", "dead") >= 1
      && t.contains("boxoffice_job_duration_seconds_count{type=\"text.process\"} 3"));
    assertThat(text).containsPattern("boxoffice_jobs\\{state=\"succeeded\",type=\"text.process\"} 2.0");
    assertThat(text).containsPattern("boxoffice_jobs\\{state=\"dead\",type=\"text.process\"} 1.0");
    assertThat(text).containsPattern("boxoffice_jobs\\{state=\"queued\",type=\"text.process\"} 0.0");
    assertThat(text).containsPattern("boxoffice_job_duration_seconds_count\\{type=\"text.process\"} 3");
    assertThat(text).contains("boxoffice_job_duration_seconds_sum{type=\"text.process\"}");
  }

  @Test
  void everyNodeInTheJvmHasItsOwnRegistry() throws Exception {
    String db = TestStorage.get().newDatabase("MetricsTest2");
    Boxoffice.Node other = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("MetricsTest2"))
      .put("roles", "http"), false);
    try {
      assertThat(Metrics.registry(other.vertx())).isPresent();
      assertThat(Metrics.registry(other.vertx()).get()).isNotSameAs(Metrics.registry(node.vertx()).get());
      ApiClient second = ApiClient.create(other.vertx(), other.platform().config().integer("http_port"));
      assertThat(await(second.get("/healthz")).statusCode()).isEqualTo(200);
      await(node.api().get("/")); // counted on the first node only
      String text = await(second.get("/metrics")).bodyAsString();
      assertThat(text).containsPattern("vertx_http_server_requests_total\\{[^}]*route=\"/healthz\"");
      assertThat(text).doesNotContainPattern("vertx_http_server_requests_total\\{[^}]*route=\"/\"[,}]");
    } finally {
      TestNodes.stop(other);
    }
  }

  /** The scrape's own meters (a failure shows these, not the whole text). */
  private static Future<String> boxofficeLines() {
    return node.api().get("/metrics").map(r -> r.bodyAsString().lines().filter(l -> l.startsWith("boxoffice"))
      .collect(Collectors.joining("\n")));
  }

  private static double value(String text, String name, String outcome) {
    Matcher m = Pattern.compile("^" + name + "\\{outcome=\"" + outcome + "\",type=\"text.process\"} (\\S+)$",
      Pattern.MULTILINE).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
