package dev.boxoffice;

import dev.boxoffice.auth.AccountsApi;
import dev.boxoffice.auth.AccountsBootstrap;
import dev.boxoffice.auth.TokenVerticle;
import dev.boxoffice.booking.BookingSaga;
import dev.boxoffice.booking.BookingVerticle;
import dev.boxoffice.booking.HoldExpiry;
import dev.boxoffice.inventory.InventoryVerticle;
import dev.boxoffice.tickets.FinalizationVerticle;
import dev.boxoffice.cron.CronScheduler;
import dev.boxoffice.jobs.JobRetention;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.ops.Info;
import dev.boxoffice.ops.Metrics;
import dev.boxoffice.ops.OpsApiVerticle;
import dev.boxoffice.ops.Pages;
import dev.boxoffice.ops.TableMaintenance;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.IdempotencyRetention;
import dev.boxoffice.platform.Platform;
import dev.boxoffice.tasks.TaskTypes;
import dev.boxoffice.tasks.TasksVerticle;
import dev.boxoffice.tasks.TextTaskVerticle;
import dev.boxoffice.users.UsersJobs;
import dev.boxoffice.users.UsersVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.ThreadingModel;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.HashMap;
import java.util.Map;

/** The list of features: what each contributes to the worker, scheduler and HTTP roles. */
final class Features {
  private Features() {
  }

  /** Job types must be known on every node (any node may enqueue any type); the user directory's need a provider. */
  static void registerJobTypes(Platform p) {
    BookingSaga.registerJobTypes();
    JobTypes.register(FinalizationVerticle.JOB_TYPES);
    JobTypes.register(TaskTypes.TEXT);
    if (p.config().usersProviderUrl() != null) {
      JobTypes.register(UsersJobs.TYPES); // without a provider: a users.* task is refused, not queued for no one
    }
  }

  /** API handlers and job handlers, deployed on nodes with the workers role. */
  static Future<Void> deployWorkers(Platform p) {
    return Future.<Void>succeededFuture()
      .compose(v -> AccountsBootstrap.run(p))
      .compose(v -> p.vertx().deployVerticle(new TokenVerticle(p)))
      .compose(v -> p.vertx().deployVerticle(new AccountsApi(p)))
      .compose(v -> p.vertx().deployVerticle(new InventoryVerticle(p)))
      .compose(v -> p.vertx().deployVerticle(new BookingVerticle(p)))
      .compose(v -> p.vertx().deployVerticle(new HoldExpiry(p)))
      .compose(v -> p.vertx().deployVerticle(new FinalizationVerticle(p)))
      .compose(v -> p.vertx().deployVerticle(new TasksVerticle(p.pool(), IdempotencyKeys.of(p))))
      .compose(v -> p.vertx().deployVerticle(TextTaskVerticle::new, new DeploymentOptions()
        .setThreadingModel(ThreadingModel.WORKER).setInstances(Runtime.getRuntime().availableProcessors())))
      .compose(v -> p.vertx().deployVerticle(new UsersVerticle(p)))
      .compose(v -> p.vertx().deployVerticle(new OpsApiVerticle(p)))
      .mapEmpty();
  }

  /** Cron and other cluster-singleton duties, on nodes with the scheduler role. */
  static Future<Void> deployScheduler(Platform p) {
    return Future.succeededFuture()
      .compose(v -> p.vertx().deployVerticle(new CronScheduler(p)))
      .compose(v -> p.vertx().deployVerticle(new TableMaintenance(p)))
      .compose(v -> p.vertx().deployVerticle(new JobRetention(p.pool(), p.config().integer("jobs_retention_seconds"),
        TaskTypes.PUBLIC)))
      .compose(v -> p.vertx().deployVerticle(new IdempotencyRetention(p.pool())))
      .mapEmpty();
  }

  /** Operations answered at the HTTP edge (pages), by operationId. */
  static Map<String, Handler<RoutingContext>> localOperations(Platform p) {
    Map<String, Handler<RoutingContext>> ops = new HashMap<>();
    ops.put("getUsersPage", rc -> rc.response().putHeader("Content-Type", "text/html; charset=utf-8")
      .sendFile("webroot/users.html"));
    ops.put("getMonitoringPage", Pages.monitoring());
    ops.put("getInfo", Info.handler(p.config()));
    return ops;
  }

  /** Routes outside the contract: /openapi.yaml, /docs, /metrics. */
  static void extraRoutes(Platform p, Router router) {
    router.get("/openapi.yaml").handler(rc -> rc.response().putHeader("Content-Type", "application/yaml")
      .sendFile("openapi.yaml"));
    router.get("/metrics").handler(Metrics.scrapeHandler(p.vertx()));
    Pages.docs(router);
  }
}
