package dev.boxoffice.booking;

import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Confirmation in auto payment mode: the payment decides, not the owner. Bookings written straight to the table (no
 * payment job) stand for a payment the provider has not answered yet.
 */
class AutoPaymentConfirmTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("payment_mode", "auto").with("hold_seconds", 600);

  private static BookingFixtures db;

  @BeforeAll
  static void fixtures() {
    db = new BookingFixtures(node.pool());
  }

  @Test
  void aUserCannotConfirmABookingWhosePaymentHasNotGoneThrough() {
    long product = db.product(10);
    long id = db.stuckBooking(BookingStatus.PENDING, product, 2, "testuser");

    HttpResponse<Buffer> r = await(node.user().post("/bookings/" + id + "/confirm", null));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(409);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("pending");
    assertThat(r.bodyAsJsonObject().getString("error")).contains("payment has not gone through");
    assertThat(db.status(id)).isEqualTo("pending");
    assertThat(db.jobs(id, BookingJobs.FINALIZE)).as("no ticket for an unpaid booking").isEmpty();
  }

  @Test
  void anAdminCanConfirmItAndTheBookingRecordsWhoDid() {
    long product = db.product(10);
    long id = db.stuckBooking(BookingStatus.PENDING, product, 1, "testuser");

    HttpResponse<Buffer> r = await(node.admin().post("/bookings/" + id + "/confirm", null));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("confirmed");
    assertThat(r.bodyAsJsonObject().getString("payment_ref")).isEqualTo("manual:admin");
    assertThat(db.booking(id).getString("payment_ref")).isEqualTo("manual:admin");
  }

  @Test
  void aUserConfirmsABookingWhosePaymentWentThroughKeepingItsReference() {
    long product = db.product(10);
    long id = db.stuckBooking(BookingStatus.PAYMENT_PROCESSED, product, 1, "testuser");
    db.sql("UPDATE bookings SET payment_ref = 'psp-123' WHERE id = $1", id);

    HttpResponse<Buffer> r = await(node.user().post("/bookings/" + id + "/confirm", null));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("payment_ref")).isEqualTo("psp-123");
  }

  @Test
  void theSagasConfirmationRecordsTheProvidersReference() {
    long event = db.event(10);
    HttpResponse<Buffer> created = await(node.user().post("/bookings",
      body("Paid Up", "paid@example.com").put("event_id", event)));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    long id = created.bodyAsJsonObject().getLong("id");

    JsonObject b = eventually(Duration.ofSeconds(10), () -> node.user().get("/bookings/" + id)
        .map(HttpResponse::bodyAsJsonObject),
      j -> !"pending".equals(j.getString("status")));
    assertThat(b.getString("status")).isIn("confirmed", "finalized");
    assertThat(b.getString("payment_ref")).isEqualTo("sim:booking:" + id + ":payment");
  }
}
