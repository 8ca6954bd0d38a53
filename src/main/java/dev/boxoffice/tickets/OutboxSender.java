package dev.boxoffice.tickets;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.platform.Failures;
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

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Delivers ticket e-mails from the outbox through SMTP, for the finalization job that wrote them.
 *
 * <p>Delivery guarantee. An outbox row belongs to the finalization job whose transaction wrote it
 * ({@code outbox.job_id}); only that job delivers it, and the job engine runs at most one attempt of a job at a time
 * (lease), so no two deliveries of a row run at once. Every attempt is counted on the row before the message leaves
 * (the first one by the insert itself). A delivery goes out only while the row is {@code pending}, and right after
 * the SMTP server accepts the message the row becomes {@code sent} together with
 * {@code bookings.ticket_emailed_at} in one statement; any later run (a retry, a duplicate job, another node) finds
 * {@code sent} and does nothing. If the database is away at that moment (a restart, a failover) that statement is
 * retried for a while rather than failing the job, which would send again. The one remaining duplicate window is a
 * crash of this node between the SMTP acceptance and that commit (or a database outage longer than the retries): the
 * job's next attempt sends again. There delivery is at-least-once; nothing can close it without the SMTP server
 * taking part in our transaction.
 *
 * <p>Without {@code smtp_host} rows are written {@code recorded} (kept in the outbox only, never sent). SMTP
 * failures fail the job's attempt, which is retried with the job's backoff; on its last attempt the row becomes
 * {@code failed} with the last error.
 */
public final class OutboxSender {
  private static final Logger log = LoggerFactory.getLogger(OutboxSender.class);

  /** One message as written by finalization. */
  public record Mail(long outboxId, long bookingId, String to, String subject, String body, Buffer pdf) {
    JsonObject result() {
      return new JsonObject().put("outbox_id", outboxId).put("booking_id", bookingId);
    }
  }

  private static final String LOAD_PENDING = """
    SELECT o.id, o.booking_id, o.job_id, o."to", o.subject, o.body, t.pdf
    FROM outbox o LEFT JOIN tickets t ON t.booking_id = o.booking_id
    WHERE o.booking_id = ANY($1) AND o.kind = 'ticket' AND o.status = 'pending'""";

  private static final String RECORD =
    "UPDATE outbox SET status = 'recorded' WHERE id = ANY($1) AND status = 'pending' RETURNING id";

  private static final String COUNT_ATTEMPT =
    "UPDATE outbox SET attempts = attempts + 1 WHERE id = ANY($1) AND status = 'pending' RETURNING id";

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

  /** The status a new outbox row starts in: {@code pending} (to send) or {@code recorded} (no SMTP server). */
  String initialStatus() {
    return mail == null ? "recorded" : "pending";
  }

  /** Attempts a new row starts with: its first delivery follows the commit that writes it. */
  int initialAttempts() {
    return mail == null ? 0 : 1;
  }

  /** A message finalization has just committed (with its first attempt counted): to SMTP, then marked sent. */
  Future<JsonObject> deliverNew(Job job, Mail m) {
    if (mail == null) {
      return Future.succeededFuture(m.result().put("status", "recorded"));
    }
    return deliver(job, m);
  }

  /**
   * The still-pending ticket e-mails of bookings that were finalized earlier (this job's retry, or its rescue from a
   * node that died after the commit): each row is delivered by the job that wrote it, with the attempt counted
   * first. The outcome per booking id; bookings with nothing for this job to send are missing from it.
   */
  Future<Map<Long, Future<JsonObject>>> deliverPending(Map<Long, List<Job>> byBooking) {
    Long[] bookings = byBooking.keySet().toArray(new Long[0]);
    return pool.preparedQuery(LOAD_PENDING).execute(Tuple.of((Object) bookings)).compose(rows -> {
      Map<Long, Mail> mine = new HashMap<>();
      Map<Long, Job> senders = new HashMap<>();
      Map<Long, Future<JsonObject>> out = new HashMap<>();
      for (Row row : rows) {
        long bookingId = row.getLong("booking_id");
        UUID owner = row.getUUID("job_id");
        // the job that wrote the row, if it is among this batch's jobs of the booking (a duplicate may be too)
        Job job = byBooking.get(bookingId).stream().filter(j -> owner == null || owner.equals(j.id())).findFirst()
          .orElse(null);
        Mail m = new Mail(row.getLong("id"), bookingId, row.getString("to"), row.getString("subject"),
          row.getString("body"), row.getBuffer("pdf"));
        if (job == null) {
          // another finalization job wrote it and delivers it (however often this one runs)
          out.put(bookingId, Future.succeededFuture(m.result().put("skipped", "delivered by job " + owner)));
        } else if (mail != null && m.pdf() == null) {
          out.put(bookingId, Future.failedFuture(JobFailure.permanent("ticket of booking " + bookingId
            + " is missing")));
        } else {
          mine.put(m.outboxId(), m);
          senders.put(bookingId, job);
        }
      }
      if (mine.isEmpty()) {
        return Future.succeededFuture(out);
      }
      Long[] ids = mine.keySet().toArray(new Long[0]);
      return pool.preparedQuery(mail == null ? RECORD : COUNT_ATTEMPT).execute(Tuple.of((Object) ids))
        .map(changed -> {
          // rows missing here were sent, recorded or given up since we read them
          changed.forEach(r -> {
            Mail m = mine.get(r.getLong("id"));
            out.put(m.bookingId(), mail == null ? Future.succeededFuture(m.result().put("status", "recorded"))
              : deliver(senders.get(m.bookingId()), m));
          });
          return out;
        });
    });
  }

  /** One message to SMTP; marked sent as soon as the server has it, so the duplicate window stays one message. */
  private Future<JsonObject> deliver(Job job, Mail m) {
    return send(m).compose(
      sent -> markSent(m.outboxId(), RECORD_TRIES).map(m.result().put("status", "sent")),
      err -> recordFailure(job, m, err));
  }

  private Future<?> send(Mail m) {
    MailMessage message = new MailMessage()
      .setFrom(from)
      .setTo(m.to())
      .setSubject(m.subject())
      .setText(m.body());
    if (m.pdf() != null) {
      message.setAttachment(List.of(MailAttachment.create()
        .setData(m.pdf())
        .setName(TicketPdf.fileName(m.bookingId()))
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
  private Future<JsonObject> recordFailure(Job job, Mail m, Throwable err) {
    String error = "SMTP: " + Failures.text(err);
    boolean last = job.attempt() >= job.maxAttempts();
    Future<?> noted = pool.preparedQuery(MARK_ERROR).execute(Tuple.of(m.outboxId(), error, last));
    if (last) {
      noted = noted.compose(v -> pool.preparedQuery(NOTE_ON_BOOKING)
        .execute(Tuple.of(m.bookingId(), "ticket e-mail failed: " + error)));
    }
    return noted.transform(ar -> Future.failedFuture(last ? JobFailure.permanent(error)
      : JobFailure.retryable(error)));
  }
}
