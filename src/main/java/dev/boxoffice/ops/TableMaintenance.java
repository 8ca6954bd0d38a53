package dev.boxoffice.ops;

import dev.boxoffice.platform.Database;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Vacuums and analyzes the tables the job engine and the saga churn, but only while the server's own autovacuum is
 * off. Without it the jobs table keeps every dead row version (each job is inserted and updated three times) and
 * the planner keeps the statistics of an empty table, so claims and the saga's batch lookups turn into sequential
 * scans within minutes (measured: ~10 ms per lookup after 5k bookings). One node at a time does it, under a
 * Postgres advisory lock; plain VACUUM takes no lock that blocks readers or writers.
 * {@code db_maintenance_seconds} sets the period (0 = never).
 *
 * <p>Also, with autovacuum on, every {@link #GROWTH_CHECK_MS}: ANALYZE of a busy table that changed more rows than
 * its statistics say it holds (it doubled, or was rewritten, since it was last analyzed). A young table outgrows its
 * statistics within seconds of a sale's start, and the plans the connections cached for it stay: a finalization
 * batch's lookup by ids became a sequential scan of every booking and outbox row, 8 ms a batch and growing, until
 * autovacuum (a minute's nap, then 10% growth) caught up (measured: 0.2 ms a batch once analyzed). ANALYZE
 * invalidates those plans. Old tables rarely double, so this stays quiet and autovacuum does the rest.
 */
public final class TableMaintenance extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TableMaintenance.class);
  private static final long LOCK_KEY = Database.MAINTENANCE_LOCK;
  private static final List<String> TABLES = List.of("jobs", "bookings", "events", "products", "outbox",
    "tickets", "nodes", "idempotency_keys");
  static final long GROWTH_CHECK_MS = 2_000;
  // reltuples is -1 for a table never analyzed; the thousand keeps tiny tables out
  private static final String OUTGROWN = """
    SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = current_schema() AND s.relname = ANY($1)
      AND s.n_mod_since_analyze > greatest(c.reltuples, 0) + 1000""";

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
      scheduleGrowthCheck();
    }
    return Future.succeededFuture();
  }

  private void scheduleGrowthCheck() {
    vertx.setTimer(GROWTH_CHECK_MS, t -> analyzeOutgrown().onComplete(ar -> {
      if (ar.failed()) {
        log.debug("analyzing outgrown tables failed: {}", ar.cause().getMessage());
      }
      scheduleGrowthCheck();
    }));
  }

  /** ANALYZE of every busy table that outgrew its statistics, by one node at a time; the tables analyzed. */
  Future<List<String>> analyzeOutgrown() {
    return pool.withTransaction(tx -> tx.query("SELECT pg_try_advisory_xact_lock(" + Database.ANALYZE_LOCK + ")")
      .execute().compose(locked -> !locked.iterator().next().getBoolean(0)
        ? Future.succeededFuture(List.<String>of())
        : tx.preparedQuery(OUTGROWN).execute(Tuple.of(TABLES.toArray(new String[0])))
          .compose(rows -> {
            List<String> outgrown = new ArrayList<>();
            rows.forEach(r -> outgrown.add(r.getString(0)));
            return outgrown.isEmpty() ? Future.succeededFuture(outgrown)
              : tx.query("ANALYZE " + String.join(", ", outgrown)).execute().map(outgrown);
          })));
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
