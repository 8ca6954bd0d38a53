package dev.boxoffice.ops;

import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Keeps this node's row in {@code nodes} fresh: an upsert at start and every {@link #HEARTBEAT_MS}, a
 * {@code stopped_at} on a clean stop. Runs on every node whatever its roles, so a worker-only or scheduler-only
 * node shows up on the monitoring page too. A node gone (stopped, or silent) for longer than
 * {@code nodes_retention_seconds} is forgotten: left out of the list, and its row deleted by the next heartbeat of
 * any node, so the list does not grow with every node (every container) that ever ran.
 */
public final class NodeRegistry extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);
  static final long HEARTBEAT_MS = 5_000;
  /** Three missed heartbeats and a node counts as gone. */
  static final int ALIVE_SECONDS = 15;
  static final List<String> ROLE_ORDER = List.of("http", "workers", "scheduler");

  /** The heartbeat, and the forgetting of nodes gone for longer than the retention ($5 s): one round trip. */
  private static final String BEAT = """
    WITH forgotten AS (DELETE FROM nodes WHERE last_seen < now() - $5 * interval '1 second' AND node_id <> $1)
    INSERT INTO nodes (node_id, roles, http_port, started_at, last_seen, stopped_at)
    VALUES ($1, $2, $3, $4, now(), NULL)
    ON CONFLICT (node_id) DO UPDATE SET roles = excluded.roles, http_port = excluded.http_port,
                                        last_seen = now(), stopped_at = NULL""";
  private static final String STOPPED = "UPDATE nodes SET last_seen = now(), stopped_at = now() WHERE node_id = $1";
  /** Alive-by-heartbeat nodes, and the ones that stopped or vanished within the retention ($2 s). */
  private static final String LIST = """
    SELECT node_id, roles, http_port, started_at, last_seen,
           stopped_at IS NULL AND last_seen > now() - $1 * interval '1 second' AS fresh
    FROM nodes
    WHERE last_seen > now() - $2 * interval '1 second'
    ORDER BY started_at, node_id""";

  private final Platform platform;
  private final OffsetDateTime startedAt = OffsetDateTime.now(ZoneOffset.UTC);
  private long timer = -1;
  private boolean warned;

  public NodeRegistry(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    return beat()
      .onSuccess(v -> timer = vertx.setPeriodic(HEARTBEAT_MS, id -> beat()
        .onSuccess(x -> warned = false)
        .onFailure(err -> {
          if (!warned) {
            warned = true;
            log.warn("node heartbeat failed: {}", err.getMessage());
          }
        })));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    // Best effort (a crashed node simply stops heart-beating). Its own connection: when Vert.x closes, the shared
    // pool is closed before the verticles are stopped.
    return PgConnection.connect(vertx, platform.pgConnectOptions())
      .compose(conn -> conn.preparedQuery(STOPPED).execute(Tuple.of(platform.membership().nodeId()))
        .eventually(conn::close))
      .timeout(2, TimeUnit.SECONDS)
      .onFailure(err -> log.debug("recording the node's stop failed: {}", err.getMessage()))
      .otherwiseEmpty();
  }

  private Future<Void> beat() {
    Set<String> roles = platform.config().roles();
    Integer port = roles.contains("http") ? platform.config().integer("http_port") : null;
    return platform.pool().preparedQuery(BEAT).execute(Tuple.of(platform.membership().nodeId(),
      String.join(",", ROLE_ORDER.stream().filter(roles::contains).toList()), port, startedAt,
      platform.config().integer("nodes_retention_seconds"))).mapEmpty();
  }

  /**
   * The ClusterNode views, alive first. Alive: a fresh heartbeat and, when this node is clustered, membership of
   * the cluster (a node cut off from the cluster may still reach the database).
   */
  static Future<JsonArray> list(SqlClient sql, Platform platform) {
    int retention = platform.config().integer("nodes_retention_seconds");
    return sql.preparedQuery(LIST).execute(Tuple.of(ALIVE_SECONDS, retention)).map(rows -> {
      boolean clustered = platform.membership().clustered();
      Set<String> members = Set.copyOf(platform.membership().members());
      List<JsonObject> nodes = new ArrayList<>();
      for (Row r : rows) {
        String id = r.getString("node_id");
        boolean alive = r.getBoolean("fresh") && (!clustered || members.contains(id));
        JsonArray roles = new JsonArray();
        for (String role : r.getString("roles").split(",")) {
          if (!role.isBlank()) {
            roles.add(role);
          }
        }
        nodes.add(new JsonObject()
          .put("node_id", id)
          .put("roles", roles)
          .put("http_port", r.getInteger("http_port"))
          .put("started_at", r.getOffsetDateTime("started_at").toInstant().toString())
          .put("last_seen", r.getOffsetDateTime("last_seen").toInstant().toString())
          .put("alive", alive));
      }
      nodes.sort(Comparator.comparing((JsonObject n) -> !n.getBoolean("alive")));
      return new JsonArray(new ArrayList<>(nodes));
    });
  }
}
