package dev.boxoffice.http;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import net.logstash.logback.argument.StructuredArgument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The access line (request id, method, the contract's route template, status, duration, account), the
 * {@code X-Request-Id} echo, and HEAD wherever GET is served.
 */
class AccessLogTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());

  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private final Logger access = (Logger) LoggerFactory.getLogger("boxoffice.access");

  @BeforeEach
  void capture() {
    lines.start();
    access.addAppender(lines);
  }

  @AfterEach
  void release() {
    access.detachAppender(lines);
  }

  @Test
  void eachRequestLogsOneLineWithTheRouteTemplateStatusAccountAndTheEchoedRequestId() throws Exception {
    long event = new BookingFixtures(node.pool()).event(5);
    ApiClient user = node.api().withToken(TestTokens.user());
    HttpResponse<Buffer> read = await(user.request(HttpMethod.GET, "/events/" + event)
      .putHeader(AccessLog.HEADER, "client-id.42").send());

    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.getHeader(AccessLog.HEADER)).isEqualTo("client-id.42");
    Map<String, Object> line = line("client-id.42");
    assertThat(line).containsEntry("method", "GET").containsEntry("route", "/events/{id}")
      .containsEntry("status", 200).containsEntry("account", "testuser");
    assertThat(((Number) line.get("duration_ms")).longValue()).isNotNegative();

    HttpResponse<Buffer> missing = await(user.get("/events/999999999"));
    assertThat(missing.statusCode()).isEqualTo(404);
    String id = missing.getHeader(AccessLog.HEADER);
    assertThat(id).as("a request id made for a request without one").isNotBlank();
    assertThat(line(id)).containsEntry("route", "/events/{id}").containsEntry("status", 404);
  }

  @Test
  void anInsaneIncomingRequestIdIsReplacedAndAnonymousRequestsNameNoAccount() throws Exception {
    String insane = "x".repeat(200);
    HttpResponse<Buffer> ready = await(node.api().request(HttpMethod.GET, "/health/ready")
      .putHeader(AccessLog.HEADER, insane).send());

    String id = ready.getHeader(AccessLog.HEADER);
    assertThat(id).isNotEqualTo(insane).matches("[0-9a-f-]{36}");
    assertThat(line(id)).containsEntry("route", "/health/ready").containsEntry("account", "-")
      .containsEntry("status", 200);
  }

  @Test
  void aRequestRefusedByValidationStillNamesItsRouteTemplate() throws Exception {
    HttpResponse<Buffer> bad = await(node.api().withToken(TestTokens.user()).get("/events/not-a-number"));

    assertThat(bad.statusCode()).isBetween(400, 499);
    assertThat(line(bad.getHeader(AccessLog.HEADER))).containsEntry("route", "/events/{id}")
      .containsEntry("status", bad.statusCode());
  }

  @Test
  void headIsAnsweredWhereverGetIs() throws Exception {
    HttpResponse<Buffer> ready = await(node.api().request(HttpMethod.HEAD, "/health/ready").send());
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body() == null || ready.body().length() == 0).as("no body").isTrue();
    assertThat(line(ready.getHeader(AccessLog.HEADER))).containsEntry("method", "HEAD")
      .containsEntry("route", "/health/ready");

    HttpResponse<Buffer> live = await(node.api().request(HttpMethod.HEAD, "/health/live").send());
    assertThat(live.statusCode()).isEqualTo(200);

    long event = new BookingFixtures(node.pool()).event(5);
    HttpResponse<Buffer> head = await(node.api().withToken(TestTokens.user())
      .request(HttpMethod.HEAD, "/events/" + event).send());
    HttpResponse<Buffer> get = await(node.api().withToken(TestTokens.user()).get("/events/" + event));
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.getHeader("Content-Type")).isEqualTo(get.getHeader("Content-Type"));
    assertThat(head.body() == null || head.body().length() == 0).as("no body").isTrue();

    HttpResponse<Buffer> noGet = await(node.api().request(HttpMethod.HEAD, "/token").send());
    assertThat(noGet.statusCode()).as("HEAD where only POST is served").isEqualTo(405);
  }

  /** The access line of the request {@code id}, as its fields; the line is written when the response ends. */
  private Map<String, Object> line(String id) {
    AtomicReference<Map<String, Object>> line = new AtomicReference<>();
    eventually(() -> {
      List<ILoggingEvent> events;
      synchronized (lines) { // the appender appends under its own lock
        events = List.copyOf(lines.list);
      }
      List<Map<String, Object>> found = events.stream().map(AccessLogTest::fields)
        .filter(f -> id.equals(f.get("request_id"))).toList();
      assertThat(found).as("one access line for request " + id).hasSize(1);
      line.set(found.get(0));
    });
    return line.get();
  }

  private static Map<String, Object> fields(ILoggingEvent event) {
    Map<String, Object> fields = new LinkedHashMap<>();
    Arrays.stream(event.getArgumentArray() == null ? new Object[0] : event.getArgumentArray())
      .filter(StructuredArgument.class::isInstance)
      .map(StructuredArgument.class::cast)
      .forEach(a -> {
        String[] kv = a.toString().split("=", 2);
        fields.put(kv[0], kv.length < 2 ? null : parse(kv[1]));
      });
    return fields;
  }

  private static Object parse(String value) {
    if (value.matches("-?[0-9]{1,9}")) {
      return Integer.parseInt(value);
    }
    return value.matches("-?[0-9]+") ? (Object) Long.parseLong(value) : value;
  }
}
