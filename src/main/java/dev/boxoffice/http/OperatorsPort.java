package dev.boxoffice.http;

import dev.boxoffice.platform.Failure;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/**
 * The operators' routes on a port of their own ({@code ops_port}): {@code /metrics}, {@code /docs},
 * {@code /openapi.yaml}, the pages ({@code /ui}, {@code /users/ui}), {@code /info} and {@code /ops/*}. Without the
 * setting every route is served on the HTTP port, as before. With it, the HTTP port (the one the load balancer
 * publishes) answers those paths 404 like a route that does not exist, and the operators' port, kept on a private
 * network, serves every route: the pages read the JSON API (and log in) at their own origin.
 */
final class OperatorsPort {
  private static final List<String> EXACT = List.of("/metrics", "/openapi.yaml", "/ui", "/users/ui", "/info",
    "/docs", "/ops");
  private static final List<String> UNDER = List.of("/docs/", "/ops/");

  private OperatorsPort() {
  }

  static boolean isOperators(String path) {
    return path != null && (EXACT.contains(path) || UNDER.stream().anyMatch(path::startsWith));
  }

  /** A root handler: the operators' routes only through {@code opsPort}; everything else passes. */
  static Handler<RoutingContext> guard(int opsPort) {
    return rc -> {
      if (rc.request().localAddress().port() != opsPort && isOperators(rc.normalizedPath())) {
        ApiVerticle.respondError(rc, Failure.notFound("No such route: " + AccessLog.method(rc) + " "
          + rc.request().path()));
        return;
      }
      rc.next();
    };
  }
}
