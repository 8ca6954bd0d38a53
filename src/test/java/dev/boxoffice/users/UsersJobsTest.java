package dev.boxoffice.users;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.users.UsersTesting.count;
import static dev.boxoffice.users.UsersTesting.finished;
import static dev.boxoffice.users.UsersTesting.run;
import static dev.boxoffice.users.UsersTesting.succeeded;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sync and enrichment end to end: jobs enqueued into the real engine, a fake DummyJSON provider over HTTP, and
 * PostgreSQL. Two worker nodes share the database, as two instances of the service would. Each test starts from an
 * empty directory and a well-behaved provider, then switches on the faults it is about.
 */
@ExtendWith(VertxExtension.class)
class UsersJobsTest {
  private static final int USERS = 250;
  private static FakeProvider fake;
  private static Vertx fakeVertx;
  private static Boxoffice.Node node;
  private static Boxoffice.Node second;
  private static Pool pool;

  @BeforeAll
  static void start() throws Exception {
    fakeVertx = Vertx.vertx();
    fake = FakeProvider.start(fakeVertx, USERS);
    String db = UsersTesting.newDatabase("UsersJobsTest");
    JsonObject settings = UsersTesting.settings(db, TestStorage.redisPrefix("UsersJobsTest"), fake);
    node = TestNodes.start(settings, false);
    second = TestNodes.start(settings.copy().put("roles", "workers"), false);
    pool = node.platform().pool();
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(second);
    TestNodes.stop(node);
    if (fakeVertx != null) {
      await(fakeVertx.close());
    }
  }

  @BeforeEach
  void emptyDirectory() throws Exception {
    fake.reset();
    await(pool.query("TRUNCATE users CASCADE").execute());
  }

  @Test
  void syncFillsTheWholeDirectoryPageByPage() throws Exception {
    JsonObject result = succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));

    assertThat(result.getLong("synced")).isEqualTo(USERS);
    assertThat(result.getLong("created")).isEqualTo(USERS);
    assertThat(result.getInteger("pages")).isEqualTo(3);
    assertThat(count(pool, "SELECT count(*) FROM users")).isEqualTo(USERS);
    assertThat(count(pool, "SELECT count(DISTINCT external_id) FROM users")).isEqualTo(USERS);
    assertThat(fake.listCalls.get()).isEqualTo(3);
    JsonObject u137 = userRow(137);
    JsonObject p137 = fake.get(137);
    assertThat(u137.getString("first_name")).isEqualTo(p137.getString("firstName"));
    assertThat(u137.getString("last_name")).isEqualTo(p137.getString("lastName"));
    assertThat(u137.getString("email")).isEqualTo(p137.getString("email"));
    assertThat(u137.getString("phone")).isEqualTo(p137.getString("phone"));
    assertThat(u137.getString("username")).isEqualTo(p137.getString("username"));
    // sync stores the directory only; address and card wait for their enrichment jobs
    assertThat(count(pool, "SELECT count(*) FROM addresses")).isZero();
    assertThat(count(pool, "SELECT count(*) FROM cards")).isZero();
  }

  @Test
  void aSecondSyncUpdatesInPlaceAndCreatesNoDuplicates() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    Map<Long, Long> idsBefore = internalIds();
    int changed = fake.renameEmails(id -> id % 25 == 0, "moved");

    JsonObject again = succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));

    assertThat(again.getLong("synced")).isEqualTo(USERS);
    assertThat(again.getLong("created")).isZero();
    assertThat(again.getLong("updated")).isEqualTo(changed);
    assertThat(again.getLong("unchanged")).isEqualTo(USERS - changed);
    assertThat(count(pool, "SELECT count(*) FROM users")).isEqualTo(USERS);
    assertThat(internalIds()).isEqualTo(idsBefore);
    assertThat(userRow(50).getString("email")).isEqualTo("user50.moved@example.test");
    assertThat(userRow(51).getString("email")).isEqualTo("user51@example.test");
    assertThat(count(pool, "SELECT count(*) FROM users WHERE updated_at > created_at")).isEqualTo(changed);
  }

  @Test
  void addressEnrichmentWorksThroughTheDirectoryInBatches() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));

    JsonObject first = succeeded(run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", 100)));
    assertThat(first.getInteger("picked")).isEqualTo(100);
    assertThat(first.getInteger("enriched")).isEqualTo(90); // every 10th user has no address at the provider
    assertThat(first.getInteger("skipped")).isEqualTo(10);
    assertThat(count(pool, "SELECT count(*) FROM addresses")).isEqualTo(90);
    assertThat(count(pool, "SELECT max(u.external_id) FROM users u WHERE address_checked_at IS NOT NULL"))
      .isEqualTo(100);

    JsonObject rest = succeeded(run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", 1000)));
    assertThat(rest.getInteger("picked")).isEqualTo(150);
    assertThat(rest.getInteger("enriched")).isEqualTo(135);
    JsonObject nothingLeft = succeeded(run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject()));
    assertThat(nothingLeft.getInteger("picked")).isZero();

    assertThat(count(pool, "SELECT count(*) FROM addresses")).isEqualTo(225);
    assertThat(count(pool, "SELECT count(*) FROM addresses a JOIN users u ON u.id = a.user_id "
      + "WHERE u.external_id % 10 = 0")).isZero();
    JsonObject a = await(pool.query("""
        SELECT a.* FROM addresses a JOIN users u ON u.id = a.user_id WHERE u.external_id = 42""").execute())
      .iterator().next().toJson();
    JsonObject sent = fake.get(42).getJsonObject("address");
    assertThat(a.getString("address")).isEqualTo(sent.getString("address"));
    assertThat(a.getString("city")).isEqualTo(sent.getString("city"));
    assertThat(a.getString("state")).isEqualTo(sent.getString("state"));
    assertThat(a.getString("state_code")).isEqualTo(sent.getString("stateCode"));
    assertThat(a.getString("postal_code")).isEqualTo(sent.getString("postalCode"));
    assertThat(a.getString("country")).isEqualTo(sent.getString("country"));
    assertThat(a.getDouble("lat")).isEqualTo(sent.getJsonObject("coordinates").getDouble("lat"));
    assertThat(a.getDouble("lng")).isEqualTo(sent.getJsonObject("coordinates").getDouble("lng"));
    // the card enrichment is independent
    assertThat(count(pool, "SELECT count(*) FROM users WHERE card_checked_at IS NOT NULL")).isZero();
  }

  @Test
  void cardEnrichmentKeepsOnlyLastFourDigitsTypeAndExpiry() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));

    JsonObject result = succeeded(run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", USERS)));

    long withCards = java.util.stream.LongStream.rangeClosed(1, USERS).filter(FakeProvider::hasCard).count();
    assertThat(result.getInteger("enriched")).isEqualTo((int) withCards);
    assertThat(result.getInteger("skipped")).isEqualTo(USERS - (int) withCards);
    assertThat(count(pool, "SELECT count(*) FROM cards")).isEqualTo(withCards);
    for (Row row : await(pool.query("""
        SELECT u.external_id, c.last4, c.card_type, c.expire_month, c.expire_year
        FROM cards c JOIN users u ON u.id = c.user_id""").execute())) {
      long id = row.getLong("external_id");
      String digits = FakeProvider.cardDigits(id);
      assertThat(row.getString("last4")).isEqualTo(digits.substring(digits.length() - 4));
      assertThat(row.getString("card_type")).isEqualTo(fake.get(id).getJsonObject("bank").getString("cardType"));
      // "MM/YY" (odd ids) and "MM/YYYY" (even ids) both mean the same month of the same century
      assertThat(row.getShort("expire_month").intValue()).as("month of %s", id).isEqualTo(FakeProvider.expireMonth(id));
      assertThat(row.getShort("expire_year").intValue()).as("year of %s", id).isEqualTo(FakeProvider.expireYear(id));
    }
    assertThat(count(pool, "SELECT count(*) FROM users WHERE card_checked_at IS NULL")).isZero();
    assertThat(UsersTesting.rowsContaining(pool, UsersTesting.fullCardNumbers(fake))).isEmpty();
  }

  @Test
  void aUserTheProviderNoLongerKnowsIsSkippedNotFatal() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    fake.notFound.add(3L);

    JsonObject result = succeeded(run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", 5)));

    assertThat(result.getInteger("enriched")).isEqualTo(4);
    assertThat(result.getInteger("skipped")).isEqualTo(1);
    assertThat(count(pool, "SELECT count(*) FROM addresses a JOIN users u ON u.id = a.user_id "
      + "WHERE u.external_id = 3")).isZero();
    assertThat(count(pool, "SELECT count(*) FROM users WHERE external_id = 3 AND address_checked_at IS NOT NULL"))
      .isEqualTo(1);
  }

  @Test
  void transientServerErrorsAreRetriedInsideTheAttempt() throws Exception {
    fake.failNext.set(2);

    JobRow job = run(pool, UsersJobs.SYNC, new JsonObject());

    assertThat(succeeded(job).getLong("synced")).isEqualTo(USERS);
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(fake.faultsServed.get()).isEqualTo(2);
    assertThat(count(pool, "SELECT count(*) FROM users")).isEqualTo(USERS);
  }

  @Test
  void tooManyRequestsIsRetriedLikeAServerError() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    fake.failStatus = 429;
    fake.failNext.set(2);

    JobRow job = run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", 3));

    assertThat(succeeded(job).getInteger("enriched")).isEqualTo(3);
    assertThat(job.attempts()).isEqualTo(1);
  }

  @Test
  void aProviderDownLongerThanOneAttemptIsRetriedByTheEngine() throws Exception {
    // 3 calls per attempt: the first attempt sees only 503s, the second gets through after one more
    fake.failStatus = 503;
    fake.failNext.set(4);

    JobRow job = run(pool, UsersJobs.SYNC, new JsonObject());

    assertThat(succeeded(job).getLong("synced")).isEqualTo(USERS);
    assertThat(job.attempts()).isEqualTo(2);
    assertThat(fake.faultsServed.get()).isEqualTo(4);
    assertThat(count(pool, "SELECT count(*) FROM users")).isEqualTo(USERS);
  }

  @Test
  void aProviderThatNeverRecoversLeavesADeadJobWithTheLastError() throws Exception {
    fake.failNext.set(1_000);

    JobRow job = finished(pool, await(JobQueue.enqueue(pool, NewJob.of(UsersJobs.SYNC, new JsonObject())
      .maxAttempts(2))).id());

    assertThat(job.status()).isEqualTo("dead");
    assertThat(job.attempts()).isEqualTo(2);
    assertThat(job.lastError())
      .isEqualTo("users provider: GET " + fake.url() + "/users?limit=100&skip=0&select="
        + UsersProvider.DIRECTORY_FIELDS + " failed after 3 tries: HTTP 500");
    assertThat(count(pool, "SELECT count(*) FROM users")).isZero();
  }

  @Test
  void answersSlowerThanTheTimeoutAreRetried() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    fake.slowNext.set(2);

    JobRow job = run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", 4));

    assertThat(succeeded(job).getInteger("enriched")).isEqualTo(4);
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(fake.faultsServed.get()).isEqualTo(2);
  }

  @Test
  void timeoutsOnEveryTryFailTheAttemptWithAClearError() throws Exception {
    fake.slowNext.set(3);

    JobRow job = finished(pool, await(JobQueue.enqueue(pool, NewJob.of(UsersJobs.SYNC, new JsonObject())
      .maxAttempts(1))).id());

    assertThat(job.status()).isEqualTo("dead");
    assertThat(job.lastError()).endsWith("failed after 3 tries: no answer within 1000 ms");
  }

  @Test
  void aMalformedPageEndsInADeadJobAndNoHalfWrittenUsers() throws Exception {
    fake.malformedAtSkip = 100;

    JobRow job = run(pool, UsersJobs.SYNC, new JsonObject());

    assertThat(job.status()).isEqualTo("dead");
    assertThat(job.attempts()).as("not retried").isEqualTo(1);
    assertThat(job.lastError()).isEqualTo("users provider: GET " + fake.url()
      + "/users?limit=100&skip=100&select=" + UsersProvider.DIRECTORY_FIELDS
      + " answered a malformed body (not JSON)");
    // the first page was written whole, the broken one not at all
    assertThat(count(pool, "SELECT count(*) FROM users")).isEqualTo(100);
    assertThat(count(pool, "SELECT max(external_id) FROM users")).isEqualTo(100);
    assertCompleteUsers();
  }

  @Test
  void aPageWithAUserWithoutIdEndsInADeadJobNamingIt() throws Exception {
    fake.missingIdAtSkip = 200;

    JobRow job = run(pool, UsersJobs.SYNC, new JsonObject());

    assertThat(job.status()).isEqualTo("dead");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.lastError()).startsWith("users provider: GET " + fake.url() + "/users?")
      .endsWith("skip=200&select=" + UsersProvider.DIRECTORY_FIELDS
        + " (user #4 of the page) has no valid \"id\"");
    assertThat(count(pool, "SELECT count(*) FROM users")).isEqualTo(200);
    assertCompleteUsers();
  }

  @Test
  void aRefusedRequestEndsInADeadJobAtOnce() throws Exception {
    fake.listStatus = 403;

    JobRow job = run(pool, UsersJobs.SYNC, new JsonObject());

    assertThat(job.status()).isEqualTo("dead");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(fake.listCalls.get()).as("no retry of a 4xx").isEqualTo(1);
    assertThat(job.lastError()).startsWith("users provider: GET " + fake.url() + "/users?")
      .contains("answered HTTP 403");
    assertThat(count(pool, "SELECT count(*) FROM users")).isZero();
  }

  @Test
  void aMalformedUserDetailStopsTheBatchWithEveryUserWholeOrUntouched() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    fake.malformedDetail.add(4L);

    JobRow job = run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", 10));

    assertThat(job.status()).isEqualTo("dead");
    assertThat(job.lastError())
      .isEqualTo("users provider: GET " + fake.url() + "/users/4 answered a malformed body (not JSON)");
    assertThat(cardHolders()).containsExactly(1L, 2L, 3L);
    assertThat(count(pool, "SELECT count(*) FROM users WHERE card_checked_at IS NOT NULL")).isEqualTo(3);
    assertThat(UsersTesting.rowsContaining(pool, UsersTesting.fullCardNumbers(fake))).isEmpty();

    fake.malformedDetail.clear();
    JsonObject next = succeeded(run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", 10)));
    assertThat(next.getInteger("picked")).isEqualTo(10);
    assertThat(cardHolders()).startsWith(1L, 2L, 3L, 4L, 5L);
  }

  @Test
  void aBadBatchSizeIsRefusedWithoutRetries() throws Exception {
    JobRow job = run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", 0));

    assertThat(job.status()).isEqualTo("dead");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.lastError()).isEqualTo("batch_size must be a whole number from 1 to 1000");
  }

  @Test
  void enrichmentsRunningAtTheSameTimeOnTwoNodesCreateNoDuplicates() throws Exception {
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    fake.detailDelayMillis = 3; // keeps the runs overlapping

    // committed together: both nodes see six jobs due at once and race for the same users
    List<UUID> jobs = await(pool.withTransaction(tx -> Future.all(List.of(
        JobQueue.enqueue(tx, NewJob.of(UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", USERS))),
        JobQueue.enqueue(tx, NewJob.of(UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", USERS))),
        JobQueue.enqueue(tx, NewJob.of(UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", USERS))),
        JobQueue.enqueue(tx, NewJob.of(UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", USERS))),
        JobQueue.enqueue(tx, NewJob.of(UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", USERS))),
        JobQueue.enqueue(tx, NewJob.of(UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", USERS)))))
      .map(all -> all.<JobQueue.Enqueued>list().stream().map(JobQueue.Enqueued::id).toList())));

    int addressRuns = 0;
    for (UUID id : jobs) {
      JobRow job = finished(pool, id);
      JsonObject result = succeeded(job);
      assertThat(job.attempts()).isEqualTo(1);
      if (UsersJobs.ENRICH_ADDRESSES.equals(job.type()) && result.getInteger("picked") > 0) {
        addressRuns++;
      }
    }
    assertThat(addressRuns).as("runs that overlapped").isGreaterThanOrEqualTo(2);
    long withAddress = java.util.stream.LongStream.rangeClosed(1, USERS).filter(FakeProvider::hasAddress).count();
    long withCard = java.util.stream.LongStream.rangeClosed(1, USERS).filter(FakeProvider::hasCard).count();
    assertThat(count(pool, "SELECT count(*) FROM addresses")).isEqualTo(withAddress);
    assertThat(count(pool, "SELECT count(DISTINCT user_id) FROM addresses")).isEqualTo(withAddress);
    assertThat(count(pool, "SELECT count(*) FROM cards")).isEqualTo(withCard);
    assertThat(count(pool, "SELECT count(*) FROM users")).isEqualTo(USERS);
    assertThat(count(pool, "SELECT count(*) FROM users WHERE address_checked_at IS NULL OR card_checked_at IS NULL"))
      .isZero();
  }

  // ------------------------------------------------------------------ helpers

  private static JsonObject userRow(long externalId) throws Exception {
    return await(pool.preparedQuery("SELECT * FROM users WHERE external_id = $1").execute(Tuple.of(externalId)))
      .iterator().next().toJson();
  }

  private static Map<Long, Long> internalIds() throws Exception {
    Map<Long, Long> ids = new HashMap<>();
    for (Row r : await(pool.query("SELECT id, external_id FROM users").execute())) {
      ids.put(r.getLong("external_id"), r.getLong("id"));
    }
    return ids;
  }

  private static List<Long> cardHolders() throws Exception {
    List<Long> ids = new java.util.ArrayList<>();
    for (Row r : await(pool.query(
      "SELECT u.external_id FROM cards c JOIN users u ON u.id = c.user_id ORDER BY u.external_id").execute())) {
      ids.add(r.getLong(0));
    }
    return ids;
  }

  /** Every stored user matches the provider's entry field for field. */
  private static void assertCompleteUsers() throws Exception {
    for (Row r : await(pool.query("SELECT * FROM users").execute())) {
      JsonObject sent = fake.get(r.getLong("external_id"));
      assertThat(r.getString("first_name")).isEqualTo(sent.getString("firstName"));
      assertThat(r.getString("last_name")).isEqualTo(sent.getString("lastName"));
      assertThat(r.getString("email")).isEqualTo(sent.getString("email"));
      assertThat(r.getString("username")).isEqualTo(sent.getString("username"));
      assertThat(r.getString("phone")).isEqualTo(sent.getString("phone"));
    }
  }
}
