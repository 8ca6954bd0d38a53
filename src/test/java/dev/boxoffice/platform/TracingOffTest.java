package dev.boxoffice.platform;

import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Tracing is off unless OTEL_* name where spans go: no SDK, no tracer on Vert.x, nothing captured on job rows. The
 * OpenTelemetry SDK alone would export to localhost:4318 by default; a node without these settings exports nothing.
 */
class TracingOffTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("payment_mode", "auto").with(dev.boxoffice.testing.TestNodes
    .noUserCrons());

  private static BookingFixtures db;

  @BeforeAll
  static void fixtures() {
    assumeFalse(Tracing.wanted(System.getenv()), "this JVM's environment turns tracing on");
    db = new BookingFixtures(node.pool());
  }

  @Test
  void withoutOtelSettingsTheNodeHasNoTracer() {
    assertThat(((VertxInternal) node.vertx()).tracer()).as("Vert.x traces nothing").isNull();
    assertThat(Tracing.of(node.vertx()).on()).isFalse();
    assertThat(node.node().tracing()).isSameAs(Tracing.OFF);
  }

  @Test
  void aBookingProcessedWithoutTracingLeavesNoTraceOnItsJobs() {
    long event = db.event(5);
    HttpResponse<Buffer> created = await(node.user().post("/bookings",
      body("No Trace", "none@example.com").put("event_id", event)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    long id = created.bodyAsJsonObject().getLong("booking_id");
    eventually(Duration.ofSeconds(15), () -> assertThat(db.jobs(id)).hasSizeGreaterThanOrEqualTo(2));
    assertThat(db.sql("SELECT count(*) AS n FROM jobs WHERE traceparent IS NOT NULL").iterator().next()
      .getLong("n")).isZero();
  }

  @Test
  void onlyAnExporterOrAnEndpointTurnsTracingOn() {
    assertThat(Tracing.fromEnvironment(Map.of())).isSameAs(Tracing.OFF);
    assertThat(Tracing.fromEnvironment(Map.of("OTEL_SERVICE_NAME", "boxoffice-eu", "PATH", "/bin")))
      .as("naming the service exports nothing").isSameAs(Tracing.OFF);
    assertThat(Tracing.fromEnvironment(Map.of("OTEL_TRACES_EXPORTER", "none",
      "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"))).isSameAs(Tracing.OFF);
    assertThat(Tracing.fromEnvironment(Map.of("OTEL_SDK_DISABLED", "true",
      "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"))).isSameAs(Tracing.OFF);
    assertThat(Tracing.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", " "))).isSameAs(Tracing.OFF);

    assertThat(Tracing.wanted(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"))).isTrue();
    assertThat(Tracing.wanted(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces")))
      .isTrue();
    Tracing on = Tracing.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"));
    try {
      assertThat(on.on()).isTrue();
      assertThat(on.tracer()).isNotNull();
    } finally {
      on.close();
    }
  }
}
