package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Busy tables get vacuumed and analyzed by the service exactly when the server's autovacuum does not do it (the
 * local CI PostgreSQL runs with autovacuum off; the embedded one with it on).
 */
class TableMaintenanceTest {
  private static final String LAST_MANUAL =
    "SELECT last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables "
      + "WHERE relname = 'jobs'";
  private static Boxoffice.Node node;

  @BeforeAll
  static void start() throws Exception {
    String db = TestStorage.get().newDatabase("TableMaintenanceTest");
    node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("TableMaintenanceTest"))
      .put("roles", "workers,scheduler").put("db_maintenance_seconds", 1)
      .mergeIn(TestNodes.noUserCrons()), false);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @Test
  void theJobsTableIsVacuumedAndAnalyzedOnlyWhileTheServersAutovacuumIsOff() throws Exception {
    boolean autovacuumOff = "off".equals(await(node.platform().pool().query("SHOW autovacuum").execute())
      .iterator().next().getString(0));
    long deadline = System.currentTimeMillis() + 8_000;
    Row stats;
    do {
      Thread.sleep(250);
      stats = await(node.platform().pool().query(LAST_MANUAL).execute()).iterator().next();
    } while (autovacuumOff && !stats.getBoolean("analyzed") && System.currentTimeMillis() < deadline);

    if (autovacuumOff) {
      assertThat(stats.getBoolean("vacuumed")).as("vacuumed by boxoffice").isTrue();
      assertThat(stats.getBoolean("analyzed")).as("analyzed by boxoffice").isTrue();
    } else {
      Thread.sleep(2_500); // two maintenance periods: the server does it, so boxoffice stays out of the way
      stats = await(node.platform().pool().query(LAST_MANUAL).execute()).iterator().next();
      assertThat(stats.getBoolean("vacuumed")).isFalse();
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
