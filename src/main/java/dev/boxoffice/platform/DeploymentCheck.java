package dev.boxoffice.platform;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One deployment per cluster: a node joins only a cluster whose members use the same database. The database's
 * identity is the random id the migration writes into {@code deployment}; after migrating and before deploying
 * anything (so before it takes any bus traffic), a clustered node compares it, and whether its event bus runs TLS,
 * with what the members published in a cluster map, under a lock so that nodes starting together check one after
 * another. A mismatch refuses the start naming both databases; the node then leaves the cluster having served
 * nothing. The same comparison covers the settings every node must share ({@link SharedSettings}: profile, hold time,
 * payment mode, Redis key prefix, fingerprints of the JWT secret and the ticket key): a node whose values differ
 * refuses to start naming each setting and both values. Otherwise it publishes its own entry, keyed by its Hazelcast
 * member id (entries of departed members are dropped at each check).
 */
public final class DeploymentCheck {
  private static final Logger log = LoggerFactory.getLogger(DeploymentCheck.class);
  static final String MAP = "boxoffice.deployments";
  private static final String LOCK = "check";
  private static final long LOCK_WAIT_S = 30;

  private DeploymentCheck() {
  }

  /** Thrown when the members use another database (or another event-bus security); the message names both. */
  public static final class Mismatch extends IllegalStateException {
    Mismatch(String message) {
      super(message);
    }
  }

  /** Blocking (JDBC, Hazelcast): run on a worker thread, after the migration. No-op on a node that is not clustered. */
  public static void verify(Vertx vertx, AppConfig config) {
    if (!(vertx instanceof VertxInternal vi) || !(vi.clusterManager() instanceof HazelcastClusterManager cm)) {
      return;
    }
    String pgUri = config.string("pg_uri");
    JsonObject mine = new JsonObject().put("deployment", read(pgUri)).put("database", describe(pgUri))
      .put("bus", EventBusTls.enabled(config) ? "tls" : "plain").put("node", cm.getNodeId())
      .put("settings", SharedSettings.of(config));
    HazelcastInstance hz = cm.getHazelcastInstance();
    IMap<String, String> map = hz.getMap(MAP);
    boolean locked;
    try {
      locked = map.tryLock(LOCK, LOCK_WAIT_S, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking the cluster's deployment", e);
    }
    if (!locked) {
      throw new IllegalStateException("could not check the cluster's deployment: its lock stayed taken for "
        + LOCK_WAIT_S + " s");
    }
    try {
      Map<String, Member> live = hz.getCluster().getMembers().stream()
        .collect(Collectors.toMap(m -> m.getUuid().toString(), m -> m));
      String self = hz.getCluster().getLocalMember().getUuid().toString();
      for (Map.Entry<String, String> entry : Set.copyOf(map.entrySet())) {
        if (!live.containsKey(entry.getKey())) {
          map.remove(entry.getKey()); // a member that left
        } else if (!entry.getKey().equals(self)) {
          compare(config, mine, new JsonObject(entry.getValue()), live.get(entry.getKey()));
        }
      }
      map.put(self, mine.encode());
    } finally {
      map.unlock(LOCK);
    }
    log.info("deployment {} ({}): the cluster's members agree", mine.getString("deployment"),
      mine.getString("database"));
  }

  private static void compare(AppConfig config, JsonObject mine, JsonObject theirs, Member member) {
    String cluster = "cluster '" + config.string("cluster_name") + "'";
    if (!mine.getString("deployment").equals(theirs.getString("deployment"))) {
      throw new Mismatch("refusing to join " + cluster + ": this node's database " + mine.getString("database")
        + " is deployment " + mine.getString("deployment") + ", but member " + member.getAddress() + " (node "
        + theirs.getString("node") + ") uses database " + theirs.getString("database") + ", deployment "
        + theirs.getString("deployment") + ". A cluster serves one deployment: give this node the members' "
        + "BOXOFFICE_PG_URI, or another BOXOFFICE_CLUSTER_NAME / BOXOFFICE_CLUSTER_MEMBERS");
    }
    if (!mine.getString("bus").equals(theirs.getString("bus"))) {
      throw new Mismatch("refusing to join " + cluster + ": this node's event bus is " + mine.getString("bus")
        + " but member " + member.getAddress() + " (node " + theirs.getString("node") + ") runs it "
        + theirs.getString("bus") + "; every node needs the same BOXOFFICE_EVENTBUS_TLS_* settings");
    }
    List<String> differences = SharedSettings.differences(mine.getJsonObject("settings"),
      theirs.getJsonObject("settings", new JsonObject()));
    if (!differences.isEmpty()) {
      throw new Mismatch("refusing to join " + cluster + ": settings that must be the same on every node differ from "
        + "member " + member.getAddress() + " (node " + theirs.getString("node") + "): "
        + String.join("; ", differences) + ". Give this node the cluster's values, or change them on every node at "
        + "once (stop every node, change, start: README, Production)");
    }
  }

  /** The deployment id the migration wrote. */
  static String read(String pgUri) {
    PgConnectOptions o = PgConnectOptions.fromUri(pgUri);
    String jdbc = "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
    try (Connection c = DriverManager.getConnection(jdbc, o.getUser(), o.getPassword());
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id FROM deployment")) {
      if (!rs.next()) {
        throw new IllegalStateException("the database " + describe(pgUri) + " has no deployment row (table "
          + "deployment); it is written by the migration: was the row deleted?");
      }
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the deployment id from " + describe(pgUri) + ": "
        + e.getMessage(), e);
    }
  }

  /** The database, without credentials: name@host:port. */
  static String describe(String pgUri) {
    PgConnectOptions o = PgConnectOptions.fromUri(pgUri);
    return o.getDatabase() + "@" + o.getHost() + ":" + o.getPort();
  }
}
