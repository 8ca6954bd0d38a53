package dev.boxoffice.platform;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.flywaydb.core.Flyway;

/** The reactive pool every feature shares, and Flyway migrations run once at start-up. */
public final class Database {
  private Database() {
  }

  public static Pool pool(Vertx vertx, String uri, int size) {
    return pool(vertx, uri, size, "auto");
  }

  /**
   * {@code planCacheMode} is the server's {@code plan_cache_mode} for these connections. {@code auto} (the server's
   * default) lets a prepared statement switch to its cached generic plan after five executions: measured 12–13%
   * less PostgreSQL CPU per booking than {@code force_custom_plan}, which plans every execution (2026-12-04, hot
   * bench, two runs each). A generic plan made while a table was nearly empty can keep a sequential scan, but only
   * until the table is next analyzed (autovacuum, or {@code TableMaintenance} while autovacuum is off), which
   * invalidates the cached plans; {@code force_custom_plan} remains the setting for a server that analyzes rarely.
   */
  public static Pool pool(Vertx vertx, String uri, int size, String planCacheMode) {
    PgConnectOptions connect = PgConnectOptions.fromUri(uri)
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
    return PgBuilder.pool().with(pool).connectingTo(connect).using(vertx).build();
  }

  /**
   * Applies the migrations under db/migration. Flyway takes a Postgres advisory lock, so nodes starting together
   * apply each version once. Blocking: run on a worker thread.
   */
  public static void migrate(String uri) {
    PgConnectOptions o = PgConnectOptions.fromUri(uri);
    String jdbc = "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
    Flyway.configure()
      .dataSource(jdbc, o.getUser(), o.getPassword())
      .locations("classpath:db/migration")
      .baselineOnMigrate(true)
      .load()
      .migrate();
  }
}
