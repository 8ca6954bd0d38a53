package dev.boxoffice.tickets;

import dev.boxoffice.booking.BookingJobs;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A ticket the database refuses to store fails its own booking's finalization job; the other bookings of the same
 * batch are finalized at their first attempt.
 */
class PoisonedFinalizationTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());

  @Test
  void oneTicketTheDatabaseRefusesFailsAloneAndTheBatchIsFinalized() {
    BookingFixtures db = new BookingFixtures(node.pool());
    long event = db.sql("INSERT INTO events (title, capacity, booked) VALUES ('Poison night', 100, 10) RETURNING id")
      .iterator().next().getLong("id");
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ids.add(db.sql("""
        INSERT INTO bookings (name, email, phone, status, event_id, quantity, owner, expires_at, confirmed_at)
        VALUES ($1, 'fin@example.com', '12345', 'confirmed', $2, 1, 'testuser', now() + interval '10 minutes', now())
        RETURNING id""", (i == 3 ? "Poison " : "Ticket ") + i, event).iterator().next().getLong("id"));
    }
    long poison = ids.get(3);
    db.sql("""
      CREATE OR REPLACE FUNCTION refuse_poison_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.booking_id = %d THEN
          RAISE EXCEPTION 'ticket of booking %% refused', NEW.booking_id;
        END IF;
        RETURN NEW;
      END $$""".formatted(poison));
    db.sql("CREATE TRIGGER refuse_poison_ticket BEFORE INSERT ON tickets FOR EACH ROW "
      + "EXECUTE FUNCTION refuse_poison_ticket()");

    // one statement, so that one node claims and finalizes them as one batch
    await(JobQueue.enqueueAll(node.pool(), ids.stream()
      .map(id -> NewJob.of(BookingJobs.FINALIZE, new JsonObject().put("booking_id", id))).toList()));

    eventually(Duration.ofSeconds(20), () -> {
      for (long id : ids) {
        Row job = db.sql("SELECT status, attempts, last_error FROM jobs WHERE type = $1 AND payload->>'booking_id' = $2",
          BookingJobs.FINALIZE, Long.toString(id)).iterator().next();
        if (id == poison) {
          assertThat(job.getString("status")).isIn("failed", "dead");
          assertThat(job.getString("last_error")).contains("refused");
          assertThat(db.status(id)).isEqualTo("confirmed");
        } else {
          assertThat(job.getString("status")).isEqualTo("succeeded");
          assertThat(job.getInteger("attempts")).as("finalized at the first attempt").isEqualTo(1);
          assertThat(db.status(id)).isEqualTo("finalized");
        }
      }
    });
    assertThat(db.sql("SELECT count(*) AS n FROM tickets WHERE booking_id = ANY($1)", (Object) ids.toArray(new Long[0]))
      .iterator().next().getLong("n")).isEqualTo(9);
    assertThat(db.sql("SELECT finalized FROM event_finalized WHERE event_id = $1", event).iterator().next()
      .getInteger("finalized")).isEqualTo(9);
  }
}
