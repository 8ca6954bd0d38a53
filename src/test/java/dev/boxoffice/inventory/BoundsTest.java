package dev.boxoffice.inventory;

import dev.boxoffice.platform.Failures;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Capacity and stock are bounded at 1,000,000,000 by the contract and by the schema, and holds on items at the
 * bound come back by cancel and by expiry without failing, however the stock was edited meanwhile.
 */
class BoundsTest {
  private static final int BOUND = 1_000_000_000;

  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.manualPayment()).with(TestNodes.noUserCrons());
  private static final BookingFixtures db = new BookingFixtures(node::pool);

  @Test
  void aCapacityOrStockOverTheBoundIsRefused() {
    assertInvalid(await(node.admin().post("/events", new JsonObject().put("title", "Huge")
      .put("capacity", BOUND + 1))), "capacity");
    assertInvalid(await(node.admin().post("/products", new JsonObject().put("name", "Huge")
      .put("quantity", BOUND + 1))), "quantity");
    long product = createdId(await(node.admin().post("/products", new JsonObject().put("name", "Big")
      .put("quantity", BOUND))));
    assertInvalid(await(node.admin().put("/products/" + product, new JsonObject().put("name", "Big").put("quantity",
      BOUND + 1))), "quantity");
    assertInvalid(await(node.admin().patch("/products/" + product, new JsonObject().put("quantity", BOUND + 1))),
      "quantity");
    assertThat(db.productQuantity(product)).isEqualTo(BOUND);
    assertThat(await(node.admin().post("/events", new JsonObject().put("title", "Huge").put("capacity", BOUND)))
      .statusCode()).isEqualTo(201);
    // the schema holds the same bound for writers that bypass the API
    assertThatThrownBy(() -> db.sql("UPDATE products SET quantity = $2 WHERE id = $1", product, BOUND + 1))
      .satisfies(e -> assertThat(Failures.Violation.CHECK.of(e)).isTrue());
    assertThatThrownBy(() -> db.sql("INSERT INTO events (title, capacity) VALUES ('x', $1)", BOUND + 1))
      .satisfies(e -> assertThat(Failures.Violation.CHECK.of(e)).isTrue());
  }

  @Test
  void holdsOnAProductSetToTheBoundMeanwhileComeBackByCancelAndByExpiry() {
    long product = createdId(await(node.admin().post("/products", new JsonObject().put("name", "Bounded")
      .put("quantity", BOUND).put("unique_id", UUID.randomUUID().toString()))));
    long cancelled = book(new JsonObject().put("product_id", product).put("quantity", 1000));
    long expiring = book(new JsonObject().put("product_id", product).put("quantity", 999));
    assertThat(db.productQuantity(product)).isEqualTo(BOUND - 1999);
    // an admin sets the stock back to the bound while both hold theirs
    assertThat(await(node.admin().put("/products/" + product, new JsonObject().put("name", "Bounded")
      .put("quantity", BOUND))).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> cancel = await(node.user().post("/bookings/" + cancelled + "/cancel", null));

    assertThat(cancel.statusCode()).isEqualTo(200);
    assertThat(cancel.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(db.productQuantity(product)).isEqualTo(BOUND);
    runOut(expiring);
    eventually(() -> assertThat(db.status(expiring)).isEqualTo("expired"));
    assertThat(db.productQuantity(product)).isEqualTo(BOUND);
  }

  @Test
  void holdsOnAnEventAtTheBoundComeBackByCancelAndByExpiry() {
    long event = createdId(await(node.admin().post("/events", new JsonObject().put("title", "Bounded").put("capacity",
      BOUND))));
    db.sql("UPDATE events SET booked = $2 WHERE id = $1", event, BOUND - 1000);
    long cancelled = book(new JsonObject().put("event_id", event).put("quantity", 600));
    long expiring = book(new JsonObject().put("event_id", event).put("quantity", 400));
    assertThat(db.eventBooked(event)).isEqualTo(BOUND);
    assertThat(await(node.user().post("/bookings", body("Late Guest", "late@example.com").put("event_id", event)))
      .statusCode()).isEqualTo(409);

    assertThat(await(node.user().post("/bookings/" + cancelled + "/cancel", null)).statusCode()).isEqualTo(200);
    assertThat(db.eventBooked(event)).isEqualTo(BOUND - 600);
    runOut(expiring);
    eventually(() -> assertThat(db.status(expiring)).isEqualTo("expired"));
    assertThat(db.eventBooked(event)).isEqualTo(BOUND - 1000);
  }

  private static long book(JsonObject item) {
    HttpResponse<Buffer> r = await(node.user().post("/bookings", body("Bound Guest", "bound@example.com")
      .mergeIn(item)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject().getLong("booking_id");
  }

  private static long createdId(HttpResponse<Buffer> r) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject().getLong("id");
  }

  private static void assertInvalid(HttpResponse<Buffer> r, String field) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(422);
    assertThat(r.bodyAsJsonObject().getJsonArray("fields").getJsonObject(0).getString("field")).isEqualTo(field);
  }

  /** Its hold runs out now (the expiry's poll finds it: no waiting for a real hold time). */
  private static void runOut(long booking) {
    db.sql("UPDATE bookings SET expires_at = now() WHERE id = $1", booking);
  }
}
