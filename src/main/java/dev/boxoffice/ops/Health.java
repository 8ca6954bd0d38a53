package dev.boxoffice.ops;

import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.NodeLifecycle;
import dev.boxoffice.platform.Platform;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Liveness (the process answers) and readiness: whether this node can serve bookings.
 *
 * <p>Readiness is 503 only when it cannot: PostgreSQL unreachable (every booking is a Postgres transaction), the
 * node still starting, or the node draining before it stops (SIGTERM). "Unreachable" is asked on a connection of its
 * own and must be answered within a second ({@link PostgresProbe}), so a node cut off from PostgreSQL says so within
 * about a second, and a busy pool is not mistaken for a lost database. Redis down is reported (its check DOWN in
 * the body) but answers 200: bookings keep working without it (the item lock is skipped, Postgres alone refuses to
 * oversell; logins count on the node), and a load balancer that took every node out of rotation for a Redis blip
 * would turn a degraded service into an outage.
 *
 * <p>{@link #export} puts the same verdict into /metrics, evaluated every {@link #EXPORT_PERIOD_MS} whether or not
 * anything probes the node: {@code boxoffice_ready} (1 when readiness answers 200) and
 * {@code boxoffice_health_check{check}} (1 UP, 0 DOWN, for each check, Redis included).
 */
public final class Health {
  private static final long CHECK_TIMEOUT_MS = 2_000;
  static final long EXPORT_PERIOD_MS = 5_000;
  private static final List<String> CHECKS = List.of("postgres", "redis", "cluster", "startup");
  /** The checks that decide readiness; the others are only reported. */
  private static final Set<String> ESSENTIAL = Set.of("postgres", "startup");

  private Health() {
  }

  public static HealthCheckHandler liveness(Platform p) {
    HealthChecks checks = HealthChecks.create(p.vertx());
    checks.register("process", promise -> promise.complete(Status.OK()));
    return HealthCheckHandler.createWithHealthChecks(checks);
  }

  /**
   * {@code lifecycle}: the node's state ({@link NodeLifecycle#state}); the {@code startup} check is UP only while the
   * node serves: {@code starting} until it has deployed everything its roles ask for, {@code draining} from SIGTERM
   * on (the node still serves while a load balancer takes it out of rotation).
   */
  public static Handler<RoutingContext> readiness(Platform p, Supplier<NodeLifecycle.State> lifecycle) {
    HealthChecks checks = checks(p, lifecycle);
    return rc -> {
      NodeLifecycle.State state = lifecycle.get();
      if (state.compareTo(NodeLifecycle.State.DRAINING) >= 0) {
        // stopping: answered at once, without asking storage. The balancer's check must see 503 quickly even on a
        // loaded node (a check that times out takes as long to count as DOWN as its timeout)
        respond(rc, new JsonObject().put("checks", new JsonArray().add(new JsonObject().put("id", "startup")
          .put("status", "DOWN").put("data", new JsonObject().put("state", state.readiness()))))
          .put("status", "DOWN").put("outcome", "DOWN"));
        return;
      }
      evaluate(checks).onComplete(ar -> respond(rc, ar.result()));
    };
  }

  private static void respond(RoutingContext rc, JsonObject body) {
    boolean ready = "UP".equals(body.getString("status"));
    rc.response().setStatusCode(ready ? 200 : 503).putHeader("Content-Type", "application/json;charset=UTF-8")
      .putHeader("Cache-Control", "no-store").end(body.encode());
  }

  /** The readiness gauges of this node, kept fresh by a periodic evaluation (nothing when metrics are off). */
  public static void export(Platform p, Supplier<NodeLifecycle.State> lifecycle) {
    Metrics.registry(p.vertx()).ifPresent(registry -> {
      HealthChecks checks = checks(p, lifecycle);
      AtomicInteger ready = new AtomicInteger();
      Map<String, AtomicInteger> up = new HashMap<>();
      Gauge.builder("boxoffice.ready", ready, AtomicInteger::get).strongReference(true)
        .description("1 when this node's readiness answers 200 (it can serve bookings), else 0").register(registry);
      for (String id : CHECKS) {
        AtomicInteger value = new AtomicInteger();
        up.put(id, value);
        Gauge.builder("boxoffice.health.check", value, AtomicInteger::get).strongReference(true)
          .description("1 when the readiness check is UP, else 0 (redis and cluster are reported, not required)")
          .tag("check", id).register(registry);
      }
      Handler<Long> refresh = t -> evaluate(checks).onSuccess(body -> {
        ready.set("UP".equals(body.getString("status")) ? 1 : 0);
        Map<String, Boolean> seen = new HashMap<>();
        body.getJsonArray("checks").stream().map(JsonObject.class::cast)
          .forEach(c -> seen.put(c.getString("id"), "UP".equals(c.getString("status"))));
        up.forEach((id, value) -> value.set(Boolean.TRUE.equals(seen.get(id)) ? 1 : 0));
      });
      refresh.handle(-1L);
      p.vertx().setPeriodic(EXPORT_PERIOD_MS, refresh);
    });
  }

  /** The readiness body: each check, and the verdict in {@code status} and {@code outcome}. */
  private static Future<JsonObject> evaluate(HealthChecks checks) {
    return checks.checkStatus().transform(ar -> {
      JsonObject body = ar.succeeded() ? body(ar.result()) : new JsonObject().put("checks", new JsonArray());
      boolean ready = ar.succeeded() && essentialUp(body);
      return Future.succeededFuture(body.put("status", ready ? "UP" : "DOWN").put("outcome", ready ? "UP" : "DOWN"));
    });
  }

  private static HealthChecks checks(Platform p, Supplier<NodeLifecycle.State> lifecycle) {
    HealthChecks checks = HealthChecks.create(p.vertx());
    // tryComplete: an answer that comes after the check's timeout finds its promise already failed
    PostgresProbe postgres = probe(p);
    checks.register("postgres", CHECK_TIMEOUT_MS, promise -> postgres.check()
      .onSuccess(rows -> promise.tryComplete(Status.OK()))
      .onFailure(err -> promise.tryComplete(Status.KO(new JsonObject().put("error", Failures.text(err))))));
    checks.register("redis", CHECK_TIMEOUT_MS, promise -> p.redis().ping(List.of())
      .onSuccess(pong -> promise.tryComplete(Status.OK()))
      .onFailure(err -> promise.tryComplete(Status.KO(new JsonObject().put("error", Failures.text(err))))));
    checks.register("cluster", CHECK_TIMEOUT_MS, promise -> {
      JsonObject data = new JsonObject()
        .put("members", p.membership().members().size())
        .put("clustered", p.membership().clustered())
        .put("node_id", p.membership().nodeId())
        .put("roles", String.join(",", p.config().roles()));
      promise.complete(Status.OK(data));
    });
    checks.register("startup", promise -> {
      NodeLifecycle.State state = lifecycle.get();
      JsonObject data = new JsonObject().put("state", state.readiness());
      promise.complete(state == NodeLifecycle.State.SERVING ? Status.OK(data) : Status.KO(data));
    });
    return checks;
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
