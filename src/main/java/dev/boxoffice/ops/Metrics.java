package dev.boxoffice.ops;

import dev.boxoffice.platform.Failure;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.impl.MicrometerMetrics;

import java.util.Optional;
import java.util.UUID;

/**
 * Vert.x metrics (HTTP server, event bus, pools, JVM) into a Prometheus registry of this node's own: several nodes
 * may share a JVM (tests), and each must report only itself, so each Vert.x instance gets a registry under a
 * fresh name instead of the process-wide default one.
 */
public final class Metrics {
  private Metrics() {
  }

  /** Options for {@code VertxOptions.setMetricsOptions}: one new registry per call. */
  public static MicrometerMetricsOptions options() {
    return new MicrometerMetricsOptions()
      .setEnabled(true)
      .setRegistryName("boxoffice-" + UUID.randomUUID())
      .setJvmMetricsEnabled(true)
      // route templates, not raw paths: one series per operation, not one per booking id
      .addLabels(Label.HTTP_ROUTE)
      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true).setPublishQuantiles(false));
  }

  /** This Vert.x instance's registry, when metrics are enabled on it. */
  public static Optional<MeterRegistry> registry(Vertx vertx) {
    // vertx-micrometer-metrics exposes a registry by name only; its VertxMetrics knows the one it writes to
    if (vertx instanceof VertxInternal vi && vi.metrics() instanceof MicrometerMetrics m) {
      return Optional.ofNullable(m.registry());
    }
    return Optional.empty();
  }

  /** GET /metrics: the Prometheus text format, or 404 when this node runs without metrics. */
  public static Handler<RoutingContext> scrapeHandler(Vertx vertx) {
    Optional<MeterRegistry> registry = registry(vertx);
    if (registry.isPresent() && registry.get() instanceof PrometheusMeterRegistry prometheus) {
      return PrometheusScrapingHandler.create(prometheus);
    }
    return rc -> rc.fail(Failure.notFound("metrics are not enabled on this node"));
  }
}
