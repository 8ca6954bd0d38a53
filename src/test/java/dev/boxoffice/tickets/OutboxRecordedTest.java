package dev.boxoffice.tickets;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.booking.BookingJobs;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** Without an SMTP server configured, ticket mail is recorded in the outbox only; the ticket is still issued. */
@ExtendWith(VertxExtension.class)
class OutboxRecordedTest {
  private static Boxoffice.Node node;
  private static Pool pool;
  private static final BookingFixtures db = new BookingFixtures(() -> pool);

  @BeforeAll
  static void start() throws Exception {
    String db = TestStorage.get().newDatabase("OutboxRecordedTest");
    node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("OutboxRecordedTest")), false);
    pool = node.platform().pool();
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @Test
  void withoutSmtpHostTheMailIsRecordedAndTheTicketIssued(Vertx vertx) throws Exception {
    long id = db.confirmedBooking("grace@example.com", null, 1);

    await(JobQueue.enqueue(pool, NewJob.of(BookingJobs.FINALIZE, new JsonObject().put("booking_id", id))));

    eventually(Duration.ofSeconds(15), () -> {
      JsonObject row = db.outbox(id);
      assertThat(row).as("outbox row").isNotNull();
      assertThat(row.getString("status")).isNotEqualTo("pending");
    });
    JsonObject mail = db.outbox(id);
    assertThat(mail.getString("status")).isEqualTo("recorded");
    assertThat(mail.getString("to")).isEqualTo("grace@example.com");
    assertThat(mail.getString("subject")).contains("BO-" + id);
    assertThat(mail.getValue("sent_at")).isNull();
    Row booking = db.booking(id);
    assertThat(booking.getString("status")).isEqualTo("finalized");
    assertThat(booking.getValue("ticket_emailed_at")).isNull();

    ApiClient api = ApiClient.create(vertx, node.platform().config().integer("http_port"));
    HttpResponse<Buffer> ticket = await(api.withToken(TestTokens.user()).get("/bookings/" + id + "/ticket"));
    assertThat(ticket.statusCode()).isEqualTo(200);
    assertThat(ticket.getHeader("Content-Type")).isEqualTo("application/pdf");
    assertThat(new String(ticket.body().getBytes(), 0, 4, StandardCharsets.US_ASCII)).isEqualTo("%PDF");

    HttpResponse<Buffer> outbox = await(api.withToken(TestTokens.admin()).get("/outbox"));
    assertThat(outbox.statusCode()).isEqualTo(200);
    assertThat(outbox.getHeader("X-Total-Count")).isEqualTo("1");
    assertThat(outbox.bodyAsJsonArray().getJsonObject(0).getString("status")).isEqualTo("recorded");
  }
}
