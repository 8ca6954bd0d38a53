package dev.boxoffice.ops;

import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;

import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Liveness (the process answers) and readiness: whether this node can serve bookings.
 *
 * <p>Readiness is 503 only when it cannot: PostgreSQL unreachable (every booking is a Postgres transaction) or the
 * node still starting. "Unreachable" is asked on a connection of its own and must be answered within a second
 * ({@link PostgresProbe}), so a node cut off from PostgreSQL says so within about a second, and a busy pool is not
 * mistaken for a lost database. Redis down is reported (its check DOWN in the body) but answers 200: bookings keep working
 * without it (the item lock is skipped, Postgres alone refuses to oversell; logins count on the node), and a load
 * balancer that took every node out of rotation for a Redis blip would turn a degraded service into an outage.
 */
public final class Health {
  private static final long CHECK_TIMEOUT_MS = 2_000;
  /** The checks that decide readiness; the others are only reported. */
  private static final Set<String> ESSENTIAL = Set.of("postgres", "startup");

  private Health() {
  }

  public static HealthCheckHandler liveness(Platform p) {
    HealthChecks checks = HealthChecks.create(p.vertx());
    checks.register("process", promise -> promise.complete(Status.OK()));
    return HealthCheckHandler.createWithHealthChecks(checks);
  }

  /** {@code started}: false until the node has deployed everything its roles ask for. */
  public static Handler<RoutingContext> readiness(Platform p, BooleanSupplier started) {
    HealthChecks checks = HealthChecks.create(p.vertx());
    PostgresProbe postgres = probe(p);
    checks.register("postgres", CHECK_TIMEOUT_MS, promise -> postgres.check()
      .onSuccess(rows -> promise.complete(Status.OK()))
      .onFailure(err -> promise.complete(Status.KO(new JsonObject().put("error", Failures.text(err))))));
    checks.register("redis", CHECK_TIMEOUT_MS, promise -> p.redis().ping(java.util.List.of())
      .onSuccess(pong -> promise.complete(Status.OK()))
      .onFailure(err -> promise.complete(Status.KO(new JsonObject().put("error", Failures.text(err))))));
    checks.register("cluster", CHECK_TIMEOUT_MS, promise -> {
      JsonObject data = new JsonObject()
        .put("members", p.membership().members().size())
        .put("clustered", p.membership().clustered())
        .put("node_id", p.membership().nodeId())
        .put("roles", String.join(",", p.config().roles()));
      promise.complete(Status.OK(data));
    });
    checks.register("startup", promise -> {
      boolean up = started.getAsBoolean();
      JsonObject data = new JsonObject().put("state", up ? "serving" : "starting");
      promise.complete(up ? Status.OK(data) : Status.KO(data));
    });
    return rc -> checks.checkStatus().onComplete(ar -> {
      JsonObject body = ar.succeeded() ? body(ar.result()) : new JsonObject().put("checks", new JsonArray());
      boolean ready = ar.succeeded() && essentialUp(body);
      body.put("status", ready ? "UP" : "DOWN").put("outcome", ready ? "UP" : "DOWN");
      rc.response().setStatusCode(ready ? 200 : 503).putHeader("Content-Type", "application/json;charset=UTF-8")
        .putHeader("Cache-Control", "no-store").end(body.encode());
    });
  }

  /** One probe (one connection) per node, whichever of its HTTP event loops asks. */
  private static PostgresProbe probe(Platform p) {
    LocalMap<String, PostgresProbe> shared = p.vertx().sharedData().getLocalMap("boxoffice.health");
    return shared.computeIfAbsent("postgres", k -> new PostgresProbe(p.vertx(), p.pgConnectOptions()));
  }

  private static JsonObject body(CheckResult result) {
    JsonObject json = result.toJson();
    JsonArray checks = json.getJsonArray("checks", new JsonArray());
    return new JsonObject().put("checks", checks);
  }

  private static boolean essentialUp(JsonObject body) {
    return body.getJsonArray("checks").stream().map(JsonObject.class::cast)
      .filter(c -> ESSENTIAL.contains(c.getString("id")))
      .allMatch(c -> "UP".equals(c.getString("status")));
  }
}
