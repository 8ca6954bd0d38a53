package dev.boxoffice.cron;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Database;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Cron: each tick enqueues one job across the whole cluster, and a restart runs a missed tick once. */
@ExtendWith(VertxExtension.class)
class CronSchedulerTest {
  private static final JsonObject EXTRA = new JsonObject()
    .put("every_second", new JsonObject().put("cron", "* * * * * *").put("seconds", true)
      .put("type", "text.process").put("payload", new JsonObject().put("data", "tick")))
    .put("every_minute", new JsonObject().put("cron", "* * * * *")
      .put("type", "text.process").put("payload", new JsonObject().put("data", "minute")));

  @Test
  void twoSchedulerNodesEnqueueExactlyOneJobPerTick(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("CronSchedulerTest");
    String cluster = "cron-" + UUID.randomUUID().toString().substring(0, 8);
    int p1 = TestStorage.freePort();
    int p2 = TestStorage.freePort();
    JsonObject base = settings(db).put("roles", "workers,scheduler");
    Boxoffice.Node a = null;
    Boxoffice.Node b = null;
    Pool pool = Database.pool(vertx, db, 2);
    try {
      a = TestNodes.start(TestNodes.clustered(base, cluster, p1, p1, p2), true);
      b = TestNodes.start(TestNodes.clustered(base.copy().put("http_port", TestStorage.freePort()), cluster, p2,
        p1, p2), true);
      assertThat(b.platform().membership().members()).hasSize(2);
      Instant from = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
      Thread.sleep(4_000);
      Instant to = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(1);
      // a busy machine may record a tick late; it must still be recorded
      eventually(() -> assertThat(count(pool, "SELECT count(*) AS n FROM cron_ticks WHERE schedule = $1 AND tick = $2",
        Tuple.of("every_second", to.atOffset(ZoneOffset.UTC)))).as("tick %s of every_second", to).isPositive());

      RowSet<Row> ticks = await(pool.preparedQuery("""
          SELECT t.tick, t.job_id, t.fired_by, j.unique_key, j.type, j.owner FROM cron_ticks t LEFT JOIN jobs j ON j.id = t.job_id
          WHERE t.schedule = 'every_second' AND t.tick BETWEEN $1 AND $2 ORDER BY t.tick""")
        .execute(Tuple.of(from.atOffset(ZoneOffset.UTC), to.atOffset(ZoneOffset.UTC))));
      List<Instant> seen = new ArrayList<>();
      List<String> nodes = List.of(a.platform().membership().nodeId(), b.platform().membership().nodeId());
      for (Row row : ticks) {
        Instant tick = row.getOffsetDateTime("tick").toInstant();
        seen.add(tick);
        assertThat(row.getString("fired_by")).isIn(nodes);
        assertThat(row.getUUID("job_id")).isNotNull();
        assertThat(row.getString("unique_key")).isEqualTo("cron:every_second:" + tick);
        assertThat(row.getString("type")).isEqualTo("text.process");
        assertThat(row.getString("owner")).isEqualTo("system");
      }
      List<Instant> expected = new ArrayList<>();
      for (Instant t = from; !t.isAfter(to); t = t.plusSeconds(1)) {
        expected.add(t);
      }
      assertThat(expected).hasSizeGreaterThanOrEqualTo(3);
      assertThat(seen).as("every second in the window ticked once").isEqualTo(expected);

      // never two jobs for one tick, and exactly as many jobs as recorded ticks
      assertThat(await(pool.query("""
          SELECT unique_key FROM jobs WHERE unique_key LIKE 'cron:%' GROUP BY unique_key HAVING count(*) > 1""")
        .execute()).size()).isZero();
      long jobs = await(pool.query("SELECT count(*) AS n FROM jobs WHERE unique_key LIKE 'cron:every_second:%'")
        .execute()).iterator().next().getLong("n");
      long recorded = await(pool.query("SELECT count(*) AS n FROM cron_ticks WHERE schedule = 'every_second'")
        .execute()).iterator().next().getLong("n");
      assertThat(jobs).isEqualTo(recorded);
    } finally {
      TestNodes.stop(b);
      TestNodes.stop(a);
      await(pool.close());
    }
  }

  @Test
  void aRestartRunsTheLatestMissedTickOnceNotOncePerMissedTick(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("CronSchedulerTest");
    JsonObject settings = settings(db).put("roles", "scheduler");
    Pool pool = Database.pool(vertx, db, 2);
    Boxoffice.Node node = null;
    try {
      // first start: a schedule never seen before has missed nothing
      Instant firstStart = Instant.now();
      TestNodes.stop(TestNodes.start(settings, false));
      assertThat(count(pool, "SELECT count(*) AS n FROM cron_ticks WHERE schedule = 'every_minute' AND tick < $1",
        Tuple.of(firstStart.atOffset(ZoneOffset.UTC)))).isZero();
      assertThat(count(pool, "SELECT count(*) AS n FROM cron_state WHERE schedule = 'every_minute'", Tuple.tuple()))
        .isEqualTo(1);

      // the cluster was down for ten minutes: ten per-minute ticks were missed
      await(pool.query("DELETE FROM jobs WHERE unique_key LIKE 'cron:every_minute:%'").execute());
      await(pool.query("DELETE FROM cron_ticks WHERE schedule = 'every_minute'").execute());
      await(pool.query("UPDATE cron_state SET last_tick = now() - interval '10 minutes' "
        + "WHERE schedule = 'every_minute'").execute());

      // keep the restart clear of a minute boundary, so no regular tick joins the catch-up
      int second = Instant.now().atOffset(ZoneOffset.UTC).getSecond();
      if (second > 45) {
        Thread.sleep((61 - second) * 1000L);
      }
      Instant before = Instant.now();
      node = TestNodes.start(settings, false); // start returns once the missed-tick check has run
      Instant after = Instant.now();
      Instant due = before.truncatedTo(ChronoUnit.MINUTES);
      assertThat(after.truncatedTo(ChronoUnit.MINUTES)).as("the restart stayed within one minute").isEqualTo(due);

      RowSet<Row> ticks = await(pool.query("SELECT tick, job_id FROM cron_ticks WHERE schedule = 'every_minute'")
        .execute());
      assertThat(ticks.size()).as("one catch-up tick, not ten").isEqualTo(1);
      Row tick = ticks.iterator().next();
      assertThat(tick.getOffsetDateTime("tick").toInstant()).isEqualTo(due);
      RowSet<Row> jobs = await(pool.query("SELECT id, unique_key, owner, payload FROM jobs "
        + "WHERE unique_key LIKE 'cron:every_minute:%'").execute());
      assertThat(jobs.size()).isEqualTo(1);
      Row job = jobs.iterator().next();
      assertThat(job.getUUID("id")).isEqualTo(tick.getUUID("job_id"));
      assertThat(job.getString("unique_key")).isEqualTo("cron:every_minute:" + due);
      assertThat(job.getString("owner")).isEqualTo("system");
      assertThat(job.getJsonObject("payload")).isEqualTo(new JsonObject().put("data", "minute"));
      assertThat(await(pool.query("SELECT last_tick FROM cron_state WHERE schedule = 'every_minute'").execute())
        .iterator().next().getOffsetDateTime("last_tick").toInstant()).isEqualTo(due);
    } finally {
      TestNodes.stop(node);
      await(pool.close());
    }
  }

  @Test
  void schedulesComeFromConfiguration() {
    AppConfig config = AppConfig.of(new JsonObject().put("users_sync_cron", "off").put("enrich_batch_size", 7)
      .put("cron_extra", EXTRA.encode()));
    List<CronSchedule> schedules = CronSchedules.fromConfig(config);
    assertThat(schedules).extracting(CronSchedule::name)
      .containsExactlyInAnyOrder("enrich_addresses", "enrich_cards", "every_second", "every_minute");
    CronSchedule cards = schedules.stream().filter(s -> s.name().equals("enrich_cards")).findFirst().orElseThrow();
    assertThat(cards.type()).isEqualTo("users.enrich_cards");
    assertThat(cards.payload()).isEqualTo(new JsonObject().put("batch_size", 7));
    assertThat(cards.next(Instant.parse("2030-01-01T10:05:00Z"))).isEqualTo(Instant.parse("2030-01-01T10:10:00Z"));
    assertThat(cards.latestDue(Instant.parse("2030-01-01T10:10:00Z"))).isEqualTo(Instant.parse("2030-01-01T10:10:00Z"));
    assertThat(cards.latestDue(Instant.parse("2030-01-01T10:19:59Z"))).isEqualTo(Instant.parse("2030-01-01T10:10:00Z"));
    CronSchedule everySecond = schedules.stream().filter(s -> s.name().equals("every_second")).findFirst()
      .orElseThrow();
    assertThat(everySecond.next(Instant.parse("2030-01-01T10:00:00.500Z"))).isEqualTo(Instant.parse("2030-01-01T10:00:01Z"));
    assertThat(everySecond.uniqueKey(Instant.parse("2030-01-01T10:00:01Z"))).isEqualTo("cron:every_second:2030-01-01T10:00:01Z");

    assertThatThrownBy(() -> CronSchedules.fromConfig(AppConfig.of(new JsonObject().put("users_sync_cron", "61 * * * *"))))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("users_sync_cron");
    assertThatThrownBy(() -> CronSchedules.fromConfig(AppConfig.of(new JsonObject()
      .put("cron_extra", new JsonObject().put("x", new JsonObject().put("cron", "* * * * *"))))))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cron_extra.x");
  }

  private static JsonObject settings(String db) {
    return TestNodes.settings(db, TestStorage.redisPrefix("CronSchedulerTest"))
      .mergeIn(TestNodes.noUserCrons())
      .put("cron_extra", EXTRA);
  }

  private static long count(Pool pool, String sql, Tuple args) throws Exception {
    return await(pool.preparedQuery(sql).execute(args)).iterator().next().getLong("n");
  }
}
