package dev.boxoffice.users;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.boxoffice.Boxoffice;
import dev.boxoffice.jobs.FailureLog;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Outbound calls by choice: a prod node calls no user provider (no sync, no enrichment, no schedule) until
 * {@code users_provider_url} is set; and a scheduled job that fails says so at WARN on every failed attempt, not only
 * once it is dead.
 */
@ExtendWith(VertxExtension.class)
class UsersInProdTest {
  private static final String PROD_SECRET = "a-production-secret-of-more-than-32-characters";
  /** Where each node records the job types it handles (jobs/JobWorkers): what its engines claim. */
  private static final String LOCAL_TYPES = "boxoffice.jobs.local-types";
  private static final Set<String> USER_TYPES = Set.of(UsersJobs.SYNC, UsersJobs.ENRICH_ADDRESSES,
    UsersJobs.ENRICH_CARDS);
  /** A schedule that lets the test see the scheduler ran (it records every schedule it runs when it starts). */
  private static final JsonObject NIGHTLY = new JsonObject().put("nightly", new JsonObject().put("cron", "0 3 * * *")
    .put("type", "text.process").put("payload", new JsonObject().put("data", "nightly")));

  @Test
  void aProdNodeWithoutAProviderUrlHandlesNoUserJobAndSchedulesNone() throws Exception {
    String db = TestStorage.get().newDatabase("UsersInProdOff");
    Boxoffice.Node node = TestNodes.start(prod(db, "UsersInProdOff").put("users_provider_url", null)
      .put("cron_extra", NIGHTLY), false);
    try {
      assertThat(node.platform().config().usersProviderUrl()).isNull();
      Set<Object> handled = node.vertx().sharedData().getLocalMap(LOCAL_TYPES).keySet();
      assertThat(handled).as("the node works").contains("text.process");
      assertThat(handled).as("no handler that could call a provider").doesNotContainAnyElementsOf(USER_TYPES);
      assertThat(schedules(node)).as("the scheduler ran, without the user schedules").containsExactly("nightly");
      assertThat(count(node, "SELECT count(*) FROM jobs WHERE type LIKE 'users.%'")).isZero();
    } finally {
      TestNodes.stop(node);
    }
  }

  @Test
  void aProdNodeGivenAProviderUrlSyncsAndSchedulesTheUserJobs(Vertx vertx) throws Exception {
    FakeProvider fake = FakeProvider.start(vertx, 5);
    String db = TestStorage.get().newDatabase("UsersInProdOn");
    Boxoffice.Node node = TestNodes.start(prod(db, "UsersInProdOn").put("users_provider_url", fake.url())
      .put("cron_extra", NIGHTLY), false);
    try {
      assertThat(schedules(node)).containsExactlyInAnyOrder("nightly", "users_sync", "enrich_addresses",
        "enrich_cards");
      UsersTesting.succeeded(UsersTesting.run(node.platform().pool(), UsersJobs.SYNC, new JsonObject()));
      assertThat(fake.listCalls.get()).isPositive();
    } finally {
      TestNodes.stop(node);
      await(fake.close());
    }
  }

  @Test
  void aFailingScheduledJobLogsAWarningAtEachFailedAttempt(Vertx vertx) throws Exception {
    FakeProvider fake = FakeProvider.start(vertx, 5);
    fake.listStatus = 503; // the provider is down: every attempt fails, retryably
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    Logger failures = (Logger) LoggerFactory.getLogger(FailureLog.class);
    lines.start();
    failures.addAppender(lines);
    String db = TestStorage.get().newDatabase("UsersInProdWarn");
    Boxoffice.Node node = TestNodes.start(prod(db, "UsersInProdWarn").mergeIn(TestNodes.noUserCrons())
      .put("users_provider_url", fake.url()).put("users_provider_tries", 1)
      .put("cron_extra", new JsonObject().put("sync_every_second", new JsonObject().put("cron", "* * * * * *")
        .put("seconds", true).put("type", UsersJobs.SYNC))), false);
    try {
      // the same failure, not scheduled: its retries are no WARN (only its death would be)
      UUID unscheduled = await(JobQueue.enqueue(node.platform().pool(), NewJob.of(UsersJobs.SYNC, new JsonObject())))
        .id();
      UUID scheduled = eventually(() -> node.platform().pool().query("""
          SELECT j.id FROM cron_ticks t JOIN jobs j ON j.id = t.job_id
          WHERE t.schedule = 'sync_every_second' ORDER BY t.tick LIMIT 1""").execute(), rows -> rows.size() == 1)
        .iterator().next().getUUID("id");

      eventually(() -> assertThat(warnings(lines, scheduled)).as("one WARN per failed attempt")
        .hasSizeGreaterThanOrEqualTo(2));
      List<String> warned = warnings(lines, scheduled);
      assertThat(warned.get(0)).contains("scheduled job " + scheduled + " (users.sync) failed attempt 1 of 5")
        .contains("next attempt at").contains("HTTP 503");
      assertThat(warned.get(1)).contains("failed attempt 2 of 5");

      eventually(() -> assertThat(count(node, "SELECT attempts FROM jobs WHERE id = '" + unscheduled + "'"))
        .isGreaterThanOrEqualTo(2));
      assertThat(warnings(lines, unscheduled)).isEmpty();
    } finally {
      failures.detachAppender(lines);
      TestNodes.stop(node);
      await(fake.close());
    }
  }

  private static JsonObject prod(String db, String name) {
    return TestNodes.settings(db, TestStorage.redisPrefix(name)).put("profile", "prod").put("jwt_secret", PROD_SECRET)
      .put("users_provider_timeout_ms", 1000).put("users_provider_backoff_ms", 20);
  }

  private static List<String> warnings(ListAppender<ILoggingEvent> lines, UUID job) {
    List<ILoggingEvent> events;
    synchronized (lines) { // the appender appends under its own lock
      events = List.copyOf(lines.list);
    }
    return events.stream().filter(e -> e.getLevel() == Level.WARN)
      .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(job.toString())).toList();
  }

  private static List<String> schedules(Boxoffice.Node node) throws Exception {
    List<String> names = new ArrayList<>();
    for (Row r : await(node.platform().pool().query("SELECT schedule FROM cron_state ORDER BY schedule").execute())) {
      names.add(r.getString(0));
    }
    return names;
  }

  private static long count(Boxoffice.Node node, String sql) throws Exception {
    Row row = await(node.platform().pool().query(sql).execute()).iterator().next();
    return ((Number) row.getValue(0)).longValue();
  }
}
