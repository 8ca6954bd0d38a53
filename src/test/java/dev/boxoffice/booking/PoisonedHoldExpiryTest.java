package dev.boxoffice.booking;

import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** A hold the database refuses to expire is reported and skipped; the sweep expires the others and keeps going. */
class PoisonedHoldExpiryTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons()).with("payment_mode", "manual")
    .with("hold_seconds", 1).with("jobs_poll_seconds", 60);

  @Test
  void aBookingThatCannotExpireDoesNotStallTheOthers() {
    BookingFixtures db = new BookingFixtures(node.pool());
    // a rule only the database knows, raised for one booking when it would expire
    db.sql("""
      CREATE OR REPLACE FUNCTION refuse_poison_expiry() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'expired' AND NEW.name LIKE 'Poison%' THEN
          RAISE EXCEPTION 'booking % may not expire', NEW.id;
        END IF;
        RETURN NEW;
      END $$""");
    db.sql("CREATE TRIGGER refuse_poison_expiry BEFORE UPDATE ON bookings FOR EACH ROW "
      + "EXECUTE FUNCTION refuse_poison_expiry()");
    long product = db.product(20);
    List<Long> ids = new ArrayList<>();
    long poison = book("Poison Hold", product);
    for (int i = 0; i < 5; i++) {
      ids.add(book("Hold " + i, product));
    }
    assertThat(db.productQuantity(product)).isEqualTo(14);

    eventually(Duration.ofSeconds(15), () -> ids.forEach(id -> assertThat(db.status(id)).isEqualTo("expired")));
    assertThat(db.status(poison)).isEqualTo("pending");
    assertThat(db.productQuantity(product)).isEqualTo(19);

    // later holds still expire: the bad row is skipped, not retried at every sweep
    long later = book("Later Hold", product);
    eventually(Duration.ofSeconds(15), () -> assertThat(db.status(later)).isEqualTo("expired"));
    assertThat(db.status(poison)).isEqualTo("pending");
    assertThat(db.productQuantity(product)).isEqualTo(19);
  }

  private static long book(String name, long product) {
    HttpResponse<Buffer> r = await(node.user().post("/bookings", body(name, "hold@example.com")
      .put("product_id", product)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject().getLong("id");
  }
}
