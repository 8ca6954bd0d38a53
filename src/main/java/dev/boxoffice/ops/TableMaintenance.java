package dev.boxoffice.ops;

import dev.boxoffice.platform.Database;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Vacuums and analyzes the tables the job engine and the saga churn, but only while the server's own autovacuum is
 * off. Without it the jobs table keeps every dead row version (each job is inserted and updated three times) and
 * the planner keeps the statistics of an empty table, so claims and the saga's batch lookups turn into sequential
 * scans within minutes (measured: ~10 ms per lookup after 5k bookings). One node at a time does it, under a
 * Postgres advisory lock; plain VACUUM takes no lock that blocks readers or writers.
 * {@code db_maintenance_seconds} sets the period (0 = never).
 */
public final class TableMaintenance extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TableMaintenance.class);
  private static final long LOCK_KEY = Database.MAINTENANCE_LOCK;
  private static final List<String> TABLES = List.of("jobs", "bookings", "events", "products", "outbox",
    "tickets", "nodes", "idempotency_keys");

  private final Pool pool;
  private final long periodMillis;
  private boolean warned;

  public TableMaintenance(Platform p) {
    this.pool = p.pool();
    this.periodMillis = p.config().integer("db_maintenance_seconds") * 1000L;
  }

  @Override
  public Future<?> start() {
    if (periodMillis > 0) {
      schedule();
    }
    return Future.succeededFuture();
  }

  private void schedule() {
    vertx.setTimer(periodMillis, t -> round().onComplete(ar -> {
      if (ar.failed()) {
        log.warn("table maintenance failed: {}", ar.cause().getMessage());
      }
      schedule();
    }));
  }

  /** One pass, on one dedicated connection (the advisory lock belongs to the session). */
  Future<Boolean> round() {
    return pool.getConnection().compose(conn -> conn.query("SHOW autovacuum").execute()
      .compose(rows -> {
        if (!"off".equals(rows.iterator().next().getString(0))) {
          return Future.succeededFuture(false);
        }
        if (!warned) {
          warned = true;
          log.warn("the server's autovacuum is off: boxoffice vacuums its own tables every {} s", periodMillis / 1000);
        }
        // VACUUM of a big table may outlast the connections' statement_timeout, and cannot run inside a
        // transaction (no SET LOCAL): the bound is lifted for this session and restored before it goes back
        return conn.query("SELECT pg_try_advisory_lock(" + LOCK_KEY + ")").execute()
          .compose(locked -> locked.iterator().next().getBoolean(0)
            ? conn.query("SET statement_timeout = 0").execute().compose(v -> vacuum(conn, 0))
              .eventually(() -> conn.query("RESET statement_timeout").execute())
              .eventually(() -> conn.query("SELECT pg_advisory_unlock(" + LOCK_KEY + ")").execute())
              .map(true)
            : Future.succeededFuture(false));
      })
      .eventually(conn::close));
  }

  private static Future<Void> vacuum(SqlConnection conn, int i) {
    if (i == TABLES.size()) {
      return Future.succeededFuture();
    }
    // simple-protocol query: VACUUM cannot run inside the implicit transaction of an extended-protocol statement
    return conn.query("VACUUM (ANALYZE) " + TABLES.get(i)).execute().compose(r -> vacuum(conn, i + 1));
  }
}
