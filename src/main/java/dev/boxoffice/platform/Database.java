package dev.boxoffice.platform;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.configuration.FluentConfiguration;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Comparator;

/** The reactive pool every feature shares, and Flyway migrations run once at start-up. */
public final class Database {
  private Database() {
  }

  public static Pool pool(Vertx vertx, String uri, int size) {
    return pool(vertx, uri, size, "auto", Timeouts.DEFAULTS);
  }

  /**
   * The server-side bounds every connection of this node starts with, sent as startup parameters so that no
   * statement, however it is issued, runs without them: {@code statement_timeout} (a statement PostgreSQL cannot
   * finish in time is cancelled and its transaction rolled back), {@code idle_in_transaction_session_timeout} (a
   * transaction whose node stopped talking mid-way, frozen or cut off, releases its row locks) and TCP keepalive on
   * both ends ({@code tcp_keepalives_*}: the server notices a vanished node's connections within about
   * {@code 2 × keepaliveSeconds} instead of the kernel's two hours). Work that legitimately runs longer lifts the
   * bound for itself ({@code SET LOCAL statement_timeout}, or for the session around a VACUUM). 0 disables a bound.
   */
  public record Timeouts(long statementMs, long idleInTransactionMs, int keepaliveSeconds) {
    public static final Timeouts DEFAULTS = new Timeouts(10_000, 10_000, 30);

    public static Timeouts from(AppConfig config) {
      return new Timeouts(config.integer("pg_statement_timeout_ms"), config.integer("pg_idle_in_transaction_timeout_ms"),
        config.integer("pg_tcp_keepalive_seconds"));
    }
  }

  /** The options of every connection to {@code uri}: the pool's, and the job engine's own LISTEN connections. */
  public static PgConnectOptions connectOptions(String uri, Timeouts timeouts) {
    PgConnectOptions connect = PgConnectOptions.fromUri(uri)
      .addProperty("statement_timeout", String.valueOf(timeouts.statementMs()))
      .addProperty("idle_in_transaction_session_timeout", String.valueOf(timeouts.idleInTransactionMs()));
    if (timeouts.keepaliveSeconds() > 0) {
      int idle = timeouts.keepaliveSeconds();
      connect.addProperty("tcp_keepalives_idle", String.valueOf(idle))
        .addProperty("tcp_keepalives_interval", String.valueOf(Math.max(1, idle / 3)))
        .addProperty("tcp_keepalives_count", "3");
    }
    return connect;
  }

  /**
   * {@code planCacheMode} is the server's {@code plan_cache_mode} for these connections. {@code auto} (the server's
   * default) lets a prepared statement switch to its cached generic plan after five executions: measured 12–13%
   * less PostgreSQL CPU per booking than {@code force_custom_plan}, which plans every execution (2026-12-04, hot
   * bench, two runs each). A generic plan made while a table was nearly empty can keep a sequential scan, but only
   * until the table is next analyzed (autovacuum, or {@code TableMaintenance} while autovacuum is off), which
   * invalidates the cached plans; {@code force_custom_plan} remains the setting for a server that analyzes rarely.
   */
  public static Pool pool(Vertx vertx, String uri, int size, String planCacheMode, Timeouts timeouts) {
    PgConnectOptions connect = connectOptions(uri, timeouts)
      .setCachePreparedStatements(true)
      .setPipeliningLimit(256)
      .setReconnectAttempts(2)
      .setReconnectInterval(500)
      .addProperty("plan_cache_mode", planCacheMode);
    PoolOptions pool = new PoolOptions()
      .setMaxSize(size)
      .setShared(true)
      .setName("boxoffice-pg")
      .setMaxWaitQueueSize(10_000)
      .setIdleTimeout(60)
      .setEventLoopSize(0);
    // the client's own keepalive (the kernel's timings): a half-open connection to a vanished server errors out
    NetClientOptions net = new NetClientOptions().setTcpKeepAlive(timeouts.keepaliveSeconds() > 0);
    return PgBuilder.pool().with(pool).with(net).connectingTo(connect).using(vertx).build();
  }

  /*
   * Every advisory lock key this service takes, in one place so that two never share one (the migration lock first
   * reused the maintenance key: a node starting up waited behind another node's VACUUM round).
   */
  /** Nodes starting together migrate one after another. */
  private static final long MIGRATION_LOCK = 0x626f786d6967L; // "boxmig"
  /** One node at a time runs {@code TableMaintenance}. */
  public static final long MAINTENANCE_LOCK = 0x626f786f6666L; // "boxoff"
  /** One node at a time analyzes the tables that outgrew their statistics ({@code TableMaintenance}). */
  public static final long ANALYZE_LOCK = 0x626f78616e61L; // "boxana"

  /** {@link #migrate(String, Path)} for a database this node did not start itself. */
  public static void migrate(String uri) {
    migrate(uri, null);
  }

  /**
   * Applies the migrations under db/migration, one node at a time. Flyway's own lock only guards a schema history
   * table that already exists: on a fresh database two nodes both saw no history, and the second failed with
   * "Unable to baseline schema history table ... as it already exists, and is empty" (seen in CI). So the whole
   * migration runs under an advisory lock of its own, on a connection held for as long as Flyway runs. Blocking:
   * run on a worker thread.
   *
   * <p>A database made by an older build is refused before anything is applied (see {@link #refuseOtherHistory});
   * a schema holding other tables and no Flyway history is refused by Flyway itself. {@code embeddedDataDir} is the
   * data directory of the embedded server holding the database, named in the refusal; null for a configured one.
   */
  public static void migrate(String uri, Path embeddedDataDir) {
    PgConnectOptions o = PgConnectOptions.fromUri(uri);
    String jdbc = "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
    try (Connection lock = DriverManager.getConnection(jdbc, o.getUser(), o.getPassword());
         Statement st = lock.createStatement()) {
      st.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
      FluentConfiguration flyway = Flyway.configure()
        .dataSource(jdbc, o.getUser(), o.getPassword())
        .locations("classpath:db/migration");
      // a URI's search_path (the warm-up's scratch schema) is where the tables go, as the pool's connections see it
      String schema = o.getProperties().get("search_path");
      if (schema != null) {
        flyway.schemas(schema);
      }
      Flyway migrations = flyway.load();
      refuseOtherHistory(migrations.info(), o, embeddedDataDir);
      migrations.migrate();
      // closing the connection would release the lock too; unlocking says so
      st.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot take the migration lock on " + jdbc + ": " + e.getMessage(), e);
    }
  }

  /**
   * The schema is one baseline and no build before it is upgraded: a history holding anything but this build's
   * {@code V1__baseline.sql} (later versions, or a version 1 of another description or checksum) comes from an older
   * build. Flyway would refuse it too, but with a validation error that names neither the cause nor the remedy.
   */
  private static void refuseOtherHistory(MigrationInfoService info, PgConnectOptions db, Path embeddedDataDir) {
    MigrationInfo[] applied = info.applied();
    if (Arrays.stream(applied).allMatch(Database::isThisBaseline)) {
      return;
    }
    MigrationInfo newest = Arrays.stream(applied).filter(m -> m.getVersion() != null)
      .max(Comparator.comparing(MigrationInfo::getVersion)).orElse(applied[0]);
    String what = "the database " + db.getDatabase() + " on " + db.getHost() + ":" + db.getPort()
      + " was created by an older boxoffice build (schema version " + newest.getVersion() + " \""
      + newest.getDescription() + "\"); this build starts from a new baseline and cannot upgrade it. ";
    throw new IllegalStateException(embeddedDataDir != null
      ? what + "Stop every node using it, delete the data directory " + embeddedDataDir.toAbsolutePath().normalize()
        + " (BOXOFFICE_DATA_DIR) and start again"
      : what + "Drop the database (or every table in it, flyway_schema_history included) and start again");
  }

  /** For an applied migration, getDescription is the applied one (getResolvedDescription is not implemented). */
  private static boolean isThisBaseline(MigrationInfo m) {
    return m.getVersion() != null && "1".equals(m.getVersion().getVersion()) && "baseline".equals(m.getDescription())
      && m.getResolvedChecksum() != null && m.getResolvedChecksum().equals(m.getAppliedChecksum());
  }
}
