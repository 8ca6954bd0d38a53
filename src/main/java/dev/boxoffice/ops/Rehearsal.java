package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A private node that a starting node books through before it reports ready ({@link WarmUp}). Compiled code belongs
 * to the JVM, not to a node: what the JIT learns from the rehearsal's bookings, the real node has. The rehearsal is a
 * cluster of its own (clustered alone when the real node is clustered, see {@link #settings}), listens on loopback
 * only, keeps its tables in a scratch schema of the same database (dropped after) and its Redis keys under a prefix
 * of its own; it pays with the simulated provider, records mail instead of sending it, runs no crons, calls no user
 * provider and makes no admin from {@code admin_password}. Nothing it does is visible to the real node's clients.
 */
final class Rehearsal {
  // its lines are the warm-up's
  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);
  /** Scratch schemas are named {@code boxoffice_rehearsal_<epoch seconds>_<random>}. */
  static final String SCHEMA_PREFIX = "boxoffice_rehearsal_";
  /** A scratch schema this old belongs to a node that died rehearsing: the next node to start drops it. */
  private static final long STALE_SECONDS = 600;
  private static final int IN_FLIGHT = 32;
  /** Half the bookings go to the first event (one hot item), the rest spread over the others. */
  private static final int EVENTS = 200;

  private static final String SCHEMAS = "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)";
  private static final String CREATE_EVENTS = """
    INSERT INTO events (title, capacity) SELECT 'Rehearsal ' || g, 1000000000 FROM generate_series(1, %d) g"""
    .formatted(EVENTS);

  /** What a rehearsal did: bookings sent, and how many were not answered 201. */
  record Outcome(long bookings, long unexpected) {
  }

  private final Pool pool;
  private final Boxoffice.Node node;
  private final String schema;
  private final int port;

  private Rehearsal(Pool pool, Boxoffice.Node node, String schema, int port) {
    this.pool = pool;
    this.node = node;
    this.schema = schema;
    this.port = port;
  }

  /**
   * Starts the rehearsal node on a new scratch schema of the real node's database ({@code pool} is the real node's),
   * first dropping scratch schemas left by nodes that died rehearsing; or fails leaving nothing behind. {@code start}
   * starts a node of the given settings.
   */
  static Future<Rehearsal> start(AppConfig config, Pool pool, Function<AppConfig, Future<Boxoffice.Node>> start) {
    String schema = SCHEMA_PREFIX + System.currentTimeMillis() / 1000 + "_"
      + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    int port;
    int clusterPort;
    try {
      port = freeLoopbackPort();
      clusterPort = freeLoopbackPort();
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
    return dropStale(pool)
      .compose(v -> pool.query("CREATE SCHEMA " + schema).execute())
      .onSuccess(v -> log.info("warm-up: starting a private node on the scratch schema {} (its start-up lines follow)",
        schema))
      .compose(v -> start.apply(settings(config, schema, port, clusterPort))
        .compose(node -> node.platform().pool().query(CREATE_EVENTS).execute()
          .map(new Rehearsal(pool, node, schema, port))
          .recover(err -> node.close().transform(closed -> Future.failedFuture(err))))
        .recover(err -> drop(pool, schema).transform(dropped -> Future.failedFuture(err))));
  }

  /**
   * The real node's settings, changed to make a private node of them on {@code schema}: a cluster of one (started
   * clustered when the real node is, so that the JIT learns the clustered event bus: code compiled for the local bus
   * alone is thrown away at the first clustered message), on loopback ports of its own.
   */
  static AppConfig settings(AppConfig config, String schema, int httpPort, int clusterPort) {
    return config.with("pg_uri", withSearchPath(config.string("pg_uri"), schema))
      .with("cluster_name", schema).with("cluster_host", "127.0.0.1").with("cluster_port", clusterPort)
      .with("cluster_port_count", 1).with("cluster_members", "127.0.0.1:" + clusterPort)
      .with("cluster_public_host", null).with("eventbus_port", 0).with("eventbus_public_host", null)
      .with("eventbus_public_port", null)
      .with("pg_pool_size", 8)
      .with("redis_key_prefix", config.string("redis_key_prefix") + schema + ":")
      .with("roles", "http,workers")
      .with("http_host", "127.0.0.1").with("http_port", httpPort).with("ops_port", null)
      .with("warmup_seconds", 0).with("shutdown_drain_ms", 0)
      .with("payment_mode", "auto").with("payment_decline_emails", null)
      .with("smtp_host", null).with("users_provider_url", null).with("admin_password", null)
      .with("users_sync_cron", "off").with("enrich_addresses_cron", "off").with("enrich_cards_cron", "off")
      .with("cron_extra", null).with("hold_seconds", 3600);
  }

  /** {@code uri} with its {@code search_path} parameter (if any) replaced by {@code schema}. */
  static String withSearchPath(String uri, String schema) {
    String bare = uri.replaceAll("([?&])search_path=[^&]*(&|$)", "$1").replaceAll("[?&]$", "");
    return bare + (bare.contains("?") ? "&" : "?") + "search_path=" + schema;
  }

  /** The scratch schema holding the rehearsal's tables. */
  String schema() {
    return schema;
  }

  /** The rehearsal node's Vert.x (its access log reads the warm-up's request-id prefix there). */
  Vertx vertx() {
    return node.vertx();
  }

  /**
   * Books through the rehearsal node's API until {@code endNanos}, {@link #IN_FLIGHT} at a time, one request in four
   * with an {@code Idempotency-Key}; every request's id starts with {@code requestIdPrefix}.
   */
  Future<Outcome> book(String jwtSecret, String requestIdPrefix, long endNanos) {
    Vertx vertx = node.vertx();
    int ttl = (int) Math.max(60, (endNanos - System.nanoTime()) / 1_000_000_000L + 60);
    String token = Jwt.issue(Jwt.provider(vertx, jwtSecret), "boxoffice-rehearsal", "user", ttl);
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
      .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(IN_FLIGHT));
    AtomicLong requests = new AtomicLong();
    AtomicLong unexpected = new AtomicLong();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < IN_FLIGHT; i++) {
      Promise<Void> done = Promise.promise();
      loops.add(done.future());
      loop(http, token, requestIdPrefix, endNanos, requests, unexpected, done);
    }
    return Future.all(loops).transform(ar -> http.close())
      .map(v -> new Outcome(requests.get(), unexpected.get()));
  }

  private static void loop(HttpClient http, String token, String prefix, long endNanos, AtomicLong requests,
                           AtomicLong unexpected, Promise<Void> done) {
    if (System.nanoTime() >= endNanos) {
      done.complete();
      return;
    }
    long n = requests.incrementAndGet();
    long event = n % 2 == 0 ? 1 : 2 + n % (EVENTS - 1);
    Buffer body = new JsonObject().put("name", "Rehearsal " + n).put("email", "rehearsal" + n + "@example.com")
      .put("phone", "+1 555 0100").put("event_id", event).put("quantity", 1).toBuffer();
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setURI("/bookings")
      .putHeader("Authorization", "Bearer " + token).putHeader("Content-Type", "application/json")
      .putHeader("X-Request-Id", prefix + "-" + n);
    if (n % 4 == 0) {
      request.putHeader("Idempotency-Key", prefix + "-" + n);
    }
    http.request(request)
      .compose(req -> req.send(body))
      .compose(resp -> resp.body().map(b -> resp.statusCode()))
      .onComplete(ar -> {
        if (ar.failed() || ar.result() != 201) {
          unexpected.incrementAndGet();
        }
        if (ar.failed() && unexpected.get() > 100) {
          done.complete(); // the rehearsal does not answer: readiness goes on without the rest
        } else {
          loop(http, token, prefix, endNanos, requests, unexpected, done);
        }
      });
  }

  /** Stops the rehearsal node and drops its schema; never fails (a schema left behind is dropped later). */
  Future<Void> stop() {
    return node.close().transform(v -> drop(pool, schema));
  }

  private static Future<Void> drop(Pool pool, String schema) {
    // quoted: the names of stale schemas come from the catalog, whoever made them
    return pool.query("DROP SCHEMA IF EXISTS \"" + schema.replace("\"", "\"\"") + "\" CASCADE").execute()
      .<Void>mapEmpty()
      .recover(err -> Future.succeededFuture());
  }

  private static Future<Void> dropStale(Pool pool) {
    long now = System.currentTimeMillis() / 1000;
    return pool.preparedQuery(SCHEMAS).execute(Tuple.of(SCHEMA_PREFIX)).compose(rows -> {
      List<Future<Void>> drops = new ArrayList<>();
      for (Row row : rows) {
        String name = row.getString(0);
        try {
          if (now - Long.parseLong(name.substring(SCHEMA_PREFIX.length()).split("_")[0]) > STALE_SECONDS) {
            drops.add(drop(pool, name));
          }
        } catch (NumberFormatException e) {
          // not one of ours
        }
      }
      return Future.all(drops).mapEmpty();
    });
  }

  private static int freeLoopbackPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
