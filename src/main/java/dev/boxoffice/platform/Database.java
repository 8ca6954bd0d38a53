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
    PgConnectOptions connect = PgConnectOptions.fromUri(uri)
      .setCachePreparedStatements(true)
      .setPipeliningLimit(256)
      .setReconnectAttempts(2)
      .setReconnectInterval(500)
      // Plan each execution for its real arguments. A cached generic plan is made once per connection and kept
      // until the next ANALYZE; made while a table was small it keeps sequential scans long after the table has
      // grown, and the `id = ANY($1)` batch statements are exactly the ones a generic plan cannot size. Measured on
      // the hot-event bench: ~40% more bookings/s than generic plans, even with TableMaintenance analyzing.
      .addProperty("plan_cache_mode", "force_custom_plan");
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
