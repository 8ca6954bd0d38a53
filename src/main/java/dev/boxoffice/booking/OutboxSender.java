package dev.boxoffice.booking;

import dev.boxoffice.jobs.BatchResult;
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

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code outbox.send} job (payload {@code {"outbox_id": N}}): delivers one outbox row through SMTP. A batch
 * handler: the rows of the due jobs are read, counted and (without SMTP) recorded with one statement each, so the
 * mail queue keeps up with finalization; each message still goes to SMTP and is marked sent on its own.
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
    WHERE o.id = ANY($1)""";

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

  public static String uniqueKey(long outboxId) {
    return "outbox:" + outboxId;
  }

  public Future<BatchResult> handleAll(List<Job> jobs) {
    BatchResult out = new BatchResult();
    Map<Long, List<Job>> byRow = new LinkedHashMap<>();
    for (Job job : jobs) {
      Object id = job.payload().getValue("outbox_id");
      if (id instanceof Number n) {
        byRow.computeIfAbsent(n.longValue(), k -> new ArrayList<>()).add(job);
      } else {
        out.failed(job.id(), JobFailure.permanent("payload has no outbox_id"));
      }
    }
    if (byRow.isEmpty()) {
      return Future.succeededFuture(out);
    }
    return pool.preparedQuery(LOAD).execute(Tuple.of((Object) byRow.keySet().toArray(new Long[0]))).compose(rows -> {
      Map<Long, Row> pending = new LinkedHashMap<>();
      Map<Long, Row> loaded = new HashMap<>();
      rows.forEach(r -> loaded.put(r.getLong("id"), r));
      byRow.forEach((id, its) -> {
        Row row = loaded.get(id);
        if (row == null) {
          its.forEach(j -> out.failed(j.id(), JobFailure.permanent("outbox message " + id + " not found")));
        } else if (!"pending".equals(row.getString("status"))) {
          its.forEach(j -> out.succeeded(j.id(), result(row).put("skipped", row.getString("status"))));
        } else if (mail != null && "ticket".equals(row.getString("kind")) && row.getBuffer("pdf") == null) {
          its.forEach(j -> out.failed(j.id(), JobFailure.permanent("ticket of booking " + row.getLong("booking_id")
            + " is missing")));
        } else {
          pending.put(id, row);
        }
      });
      if (pending.isEmpty()) {
        return Future.succeededFuture(out);
      }
      // without SMTP, recording is the delivery; with it, the attempt is counted before the message leaves
      Long[] ids = pending.keySet().toArray(new Long[0]);
      return pool.preparedQuery(mail == null ? RECORD : COUNT_ATTEMPT).execute(Tuple.of((Object) ids))
        .compose(changed -> {
          List<Future<?>> deliveries = new ArrayList<>();
          changed.forEach(r -> {
            Row row = pending.remove(r.getLong("id"));
            List<Job> its = byRow.get(row.getLong("id"));
            deliveries.add((mail == null ? Future.succeededFuture(result(row).put("status", "recorded"))
              : deliver(its.get(0), row))
              .onSuccess(res -> its.forEach(j -> out.succeeded(j.id(), res)))
              .onFailure(err -> its.forEach(j -> out.failed(j.id(), err))));
          });
          // sent, recorded or given up by another run since we read them
          pending.values().forEach(row -> byRow.get(row.getLong("id"))
            .forEach(j -> out.succeeded(j.id(), result(row).put("skipped", "not pending"))));
          return Future.join(deliveries).transform(ar -> Future.succeededFuture(out));
        });
    });
  }

  /** One message to SMTP; marked sent as soon as the server has it, so the duplicate window stays one message. */
  private Future<JsonObject> deliver(Job job, Row row) {
    return send(row, row.getBuffer("pdf")).compose(
      sent -> markSent(row.getLong("id"), RECORD_TRIES).map(result(row).put("status", "sent")),
      err -> recordFailure(job, row, err));
  }

  private static JsonObject result(Row row) {
    return new JsonObject().put("outbox_id", row.getLong("id")).put("booking_id", row.getLong("booking_id"));
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
