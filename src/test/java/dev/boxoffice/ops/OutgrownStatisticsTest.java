package dev.boxoffice.ops;

import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A busy table that outgrew its statistics (a young table at a sale's start) is analyzed at once, so that the plans
 * the connections cached while it was empty are made again; a table whose statistics still fit is left alone.
 */
class OutgrownStatisticsTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("db_maintenance_seconds", 0).with(TestNodes.noUserCrons());

  @Test
  void aTableThatOutgrewItsStatisticsIsAnalyzedAndThenLeftAlone() {
    TableMaintenance maintenance = new TableMaintenance(node.platform());
    await(maintenance.analyzeOutgrown()); // whatever the node's start left behind
    await(node.pool().query("INSERT INTO events (title, capacity) SELECT 'Outgrown ' || g, 10 "
      + "FROM generate_series(1, 3000) g").execute());

    // the server counts the changes a moment after they commit: the check sees them at one of its next ticks
    assertThat(eventually(maintenance::analyzeOutgrown, analyzed -> !analyzed.isEmpty())).containsExactly("events");
    assertThat(await(node.pool().query("SELECT reltuples FROM pg_class WHERE oid = 'events'::regclass").execute())
      .iterator().next().getFloat(0)).isGreaterThanOrEqualTo(3000f);

    await(node.pool().query("INSERT INTO events (title, capacity) SELECT 'A few more ' || g, 10 "
      + "FROM generate_series(1, 500) g").execute());
    eventually(() -> node.pool().query("SELECT n_mod_since_analyze FROM pg_stat_user_tables "
      + "WHERE relid = 'events'::regclass").execute().map(rows -> rows.iterator().next().getLong(0)), n -> n >= 500);
    assertThat(await(maintenance.analyzeOutgrown())).as("500 more rows than 3,000 analyzed").isEmpty();
  }
}
