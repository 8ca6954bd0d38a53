package dev.boxoffice.platform;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.tracing.SpanKind;
import io.vertx.core.spi.tracing.TagExtractor;
import io.vertx.core.spi.tracing.VertxTracer;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A node's OpenTelemetry tracing: off unless the standard {@code OTEL_*} variables name somewhere to export to
 * ({@link #fromEnvironment}). Off means no SDK, no tracer on Vert.x (its HTTP, event-bus, SQL and Redis code then
 * skips tracing entirely) and nothing recorded by boxoffice's own spans ({@link Traces#on} is false).
 *
 * <p>On, the OpenTelemetry SDK is configured by its autoconfigure module from those variables (exporter, endpoint,
 * sampler, resource, propagators...), with boxoffice's defaults underneath: service name {@code boxoffice}, OTLP over
 * HTTP/protobuf (the specification's default; the SDK's is gRPC), no metric and no log export (metrics are
 * Prometheus's, {@code GET /metrics}). The SDK goes to Vert.x as its tracer (the
 * {@code vertx-opentelemetry} module: HTTP server spans, event-bus hops, PostgreSQL and Redis client spans), wrapped
 * so that features find their node's tracing from its Vert.x instance ({@link #of(Vertx)}), without a registry.
 */
public final class Tracing {
  private static final Logger log = LoggerFactory.getLogger(Tracing.class);

  /** No tracing: nothing is created, exported or allocated for it. */
  public static final Tracing OFF = new Tracing(null);

  /** Variables that name a destination: one of them (and no {@code OTEL_SDK_DISABLED=true}) turns tracing on. */
  static final String[] DESTINATIONS = {"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"};

  /** How long a stopping node waits for its last spans to reach the collector. */
  static final long CLOSE_SECONDS = 3;

  private final OpenTelemetrySdk sdk;
  private final Tracer tracer;

  private Tracing(OpenTelemetrySdk sdk) {
    this.sdk = sdk;
    this.tracer = sdk == null ? null : sdk.getTracer("dev.boxoffice");
    if (sdk != null) {
      Traces.enable();
    }
  }

  /**
   * Tracing as the environment asks: {@link #OFF} unless a trace exporter or an OTLP endpoint is named (an exporter
   * {@code none} or {@code OTEL_SDK_DISABLED=true} is off too). The autoconfigure module alone would export to
   * {@code localhost:4317} by default; a node without any of these settings exports nothing instead.
   */
  public static Tracing fromEnvironment(Map<String, String> env) {
    if (!wanted(env)) {
      return OFF;
    }
    SdkLog.install();
    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
      .addPropertiesSupplier(Tracing::defaults)
      // exactly the variables given (Main passes the process's): what wanted() decided on is what the SDK sees
      .addPropertiesCustomizer(config -> properties(env))
      .disableShutdownHook() // the node closes it, after Vert.x, so that the last spans are flushed
      .build()
      .getOpenTelemetrySdk();
    log.info("tracing on: spans exported as OTEL_* says ({})", describe(env));
    return new Tracing(sdk);
  }

  /** Tracing through a ready SDK (tests: an in-memory exporter). The node closes it with itself. */
  public static Tracing of(OpenTelemetrySdk sdk) {
    return new Tracing(sdk);
  }

  /** The tracing of the node that {@code vertx} belongs to; {@link #OFF} for a Vert.x without a tracer. */
  public static Tracing of(Vertx vertx) {
    return vertx instanceof VertxInternal v && v.tracer() instanceof NodeTracer t ? t.tracing : OFF;
  }

  /** Whether {@code env} turns tracing on: a destination named, the SDK not disabled. */
  static boolean wanted(Map<String, String> env) {
    if ("true".equalsIgnoreCase(trimmed(env.get("OTEL_SDK_DISABLED")))) {
      return false;
    }
    String exporter = trimmed(env.get("OTEL_TRACES_EXPORTER"));
    if (exporter != null) {
      return !"none".equalsIgnoreCase(exporter);
    }
    for (String name : DESTINATIONS) {
      if (trimmed(env.get(name)) != null) {
        return true;
      }
    }
    return false;
  }

  public boolean on() {
    return sdk != null;
  }

  /** boxoffice's own spans (jobs, batches, SMTP); null when off. */
  public Tracer tracer() {
    return tracer;
  }

  /** The builder with this tracing as Vert.x's tracer; unchanged when off (Vert.x then has no tracer at all). */
  public VertxBuilder install(VertxBuilder builder) {
    if (!on()) {
      return builder;
    }
    OpenTelemetry otel = sdk;
    return builder.withTracer(options -> new NodeTracer(new OpenTelemetryTracingFactory(otel).tracer(options), this));
  }

  /**
   * Flushes what is still buffered and stops the SDK, after Vert.x has closed; waits at most {@link #CLOSE_SECONDS}
   * (the SDK's own close waits 10 s, and an unreachable collector, retried with backoff, took all of them out of the
   * 25 s a stopping node has).
   */
  public void close() {
    if (sdk != null) {
      sdk.shutdown().join(CLOSE_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** boxoffice's defaults; the OTEL_* variables override them. */
  private static Map<String, String> defaults() {
    Map<String, String> defaults = new HashMap<>();
    defaults.put("otel.service.name", "boxoffice");
    // the protocol the OpenTelemetry specification (and the Java agent) default to; the SDK's own default is gRPC
    defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
    defaults.put("otel.metrics.exporter", "none");
    defaults.put("otel.logs.exporter", "none");
    return defaults;
  }

  /** {@code OTEL_FOO_BAR=x} as the property {@code otel.foo.bar=x}, for the OTEL_* variables of {@code env}. */
  static Map<String, String> properties(Map<String, String> env) {
    Map<String, String> props = new HashMap<>();
    env.forEach((name, value) -> {
      if (name.startsWith("OTEL_") && value != null && !value.isBlank()) {
        props.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value.trim());
      }
    });
    return props;
  }

  /** For the start line: the exporter and where it sends (never headers: they may carry credentials). */
  private static String describe(Map<String, String> env) {
    String exporter = trimmed(env.get("OTEL_TRACES_EXPORTER"));
    String endpoint = trimmed(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
    if (endpoint == null) {
      endpoint = trimmed(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"));
    }
    return "exporter " + (exporter == null ? "otlp" : exporter) + (endpoint == null ? "" : ", endpoint "
      + Secrets.scrub(endpoint, null));
  }

  private static String trimmed(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }

  /**
   * The SDK logs through java.util.logging (to stderr, as plain text); its warnings, such as a collector that cannot
   * be reached, go to this node's logs instead, as lines of the logger they were written to.
   */
  private static final class SdkLog extends java.util.logging.Handler {
    /** Held: java.util.logging keeps its loggers only weakly, and with them this configuration. */
    private static final java.util.logging.Logger OTEL = java.util.logging.Logger.getLogger("io.opentelemetry");

    static synchronized void install() {
      for (java.util.logging.Handler h : OTEL.getHandlers()) {
        if (h instanceof SdkLog) {
          return;
        }
      }
      OTEL.setUseParentHandlers(false);
      OTEL.setLevel(java.util.logging.Level.INFO);
      OTEL.addHandler(new SdkLog());
    }

    @Override
    public void publish(java.util.logging.LogRecord record) {
      Logger to = LoggerFactory.getLogger(record.getLoggerName() == null ? "io.opentelemetry" : record.getLoggerName());
      String message = new java.util.logging.SimpleFormatter().formatMessage(record);
      int level = record.getLevel().intValue();
      if (level >= java.util.logging.Level.SEVERE.intValue()) {
        to.error(message, record.getThrown());
      } else if (level >= java.util.logging.Level.WARNING.intValue()) {
        to.warn(message, record.getThrown());
      } else if (level >= java.util.logging.Level.INFO.intValue()) {
        to.info(message, record.getThrown());
      }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  }

  /**
   * Vert.x's OpenTelemetry tracer, unchanged, carrying the node's {@link Tracing} so that {@link #of(Vertx)} finds
   * it. Vert.x's close does not stop the SDK: the node does that after Vert.x has closed ({@link #close}).
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final class NodeTracer implements VertxTracer<Object, Object> {
    private final VertxTracer<Object, Object> vertx;
    private final Tracing tracing;

    NodeTracer(VertxTracer<?, ?> vertx, Tracing tracing) {
      this.vertx = (VertxTracer) vertx;
      this.tracing = tracing;
    }

    @Override
    public <R> Object receiveRequest(Context context, SpanKind kind, TracingPolicy policy, R request,
                                     String operation, Iterable<Map.Entry<String, String>> headers,
                                     TagExtractor<R> tagExtractor) {
      return vertx.receiveRequest(context, kind, policy, request, operation, headers, tagExtractor);
    }

    @Override
    public <R> void sendResponse(Context context, R response, Object payload, Throwable failure,
                                 TagExtractor<R> tagExtractor) {
      vertx.sendResponse(context, response, payload, failure, tagExtractor);
    }

    @Override
    public <R> Object sendRequest(Context context, SpanKind kind, TracingPolicy policy, R request, String operation,
                                  BiConsumer<String, String> headers, TagExtractor<R> tagExtractor) {
      return vertx.sendRequest(context, kind, policy, request, operation, headers, tagExtractor);
    }

    @Override
    public <R> void receiveResponse(Context context, R response, Object payload, Throwable failure,
                                    TagExtractor<R> tagExtractor) {
      vertx.receiveResponse(context, response, payload, failure, tagExtractor);
    }
  }
}
