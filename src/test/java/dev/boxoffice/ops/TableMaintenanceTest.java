package dev.boxoffice.ops;

import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Busy tables get vacuumed and analyzed by the service exactly when the server's autovacuum does not do it (the
 * local CI PostgreSQL runs with autovacuum off; the embedded one with it on).
 */
class TableMaintenanceTest {
  private static final String LAST_MANUAL =
    "SELECT last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables "
      + "WHERE relname = 'jobs'";
  @RegisterExtension
  static final TestNode node = TestNode.create().with("roles", "workers,scheduler").with("db_maintenance_seconds", 1)
    .with(TestNodes.noUserCrons());

  @Test
  void theJobsTableIsVacuumedAndAnalyzedOnlyWhileTheServersAutovacuumIsOff() throws Exception {
    boolean autovacuumOff = "off".equals(await(node.pool().query("SHOW autovacuum").execute())
      .iterator().next().getString(0));

    if (autovacuumOff) {
      JsonObject stats = eventually(TableMaintenanceTest::lastManual, s -> s.getBoolean("analyzed"));
      assertThat(stats.getBoolean("vacuumed")).as("vacuumed by boxoffice").isTrue();
      assertThat(stats.getBoolean("analyzed")).as("analyzed by boxoffice").isTrue();
    } else {
      Thread.sleep(2_500); // two maintenance periods: the server does it, so boxoffice stays out of the way
      assertThat(await(lastManual()).getBoolean("vacuumed")).isFalse();
    }
  }

  private static Future<JsonObject> lastManual() {
    return node.pool().query(LAST_MANUAL).execute().map(rows -> rows.iterator().next().toJson());
  }
}
