package dev.boxoffice.platform;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestSmtp;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One trace from {@code POST /bookings} to the ticket e-mail, across two clustered nodes (an HTTP edge and a worker,
 * each with its own SDK and in-memory exporter, as two processes would have) and the booking's jobs: the request at
 * the edge, the event-bus hop to the worker, the group commit, the payment and finalization attempts (each continuing
 * the trace of what enqueued it, read back from the job row) and the SMTP send, all under one trace id, each parented
 * to what caused it. Log lines written while handling it carry that trace id.
 */
@ExtendWith(VertxExtension.class)
class TracingTest {
  private static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
  private static final Duration WITHIN = Duration.ofSeconds(20);

  private static final InMemorySpanExporter edgeSpans = InMemorySpanExporter.create();
  private static final InMemorySpanExporter workerSpans = InMemorySpanExporter.create();
  private static final ByteArrayOutputStream logLines = new ByteArrayOutputStream();
  private static OutputStreamAppender<ILoggingEvent> jsonLog;
  private static TestSmtp smtp;
  private static Boxoffice.Node edge;
  private static Boxoffice.Node worker;

  @BeforeAll
  static void start() throws Exception {
    jsonLog = jsonLogOf("dev.boxoffice.booking", "boxoffice.access");
    smtp = TestSmtp.started();
    String db = TestStorage.get().newDatabase("TracingTest");
    String cluster = "trace-" + UUID.randomUUID().toString().substring(0, 8);
    int pe = TestStorage.freePort();
    int pw = TestStorage.freePort();
    JsonObject base = TestNodes.settings(db, TestStorage.redisPrefix("TracingTest")).put("payment_mode", "auto")
      .put("smtp_host", TestSmtp.HOST).put("smtp_port", smtp.port()).put("mail_from", "tickets@trace.test")
      .mergeIn(TestNodes.noUserCrons());
    // both at once: each node's cluster join waits for the other
    io.vertx.core.Future<Boxoffice.Node> workerStarted = Boxoffice.start(AppConfig.of(TestNodes.clustered(
      base.copy().put("roles", "workers,scheduler"), cluster, pw, pe, pw)), true, new EmbeddedServices(),
      Clock.SYSTEM, tracing(workerSpans));
    io.vertx.core.Future<Boxoffice.Node> edgeStarted = Boxoffice.start(AppConfig.of(TestNodes.clustered(
      base.copy().put("roles", "http"), cluster, pe, pe, pw)), true, new EmbeddedServices(), Clock.SYSTEM,
      tracing(edgeSpans));
    try {
      await(workerStarted);
      await(edgeStarted);
    } finally {
      worker = workerStarted.result(); // null unless it started: closed in stop() either way
      edge = edgeStarted.result();
    }
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(edge);
    TestNodes.stop(worker);
    if (smtp != null) {
      smtp.stop();
    }
    if (jsonLog != null) {
      jsonLog.stop();
      LoggerContext logs = (LoggerContext) LoggerFactory.getILoggerFactory();
      logs.getLogger("dev.boxoffice.booking").detachAppender(jsonLog);
      logs.getLogger("dev.boxoffice.booking").setLevel(null);
      logs.getLogger("boxoffice.access").detachAppender(jsonLog);
    }
  }

  @Test
  void aBookingIsOneTraceFromItsRequestToItsTicketEmail(Vertx vertx) throws Exception {
    long event = eventId();
    HttpResponse<Buffer> created = await(ApiClient.create(vertx, port(edge)).withToken(TestTokens.user())
      .post("/bookings", body("Trace Able", "trace@example.com").put("event_id", event)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    long id = created.bodyAsJsonObject().getLong("booking_id");

    String requestId = created.getHeader("X-Request-Id");

    // the e-mail's span names its booking; its trace is the booking's
    List<SpanData> trace = eventually(WITHIN, () -> io.vertx.core.Future.succeededFuture(traceOfMail(id)),
      t -> t.stream().anyMatch(s -> "job booking.finalize".equals(s.getName()))
        && t.stream().anyMatch(s -> s.getKind() == SpanKind.SERVER && "POST /bookings".equals(s.getName())));
    SpanData request = one(trace, s -> s.getKind() == SpanKind.SERVER && "POST /bookings".equals(s.getName()));
    String traceId = request.getTraceId();

    assertThat(request.getParentSpanContext().isValid()).as("the request starts the trace").isFalse();
    assertThat(request.getAttributes().get(AttributeKey.stringKey("http.route"))).isEqualTo("/bookings");
    SpanData sent = one(trace, s -> s.getKind() == SpanKind.CLIENT && "api.createBooking".equals(s.getAttributes()
      .get(DESTINATION)));
    SpanData received = one(trace, s -> s.getKind() == SpanKind.SERVER && "api.createBooking".equals(s.getAttributes()
      .get(DESTINATION)));
    assertThat(edgeSpans.getFinishedSpanItems()).as("the edge sent it").contains(sent);
    assertThat(workerSpans.getFinishedSpanItems()).as("the worker handled it").contains(received);
    assertThat(parentOf(sent)).isEqualTo(request.getSpanId());
    assertThat(parentOf(received)).isEqualTo(sent.getSpanId());

    SpanData commit = one(trace, s -> "booking group commit".equals(s.getName()));
    assertThat(parentOf(commit)).as("a group commit of one is part of its request").isEqualTo(received.getSpanId());
    assertThat(trace).as("its statements are traced").anySatisfy(s -> {
      assertThat(s.getKind()).isEqualTo(SpanKind.CLIENT);
      assertThat(s.getAttributes().asMap().keySet().stream().map(AttributeKey::getKey))
        .anyMatch(k -> k.startsWith("db."));
    });

    SpanData payment = one(trace, s -> "job booking.payment".equals(s.getName()));
    assertThat(parentOf(payment)).as("the payment continues the request that enqueued it")
      .isEqualTo(received.getSpanId());
    assertThat(payment.getAttributes().get(AttributeKey.longKey("boxoffice.job.attempt"))).isEqualTo(1L);
    assertThat(payment.getAttributes().get(AttributeKey.stringKey("boxoffice.job.outcome"))).isEqualTo("succeeded");
    assertThat(trace).as("the payment's handler is reached over the bus under the attempt")
      .anyMatch(s -> s.getKind() == SpanKind.CLIENT && "jobs.batch.booking.payment".equals(s.getAttributes()
        .get(DESTINATION)) && parentOf(s).equals(payment.getSpanId()));

    SpanData finalize = one(trace, s -> "job booking.finalize".equals(s.getName()));
    assertThat(parentOf(finalize)).as("the finalization continues the payment attempt that enqueued it")
      .isEqualTo(payment.getSpanId());
    SpanData mail = one(trace, s -> "smtp send".equals(s.getName()));
    assertThat(parentOf(mail)).isEqualTo(finalize.getSpanId());
    assertThat(mail.getKind()).isEqualTo(SpanKind.CLIENT);
    assertThat(mail.getAttributes().get(AttributeKey.longKey("boxoffice.booking.id"))).isEqualTo(id);
    assertThat(smtp.mailsTo("trace@example.com")).isNotEmpty();

    String logs = eventually(WITHIN, () -> io.vertx.core.Future.succeededFuture(logLines.toString(
      StandardCharsets.UTF_8)), text -> lines(text, "booking " + id + " created").isPresent()
      && lines(text, requestId).isPresent());
    JsonObject createdLine = lines(logs, "booking " + id + " created").orElseThrow();
    assertThat(createdLine.getString("trace_id")).as(createdLine.encode()).isEqualTo(traceId);
    assertThat(createdLine.getString("span_id")).isNotBlank();
    JsonObject accessLine = lines(logs, requestId).orElseThrow();
    assertThat(accessLine.getString("route")).isEqualTo("/bookings");
    assertThat(accessLine.getString("trace_id")).as(accessLine.encode()).isEqualTo(traceId);
  }

  @Test
  void jobsEnqueuedInsideATraceCarryItsTraceparentOnTheirRow(Vertx vertx) {
    long event = eventId();
    HttpResponse<Buffer> created = await(ApiClient.create(vertx, port(edge)).withToken(TestTokens.user())
      .post("/bookings", body("Row Trace", "row@example.com").put("event_id", event)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    long id = created.bodyAsJsonObject().getLong("booking_id");
    List<String> parents = eventually(WITHIN, () -> worker.platform().pool().preparedQuery(
          "SELECT traceparent FROM jobs WHERE payload->>'booking_id' = $1 ORDER BY created_at")
        .execute(io.vertx.sqlclient.Tuple.of(String.valueOf(id)))
        .map(rows -> {
          List<String> out = new ArrayList<>();
          rows.forEach(r -> out.add(r.getString("traceparent")));
          return out;
        }),
      rows -> rows.size() >= 2);
    assertThat(parents).allSatisfy(p -> assertThat(p).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"));
    assertThat(parents.stream().map(p -> p.substring(3, 35)).distinct()).as("one trace").hasSize(1);
  }

  @Test
  void aGroupCommitOfSeveralBookingsIsATraceOfItsOwnLinkedBothWaysToEachRequest(Vertx vertx) {
    long event = eventId();
    ApiClient user = ApiClient.create(vertx, port(edge)).withToken(TestTokens.user());
    List<io.vertx.core.Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      posts.add(user.post("/bookings", body("Batch " + i, "batch" + i + "@example.com").put("event_id", event)));
    }
    await(io.vertx.core.Future.all(posts));
    List<Long> ids = posts.stream().map(p -> p.result().bodyAsJsonObject().getLong("booking_id")).toList();

    // requests arriving while a transaction runs share the next one
    SpanData batch = eventually(WITHIN, () -> io.vertx.core.Future.succeededFuture(spans()),
      all -> all.stream().anyMatch(TracingTest::sharedCommit)).stream().filter(TracingTest::sharedCommit)
      .findFirst().orElseThrow();
    assertThat(batch.getParentSpanContext().isValid()).as("a trace of its own").isFalse();
    List<SpanData> all = spans();
    for (var link : batch.getLinks()) {
      SpanData member = all.stream().filter(s -> s.getSpanId().equals(link.getSpanContext().getSpanId()))
        .findFirst().orElseThrow();
      assertThat(member.getTraceId()).isNotEqualTo(batch.getTraceId());
      assertThat(member.getAttributes().get(DESTINATION)).as("the request's handling").isEqualTo("api.createBooking");
      assertThat(member.getLinks()).as("and the request links back")
        .anyMatch(l -> l.getSpanContext().getSpanId().equals(batch.getSpanId()));
      SpanData payment = eventually(WITHIN, () -> io.vertx.core.Future.succeededFuture(spans()),
        spans -> spans.stream().anyMatch(s -> "job booking.payment".equals(s.getName())
          && s.getParentSpanId().equals(member.getSpanId()))).stream()
        .filter(s -> "job booking.payment".equals(s.getName()) && s.getParentSpanId().equals(member.getSpanId()))
        .findFirst().orElseThrow();
      assertThat(payment.getTraceId()).as("each booking's payment stays in its own request's trace")
        .isEqualTo(member.getTraceId());
    }
    assertThat(ids).hasSize(8);
  }

  /** A group commit that served more than one booking. */
  private static boolean sharedCommit(SpanData s) {
    Long size = s.getAttributes().get(AttributeKey.longKey("boxoffice.batch.size"));
    return "booking group commit".equals(s.getName()) && size != null && size > 1;
  }

  // ------------------------------------------------------------------ helpers

  private static Tracing tracing(InMemorySpanExporter exporter) {
    return Tracing.of(OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build());
  }

  /** A JSON appender as logback.xml configures it (LogstashEncoder with the trace fields) on these loggers. */
  private static OutputStreamAppender<ILoggingEvent> jsonLogOf(String... loggers) {
    LoggerContext logs = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(logs);
    encoder.addProvider(new TraceLogFields());
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setContext(logs);
    appender.setEncoder(encoder);
    appender.setOutputStream(logLines);
    appender.setImmediateFlush(true);
    appender.start();
    for (String name : loggers) {
      logs.getLogger(name).addAppender(appender);
    }
    // a booking's own lines (created, transitions) are DEBUG: the line the trace id is checked on
    logs.getLogger("dev.boxoffice.booking").setLevel(ch.qos.logback.classic.Level.DEBUG);
    return appender;
  }

  private static long eventId() {
    return new BookingFixtures(worker.platform().pool()).event(10);
  }

  private static int port(Boxoffice.Node node) {
    return node.platform().config().integer("http_port");
  }

  private static List<SpanData> spans() {
    List<SpanData> all = new ArrayList<>(edgeSpans.getFinishedSpanItems());
    all.addAll(workerSpans.getFinishedSpanItems());
    return all;
  }

  /** Every span of the trace whose {@code smtp send} is booking {@code id}'s e-mail (empty until it is sent). */
  private static List<SpanData> traceOfMail(long id) {
    List<SpanData> all = spans();
    return all.stream().filter(s -> "smtp send".equals(s.getName())
        && Long.valueOf(id).equals(s.getAttributes().get(AttributeKey.longKey("boxoffice.booking.id"))))
      .findFirst().map(mail -> all.stream().filter(s -> s.getTraceId().equals(mail.getTraceId())).toList())
      .orElse(List.of());
  }

  private static SpanData one(List<SpanData> trace, java.util.function.Predicate<SpanData> which) {
    List<SpanData> found = trace.stream().filter(which).toList();
    assertThat(found).as("in the trace: " + names(trace)).hasSize(1);
    return found.get(0);
  }

  private static String parentOf(SpanData span) {
    return span.getParentSpanId();
  }

  private static List<String> names(List<SpanData> spans) {
    return spans.stream().map(s -> s.getName() + "(" + s.getKind() + ", " + s.getAttributes().get(DESTINATION)
      + ")").toList();
  }

  /** The first JSON log line containing {@code text}. */
  private static Optional<JsonObject> lines(String log, String text) {
    return Arrays.stream(log.split("\n")).filter(l -> l.contains(text)).findFirst().map(JsonObject::new);
  }
}
