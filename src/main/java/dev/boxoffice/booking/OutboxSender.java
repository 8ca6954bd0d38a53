package dev.boxoffice.booking;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mail.MailAttachment;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailMessage;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The {@code outbox.send} job (payload {@code {"outbox_id": N}}): delivers one outbox row through SMTP.
 *
 * <p>Delivery guarantee. The job engine runs at most one attempt of a job at a time (lease), and every send job of
 * a row carries the unique key {@code outbox:<id>}, so no two live jobs exist for one row. The handler sends only
 * while the row is still {@code pending}, and right after the SMTP server accepts the message it marks the row
 * {@code sent} and stamps {@code bookings.ticket_emailed_at} in one statement (a single round trip); any later run
 * (a retry, a second job, another node) finds {@code sent} and does nothing. If the database is away at that moment
 * (a restart, a failover) that statement is retried for a while rather than failing the job, which would send again.
 * The one remaining duplicate window is a crash of this node between the SMTP acceptance and that commit (or a
 * database outage longer than the retries): the next attempt sends again. There delivery is at-least-once; nothing
 * can close it without the SMTP server taking part in our transaction.
 *
 * <p>Without {@code smtp_host} the row becomes {@code recorded}: kept in the outbox only, never sent. SMTP failures
 * are retried with backoff; on the job's last attempt the row becomes {@code failed} with the last error.
 */
public final class OutboxSender {
  private static final Logger log = LoggerFactory.getLogger(OutboxSender.class);
  private static final String LOAD = """
    SELECT o.id, o.booking_id, o.kind, o."to", o.subject, o.body, o.status, t.pdf
    FROM outbox o LEFT JOIN tickets t ON t.booking_id = o.booking_id
    WHERE o.id = $1""";

  private static final String RECORD =
    "UPDATE outbox SET status = 'recorded' WHERE id = $1 AND status = 'pending'";

  private static final String COUNT_ATTEMPT =
    "UPDATE outbox SET attempts = attempts + 1 WHERE id = $1 AND status = 'pending' RETURNING attempts";

  // row and booking stamp in one statement: one pipelined round trip, no transaction to open, after the SMTP server
  // has the message
  private static final String MARK_SENT = """
    WITH sent AS (
      UPDATE outbox SET status = 'sent', sent_at = now(), last_error = NULL
      WHERE id = $1 AND status = 'pending'
      RETURNING booking_id, kind)
    UPDATE bookings b SET ticket_emailed_at = now(), updated_at = now()
    FROM sent WHERE b.id = sent.booking_id AND sent.kind = 'ticket'""";

  /** How long an accepted delivery keeps trying to record itself: well inside a job lease and timeout. */
  private static final int RECORD_TRIES = 40;
  private static final long RECORD_RETRY_MS = 500;

  private static final String MARK_ERROR = """
    UPDATE outbox SET last_error = left($2, 2000), status = CASE WHEN $3 THEN 'failed' ELSE status END
    WHERE id = $1 AND status = 'pending'""";

  private static final String NOTE_ON_BOOKING =
    "UPDATE bookings SET last_error = left($2, 2000), updated_at = now() WHERE id = $1";

  private final Vertx vertx;
  private final Pool pool;
  private final MailClient mail;
  private final String from;

  /** @param mail null when no SMTP server is configured */
  public OutboxSender(Vertx vertx, Pool pool, MailClient mail, String from) {
    this.vertx = vertx;
    this.pool = pool;
    this.mail = mail;
    this.from = from;
  }

  public static String uniqueKey(long outboxId) {
    return "outbox:" + outboxId;
  }

  public Future<JsonObject> handle(Job job) {
    Long id = job.payload().getLong("outbox_id");
    if (id == null) {
      return Future.failedFuture(JobFailure.permanent("payload has no outbox_id"));
    }
    return pool.preparedQuery(LOAD).execute(Tuple.of(id)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(JobFailure.permanent("outbox message " + id + " not found"));
      }
      Row row = rows.iterator().next();
      JsonObject result = new JsonObject().put("outbox_id", id).put("booking_id", row.getLong("booking_id"));
      String status = row.getString("status");
      if (!"pending".equals(status)) {
        return Future.succeededFuture(result.put("skipped", status));
      }
      if (mail == null) {
        return pool.preparedQuery(RECORD).execute(Tuple.of(id)).map(r -> result.put("status", "recorded"));
      }
      Buffer pdf = row.getBuffer("pdf");
      if ("ticket".equals(row.getString("kind")) && pdf == null) {
        return Future.failedFuture(JobFailure.permanent("ticket of booking " + row.getLong("booking_id")
          + " is missing"));
      }
      return pool.preparedQuery(COUNT_ATTEMPT).execute(Tuple.of(id))
        .compose(counted -> counted.size() == 0
          ? Future.succeededFuture(result.put("skipped", "not pending"))
          : send(row, pdf).compose(
            sent -> markSent(id, RECORD_TRIES).map(result.put("status", "sent")),
            err -> recordFailure(job, row, err)));
    });
  }

  private Future<?> send(Row row, Buffer pdf) {
    long bookingId = row.getLong("booking_id");
    MailMessage message = new MailMessage()
      .setFrom(from)
      .setTo(row.getString("to"))
      .setSubject(row.getString("subject"))
      .setText(row.getString("body"));
    if (pdf != null) {
      message.setAttachment(List.of(MailAttachment.create()
        .setData(pdf)
        .setName(TicketPdf.fileName(bookingId))
        .setContentType("application/pdf")
        .setDisposition("attachment")));
    }
    return mail.sendMail(message);
  }

  /**
   * Records a delivery the SMTP server accepted. Failing here would make the retry send the message again, so a
   * database that is briefly unreachable is waited for (the statement changes nothing if it already committed).
   */
  private Future<Void> markSent(long id, int triesLeft) {
    return pool.preparedQuery(MARK_SENT).execute(Tuple.of(id)).<Void>mapEmpty().recover(err -> {
      if (triesLeft <= 1) {
        return Future.failedFuture(err);
      }
      if (triesLeft == RECORD_TRIES) {
        log.warn("outbox {}: delivered, but recording it failed ({}); retrying", id, err.getMessage());
      }
      Promise<Void> again = Promise.promise();
      vertx.setTimer(RECORD_RETRY_MS, t -> markSent(id, triesLeft - 1).onComplete(again));
      return again.future();
    });
  }

  /** Keeps the error on the row; on the job's last attempt the row is given up as failed (and noted on the booking). */
  private Future<JsonObject> recordFailure(Job job, Row row, Throwable err) {
    String error = "SMTP: " + (err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage());
    boolean last = job.attempt() >= job.maxAttempts();
    long id = row.getLong("id");
    Future<?> noted = pool.preparedQuery(MARK_ERROR).execute(Tuple.of(id, error, last));
    if (last) {
      noted = noted.compose(v -> pool.preparedQuery(NOTE_ON_BOOKING)
        .execute(Tuple.of(row.getLong("booking_id"), "ticket e-mail failed: " + error)));
    }
    return noted.transform(ar -> Future.failedFuture(last ? JobFailure.permanent(error)
      : JobFailure.retryable(error)));
  }
}
