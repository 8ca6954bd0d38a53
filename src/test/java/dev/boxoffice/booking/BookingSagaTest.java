package dev.boxoffice.booking;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The saga in the background. Two nodes on separate databases: one in auto payment mode whose simulated provider
 * declines e-mails starting with "decline" (60 s holds), one in manual mode with 1 s holds for expiry and its races.
 */
@ExtendWith(VertxExtension.class)
class BookingSagaTest {
  private static final Duration WITHIN = Duration.ofSeconds(10);
  /** Finalization moves confirmed bookings on; both count as "confirmed reached". */
  private static final Set<String> CONFIRMED = Set.of("confirmed", "finalized");

  private static Vertx vertx;
  private static Boxoffice.Node auto;
  private static Boxoffice.Node shortHold;
  private static BookingFixtures autoDb;
  private static BookingFixtures shortDb;
  private static ApiClient autoUser;
  private static ApiClient autoAdmin;
  private static ApiClient autoAnonymous;
  private static ApiClient shortUser;

  @BeforeAll
  static void start(Vertx testVertx) throws Exception {
    vertx = testVertx;
    auto = TestNodes.start(TestNodes.settings(TestStorage.get().newDatabase("BookingSagaAuto"),
        TestStorage.redisPrefix("BookingSagaAuto"))
      .put("payment_mode", "auto").put("payment_decline_emails", "^decline").put("hold_seconds", 60), false);
    shortHold = TestNodes.start(TestNodes.settings(TestStorage.get().newDatabase("BookingSagaShort"),
        TestStorage.redisPrefix("BookingSagaShort"))
      .put("payment_mode", "manual").put("hold_seconds", 1), false);
    autoDb = new BookingFixtures(auto.platform().pool());
    shortDb = new BookingFixtures(shortHold.platform().pool());
    autoAnonymous = ApiClient.create(vertx, auto.platform().config().integer("http_port"));
    autoUser = autoAnonymous.withToken(TestTokens.user());
    autoAdmin = autoAnonymous.withToken(TestTokens.admin());
    shortUser = ApiClient.create(vertx, shortHold.platform().config().integer("http_port"))
      .withToken(TestTokens.user());
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(auto);
    TestNodes.stop(shortHold);
  }

  private static long create(ApiClient as, JsonObject body) {
    HttpResponse<Buffer> r = await(as.post("/bookings", body));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("pending");
    return r.bodyAsJsonObject().getLong("id");
  }

  private static JsonObject booking(ApiClient as, long id) {
    return await(bookingOf(as, id));
  }

  /** The booking as its owner reads it (a probe for {@code eventually}). */
  private static Future<JsonObject> bookingOf(ApiClient as, long id) {
    return as.get("/bookings/" + id).map(r -> {
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      return r.bodyAsJsonObject();
    });
  }

  private static Predicate<JsonObject> in(Set<String> statuses) {
    return b -> statuses.contains(b.getString("status"));
  }

  // ------------------------------------------------------------------ auto mode

  @Test
  void autoModePaysAndConfirmsWithinSecondsThenQueuesFinalization() {
    long event = autoDb.event(10);
    long id = create(autoUser, body("Auto Mode", "auto@example.com").put("event_id", event).put("quantity", 3));

    JsonObject b = eventually(WITHIN, () -> bookingOf(autoUser, id), in(CONFIRMED));
    assertThat(b.getString("confirmed_at")).isNotNull();
    assertThat(b.getValue("last_error")).isNull();
    assertThat(autoDb.eventBooked(event)).as("confirmed tickets stay held").isEqualTo(3);
    // the job's outcome is written after the confirming commit (batched with others'), so it may trail a little
    eventually(WITHIN, () -> assertThat(autoDb.jobs(id, BookingJobs.PAYMENT)).singleElement().satisfies(j -> {
      assertThat(j.getString("status")).isEqualTo("succeeded");
      assertThat(j.getString("unique_key")).isEqualTo("booking:" + id + ":payment");
      assertThat(j.getJsonObject("result").getString("status")).isEqualTo(BookingStatus.CONFIRMED);
    }));
    assertThat(autoDb.jobs(id, BookingJobs.CONFIRM)).as("approval confirms in the payment step").isEmpty();
    assertThat(autoDb.jobs(id)).extracting(j -> j.getString("type")).as("expiry takes no job")
      .doesNotContain("booking.expire");
    eventually(WITHIN, () -> assertThat(autoDb.jobs(id, BookingJobs.FINALIZE)).as("finalize job").hasSize(1));
  }

  @Test
  void aStepRunTwiceChangesNothingTheSecondTime() {
    long product = autoDb.product(10);
    long id = create(autoUser, body("Twice", "twice@example.com").put("product_id", product).put("quantity", 2));
    eventually(WITHIN, () -> bookingOf(autoUser, id), in(CONFIRMED));

    // as after a lease rescue: the same steps again, outside their unique keys' lifetime
    for (String type : List.of(BookingJobs.PAYMENT, BookingJobs.CONFIRM)) {
      await(JobQueue.enqueue(auto.platform().pool(), NewJob.of(type, new JsonObject().put("booking_id", id))));
    }
    eventually(WITHIN, () -> assertThat(autoDb.jobs(id)).as("the repeated steps")
      .filteredOn(j -> j.getString("unique_key") == null)
      .allSatisfy(j -> assertThat(j.getString("status")).isEqualTo("succeeded")));
    assertThat(autoDb.jobs(id, BookingJobs.PAYMENT)).hasSize(2)
      .allSatisfy(j -> assertThat(j.getJsonObject("result").getString("status")).isNotEqualTo("payment_failed"));
    assertThat(autoDb.jobs(id, BookingJobs.FINALIZE)).as("finalization queued once").hasSize(1);
    assertThat(booking(autoUser, id).getString("status")).isIn(CONFIRMED);
    assertThat(autoDb.productQuantity(product)).isEqualTo(8);
  }

  @Test
  void aDeclinedPaymentPassesThroughPaymentFailedAndEndsCancelledWithItsError() {
    long product = autoDb.product(10);
    long id = create(autoUser, body("Declined", "declined.card@example.com").put("product_id", product)
      .put("quantity", 4));

    JsonObject b = eventually(WITHIN, () -> bookingOf(autoUser, id), in(Set.of("cancelled")));
    assertThat(b.getString("last_error")).isEqualTo("Payment declined by the provider");
    assertThat(b.getValue("confirmed_at")).isNull();
    assertThat(autoDb.jobs(id, BookingJobs.PAYMENT)).singleElement()
      .satisfies(j -> assertThat(j.getJsonObject("result").getString("status")).isEqualTo("payment_failed"));
    // the job row is marked succeeded just after the handler's own transaction commits
    eventually(Duration.ofSeconds(10), () -> assertThat(autoDb.jobs(id, BookingJobs.COMPENSATE)).singleElement()
      .satisfies(j -> assertThat(j.getString("status")).isEqualTo("succeeded")));
    assertThat(autoDb.jobs(id, BookingJobs.COMPENSATE).get(0).getJsonObject("result").getString("status"))
      .isEqualTo("cancelled");
    assertThat(autoDb.jobs(id, BookingJobs.CONFIRM)).isEmpty();
    assertThat(autoDb.productQuantity(product)).as("returned once, at payment_failed").isEqualTo(10);
  }

  @Test
  void compensationOfADeadStepCancelsTheBookingKeepingTheFailure() {
    long product = autoDb.product(10);
    long id = autoDb.stuckBooking("payment_processed", product, 3, "testuser");
    assertThat(autoDb.productQuantity(product)).isEqualTo(7);

    // what the engine enqueues when booking.confirm goes dead (its onDead)
    JsonObject deadStep = new JsonObject().put("booking_id", id).put("failed_job", "00000000-0000-0000-0000-000000000001")
      .put("failure", "confirm step failed 5 times");
    await(JobQueue.enqueue(auto.platform().pool(), NewJob.of(BookingJobs.COMPENSATE, deadStep)));
    await(JobQueue.enqueue(auto.platform().pool(), NewJob.of(BookingJobs.COMPENSATE, deadStep)));

    JsonObject b = eventually(WITHIN, () -> bookingOf(autoUser, id), in(Set.of("cancelled")));
    assertThat(b.getString("last_error")).isEqualTo("confirm step failed 5 times");
    eventually(WITHIN, () -> assertThat(autoDb.jobs(id, BookingJobs.COMPENSATE))
      .allSatisfy(j -> assertThat(j.getString("status")).isEqualTo("succeeded")));
    assertThat(autoDb.productQuantity(product)).isEqualTo(10);
  }

  @Test
  void compensationLeavesAConfirmedBookingAlone() {
    long product = autoDb.product(10);
    long id = autoDb.stuckBooking("confirmed", product, 3, "testuser");
    await(JobQueue.enqueue(auto.platform().pool(), NewJob.of(BookingJobs.COMPENSATE,
      new JsonObject().put("booking_id", id).put("failure", "late"))));
    eventually(WITHIN, () -> assertThat(autoDb.jobs(id, BookingJobs.COMPENSATE)).singleElement()
      .satisfies(j -> assertThat(j.getString("status")).isEqualTo("succeeded")));
    assertThat(autoDb.status(id)).isIn(CONFIRMED);
    assertThat(autoDb.productQuantity(product)).isEqualTo(7);
  }

  @Test
  void reprocessingRestartsStuckBookingsOnceAndIsForAdminsOnly() {
    long product = autoDb.product(10);
    long paid = autoDb.stuckBooking("payment_processed", product, 1, "testuser");
    long unpaid = autoDb.stuckBooking("pending", product, 1, "testuser");
    assertThat(autoDb.jobs(paid)).isEmpty();

    HttpResponse<Buffer> forbidden = await(autoUser.post("/bookings/reprocess", null));
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(autoDb.jobs(paid)).as("a refused reprocess starts nothing").isEmpty();

    HttpResponse<Buffer> r = await(autoAdmin.post("/bookings/reprocess", null));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    assertThat(r.bodyAsJsonObject().getString("message"))
      .isEqualTo("Started processing unprocessed bookings in the background.");
    assertThat(r.bodyAsJsonObject().getInteger("count")).isGreaterThanOrEqualTo(2);

    assertThat(eventually(WITHIN, () -> bookingOf(autoUser, paid), in(CONFIRMED)).getString("confirmed_at"))
      .isNotNull();
    eventually(WITHIN, () -> bookingOf(autoUser, unpaid), in(CONFIRMED));
    assertThat(autoDb.productQuantity(product)).isEqualTo(8);
    // a restart that reads a booking while its step is completing may queue that step again (harmless: steps are
    // idempotent); what this test asks is that a restart of settled bookings queues nothing
    eventually(WITHIN, () -> assertThat(autoDb.jobs(paid, BookingJobs.FINALIZE)).singleElement()
      .satisfies(j -> assertThat(j.getString("status")).isEqualTo("succeeded")));

    await(autoAdmin.get("/bookings/unprocessed"));
    assertThat(autoDb.jobs(paid, BookingJobs.CONFIRM)).as("no step runs twice for one restart").hasSize(1);
    assertThat(autoDb.jobs(paid, BookingJobs.FINALIZE)).hasSize(1);
    assertThat(autoDb.jobs(unpaid, BookingJobs.PAYMENT)).hasSize(1);
  }

  // ------------------------------------------------------------------ expiry (manual mode, 1 s holds)

  @Test
  void anUnconfirmedBookingExpiresAndItsQuantityReturnsExactlyOnce() {
    long product = shortDb.product(10);
    long id = create(shortUser, body("Expiring", "expiring@example.com").put("product_id", product)
      .put("quantity", 3));
    assertThat(shortDb.productQuantity(product)).isEqualTo(7);

    JsonObject b = eventually(WITHIN, () -> bookingOf(shortUser, id), in(Set.of("expired")));
    assertThat(Instant.parse(b.getString("updated_at"))).isAfterOrEqualTo(Instant.parse(b.getString("expires_at")));
    assertThat(shortDb.productQuantity(product)).isEqualTo(10);

    // the expiry again (a second node's sweep), and the API: nothing returns a second time
    List<io.vertx.sqlclient.Row> again = await(shortHold.platform().pool().withTransaction(tx ->
      Transition.EXPIRE.applyAll(tx, List.of(id), null)));
    assertThat(again).as("a second expiry changes nothing").isEmpty();
    shortHold.platform().vertx().eventBus().publish(dev.boxoffice.platform.Bus.HOLDS_DUE, System.currentTimeMillis());
    HttpResponse<Buffer> cancel = await(shortUser.post("/bookings/" + id + "/cancel", null));
    assertThat(cancel.statusCode()).isEqualTo(409);
    assertThat(cancel.bodyAsJsonObject().getString("status")).isEqualTo("expired");
    HttpResponse<Buffer> confirm = await(shortUser.post("/bookings/" + id + "/confirm", null));
    assertThat(confirm.statusCode()).isEqualTo(409);
    assertThat(confirm.bodyAsJsonObject().getString("status")).isEqualTo("expired");
    assertThat(shortDb.productQuantity(product)).isEqualTo(10);
  }

  @Test
  void aCancelRacingTheExpiryReturnsTheQuantityOnce() {
    long product = shortDb.product(100);
    List<Race> races = race(product, id -> shortUser.post("/bookings/" + id + "/cancel", null));

    for (Race race : races) {
      String status = race.settle();
      if (race.answer.statusCode() == 200) {
        assertThat(status).isEqualTo("cancelled");
      } else {
        assertThat(race.answer.statusCode()).as(race.answer.bodyAsString()).isEqualTo(409);
        assertThat(race.answer.bodyAsJsonObject().getString("status")).isEqualTo("expired");
        assertThat(status).isEqualTo("expired");
      }
    }
    assertThat(shortDb.productQuantity(product)).isEqualTo(100);
  }

  @Test
  void aConfirmRacingTheExpiryEndsConfirmedOrExpiredNeverBoth() {
    long product = shortDb.product(100);
    List<Race> races = race(product, id -> shortUser.post("/bookings/" + id + "/confirm", null));

    int stillHeld = 0;
    for (Race race : races) {
      String status = race.settle();
      if (race.answer.statusCode() == 200) {
        assertThat(status).isIn(CONFIRMED);
        assertThat(shortDb.jobs(race.id, BookingJobs.FINALIZE)).hasSize(1);
        stillHeld += 2;
      } else {
        assertThat(race.answer.statusCode()).as(race.answer.bodyAsString()).isEqualTo(409);
        assertThat(race.answer.bodyAsJsonObject().getString("status")).isEqualTo("expired");
        assertThat(status).isEqualTo("expired");
        assertThat(shortDb.jobs(race.id, BookingJobs.FINALIZE)).isEmpty();
      }
    }
    assertThat(shortDb.productQuantity(product)).isEqualTo(100 - stillHeld);
  }

  /** One booking of 2 whose {@code action} is sent at about the moment its hold runs out. */
  private final class Race {
    final long id;
    HttpResponse<Buffer> answer;

    Race(long id) {
      this.id = id;
    }

    /** Waits until the hold is over (expired, or confirmed or cancelled first) and returns the final status. */
    String settle() {
      eventually(WITHIN, () -> assertThat(shortDb.status(id)).as("booking " + id)
        .isNotIn(BookingStatus.PENDING, BookingStatus.PAYMENT_PROCESSED));
      return shortDb.status(id);
    }
  }

  private List<Race> race(long product, java.util.function.LongFunction<Future<HttpResponse<Buffer>>> action) {
    List<Race> races = new ArrayList<>();
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      HttpResponse<Buffer> r = await(shortUser.post("/bookings", body("Racer " + i, "racer@example.com")
        .put("product_id", product).put("quantity", 2)));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
      Race race = new Race(r.bodyAsJsonObject().getLong("id"));
      // around the deadline, from just before to just after it, so either side may win
      Instant fireAt = Instant.parse(r.bodyAsJsonObject().getString("expires_at")).plusMillis((i - 2) * 15L);
      answers.add(at(fireAt, () -> action.apply(race.id)).onSuccess(a -> race.answer = a));
      races.add(race);
    }
    await(Future.all(answers));
    return races;
  }

  private static <T> Future<T> at(Instant when, Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    long delay = Math.max(1, Duration.between(Instant.now(), when).toMillis());
    vertx.setTimer(delay, t -> action.get().onComplete(done));
    return done.future();
  }
}
