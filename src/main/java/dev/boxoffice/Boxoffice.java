package dev.boxoffice;

import dev.boxoffice.auth.TokenGate;
import dev.boxoffice.http.ApiVerticle;
import dev.boxoffice.jobs.JobEngine;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.ops.Health;
import dev.boxoffice.ops.Metrics;
import dev.boxoffice.ops.NodeServices;
import dev.boxoffice.ops.WarmUp;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Clock;
import dev.boxoffice.platform.ClusterConfig;
import dev.boxoffice.platform.ClusterMembership;
import dev.boxoffice.platform.Database;
import dev.boxoffice.platform.DeploymentCheck;
import dev.boxoffice.platform.EmbeddedServices;
import dev.boxoffice.platform.NodeLifecycle;
import dev.boxoffice.platform.Platform;
import dev.boxoffice.platform.PortReservation;
import dev.boxoffice.platform.RedisClients;
import dev.boxoffice.platform.Tracing;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The composition root: storage, the (clustered) Vert.x instance, migrations, and the verticles this node's roles
 * ask for. Tests start nodes through {@link #start} exactly as {@link Main} does.
 */
public final class Boxoffice {
  private static final Logger log = LoggerFactory.getLogger(Boxoffice.class);

  private Boxoffice() {
  }

  /**
   * A running node. {@code http} is the API's deployment (null without the http role), {@code engines} the job
   * engines' (empty without the workers role); {@code embedded} the dev storage this node started, stopped after
   * Vert.x so that nothing still running meets a closed database.
   */
  public record Node(Platform platform, String http, List<String> engines, EmbeddedServices embedded,
                     Tracing tracing) {
    public Vertx vertx() {
      return platform.vertx();
    }

    /**
     * Stops in order (see {@link NodeLifecycle}):
     * <ol>
     *   <li>readiness answers 503 {@code draining} for {@code shutdown_drain_ms} while everything is still served,
     *       so that a load balancer takes the node out of rotation before it stops accepting (HTTP nodes only);</li>
     *   <li>the HTTP API: no new connections; requests in flight get {@link ApiVerticle#SHUTDOWN_GRACE_MS} to finish,
     *       while the workers and the pool still serve them;</li>
     *   <li>together: the job engines (no new claims; handed-off jobs not started go back to the queue; running jobs
     *       get {@link JobEngine#DRAIN_MS} to finish and be recorded), and the API handlers, which take no new
     *       request from other members' edges (those edges send it to another member) and finish the ones they
     *       run; then the handlers' addresses are withdrawn from the cluster and the node lingers
     *       {@link #BUS_LINGER_MS} so that no member still routes a request here and every reply has left;</li>
     *   <li>Vert.x (the other verticles, the pool, the cluster leave, after which other nodes take back any lease
     *       left), then the tracing (its last spans flushed), then the embedded storage.</li>
     * </ol>
     */
    public Future<Void> close() {
      return shutDown(platform, http, engines, embedded, tracing);
    }
  }

  public static Future<Node> start(AppConfig config, boolean clustered) {
    return start(config, clustered, new EmbeddedServices());
  }

  public static Future<Node> start(AppConfig config, boolean clustered, EmbeddedServices embedded) {
    return start(config, clustered, embedded, Clock.SYSTEM);
  }

  /** As {@link #start(AppConfig, boolean, EmbeddedServices, Clock, Tracing)}, traced as the OTEL_* variables say. */
  public static Future<Node> start(AppConfig config, boolean clustered, EmbeddedServices embedded, Clock clock) {
    Tracing tracing;
    try {
      tracing = Tracing.fromEnvironment(System.getenv());
    } catch (RuntimeException e) {
      embedded.close();
      return Future.failedFuture(new IllegalStateException("invalid OTEL_* settings: " + e.getMessage(), e));
    }
    return start(config, clustered, embedded, clock, tracing);
  }

  /**
   * Starts a node; {@code embedded} starts dev storage if the config names none, and is closed with the node.
   * {@code clock} drives the job engines' due times, timers and leases (tests pass one they can move).
   * {@code tracing} ({@link Tracing#OFF}, or an SDK) becomes Vert.x's tracer; the node closes it with itself.
   */
  public static Future<Node> start(AppConfig config, boolean clustered, EmbeddedServices embedded, Clock clock,
                                   Tracing tracing) {
    // the safe order: every setting checked and the HTTP port bound, then storage and migrations, then the cluster
    // join, then the API (readiness "starting"), and the workers that take other nodes' bus traffic last
    PortReservation port = null;
    try {
      ConfigCheck.check(config);
      if (config.hasRole("http")) {
        port = PortReservation.hold(config.httpHost(), config.integer("http_port"), config.opsPort());
      }
      config = withStorage(config, embedded).withDevSecrets();
    } catch (Exception e) {
      if (port != null) {
        port.close();
      }
      embedded.close(); // what started before the failure; this runs before any Vert.x
      tracing.close();
      return Future.failedFuture(e);
    }
    AppConfig cfg = config;
    PortReservation reserved = port;
    Promise<Node> started = Promise.promise();
    Handler<Throwable> failBeforeVertx = err -> {
      if (reserved != null) {
        reserved.close();
      }
      closeStorage(null, embedded, tracing).onComplete(v -> started.fail(err));
    };
    migrate(cfg, embedded).onFailure(failBeforeVertx).onSuccess(migrated -> {
      VertxOptions options = new VertxOptions().setMetricsOptions(Metrics.options());
      // the tracer (when on) goes on the builder: the HTTP server, the event bus (across the cluster) and the SQL
      // and Redis clients all trace through it
      Future<Vertx> vertxFuture = clustered
        ? tracing.install(Vertx.builder().with(options.setEventBusOptions(ClusterConfig.eventBusOptions(cfg))))
          .withClusterManager(ClusterConfig.clusterManager(cfg)).buildClustered()
        : Future.succeededFuture(tracing.install(Vertx.builder().with(options)).build());
      vertxFuture.onFailure(failBeforeVertx)
        .onSuccess(vertx -> vertx.executeBlocking(() -> {
            DeploymentCheck.verify(vertx, cfg); // before any verticle: a node of another database serves nothing
            return vertx;
          }).compose(v -> deploy(cfg, vertx, embedded, clock, reserved, tracing))
          .onSuccess(started::complete)
          .onFailure(err -> {
            if (reserved != null) {
              reserved.close();
            }
            closeStorage(vertx, embedded, tracing).onComplete(v -> started.fail(err));
          }));
    });
    return started.future();
  }

  /** Migrations, on a thread of their own (blocking JDBC), before this node exists for the cluster. */
  private static Future<Void> migrate(AppConfig config, EmbeddedServices embedded) {
    Promise<Void> migrated = Promise.promise();
    Thread thread = new Thread(() -> {
      try {
        Database.migrate(config.string("pg_uri"), embedded.postgresDataDir());
        migrated.complete();
      } catch (Throwable e) {
        migrated.fail(e);
      }
    }, "boxoffice-migrate");
    // not a daemon: until Vert.x exists this thread is all that keeps the process alive (main has returned)
    thread.setDaemon(false);
    thread.start();
    return migrated.future();
  }

  /**
   * After the handlers' addresses are withdrawn from the cluster: time for every member to stop routing here (their
   * address books follow Hazelcast's entry events within milliseconds; seconds apart on a loaded machine are not
   * unheard of) and for the last replies to leave. A request that still arrives meanwhile is refused and retried.
   */
  static final long BUS_LINGER_MS = 1_000;

  /**
   * Closes a node in order ({@link Node#close}), on a thread of its own: once Vert.x has closed, its event loops
   * cannot run what follows (a continuation chained on {@code vertx.close()} there never ran). Each step runs even
   * when the one before failed.
   */
  private static Future<Void> shutDown(Platform platform, String http, List<String> engines,
                                       EmbeddedServices embedded, Tracing tracing) {
    Vertx vertx = platform.vertx();
    NodeLifecycle lifecycle = NodeLifecycle.of(vertx);
    return Future.fromCompletionStage(CompletableFuture.runAsync(() -> {
      try {
        lifecycle.drain();
        long drainMs = platform.config().shutdownDrainMs();
        if (http != null && drainMs > 0) {
          log.info("draining: readiness answers 503 for {} ms while requests are still served", drainMs);
          sleep(drainMs);
        }
        if (http != null) {
          await(vertx.undeploy(http).recover(err -> Future.succeededFuture()));
        }
        lifecycle.close();
        Future<?> handlers = lifecycle.awaitIdle(vertx, ApiVerticle.SHUTDOWN_GRACE_MS).compose(running -> {
          if (running > 0) {
            log.warn("{} API request(s) still running after {} ms; closing anyway", running,
              ApiVerticle.SHUTDOWN_GRACE_MS);
          }
          return platform.membership().withdraw(lifecycle.addresses());
        }).recover(err -> {
          log.warn("withdrawing the API handlers from the cluster failed: {}", err.toString());
          return Future.succeededFuture();
        }).compose(v -> {
          Promise<Void> lingered = Promise.promise();
          vertx.setTimer(platform.membership().clustered() ? BUS_LINGER_MS : 1, t -> lingered.complete());
          return lingered.future();
        });
        Future<?> drained = Future.join(engines.stream().map(id -> vertx.undeploy(id)).toList()).recover(err -> {
          log.warn("draining the job engines failed: {}", err.toString());
          return Future.succeededFuture();
        });
        await(Future.join(handlers, drained));
        if (lifecycle.refused() > 0) {
          log.info("closing: {} API request(s) from other members were not taken here and went to another member",
            lifecycle.refused());
        }
        await(vertx.close());
      } finally {
        closeLast(tracing, embedded);
      }
    }));
  }

  /** What outlives Vert.x: the tracing (a flush, which may block), then the embedded storage, even if it failed. */
  private static void closeLast(Tracing tracing, EmbeddedServices embedded) {
    try {
      tracing.close();
    } finally {
      embedded.close();
    }
  }

  /**
   * A start that failed: Vert.x (when it was created), the tracing and the embedded storage, on a thread of their
   * own.
   */
  private static Future<Void> closeStorage(Vertx vertx, EmbeddedServices embedded, Tracing tracing) {
    return Future.fromCompletionStage(CompletableFuture.runAsync(() -> {
      try {
        if (vertx != null) {
          await(vertx.close());
        }
      } finally {
        closeLast(tracing, embedded);
      }
    }));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while draining", e);
    }
  }

  private static void await(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while closing the node", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    }
  }

  /** Dev profile without configured servers: start (or reuse) embedded PostgreSQL and Redis under the data dir. */
  private static AppConfig withStorage(AppConfig config, EmbeddedServices embedded) throws Exception {
    if (config.string("pg_uri") != null && config.string("redis_uri") != null) {
      return config;
    }
    if (config.isProd()) {
      throw new IllegalStateException("prod profile needs BOXOFFICE_PG_URI and BOXOFFICE_REDIS_URI");
    }
    Path dataDir = Path.of(config.string("data_dir"));
    if (config.string("pg_uri") == null) {
      config = config.with("pg_uri", embedded.startPostgres(dataDir, config.integer("embedded_pg_port")));
    }
    if (config.string("redis_uri") == null) {
      config = config.with("redis_uri", embedded.startRedis(dataDir, config.integer("embedded_redis_port")));
    }
    return config;
  }

  private static Future<Node> deploy(AppConfig config, Vertx vertx, EmbeddedServices embedded, Clock clock,
                                     PortReservation port, Tracing tracing) {
    Pool pool = Database.pool(vertx, config.string("pg_uri"), config.integer("pg_pool_size"),
      config.string("pg_plan_cache_mode"), Database.Timeouts.from(config));
    RedisAPI redis = RedisClients.create(vertx, config.string("redis_uri"));
    Platform platform = new Platform(config, vertx, pool, redis, new ClusterMembership(vertx),
      config.string("pg_uri"));
    ClusterMembership.rejoinPromptly(vertx); // cut off (paused, partitioned), back as soon as the others answer
    Features.registerJobTypes(platform);
    TokenGate.install(platform); // before the HTTP API, which refuses revoked tokens through it

    List<String> engines = new ArrayList<>();
    // readiness says "starting" until every deployment below is done (the HTTP instances listen one by one). The API
    // deploys first: it takes over the reserved port, and a node that cannot listen fails before any of its
    // consumers (workers, job engines) takes bus traffic
    NodeLifecycle lifecycle = NodeLifecycle.of(vertx);
    Future<String> http = Future.succeededFuture();
    if (config.hasRole("http")) {
      if (port != null) {
        port.close();
      }
      http = vertx.deployVerticle(() -> new ApiVerticle(config, localOperations(platform, lifecycle),
          router -> Features.extraRoutes(platform, router)),
        new DeploymentOptions().setInstances(Math.max(1, Runtime.getRuntime().availableProcessors())));
    }
    if (config.hasRole("http")) {
      Health.export(platform, lifecycle::state); // beside /metrics, which http nodes serve
    }
    Future<?> chain = http.compose(v -> NodeServices.deploy(platform));
    if (config.hasRole("workers")) {
      chain = chain.compose(v -> Features.deployWorkers(platform))
        .compose(v -> deployJobEngines(platform, clock, engines));
    }
    if (config.hasRole("scheduler")) {
      chain = chain.compose(v -> Features.deployScheduler(platform));
    }
    Future<String> httpDeployed = http;
    // the warm-up runs last, with everything deployed, and readiness waits for it
    return chain.compose(v -> httpDeployed)
      .compose(id -> WarmUp.run(platform, settings -> rehearsal(settings, vertx.isClustered())).map(id))
      .map(httpDeployment -> {
        lifecycle.started();
        log.info("boxoffice node {} up: profile={}, roles={}, http_port={}, members={}",
          platform.membership().nodeId(), config.profile(), config.roles(),
          config.hasRole("http") ? config.string("http_port") : "-", platform.membership().members().size());
        return new Node(platform, httpDeployment, List.copyOf(engines), embedded, tracing);
      }).onFailure(err -> pool.close());
  }

  /** A private node of the warm-up ({@link WarmUp}): clustered as the real node is, untraced, on its storage. */
  private static Future<Node> rehearsal(AppConfig config, boolean clustered) {
    return start(config, clustered, new EmbeddedServices(), Clock.SYSTEM, Tracing.OFF);
  }

  /**
   * One engine per queue ({@code jobs_queues}: {@code name:concurrency,...}); the default queue always runs, so its
   * engine is the one that rescues lost leases for all queues.
   */
  private static Future<Void> deployJobEngines(Platform platform, Clock clock, List<String> deployed) {
    AppConfig config = platform.config();
    Map<String, Integer> queues = new java.util.LinkedHashMap<>();
    queues.put(JobType.DEFAULT_QUEUE, 1024);
    for (String entry : config.string("jobs_queues").split(",")) {
      String[] parts = entry.trim().split(":");
      if (parts.length != 2) {
        return Future.failedFuture(new IllegalArgumentException("jobs_queues entries look like name:concurrency, got "
          + entry));
      }
      queues.put(parts[0].trim(), Integer.parseInt(parts[1].trim()));
    }
    Future<?> chain = Future.succeededFuture();
    for (Map.Entry<String, Integer> q : queues.entrySet()) {
      JobEngine.Settings settings = new JobEngine.Settings(q.getKey(), config.integer("jobs_lease_seconds") * 1000L,
        Math.min(config.integer("jobs_claim_batch"), q.getValue()), q.getValue(),
        config.integer("jobs_poll_seconds") * 1000L, JobType.DEFAULT_QUEUE.equals(q.getKey()));
      chain = chain.compose(v -> platform.vertx().deployVerticle(new JobEngine(platform.pool(),
        platform.pgConnectOptions(), platform.membership(), settings, clock))).onSuccess(deployed::add);
    }
    return chain.mapEmpty();
  }

  private static Map<String, Handler<RoutingContext>> localOperations(Platform platform, NodeLifecycle lifecycle) {
    Map<String, Handler<RoutingContext>> ops = new HashMap<>();
    ops.put("getRoot", rc -> json(rc, new JsonObject().put("message", "Hello World")));
    ops.put("getHealthz", rc -> json(rc, new JsonObject().put("status", "ok")));
    ops.put("getLiveness", Health.liveness(platform));
    ops.put("getReadiness", Health.readiness(platform, lifecycle::state));
    ops.putAll(Features.localOperations(platform));
    return ops;
  }

  private static void json(RoutingContext rc, JsonObject body) {
    rc.response().putHeader("Content-Type", "application/json").end(body.encode());
  }
}
