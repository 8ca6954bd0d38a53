package dev.boxoffice.platform;

import dev.boxoffice.testing.TestStorage;
import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfoService;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Nodes that start together on a fresh database all come up, and each migration is applied once. */
class MigrationTest {

  /** Rounds of nodes on fresh databases: the race this guards against (seen in CI) is narrow. */
  private static final int ROUNDS = 4;
  private static final int NODES = 6;

  @Test
  void nodesMigratingAFreshDatabaseTogetherAllSucceedAndApplyEachVersionOnce() throws Exception {
    for (int round = 0; round < ROUNDS; round++) {
      String db = TestStorage.get().newDatabase("MigrateTogether");
      migrateTogether(db);

      var o = PgConnectOptions.fromUri(db);
      MigrationInfoService info = Flyway.configure()
        .dataSource(TestStorage.jdbc(db), o.getUser(), o.getPassword())
        .locations("classpath:db/migration")
        .load().info();
      assertThat(info.pending()).as("migrations left pending").isEmpty();
      try (Connection c = TestStorage.connect(db);
           Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("""
             SELECT count(*) AS applied, count(DISTINCT version) AS versions, bool_and(success) AS ok
             FROM flyway_schema_history""")) {
        rs.next();
        assertThat(rs.getBoolean("ok")).as("every migration succeeded").isTrue();
        assertThat(rs.getInt("applied")).as("each version applied once").isEqualTo(rs.getInt("versions"))
          .isEqualTo(info.applied().length);
      }
    }
  }

  private static void migrateTogether(String db) throws Exception {
    CyclicBarrier together = new CyclicBarrier(NODES);
    ExecutorService threads = Executors.newFixedThreadPool(NODES);
    try {
      List<Future<?>> runs = new ArrayList<>();
      for (int i = 0; i < NODES; i++) {
        runs.add(threads.submit(() -> {
          together.await();
          Database.migrate(db);
          return null;
        }));
      }
      for (Future<?> run : runs) {
        run.get(); // throws what a node's migration threw
      }
    } finally {
      threads.shutdownNow();
    }
  }
}
