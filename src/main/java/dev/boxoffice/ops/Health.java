package dev.boxoffice.ops;

import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.Platform;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;

/** Liveness (the process answers) and readiness (Postgres, Redis and the cluster are usable). */
public final class Health {
  private static final long CHECK_TIMEOUT_MS = 2_000;

  private Health() {
  }

  public static HealthCheckHandler liveness(Platform p) {
    HealthChecks checks = HealthChecks.create(p.vertx());
    checks.register("process", promise -> promise.complete(Status.OK()));
    return HealthCheckHandler.createWithHealthChecks(checks);
  }

  public static HealthCheckHandler readiness(Platform p) {
    HealthChecks checks = HealthChecks.create(p.vertx());
    checks.register("postgres", CHECK_TIMEOUT_MS, promise -> p.pool().query("SELECT 1").execute()
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
    return HealthCheckHandler.createWithHealthChecks(checks);
  }
}
