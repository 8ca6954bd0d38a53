package dev.boxoffice.tickets;

import dev.boxoffice.booking.BookingJobs;
import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestSmtp;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.StartTLSOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fenced delivery of ticket e-mails (SPEC, "Fenced side effects"), with a real SMTP server (GreenMail): an attempt of
 * a finalization job whose lease was taken over between its commit and its send sends nothing, and the attempt that
 * took over sends the message once; a message sent again after a crash between the SMTP acceptance and the row
 * saying so is the same message (same Message-ID). The handler runs here directly on attempts the test names, with
 * their jobs rows written by the test: no engine runs on this node (no worker role), so nothing else touches them.
 */
class FencedDeliveryTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("roles", "http").with(TestNodes.noUserCrons());
  private static final BookingFixtures db = new BookingFixtures(node::pool);

  private static TestSmtp smtp;
  private static MailClient mail;
  private static Pool pool;

  @BeforeAll
  static void start() {
    smtp = TestSmtp.started();
    pool = node.pool();
    mail = MailClient.create(node.vertx(), new MailConfig().setHostname(TestSmtp.HOST).setPort(smtp.port())
      .setStarttls(StartTLSOptions.DISABLED).setLogin(LoginOption.DISABLED));
    OutboxSender sender = new OutboxSender(node.vertx(), pool, mail, "Box Office <tickets@fenced.test>");
    Finalization finalization = new Finalization(node.vertx(), pool, sender,
      new TicketCodes(TestNodes.TEST_TICKET_KEY));
    // the handler on a context of its own, as FinalizationVerticle registers it (no engine on this node claims)
    Promise<Void> registered = Promise.promise();
    node.vertx().getOrCreateContext().runOnContext(v -> JobWorkers.handleBatch(node.vertx(), BookingJobs.FINALIZE,
      finalization::handleAll).onComplete(registered));
    await(registered.future());
  }

  @AfterAll
  static void stop() {
    if (mail != null) {
      await(mail.close());
    }
    if (smtp != null) {
      smtp.stop();
    }
  }

  @Test
  void anAttemptWhoseLeaseWasTakenOverAfterItsCommitSendsNothing() throws Exception {
    String email = "fenced-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    long booking = db.confirmedBooking(email, null, 1);
    Job first = runningAttempt(booking, "node-a");
    // as the rescue of a paused node and a claim elsewhere would do, committed together with the finalization's
    // transaction: when that commit returns the attempt no longer holds its lease, and the send is what follows
    await(pool.query("""
      CREATE FUNCTION take_over() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE jobs SET attempts = attempts + 1, locked_by = 'node-b', lease_until = now() + interval '1 minute'
        WHERE id = NEW.job_id;
        RETURN NEW;
      END $$""").execute());
    await(pool.query("CREATE TRIGGER take_over AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION take_over()")
      .execute());
    JsonObject outcome;
    try {
      outcome = handle(first);
    } finally {
      await(pool.query("DROP TRIGGER take_over ON outbox").execute());
      await(pool.query("DROP FUNCTION take_over()").execute());
    }

    // the ticket is issued (the finalization committed), but the superseded attempt sent nothing and says why
    assertThat(outcome.getJsonObject("failures").getJsonObject(first.id().toString()).getString("error"))
      .contains("lease lost", "not sent");
    assertThat(db.status(booking)).isEqualTo("finalized");
    JsonObject row = db.outbox(booking);
    assertThat(row.getString("status")).isEqualTo("pending");
    assertThat(row.getInteger("attempts")).isZero();
    assertThat(row.getValue("claimed_by_job")).isNull();
    assertThat(smtp.mailsTo(email)).isEmpty();

    // the attempt that took over delivers it, once
    Job second = new Job(first.id(), first.type(), first.payload(), 2, first.maxAttempts(), null, "node-b");
    JsonObject delivered = handle(second);
    assertThat(delivered.getJsonObject("results").getJsonObject(second.id().toString())
      .getJsonObject("email").getString("status")).isEqualTo("sent");
    row = db.outbox(booking);
    assertThat(row.getString("status")).isEqualTo("sent");
    assertThat(row.getString("claimed_by_job")).isEqualTo(second.id().toString());
    assertThat(row.getInteger("claimed_attempt")).isEqualTo(2);
    assertThat(smtp.mailsTo(email)).hasSize(1);
  }

  @Test
  void anEmailSentAgainAfterACrashBeforeItWasRecordedIsTheSameMessage() throws Exception {
    String email = "resent-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    long booking = db.confirmedBooking(email, null, 1);
    Job first = runningAttempt(booking, "node-a");
    assertThat(handle(first).getJsonObject("results").getJsonObject(first.id().toString()).getString("email"))
      .isEqualTo("sent");
    long outboxId = db.outbox(booking).getLong("id");

    // the SMTP server had the message, but the node died before the row said so: the row is still pending, and the
    // job's lease is rescued and claimed by another node (attempt 2)
    await(pool.preparedQuery("UPDATE outbox SET status = 'pending', sent_at = NULL WHERE id = $1")
      .execute(Tuple.of(outboxId)));
    await(pool.preparedQuery("UPDATE bookings SET ticket_emailed_at = NULL WHERE id = $1").execute(Tuple.of(booking)));
    await(pool.preparedQuery("UPDATE jobs SET attempts = 2, locked_by = 'node-b' WHERE id = $1")
      .execute(Tuple.of(first.id())));
    Job second = new Job(first.id(), first.type(), first.payload(), 2, first.maxAttempts(), null, "node-b");
    assertThat(handle(second).getJsonObject("results").getJsonObject(second.id().toString())
      .getJsonObject("email").getString("status")).isEqualTo("sent");

    List<MimeMessage> copies = smtp.mailsTo(email);
    assertThat(copies).hasSize(2);
    String expected = "<outbox-" + outboxId + "." + booking + "@fenced.test>";
    assertThat(copies.get(0).getMessageID()).isEqualTo(expected);
    assertThat(copies.get(1).getMessageID()).isEqualTo(expected);
    assertThat(db.outbox(booking).getInteger("attempts")).isEqualTo(2);
  }

  @Test
  void anAttemptThatFindsItsBookingFinalizedByTheFencedAttemptDeliversTheEmail() throws Exception {
    String email = "took-over-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    long booking = db.confirmedBooking(email, null, 1);
    Job first = runningAttempt(booking, "node-a");
    await(pool.preparedQuery("UPDATE jobs SET attempts = 2, locked_by = 'node-b' WHERE id = $1")
      .execute(Tuple.of(first.id())));
    Job second = new Job(first.id(), first.type(), first.payload(), 2, first.maxAttempts(), null, "node-b");
    // attempt 1 (its lease already gone) is committing the finalization while attempt 2 reads the booking still
    // confirmed: attempt 2 waits on the row, then finds it finalized with attempt 1's e-mail pending
    SqlConnection attempt1 = await(pool.getConnection());
    try {
      Transaction tx = await(attempt1.begin());
      await(attempt1.preparedQuery("SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE").execute(Tuple.of(booking)));
      Future<JsonObject> answer = node.vertx().eventBus().<JsonObject>request(Bus.jobBatch(BookingJobs.FINALIZE),
        new JsonObject().put("jobs", new JsonArray().add(second.toJson()))).map(m -> m.body());
      eventually(() -> assertThat(await(pool.query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted")
        .execute()).iterator().next().getLong("n")).isPositive());
      await(attempt1.preparedQuery("UPDATE bookings SET status = 'finalized', finalized_at = now() WHERE id = $1")
        .execute(Tuple.of(booking)));
      await(attempt1.preparedQuery("INSERT INTO tickets (booking_id, pdf) VALUES ($1, '\\x25504446'::bytea)")
        .execute(Tuple.of(booking)));
      await(attempt1.preparedQuery("""
          INSERT INTO outbox (booking_id, kind, "to", subject, body, job_id) VALUES ($1, 'ticket', $2, 'BO', 'b', $3)""")
        .execute(Tuple.of(booking, email, first.id())));
      await(tx.commit());

      JsonObject result = await(answer).getJsonObject("results").getJsonObject(second.id().toString());
      assertThat(result.getBoolean("unchanged")).isTrue();
      assertThat(result.getJsonObject("email").getString("status")).isEqualTo("sent");
    } finally {
      attempt1.close();
    }
    assertThat(db.outbox(booking).getString("status")).isEqualTo("sent");
    assertThat(smtp.mailsTo(email)).hasSize(1);
  }

  // ------------------------------------------------------------------ fixtures

  /** A finalization job of the booking, running: attempt 1 leased to {@code nodeId}. */
  private static Job runningAttempt(long booking, String nodeId) {
    JsonObject payload = new JsonObject().put("booking_id", booking);
    UUID id = await(pool.preparedQuery("""
        INSERT INTO jobs (id, type, payload, status, attempts, max_attempts, locked_by, lease_until, started_at, queue)
        VALUES (gen_random_uuid(), $1, $2, 'running', 1, 10, $3, now() + interval '1 minute', now(), 'tickets')
        RETURNING id""").execute(Tuple.of(BookingJobs.FINALIZE, payload, nodeId)))
      .iterator().next().getUUID("id");
    return new Job(id, BookingJobs.FINALIZE, payload, 1, 10, null, nodeId);
  }

  /** The batch handler's answer for {@code job} ({@code results}, {@code failures}), handed over as the engine does. */
  private static JsonObject handle(Job job) {
    return await(node.vertx().eventBus().<JsonObject>request(Bus.jobBatch(BookingJobs.FINALIZE),
      new JsonObject().put("jobs", new JsonArray().add(job.toJson())))).body();
  }
}
