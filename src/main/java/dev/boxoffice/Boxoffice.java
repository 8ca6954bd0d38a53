package dev.boxoffice;

import dev.boxoffice.auth.TokenGate;
import dev.boxoffice.http.ApiVerticle;
import dev.boxoffice.jobs.JobEngine;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.ops.Health;
import dev.boxoffice.ops.Metrics;
import dev.boxoffice.ops.NodeServices;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Clock;
import dev.boxoffice.platform.ClusterConfig;
import dev.boxoffice.platform.ClusterMembership;
import dev.boxoffice.platform.Database;
import dev.boxoffice.platform.DeploymentCheck;
import dev.boxoffice.platform.EmbeddedServices;
import dev.boxoffice.platform.Platform;
import dev.boxoffice.platform.PortReservation;
import dev.boxoffice.platform.RedisClients;
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
import java.util.concurrent.atomic.AtomicBoolean;

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
  public record Node(Platform platform, String http, List<String> engines, EmbeddedServices embedded) {
    public Vertx vertx() {
      return platform.vertx();
    }

    /**
     * Stops in order: the HTTP API first (no new requests; those in flight get {@link ApiVerticle#SHUTDOWN_GRACE_MS}
     * to finish, while the workers and the pool still serve them), then the job engines (no new claims; running jobs
     * get {@link JobEngine#DRAIN_MS} to finish while their handlers are still deployed), then Vert.x (the other
     * verticles, the pool, the cluster leave, after which other nodes take back any lease left), then the embedded
     * storage.
     */
    public Future<Void> close() {
      return shutDown(platform.vertx(), http, engines, embedded);
    }
  }

  public static Future<Node> start(AppConfig config, boolean clustered) {
    return start(config, clustered, new EmbeddedServices());
  }

  public static Future<Node> start(AppConfig config, boolean clustered, EmbeddedServices embedded) {
    return start(config, clustered, embedded, Clock.SYSTEM);
  }

  /**
   * Starts a node; {@code embedded} starts dev storage if the config names none, and is closed with the node.
   * {@code clock} drives the job engines' due times, timers and leases (tests pass one they can move).
   */
  public static Future<Node> start(AppConfig config, boolean clustered, EmbeddedServices embedded, Clock clock) {
    // the safe order: every setting checked and the HTTP port bound, then storage and migrations, then the cluster
    // join, then the API (readiness "starting"), and the workers that take other nodes' bus traffic last
    PortReservation port = null;
    try {
      ConfigCheck.check(config);
      if (config.hasRole("http")) {
        port = PortReservation.hold(config.httpHost(), config.integer("http_port"));
      }
      config = withStorage(config, embedded).withDevSecrets();
    } catch (Exception e) {
      if (port != null) {
        port.close();
      }
      embedded.close(); // what started before the failure; this runs before any Vert.x
      return Future.failedFuture(e);
    }
    AppConfig cfg = config;
    PortReservation reserved = port;
    Promise<Node> started = Promise.promise();
    Handler<Throwable> failBeforeVertx = err -> {
      if (reserved != null) {
        reserved.close();
      }
      shutDown(null, null, List.of(), embedded).onComplete(v -> started.fail(err));
    };
    migrate(cfg, embedded).onFailure(failBeforeVertx).onSuccess(migrated -> {
      VertxOptions options = new VertxOptions().setMetricsOptions(Metrics.options());
      Future<Vertx> vertxFuture = clustered
        ? Vertx.builder().with(options.setEventBusOptions(ClusterConfig.eventBusOptions(cfg)))
          .withClusterManager(ClusterConfig.clusterManager(cfg)).buildClustered()
        : Future.succeededFuture(Vertx.builder().with(options).build());
      vertxFuture.onFailure(failBeforeVertx)
        .onSuccess(vertx -> vertx.executeBlocking(() -> {
            DeploymentCheck.verify(vertx, cfg); // before any verticle: a node of another database serves nothing
            return vertx;
          }).compose(v -> deploy(cfg, vertx, embedded, clock, reserved))
          .onSuccess(started::complete)
          .onFailure(err -> {
            if (reserved != null) {
              reserved.close();
            }
            shutDown(vertx, null, List.of(), embedded).onComplete(v -> started.fail(err));
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
   * Closes a node in order, on a thread of its own: once Vert.x has closed, its event loops cannot run what follows
   * (a continuation chained on {@code vertx.close()} there never ran). The API's deployment first, then the job
   * engines', then Vert.x, then the embedded storage; each step runs even when the one before failed.
   */
  private static Future<Void> shutDown(Vertx vertx, String http, List<String> engines, EmbeddedServices embedded) {
    return Future.fromCompletionStage(CompletableFuture.runAsync(() -> {
      try {
        if (vertx != null && http != null) {
          await(vertx.undeploy(http).recover(err -> Future.succeededFuture()));
        }
        if (vertx != null && !engines.isEmpty()) {
          await(Future.join(engines.stream().map(id -> vertx.undeploy(id)).toList()));
        }
        if (vertx != null) {
          await(vertx.close());
        }
      } finally {
        embedded.close();
      }
    }));
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
                                     PortReservation port) {
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
    AtomicBoolean started = new AtomicBoolean();
    Future<String> http = Future.succeededFuture();
    if (config.hasRole("http")) {
      if (port != null) {
        port.close();
      }
      http = vertx.deployVerticle(() -> new ApiVerticle(config, localOperations(platform, started),
          router -> Features.extraRoutes(platform, router)),
        new DeploymentOptions().setInstances(Math.max(1, Runtime.getRuntime().availableProcessors())));
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
    return chain.compose(v -> httpDeployed).map(httpDeployment -> {
      started.set(true);
      log.info("boxoffice node {} up: profile={}, roles={}, http_port={}, members={}", platform.membership().nodeId(),
        config.profile(), config.roles(), config.hasRole("http") ? config.string("http_port") : "-",
        platform.membership().members().size());
      return new Node(platform, httpDeployment, List.copyOf(engines), embedded);
    }).onFailure(err -> pool.close());
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

  private static Map<String, Handler<RoutingContext>> localOperations(Platform platform, AtomicBoolean started) {
    Map<String, Handler<RoutingContext>> ops = new HashMap<>();
    ops.put("getRoot", rc -> json(rc, new JsonObject().put("message", "Hello World")));
    ops.put("getHealthz", rc -> json(rc, new JsonObject().put("status", "ok")));
    ops.put("getLiveness", Health.liveness(platform));
    ops.put("getReadiness", Health.readiness(platform, started::get));
    ops.putAll(Features.localOperations(platform));
    return ops;
  }

  private static void json(RoutingContext rc, JsonObject body) {
    rc.response().putHeader("Content-Type", "application/json").end(body.encode());
  }
}
