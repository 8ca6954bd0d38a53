package dev.boxoffice.users;

import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;

/** Shared fixtures of the user directory tests: node settings, running a job to its end, card-number scans. */
final class UsersTesting {
  private UsersTesting() {
  }

  /** A node without the scheduler role (no cron run may interfere), pointed at the fake provider. */
  static JsonObject settings(String db, String prefix, FakeProvider fake) {
    return TestNodes.settings(db, prefix)
      .put("roles", "http,workers")
      .put("users_provider_url", fake.url())
      .put("users_provider_timeout_ms", 1000)
      .put("users_provider_tries", 3)
      .put("users_provider_backoff_ms", 20)
      .put("enrich_batch_size", 20);
  }

  static String newDatabase(String name) {
    return TestStorage.get().newDatabase(name);
  }

  static UUID enqueue(Pool pool, String type, JsonObject payload) {
    return await(JobQueue.enqueue(pool, NewJob.of(type, payload))).id();
  }

  /** Runs a job through the real engine and returns its row once it is succeeded or dead. */
  static JobRow run(Pool pool, String type, JsonObject payload) {
    return finished(pool, enqueue(pool, type, payload));
  }

  static JobRow finished(Pool pool, UUID job) {
    return eventually(() -> JobQueue.get(pool, job).map(Optional::orElseThrow),
      j -> Set.of("succeeded", "dead", "cancelled").contains(j.status()));
  }

  /** The job's result, failing the test (with its last error) unless it succeeded. */
  static JsonObject succeeded(JobRow job) {
    if (!"succeeded".equals(job.status())) {
      throw new AssertionError("job " + job.type() + " ended " + job.status() + ": " + job.lastError());
    }
    return job.result();
  }

  static long count(Pool pool, String sql) {
    return await(pool.query(sql).execute()).iterator().next().getLong(0);
  }

  /** Every full card number the fake provider knows, in the forms it sends and as bare digits. */
  static List<String> fullCardNumbers(FakeProvider fake) {
    List<String> out = new ArrayList<>();
    for (long id = 1; id <= fake.count(); id++) {
      if (FakeProvider.hasCard(id)) {
        String digits = FakeProvider.cardDigits(id);
        out.add(digits);
        out.add(digits.replaceAll("(.{4})(?!$)", "$1 "));
        out.add(digits.substring(0, 12)); // anything beyond the last four digits is too much
      }
    }
    return out;
  }

  /** Rows, in any table of the database, whose text form contains one of the needles; each as "table: row". */
  static List<String> rowsContaining(Pool pool, List<String> needles) {
    List<String> tables = new ArrayList<>();
    for (Row r : await(pool.query("""
        SELECT DISTINCT table_schema, table_name FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')""").execute())) {
      tables.add("\"" + r.getString("table_schema") + "\".\"" + r.getString("table_name") + "\"");
    }
    assertNotEmpty(tables);
    String[] patterns = needles.stream().map(n -> "%" + n + "%").toArray(String[]::new);
    List<String> hits = new ArrayList<>();
    for (String table : tables) {
      for (Row r : await(pool.preparedQuery("SELECT t::text AS row FROM " + table + " t WHERE t::text LIKE ANY($1)")
          .execute(io.vertx.sqlclient.Tuple.of((Object) patterns)))) {
        hits.add(table + ": " + r.getString("row"));
      }
    }
    return hits;
  }

  private static void assertNotEmpty(List<String> tables) {
    if (!tables.contains("\"public\".\"cards\"") || !tables.contains("\"public\".\"jobs\"")) {
      throw new AssertionError("the scan does not see the tables it must: " + tables);
    }
  }
}
