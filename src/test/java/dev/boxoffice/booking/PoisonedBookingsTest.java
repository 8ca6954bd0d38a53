package dev.boxoffice.booking;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One client's bad booking never fails the others it shares a group commit with: text the database cannot store is
 * refused at the edge (422 naming the field), and a booking the database refuses for another reason fails alone.
 */
class PoisonedBookingsTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.manualPayment());
  private static final BookingFixtures db = new BookingFixtures(node::pool);

  @Test
  void poisonedTextInABurstOfOneEventIs422NamingTheFieldAndTheOthersBook() {
    long event = db.event(100);
    ApiClient user = node.user();
    // raw JSON: an unpaired surrogate only survives as the \\ud800 escape (an encoder would replace it)
    String[] poison = {
      "{\"name\":\"Nul\\u0000Name\",\"email\":\"p0@example.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Bell\\u0007Name\",\"email\":\"p1@example.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Line\\nBreak\",\"email\":\"p2@example.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Lone \\ud800 high\",\"email\":\"p3@example.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Lone \\udc00 low\",\"email\":\"p4@example.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Esc\\u001bName\",\"email\":\"p5@example.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Fine Name\",\"email\":\"p6\\u0000@example.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Fine Name\",\"email\":\"p7@exa\\ud834mple.com\",\"phone\":\"12345\",\"event_id\":%d}",
      "{\"name\":\"Fine Name\",\"email\":\"p8@example.com\",\"phone\":\"123\\u000045\",\"event_id\":%d}",
      "{\"name\":\"Fine Name\",\"email\":\"p9@example.com\",\"phone\":\"12345\\r\",\"event_id\":%d}"};
    String[] field = {"name", "name", "name", "name", "name", "name", "email", "email", "phone", "phone"};
    List<Future<HttpResponse<Buffer>>> valid = new ArrayList<>();
    List<Future<HttpResponse<Buffer>>> poisoned = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      if (i % 5 == 2) {
        poisoned.add(user.postRaw("/bookings", poison[i / 5].formatted(event)));
      } else {
        // a tab and a paired surrogate (an emoji) are fine
        valid.add(user.post("/bookings", body("Valid\t" + i + " \uD83C\uDFAB", "v" + i + "@example.com")
          .put("event_id", event)));
      }
    }
    await(Future.join(new ArrayList<>(valid)));
    await(Future.join(new ArrayList<>(poisoned)));

    assertThat(valid).allSatisfy(f -> assertThat(f.result().statusCode()).as(f.result().bodyAsString()).isEqualTo(201));
    for (int i = 0; i < poisoned.size(); i++) {
      HttpResponse<Buffer> r = poisoned.get(i).result();
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(422);
      assertThat(r.bodyAsJsonObject().getJsonArray("fields").getJsonObject(0).getString("field"))
        .as(r.bodyAsString()).isEqualTo(field[i]);
    }
    assertThat(db.eventBooked(event)).isEqualTo(40);
    assertThat(count("SELECT count(*) AS n FROM bookings WHERE event_id = $1", event)).isEqualTo(40);
  }

  @Test
  void aBookingTheDatabaseRefusesFailsAloneAndItsGroupCommitsOneByOne() {
    // a rule only the database knows, raised for one name: as a CHECK would, the whole statement fails
    db.sql("""
      CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.name LIKE 'Poison%' THEN
          RAISE EXCEPTION 'name % is not allowed here', NEW.name USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$""");
    db.sql("CREATE TRIGGER refuse_poison BEFORE INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
    try {
      long event = db.event(45);
      ApiClient user = node.user();
      List<Future<HttpResponse<Buffer>>> valid = new ArrayList<>();
      List<Future<HttpResponse<Buffer>>> poisoned = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        boolean poison = i % 5 == 4;
        Future<HttpResponse<Buffer>> f = user.post("/bookings",
          body((poison ? "Poison " : "Valid ") + i, "b" + i + "@example.com").put("event_id", event));
        (poison ? poisoned : valid).add(f);
      }
      await(Future.join(new ArrayList<>(valid)));
      await(Future.join(new ArrayList<>(poisoned)));

      assertThat(valid).allSatisfy(f -> assertThat(f.result().statusCode()).as(f.result().bodyAsString())
        .isEqualTo(201));
      assertThat(poisoned).allSatisfy(f -> {
        assertThat(f.result().statusCode()).as(f.result().bodyAsString()).isEqualTo(422);
        assertThat(f.result().bodyAsJsonObject().getJsonArray("fields").getJsonObject(0).getString("message"))
          .contains("refused by the database").contains("is not allowed here");
      });
      assertThat(db.eventBooked(event)).isEqualTo(40);
      assertThat(count("SELECT count(*) AS n FROM bookings WHERE event_id = $1", event)).isEqualTo(40);
      assertThat(count("SELECT count(*) AS n FROM bookings WHERE name LIKE 'Poison%'")).isZero();

      // still one event, still counted right once it runs out: 5 left, 6 more valid ones
      List<Future<HttpResponse<Buffer>>> last = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        last.add(user.post("/bookings", body("Late " + i, "l" + i + "@example.com").put("event_id", event)));
      }
      await(Future.join(new ArrayList<>(last)));
      assertThat(last.stream().filter(f -> f.result().statusCode() == 201)).hasSize(5);
      assertThat(db.eventBooked(event)).isEqualTo(45);
    } finally {
      db.sql("DROP TRIGGER refuse_poison ON bookings");
    }
  }

  private static long count(String sql, Object... args) {
    return db.sql(sql, args).iterator().next().getLong("n");
  }
}
