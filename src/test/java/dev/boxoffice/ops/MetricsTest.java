package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
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

/**
 * GET /metrics: Prometheus text with the Vert.x meters of this node, the cluster's job and queue meters, the booking
 * counters that stand in for a log line per booking, and readiness. docs/alerts.yml uses these names.
 */
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
    // refresh is registering them (seen in CI: both counters, no duration meter yet; the counters, and the state
    // gauges one refresh behind), so wait for every meter asserted
    String text = eventually(MetricsTest::boxofficeLines,
      t -> value(t, "boxoffice_jobs_completed_total", "succeeded") >= 2
      && value(t, "boxoffice_jobs_completed_total", "dead") >= 1
      && t.contains("boxoffice_job_duration_seconds_count{type=\"text.process\"} 3")
      && t.contains("boxoffice_jobs{state=\"succeeded\",type=\"text.process\"} 2.0")
      && t.contains("boxoffice_jobs{state=\"dead\",type=\"text.process\"} 1.0"));
    assertThat(text).containsPattern("boxoffice_jobs\\{state=\"succeeded\",type=\"text.process\"} 2.0");
    assertThat(text).containsPattern("boxoffice_jobs\\{state=\"dead\",type=\"text.process\"} 1.0");
    assertThat(text).containsPattern("boxoffice_jobs\\{state=\"queued\",type=\"text.process\"} 0.0");
    assertThat(text).containsPattern("boxoffice_job_duration_seconds_count\\{type=\"text.process\"} 3");
    assertThat(text).contains("boxoffice_job_duration_seconds_sum{type=\"text.process\"}");
  }

  @Test
  void bookingTransitionsAreCountedWhereTheyUsedToBeLogged() throws Exception {
    String before = await(boxofficeLines());
    assertThat(before).as("every series exists from the start")
      .containsPattern("boxoffice_booking_transitions_total\\{to=\"expired\",transition=\"expire\"} \\d")
      .containsPattern("boxoffice_booking_confirm_lag_seconds_count\\{transition=\"confirm\"} \\d");
    long event = new BookingFixtures(node.pool()).event(10);
    for (int i = 0; i < 2; i++) {
      HttpResponse<Buffer> r = await(node.user().post("/bookings", BookingFixtures.body("Counted " + i,
        "counted@example.com").put("event_id", event)));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    }
    // auto payment: created, paid and confirmed in one step, then finalized (the ticket)
    String text = eventually(MetricsTest::boxofficeLines,
      t -> transitions(t, "finalize", "finalized") - transitions(before, "finalize", "finalized") >= 2);
    assertThat(transitions(text, "create", "pending") - transitions(before, "create", "pending")).isEqualTo(2);
    assertThat(transitions(text, "payment_approved", "confirmed")
      - transitions(before, "payment_approved", "confirmed")).isEqualTo(2);
    assertThat(text)
      .containsPattern("boxoffice_booking_confirm_lag_seconds_count\\{transition=\"payment_approved\"} [1-9]")
      .containsPattern("boxoffice_booking_confirm_lag_seconds_bucket\\{transition=\"payment_approved\","
        + "le=\"60.0\"} [1-9]");
  }

  @Test
  void aPausedQueueShowsHowLongItHasBeenPausedAndHowLongItsOldestDueJobWaits() throws Exception {
    ApiClient admin = node.admin();
    long event = new BookingFixtures(node.pool()).event(1);
    long booking;
    assertThat(await(admin.post("/ops/queues/default/pause", null)).statusCode()).isEqualTo(200);
    try {
      // its payment step (default queue) waits in the queue
      HttpResponse<Buffer> r = await(node.user().post("/bookings",
        BookingFixtures.body("Waiting", "waiting@example.com").put("event_id", event)));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
      booking = r.bodyAsJsonObject().getLong("id");
      String text = eventually(MetricsTest::boxofficeLines,
        t -> gauge(t, "boxoffice_job_queue_oldest_due_seconds", "default") > 0
          && gauge(t, "boxoffice_job_queue_paused_seconds", "default") > 0);
      assertThat(gauge(text, "boxoffice_job_queue_paused", "default")).isEqualTo(1);
      assertThat(gauge(text, "boxoffice_job_queue_paused", "tickets")).isEqualTo(0);
      assertThat(gauge(text, "boxoffice_job_queue_paused_seconds", "tickets")).isEqualTo(0);
    } finally {
      assertThat(await(admin.post("/ops/queues/default/resume", null)).statusCode()).isEqualTo(200);
    }
    eventually(MetricsTest::boxofficeLines, t -> gauge(t, "boxoffice_job_queue_paused", "default") == 0
      && gauge(t, "boxoffice_job_queue_paused_seconds", "default") == 0
      && gauge(t, "boxoffice_job_queue_oldest_due_seconds", "default") == 0);
    // done before the next test counts bookings
    eventually(() -> node.user().get("/bookings/" + booking).map(r -> r.bodyAsJsonObject().getString("status")),
      "finalized"::equals);
  }

  @Test
  void readinessIsAGaugeToo() throws Exception {
    String text = eventually(MetricsTest::boxofficeLines, t -> t.contains("boxoffice_ready 1.0"));
    assertThat(text).contains("boxoffice_health_check{check=\"postgres\"} 1.0")
      .contains("boxoffice_health_check{check=\"redis\"} 1.0")
      .contains("boxoffice_health_check{check=\"startup\"} 1.0");
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

  private static double transitions(String text, String transition, String to) {
    Matcher m = Pattern.compile("^boxoffice_booking_transitions_total\\{to=\"" + to + "\",transition=\"" + transition
      + "\"} (\\S+)$", Pattern.MULTILINE).matcher(text);
    assertThat(m.find()).as("a series for " + transition + " → " + to).isTrue();
    return Double.parseDouble(m.group(1));
  }

  private static double gauge(String text, String name, String queue) {
    Matcher m = Pattern.compile("^" + name + "\\{queue=\"" + queue + "\"} (\\S+)$", Pattern.MULTILINE).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static double value(String text, String name, String outcome) {
    Matcher m = Pattern.compile("^" + name + "\\{outcome=\"" + outcome + "\",type=\"text.process\"} (\\S+)$",
      Pattern.MULTILINE).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
