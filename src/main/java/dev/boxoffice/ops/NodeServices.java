package dev.boxoffice.ops;

import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;

/**
 * What every node runs for operations, whatever its roles: its heartbeat row, the build-info meter, and job metrics
 * where /metrics is.
 */
public final class NodeServices {
  private NodeServices() {
  }

  public static Future<Void> deploy(Platform p) {
    Metrics.registry(p.vertx()).ifPresent(BuildInfo::register);
    Future<?> registry = p.vertx().deployVerticle(new NodeRegistry(p));
    if (!p.config().hasRole("http")) {
      return registry.mapEmpty();
    }
    return registry.compose(v -> Metrics.registry(p.vertx())
      .map(r -> p.vertx().deployVerticle(new JobMetrics(p.pool(), r)).mapEmpty())
      .orElseGet(Future::succeededFuture)).mapEmpty();
  }
}
