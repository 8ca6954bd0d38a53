package dev.boxoffice.booking;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The booking API in manual payment mode (bookings stay where the API puts them, no payment step runs): creation and
 * holds, validation, ownership, listing, confirm/cancel transitions and their conflicts, admin-only reprocessing.
 */
class BookingApiTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.manualPayment());
  private static final BookingFixtures db = new BookingFixtures(node::pool);
  private static ApiClient admin;
  private static ApiClient user;
  private static ApiClient otherUser;
  private static ApiClient anonymous;

  @BeforeAll
  static void clients() {
    anonymous = node.api();
    admin = node.admin();
    user = node.user();
    otherUser = anonymous.withToken(TestTokens.user("otheruser"));
  }

  private static HttpResponse<Buffer> create(ApiClient as, JsonObject body) {
    return await(as.post("/bookings", body));
  }

  private static long createOk(ApiClient as, JsonObject body) {
    HttpResponse<Buffer> r = create(as, body);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject().getLong("id");
  }

  @Test
  void creatingABookingHoldsTheQuantityAndSchedulesItsExpiry() {
    long product = db.product(10);
    HttpResponse<Buffer> r = create(user, body("Ada Lovelace", "ada@example.com").put("product_id", product)
      .put("quantity", 3));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    JsonObject b = r.bodyAsJsonObject();
    assertThat(b.getString("message")).isEqualTo("Booking process started");
    assertThat(b.getLong("booking_id")).isEqualTo(b.getLong("id")).isPositive();
    assertThat(b.getString("status")).isEqualTo("pending");
    assertThat(b.getString("owner")).isEqualTo("testuser");
    assertThat(b.getLong("product_id")).isEqualTo(product);
    assertThat(b.getValue("event_id")).isNull();
    assertThat(b.getInteger("quantity")).isEqualTo(3);
    assertThat(b.getString("name")).isEqualTo("Ada Lovelace");
    assertThat(b.getString("email")).isEqualTo("ada@example.com");
    assertThat(b.getString("phone")).isEqualTo("+44 20 7946 0958");
    assertThat(b.fieldNames()).contains("confirmed_at", "finalized_at", "ticket_emailed_at", "last_error",
      "updated_at");
    Instant created = Instant.parse(b.getString("created_at"));
    assertThat(Duration.between(created, Instant.parse(b.getString("expires_at")))).isEqualTo(Duration.ofMinutes(10));
    assertThat(db.productQuantity(product)).isEqualTo(7);

    long id = b.getLong("id");
    assertThat(db.jobs(id)).as("manual payment: no saga step yet, and expiry is no job").isEmpty();

    HttpResponse<Buffer> read = await(user.get("/bookings/" + id));
    assertThat(read.statusCode()).isEqualTo(200);
    JsonObject expected = b.copy();
    expected.remove("message");
    expected.remove("booking_id");
    assertThat(read.bodyAsJsonObject()).isEqualTo(expected);
  }

  @Test
  void quantityDefaultsToOneAndABookingNeedNotHoldAnything() {
    HttpResponse<Buffer> r = create(user, body("No Item", "plain@example.com"));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    assertThat(r.bodyAsJsonObject().getInteger("quantity")).isEqualTo(1);
    assertThat(r.bodyAsJsonObject().getValue("event_id")).isNull();
    assertThat(r.bodyAsJsonObject().getValue("product_id")).isNull();
  }

  @Test
  void manualModeWaitsInPendingUntilConfirmedThenFinalizes() {
    long event = db.event(5);
    long id = createOk(user, body("Manual Mode", "manual@example.com").put("event_id", event).put("quantity", 2));

    assertThat(db.jobs(id, BookingJobs.PAYMENT)).as("no payment step in manual mode").isEmpty();
    assertThat(db.status(id)).isEqualTo("pending");
    assertThat(db.eventBooked(event)).isEqualTo(2);

    HttpResponse<Buffer> r = await(user.post("/bookings/" + id + "/confirm", null));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("confirmed");
    assertThat(r.bodyAsJsonObject().getString("confirmed_at")).isNotNull();
    assertThat(r.bodyAsJsonObject().getString("payment_ref")).as("the owner confirmed it by hand")
      .isEqualTo("manual:testuser");
    assertThat(db.jobs(id, BookingJobs.FINALIZE)).singleElement()
      .satisfies(j -> assertThat(j.getString("unique_key")).isEqualTo("booking:" + id + ":finalize"));
    assertThat(db.eventBooked(event)).as("a confirmed booking keeps its tickets").isEqualTo(2);
  }

  @Test
  void confirmingACancelledBookingIsAConflictNamingItsStatus() {
    long id = createOk(user, body("Too Late", "late@example.com"));
    assertThat(await(user.post("/bookings/" + id + "/cancel", null)).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> r = await(user.post("/bookings/" + id + "/confirm", null));
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(r.bodyAsJsonObject().getString("error")).contains("cancelled");
  }

  @Test
  void cancellingTwiceReturnsTheQuantityOnceAndThenConflicts() {
    long product = db.product(5);
    long id = createOk(user, body("Cancel Twice", "twice@example.com").put("product_id", product).put("quantity", 2));
    assertThat(db.productQuantity(product)).isEqualTo(3);

    HttpResponse<Buffer> first = await(user.post("/bookings/" + id + "/cancel", null));
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(db.productQuantity(product)).isEqualTo(5);

    HttpResponse<Buffer> second = await(user.post("/bookings/" + id + "/cancel", null));
    assertThat(second.statusCode()).isEqualTo(409);
    assertThat(second.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(db.productQuantity(product)).isEqualTo(5);
  }

  @Test
  void cancellingAConfirmedBookingReturnsItsQuantity() {
    long product = db.product(10);
    long id = db.stuckBooking("confirmed", product, 4, "testuser");
    assertThat(db.productQuantity(product)).isEqualTo(6);

    HttpResponse<Buffer> r = await(user.post("/bookings/" + id + "/cancel", null));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(db.productQuantity(product)).isEqualTo(10);
  }

  @Test
  void cancellingAfterAFailedPaymentDoesNotReturnTheQuantityAgain() {
    long product = db.product(10);
    long id = db.stuckBooking("payment_failed", product, 4, "testuser");
    assertThat(db.productQuantity(product)).as("payment_failed holds nothing").isEqualTo(10);

    HttpResponse<Buffer> r = await(user.post("/bookings/" + id + "/cancel", null));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(db.productQuantity(product)).isEqualTo(10);
    assertThat(await(user.post("/bookings/" + id + "/confirm", null)).statusCode()).isEqualTo(409);
  }

  @Test
  void tenConcurrentBookingsOfTheLastTicketSellItOnce() {
    long event = db.event(1);
    List<Future<HttpResponse<Buffer>>> attempts = new ArrayList<>();
    IntStream.range(0, 10).forEach(i -> attempts.add(user.post("/bookings",
      body("Racer " + i, "racer" + i + "@example.com").put("event_id", event))));
    await(Future.join(attempts));

    List<HttpResponse<Buffer>> answers = attempts.stream().map(Future::result).toList();
    assertThat(answers).filteredOn(r -> r.statusCode() == 201).hasSize(1);
    assertThat(answers).filteredOn(r -> r.statusCode() == 409).hasSize(9)
      .allSatisfy(r -> assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("Event is sold out"));
    assertThat(db.eventBooked(event)).isEqualTo(1);
    assertThat(db.sql("SELECT count(*) AS n FROM bookings WHERE event_id = $1", event).iterator().next()
      .getLong("n")).as("a refused booking leaves no row").isEqualTo(1);
  }

  @Test
  void notEnoughStockIsAConflictAndChangesNothing() {
    long product = db.product(2);
    HttpResponse<Buffer> r = create(user, body("Greedy", "greedy@example.com").put("product_id", product)
      .put("quantity", 3));
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("Not enough product in stock");
    assertThat(db.productQuantity(product)).isEqualTo(2);
  }

  @Test
  void aKnownPathWithTheWrongMethodIs405NamingTheAllowedOnesAndAnUnknownPathIs404() {
    HttpResponse<Buffer> wrong = await(user.delete("/bookings"));
    assertThat(wrong.statusCode()).isEqualTo(405);
    assertThat(wrong.getHeader("Allow")).isEqualTo("GET, POST");
    assertThat(wrong.bodyAsJsonObject().getString("error")).startsWith("Method not allowed: DELETE /bookings");
    HttpResponse<Buffer> templated = await(user.put("/bookings/1/confirm", new JsonObject()));
    assertThat(templated.statusCode()).isEqualTo(405);
    assertThat(templated.getHeader("Allow")).isEqualTo("POST");
    HttpResponse<Buffer> unknown = await(user.get("/no/such/thing"));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsJsonObject().getString("error")).isEqualTo("No such route: GET /no/such/thing");
  }

  @Test
  void unknownEventOrProductIsNotFound() {
    long before = db.sql("SELECT count(*) AS n FROM bookings").iterator().next().getLong("n");
    HttpResponse<Buffer> event = create(user, body("Nowhere", "nowhere@example.com").put("event_id", 999_999));
    assertThat(event.statusCode()).isEqualTo(404);
    assertThat(event.bodyAsJsonObject().getString("error")).isEqualTo("Event not found");
    HttpResponse<Buffer> product = create(user, body("Nowhere", "nowhere@example.com").put("product_id", 999_999));
    assertThat(product.statusCode()).isEqualTo(404);
    assertThat(product.bodyAsJsonObject().getString("error")).isEqualTo("Product not found");
    assertThat(db.sql("SELECT count(*) AS n FROM bookings").iterator().next().getLong("n")).isEqualTo(before);
  }

  @Test
  void invalidFieldsAreRejectedNamingTheField() {
    assertInvalid(body("Ada", "not-an-email"), "email");
    assertInvalid(body("A", "a@example.com"), "name");
    assertInvalid(body("Ada", "a@example.com").put("phone", "call me"), "phone");
    assertInvalid(body("Ada", "a@example.com").put("phone", ""), "phone");
    assertInvalid(body("Ada", "a@example.com").put("quantity", 0), "quantity");
    assertInvalid(new JsonObject().put("name", "Ada").put("phone", "12345"), "email");
    assertInvalid(body("Ada", "a@example.com").put("event_id", 1).put("product_id", 1), null);
  }

  private static void assertInvalid(JsonObject body, String field) {
    HttpResponse<Buffer> r = create(user, body);
    assertThat(r.statusCode()).as(body.encode() + " → " + r.bodyAsString()).isEqualTo(422);
    if (field != null) {
      assertThat(r.bodyAsJsonObject().getJsonArray("fields").stream().map(f -> ((JsonObject) f).getString("field")))
        .as(r.bodyAsString()).contains(field);
    }
  }

  @Test
  void aUserSeesAndActsOnTheirOwnBookingsOnly() {
    long mine = createOk(user, body("Mine", "mine@example.com"));
    long theirs = createOk(otherUser, body("Theirs", "theirs@example.com"));

    assertThat(await(user.get("/bookings/" + theirs)).statusCode()).isEqualTo(404);
    assertThat(await(user.get("/bookings/" + theirs)).bodyAsJsonObject().getString("error"))
      .isEqualTo("Booking not found");
    assertThat(await(user.post("/bookings/" + theirs + "/confirm", null)).statusCode()).isEqualTo(404);
    assertThat(await(user.post("/bookings/" + theirs + "/cancel", null)).statusCode()).isEqualTo(404);
    assertThat(db.status(theirs)).isEqualTo("pending");

    JsonArray listed = await(user.get("/bookings?limit=100")).bodyAsJsonArray();
    assertThat(listed.stream().map(b -> ((JsonObject) b).getString("owner"))).containsOnly("testuser");
    assertThat(listed.stream().map(b -> ((JsonObject) b).getLong("id"))).contains(mine).doesNotContain(theirs);

    assertThat(await(admin.get("/bookings/" + theirs)).statusCode()).isEqualTo(200);
    JsonArray all = await(admin.get("/bookings?limit=100")).bodyAsJsonArray();
    assertThat(all.stream().map(b -> ((JsonObject) b).getLong("id"))).contains(mine, theirs);
    assertThat(await(user.get("/bookings/999999")).statusCode()).isEqualTo(404);
  }

  @Test
  void listsArePagedNewestFirstWithTheTotal() {
    ApiClient pager = anonymous.withToken(TestTokens.user("pager"));
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(createOk(pager, body("Page " + i, "page" + i + "@example.com")));
    }
    await(pager.post("/bookings/" + ids.get(0) + "/cancel", null));

    HttpResponse<Buffer> first = await(pager.get("/bookings?limit=2"));
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.getHeader("X-Total-Count")).isEqualTo("5");
    assertThat(first.bodyAsJsonArray().stream().map(b -> ((JsonObject) b).getLong("id")))
      .containsExactly(ids.get(4), ids.get(3));
    HttpResponse<Buffer> last = await(pager.get("/bookings?limit=2&offset=4"));
    assertThat(last.bodyAsJsonArray().stream().map(b -> ((JsonObject) b).getLong("id"))).containsExactly(ids.get(0));
    HttpResponse<Buffer> beyond = await(pager.get("/bookings?limit=2&offset=10"));
    assertThat(beyond.bodyAsJsonArray()).isEmpty();
    assertThat(beyond.getHeader("X-Total-Count")).isEqualTo("5");

    HttpResponse<Buffer> cancelled = await(pager.get("/bookings?status=cancelled"));
    assertThat(cancelled.getHeader("X-Total-Count")).isEqualTo("1");
    assertThat(cancelled.bodyAsJsonArray().getJsonObject(0).getLong("id")).isEqualTo(ids.get(0));

    assertThat(await(pager.get("/bookings?limit=0")).statusCode()).isEqualTo(422);
    assertThat(await(pager.get("/bookings?status=lost")).statusCode()).isEqualTo(422);
  }

  @Test
  void reprocessingIsForAdminsOnly() {
    assertThat(await(user.post("/bookings/reprocess", null)).statusCode()).isEqualTo(403);
    assertThat(await(user.get("/bookings/unprocessed")).statusCode()).isEqualTo(403);
    assertThat(await(anonymous.post("/bookings/reprocess", null)).statusCode()).isEqualTo(401);

    HttpResponse<Buffer> r = await(admin.get("/bookings/unprocessed"));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    assertThat(r.bodyAsJsonObject().getString("message"))
      .isEqualTo("Started processing unprocessed bookings in the background.");
    assertThat(r.bodyAsJsonObject().getInteger("count")).isNotNegative();
  }

  @Test
  void aNonNumericIdIsRejectedAndBookingsNeedAToken() {
    assertThat(await(user.get("/bookings/abc")).statusCode()).isEqualTo(422);
    assertThat(await(anonymous.get("/bookings")).statusCode()).isEqualTo(401);
    assertThat(await(anonymous.post("/bookings", body("Ada", "ada@example.com"))).statusCode()).isEqualTo(401);
  }
}
