package dev.boxoffice.platform;

import dev.boxoffice.testing.TestStorage;
import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfoService;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Nodes that start together on a fresh database all come up, and each migration is applied once; a database URI's
 * search_path names the schema; a database this build did not make is refused before anything is applied.
 */
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

  @Test
  void aUriNamingASearchPathPutsTheTablesInThatSchemaCreatingIt() throws Exception {
    String db = TestStorage.get().newDatabase("MigrateSchema");
    Database.migrate(db + (db.contains("?") ? "&" : "?") + "search_path=tenant_a");

    try (Connection c = TestStorage.connect(db);
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT table_schema, count(*) AS tables FROM information_schema.tables "
           + "WHERE table_name IN ('bookings', 'jobs', 'flyway_schema_history') GROUP BY 1")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString("table_schema")).isEqualTo("tenant_a");
      assertThat(rs.getInt("tables")).isEqualTo(3);
      assertThat(rs.next()).as("no table outside the schema").isFalse();
    }
  }

  @Test
  void aDatabaseOfAnOlderBuildIsRefusedNamingWhatToDeleteAndLeftAsItWas() throws Exception {
    // the history the migrations before the baseline left (V6 never existed)
    String[] old = {"1|jobs", "2|accounts", "3|inventory", "4|bookings", "5|finalization", "7|cron", "8|users",
      "9|nodes", "10|jobs notify types", "11|jobs queue", "12|event finalized", "13|jobs due by type",
      "14|leaner write indexes", "15|holds expire from bookings", "16|jobs notify due again per row",
      "17|outbox delivered by finalization"};
    String db = databaseWithHistory("OlderBuild", old);
    assertThatThrownBy(() -> Database.migrate(db))
      .isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("was created by an older boxoffice build")
      .hasMessageContaining("(schema version 17 \"outbox delivered by finalization\")")
      .hasMessageContaining("Drop the database");
    Path dataDir = Path.of("data");
    assertThatThrownBy(() -> Database.migrate(db, dataDir))
      .hasMessageContaining("older boxoffice build")
      .hasMessageContaining("delete the data directory " + dataDir.toAbsolutePath() + " (BOXOFFICE_DATA_DIR)");
    assertThat(historyRows(db)).as("nothing applied").isEqualTo(old.length);

    // a history ending at version 1, but not this build's version 1
    String firstOld = databaseWithHistory("OlderBuildV1", "1|jobs");
    assertThatThrownBy(() -> Database.migrate(firstOld)).hasMessageContaining("(schema version 1 \"jobs\")");
    String otherBaseline = databaseWithHistory("OtherBaseline", "1|baseline");
    assertThatThrownBy(() -> Database.migrate(otherBaseline)).hasMessageContaining("older boxoffice build");
    assertThat(historyRows(otherBaseline)).isEqualTo(1);
  }

  @Test
  void aDatabaseOfThisBuildStartsAgain() throws Exception {
    String db = TestStorage.get().newDatabase("SameBuild");
    Database.migrate(db);
    Database.migrate(db);
    assertThat(historyRows(db)).isEqualTo(1);
  }

  @Test
  void aSchemaHoldingOtherTablesAndNoHistoryIsRefused() throws Exception {
    String db = TestStorage.get().newDatabase("ForeignSchema");
    try (Connection c = TestStorage.connect(db); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE somebody_elses (id int)");
    }
    assertThatThrownBy(() -> Database.migrate(db)).hasMessageContaining("non-empty schema")
      .hasMessageContaining("no schema history table");
    try (Connection c = TestStorage.connect(db); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("""
           SELECT to_regclass('somebody_elses') IS NOT NULL AS kept, to_regclass('flyway_schema_history') AS history,
                  to_regclass('jobs') AS jobs""")) {
      rs.next();
      assertThat(rs.getBoolean("kept")).isTrue();
      assertThat(rs.getString("history")).isNull();
      assertThat(rs.getString("jobs")).isNull();
    }
  }

  /** A fresh database whose Flyway history holds the given "version|description" rows, as Flyway writes them. */
  private static String databaseWithHistory(String hint, String... rows) throws Exception {
    String db = TestStorage.get().newDatabase(hint);
    try (Connection c = TestStorage.connect(db); Statement st = c.createStatement()) {
      st.execute("""
        CREATE TABLE flyway_schema_history (
          installed_rank int           NOT NULL PRIMARY KEY,
          version        varchar(50),
          description    varchar(200)  NOT NULL,
          type           varchar(20)   NOT NULL,
          script         varchar(1000) NOT NULL,
          checksum       int,
          installed_by   varchar(100)  NOT NULL,
          installed_on   timestamp     NOT NULL DEFAULT now(),
          execution_time int           NOT NULL,
          success        boolean       NOT NULL)""");
      st.execute("CREATE TABLE jobs (id uuid PRIMARY KEY)");
      for (int i = 0; i < rows.length; i++) {
        String[] row = rows[i].split("\\|");
        st.execute("INSERT INTO flyway_schema_history VALUES (%d, '%s', '%s', 'SQL', 'V%s__%s.sql', %d, 'postgres', "
          .formatted(i + 1, row[0], row[1], row[0], row[1].replace(' ', '_'), 1_000_000 + i) + "now(), 5, true)");
      }
    }
    return db;
  }

  private static int historyRows(String db) throws Exception {
    try (Connection c = TestStorage.connect(db); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM flyway_schema_history")) {
      rs.next();
      return rs.getInt(1);
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
