package dev.boxoffice.tickets;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.booking.BookingJobs;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.ops.Metrics;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestSmtp;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import jakarta.mail.BodyPart;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Ticket finalization end to end: a confirmed booking becomes finalized, its PDF ticket is stored and e-mailed
 * exactly once through the outbox to a real SMTP server (GreenMail), however often and wherever the jobs run.
 * Two worker nodes share the database, as two instances of the service would.
 */
@ExtendWith(VertxExtension.class)
class FinalizationTest {
  private static final AtomicInteger SEQ = new AtomicInteger();
  /** How long a test waits for a finalization (or its e-mail attempts) to happen. */
  private static final Duration WITHIN = Duration.ofSeconds(15);

  private static TestSmtp smtp;
  private static Boxoffice.Node node;
  private static Boxoffice.Node second;
  private static Pool pool;
  private static final BookingFixtures db = new BookingFixtures(() -> pool);
  private static long eventId;

  @BeforeAll
  static void start() throws Exception {
    smtp = TestSmtp.started();
    String db = TestStorage.get().newDatabase("FinalizationTest");
    JsonObject settings = TestNodes.settings(db, TestStorage.redisPrefix("FinalizationTest"))
      .put("smtp_host", TestSmtp.HOST).put("smtp_port", smtp.port()).put("mail_from", "tickets@boxoffice.test");
    node = TestNodes.start(settings, false);
    pool = node.platform().pool();
    second = TestNodes.start(settings.copy().put("http_port", TestStorage.freePort()), false);
    // 100 tickets held by other bookings: the event_finalized_within_booked check must not be what stops a
    // double count here, the finalization itself must
    eventId = await(pool.query(
        "INSERT INTO events (title, capacity, booked) VALUES ('Jazz night', 1000, 100) RETURNING id")
      .execute()).iterator().next().getLong("id");
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(second);
    TestNodes.stop(node);
    if (smtp != null) {
      smtp.stop();
    }
  }

  @Test
  void confirmedBookingBecomesFinalizedAndItsTicketIsEmailedOnce(Vertx vertx) throws Exception {
    String email = uniqueEmail();
    long id = db.confirmedBooking(email, eventId, 2);
    long finalizedBefore = eventFinalized();

    enqueueFinalize(id, "finalize:" + id);

    eventually(WITHIN, () -> assertThat(outboxStatus(id)).isEqualTo("sent"));
    Row booking = db.booking(id);
    assertThat(booking.getString("status")).isEqualTo("finalized");
    assertThat(booking.getValue("finalized_at")).isNotNull();
    assertThat(booking.getValue("ticket_emailed_at")).isNotNull();
    assertThat(eventFinalized()).isEqualTo(finalizedBefore + 2);

    List<MimeMessage> mails = smtp.mailsTo(email);
    assertThat(mails).hasSize(1);
    assertThat(mails.get(0).getSubject()).isEqualTo("Your ticket for Jazz night (BO-" + id + ")");
    assertThat(mails.get(0).getFrom()[0].toString()).isEqualTo("tickets@boxoffice.test");
    byte[] attached = attachment(mails.get(0), "ticket-BO-" + id + ".pdf");
    assertThat(new String(attached, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("%PDF");
    assertThat(pdfText(attached)).contains("boxoffice ticket", "BO-" + id, "Ada Lovelace", email, "Jazz night",
      "Quantity: 2");

    ApiClient api = ApiClient.create(vertx, node.platform().config().integer("http_port"));
    HttpResponse<Buffer> mine = await(api.withToken(TestTokens.user()).get("/bookings/" + id + "/ticket"));
    assertThat(mine.statusCode()).isEqualTo(200);
    assertThat(mine.getHeader("Content-Type")).isEqualTo("application/pdf");
    assertThat(mine.getHeader("Content-Disposition")).contains("ticket-BO-" + id + ".pdf");
    assertThat(mine.body().getBytes()).isEqualTo(attached);

    HttpResponse<Buffer> admins = await(api.withToken(TestTokens.admin()).get("/bookings/" + id + "/ticket"));
    assertThat(admins.statusCode()).isEqualTo(200);

    HttpResponse<Buffer> others = await(api.withToken(TestTokens.user("mallory")).get("/bookings/" + id + "/ticket"));
    assertThat(others.statusCode()).isEqualTo(404);
    assertThat(others.bodyAsJsonObject().getString("error")).isEqualTo("Booking not found");
  }

  @Test
  void ticketIsNotAvailableBeforeFinalization(Vertx vertx) throws Exception {
    long id = db.confirmedBooking(uniqueEmail(), null, 1);
    ApiClient api = ApiClient.create(vertx, node.platform().config().integer("http_port"));

    HttpResponse<Buffer> owner = await(api.withToken(TestTokens.user()).get("/bookings/" + id + "/ticket"));
    assertThat(owner.statusCode()).isEqualTo(404);
    assertThat(owner.bodyAsJsonObject().getString("error")).isEqualTo("Ticket not available");

    HttpResponse<Buffer> unknown = await(api.withToken(TestTokens.admin()).get("/bookings/999999999/ticket"));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsJsonObject().getString("error")).isEqualTo("Booking not found");
  }

  @Test
  void runningFinalizeAgainSendsNoSecondEmail() throws Exception {
    String email = uniqueEmail();
    long id = db.confirmedBooking(email, eventId, 3);
    UUID first = enqueueFinalize(id, "finalize:" + id);
    JsonObject firstResult = succeeded(first);
    assertThat(firstResult.getString("email")).isEqualTo("sent");
    assertThat(outboxStatus(id)).isEqualTo("sent");
    long finalizedAfterFirst = eventFinalized();

    JsonObject again = succeeded(enqueueFinalize(id, "finalize-again:" + id));

    assertThat(again.getString("status")).isEqualTo("finalized");
    assertThat(again.getBoolean("unchanged")).isTrue();
    assertThat(smtp.mailsTo(email)).hasSize(1);
    assertThat(eventFinalized()).isEqualTo(finalizedAfterFirst);
    JsonObject mail = db.outbox(id);
    assertThat(mail.getInteger("attempts")).isEqualTo(1);
    assertThat(mail.getString("job_id")).isEqualTo(first.toString());
  }

  @Test
  void finalizeJobsRunningAtTheSameTimeProduceOneEmail() throws Exception {
    String email = uniqueEmail();
    long id = db.confirmedBooking(email, eventId, 4);
    long finalizedBefore = eventFinalized();

    // committed together, so both worker nodes see them due at the same instant and race for the booking
    List<UUID> jobs = await(pool.withTransaction(tx -> Future.all(
        JobQueue.enqueue(tx, NewJob.of(BookingJobs.FINALIZE, new JsonObject().put("booking_id", id))
          .uniqueKey("finalize-a:" + id)),
        JobQueue.enqueue(tx, NewJob.of(BookingJobs.FINALIZE, new JsonObject().put("booking_id", id))
          .uniqueKey("finalize-b:" + id)),
        JobQueue.enqueue(tx, NewJob.of(BookingJobs.FINALIZE, new JsonObject().put("booking_id", id))
          .uniqueKey("finalize-c:" + id)))
      .map(all -> all.<JobQueue.Enqueued>list().stream().map(JobQueue.Enqueued::id).toList())));

    List<JsonObject> results = new ArrayList<>();
    for (UUID job : jobs) {
      results.add(succeeded(job));
    }
    assertThat(results).allSatisfy(r -> assertThat(r.getString("status")).isEqualTo("finalized"));
    // one run passed the gate, wrote the outbox row and sent it (jobs claimed in one batch share its outcome); any
    // other found the booking finalized
    assertThat(results).filteredOn(r -> "sent".equals(r.getString("email"))).isNotEmpty();
    assertThat(results).allSatisfy(r -> assertThat("sent".equals(r.getString("email"))
      || r.getBoolean("unchanged", false)).isTrue());
    assertThat(outboxStatus(id)).isEqualTo("sent");
    assertThat(jobs.stream().map(UUID::toString)).contains(db.outbox(id).getString("job_id"));
    assertThat(smtp.mailsTo(email)).hasSize(1);
    assertThat(eventFinalized()).isEqualTo(finalizedBefore + 4);
  }

  @Test
  void whileSmtpIsDownTheJobRetriesTheEmailAndDeliversItOnceItIsBack() throws Exception {
    String email = uniqueEmail();
    long id = db.confirmedBooking(email, null, 1);
    double retriesBefore = outboxCounted("retry");
    double sentBefore = outboxCounted("sent");
    UUID writer;
    smtp.stop();
    try {
      writer = enqueueFinalize(id, "finalize:" + id);
      eventually(WITHIN, () -> {
        JsonObject mail = db.outbox(id);
        assertThat(mail).as("outbox row").isNotNull();
        assertThat(mail.getInteger("attempts")).isGreaterThanOrEqualTo(2);
      });
      JsonObject failing = db.outbox(id);
      assertThat(failing.getString("status")).isEqualTo("pending");
      assertThat(failing.getString("last_error")).startsWith("SMTP:");
      assertThat(failing.getString("job_id")).isEqualTo(writer.toString());
      // the ticket is issued; only its e-mail waits
      assertThat(db.booking(id).getString("status")).isEqualTo("finalized");
      assertThat(db.booking(id).getValue("ticket_emailed_at")).isNull();

      // another finalization job of the booking leaves the message to the job that wrote it
      JsonObject other = succeeded(enqueueFinalize(id, "finalize-other:" + id));
      assertThat(other.getBoolean("unchanged")).isTrue();
      assertThat(other.getJsonObject("email").getString("skipped")).isEqualTo("delivered by job " + writer);
    } finally {
      smtp.start();
    }
    JsonObject delivered = succeeded(writer);
    assertThat(delivered.getJsonObject("email").getString("status")).isEqualTo("sent");
    assertThat(outboxStatus(id)).isEqualTo("sent");
    assertThat(smtp.mailsTo(email)).hasSize(1);
    assertThat(db.outbox(id).getString("last_error")).isNull();
    assertThat(db.booking(id).getValue("ticket_emailed_at")).isNotNull();
    assertThat(outboxCounted("retry") - retriesBefore).as("failed attempts counted").isGreaterThanOrEqualTo(2);
    assertThat(outboxCounted("sent") - sentBefore).isEqualTo(1);
  }

  @Test
  void anEmailThatFailsOnTheJobsLastAttemptIsLeftFailed() throws Exception {
    String email = uniqueEmail();
    long id = db.confirmedBooking(email, null, 1);
    double failedBefore = outboxCounted("failed");
    smtp.stop();
    UUID job;
    try {
      job = await(JobQueue.enqueue(pool, NewJob.of(BookingJobs.FINALIZE, new JsonObject().put("booking_id", id))
        .maxAttempts(1))).id();
      eventually(WITHIN, () -> JobQueue.get(pool, job).map(Optional::orElseThrow), j -> "dead".equals(j.status()));
    } finally {
      smtp.start();
    }

    JsonObject mail = db.outbox(id);
    assertThat(mail.getString("status")).isEqualTo("failed");
    assertThat(mail.getInteger("attempts")).isEqualTo(1);
    assertThat(mail.getString("last_error")).startsWith("SMTP:");
    assertThat(db.booking(id).getString("status")).isEqualTo("finalized");
    assertThat(db.booking(id).getString("last_error")).startsWith("ticket e-mail failed: SMTP:");
    assertThat(smtp.mailsTo(email)).isEmpty();
    assertThat(outboxCounted("failed") - failedBefore).as("boxoffice_outbox_messages_total{outcome=failed}")
      .isEqualTo(1);
  }

  /** {@code boxoffice_outbox_messages_total{outcome}} of both nodes (either may run a job). */
  private static double outboxCounted(String outcome) {
    return java.util.stream.Stream.of(node, second).mapToDouble(n -> Metrics.registry(n.vertx()).orElseThrow()
      .get("boxoffice.outbox.messages").tag("outcome", outcome).counter().count()).sum();
  }

  @Test
  void aBookingThatIsNoLongerConfirmedIsSkipped() throws Exception {
    long id = db.confirmedBooking(uniqueEmail(), null, 1);
    await(pool.preparedQuery("UPDATE bookings SET status = 'cancelled' WHERE id = $1").execute(Tuple.of(id)));

    JsonObject result = succeeded(enqueueFinalize(id, "finalize:" + id));

    assertThat(result.getString("skipped")).isEqualTo("cancelled");
    assertThat(db.booking(id).getString("status")).isEqualTo("cancelled");
    assertThat(db.outbox(id)).isNull();
    assertThat(await(pool.preparedQuery("SELECT 1 FROM tickets WHERE booking_id = $1").execute(Tuple.of(id))))
      .isEmpty();
  }

  @Test
  void adminsListTheOutboxByIdSoThatOffsetReadersMissNothing(Vertx vertx) throws Exception {
    long first = sentMessage();
    long second = sentMessage();
    ApiClient admin = api(vertx).withToken(TestTokens.admin());

    HttpResponse<Buffer> page = await(admin.get("/outbox?limit=2&offset=0"));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(Long.parseLong(page.getHeader("X-Total-Count"))).isEqualTo(outboxIds().size());
    JsonObject oldest = page.bodyAsJsonArray().getJsonObject(0);
    assertThat(oldest.fieldNames()).contains("id", "booking_id", "to", "subject", "status", "attempts", "sent_at",
      "last_error", "created_at");
    assertThat(oldest.getString("sent_at")).endsWith("Z");
    // an offset reader pages through while new mail arrives: it sees every message once, in id order
    List<Long> read = new ArrayList<>(ids(page.bodyAsJsonArray()));
    long third = sentMessage();
    for (int offset = read.size(); ; offset += 2) {
      JsonArray items = await(admin.get("/outbox?limit=2&offset=" + offset)).bodyAsJsonArray();
      if (items.isEmpty()) {
        break;
      }
      read.addAll(ids(items));
    }
    assertThat(read).isEqualTo(outboxIds()).isSorted().doesNotHaveDuplicates();
    assertThat(await(admin.get("/outbox?limit=100")).bodyAsJsonArray().stream().map(JsonObject.class::cast)
      .map(m -> m.getLong("booking_id")).toList()).containsSubsequence(first, second, third);

    HttpResponse<Buffer> asUser = await(api(vertx).withToken(TestTokens.user()).get("/outbox"));
    assertThat(asUser.statusCode()).isEqualTo(403);
  }

  /** A booking finalized and its ticket mail sent; returns the booking's id. */
  private static long sentMessage() throws Exception {
    long id = db.confirmedBooking(uniqueEmail(), eventId, 1);
    enqueueFinalize(id, "finalize:" + id);
    eventually(WITHIN, () -> assertThat(outboxStatus(id)).isEqualTo("sent"));
    return id;
  }

  private static List<Long> outboxIds() {
    List<Long> ids = new ArrayList<>();
    await(pool.query("SELECT id FROM outbox ORDER BY id").execute()).forEach(r -> ids.add(r.getLong("id")));
    return ids;
  }

  private static List<Long> ids(JsonArray items) {
    return items.stream().map(JsonObject.class::cast).map(m -> m.getLong("id")).toList();
  }

  private static ApiClient api(Vertx vertx) {
    return ApiClient.create(vertx, node.platform().config().integer("http_port"));
  }

  // ------------------------------------------------------------------ fixtures

  private static UUID enqueueFinalize(long id, String key) throws Exception {
    return await(JobQueue.enqueue(pool, NewJob.of(BookingJobs.FINALIZE, new JsonObject().put("booking_id", id))
      .uniqueKey(key))).id();
  }

  private static String uniqueEmail() {
    return "ada" + SEQ.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com";
  }

  private static String outboxStatus(long bookingId) throws Exception {
    JsonObject mail = db.outbox(bookingId);
    return mail == null ? null : mail.getString("status");
  }

  private static long eventFinalized() throws Exception {
    return await(pool.preparedQuery("SELECT coalesce(sum(finalized), 0) AS finalized FROM event_finalized "
        + "WHERE event_id = $1").execute(Tuple.of(eventId))).iterator().next().getLong("finalized");
  }

  /** The job's result once it has succeeded; fails the test if it ends any other way. */
  private static JsonObject succeeded(UUID job) {
    JobRow done = eventually(WITHIN, () -> JobQueue.get(pool, job).map(Optional::orElseThrow), j -> {
      assertThat(j.status()).isNotIn("dead", "cancelled");
      return "succeeded".equals(j.status());
    });
    return done.result();
  }

  private static byte[] attachment(MimeMessage message, String fileName) throws Exception {
    Multipart parts = (Multipart) message.getContent();
    for (int i = 0; i < parts.getCount(); i++) {
      BodyPart part = parts.getBodyPart(i);
      if (fileName.equals(part.getFileName())) {
        assertThat(part.getContentType()).startsWith("application/pdf");
        return part.getInputStream().readAllBytes();
      }
    }
    throw new AssertionError("no attachment " + fileName);
  }

  private static String pdfText(byte[] pdf) throws Exception {
    try (PDDocument doc = Loader.loadPDF(pdf)) {
      return new PDFTextStripper().getText(doc);
    }
  }
}
