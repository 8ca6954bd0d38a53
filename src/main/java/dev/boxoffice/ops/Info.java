package dev.boxoffice.ops;

import dev.boxoffice.platform.AppConfig;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.lang.management.ManagementFactory;
import java.time.Instant;

/**
 * {@code GET /info} (public, answered at the edge): which build this node runs, with which profile and roles, since
 * when. {@code started_at} is the start of this process (one node per process in production).
 */
public final class Info {
  private Info() {
  }

  public static Handler<RoutingContext> handler(AppConfig config) {
    JsonArray roles = new JsonArray(NodeRegistry.ROLE_ORDER.stream().filter(config.roles()::contains).toList());
    String body = new JsonObject()
      .put("version", BuildInfo.version())
      .put("commit", BuildInfo.commit())
      .put("profile", config.profile())
      .put("roles", roles)
      .put("started_at", Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime()).toString())
      .encode();
    return rc -> rc.response().putHeader("Content-Type", "application/json").end(body);
  }
}
