package dev.boxoffice.tickets;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.LeaseFence;
import dev.boxoffice.ops.Metrics;
import dev.boxoffice.platform.Failures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import dev.boxoffice.platform.Traces;
import dev.boxoffice.platform.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mail.MailClient;
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
 * ({@code outbox.job_id}); only that job delivers it. Right before messages leave, one statement per batch claims
 * their rows for the sending attempt ({@code claimed_by_job}, {@code claimed_attempt}, the attempt counted on the
 * row) only where that attempt still holds its job's lease ({@link LeaseFence}: job {@code running}, at this attempt,
 * locked by this node) and the row is still {@code pending}; only the rows it returns are sent. An attempt whose
 * lease was taken over (its node was paused or cut off past the lease and the job rescued, perhaps running elsewhere
 * already) sends nothing and fails with "lease lost"; the attempt that took over delivers. A batch that has been
 * sending for more than {@link OutboxBatch#CLAIM_FRESH_MS} claims its remaining rows again before sending on, so a
 * node that freezes in the middle of a batch does not resume sending it unchecked. Right after the SMTP server
 * accepts a message the row becomes {@code sent} together with {@code bookings.ticket_emailed_at} in one statement;
 * any later run (a retry, a duplicate job, another node) finds {@code sent} and does nothing. If the database is away
 * at that moment (a restart, a failover) that statement is retried for a while rather than failing the job, which
 * would send again.
 *
 * <p>What remains at-least-once: a crash of this node between the SMTP acceptance and that commit (or a database
 * outage longer than the retries), or a freeze in the middle of one SMTP exchange that outlasts the lease; the job's
 * next attempt sends again. Nothing can close that without the SMTP server taking part in our transaction, so every
 * message carries a Message-ID fixed by its outbox row ({@link OutboxMessages#messageId}): a copy re-sent is the
 * same message for the receiver (mail clients and many servers drop the duplicate).
 *
 * <p>Without {@code smtp_host} rows are written {@code recorded} (kept in the outbox only, never sent). SMTP
 * failures fail the job's attempt, which is retried with the job's backoff; on its last attempt the row becomes
 * {@code failed} with the last error.
 *
 * <p>{@code boxoffice_outbox_messages_total{outcome}} counts, on the node that sends: {@code sent} (the SMTP server
 * accepted it), {@code retry} (an attempt failed; the job tries again) and {@code failed} (the last attempt failed:
 * the row is given up, a person must act).
 */
public final class OutboxSender {
  private static final Logger log = LoggerFactory.getLogger(OutboxSender.class);

  /** One message as written by finalization. */
  public record Mail(long outboxId, long bookingId, String to, String subject, String body, Buffer pdf) {
    JsonObject result() {
      return new JsonObject().put("outbox_id", outboxId).put("booking_id", bookingId);
    }
  }

  /** A message and the job attempt that delivers it. */
  record Delivery(Job job, Mail mail) {
  }

  private static final String LOAD_PENDING = """
    SELECT o.id, o.booking_id, o.job_id, o."to", o.subject, o.body, t.pdf
    FROM outbox o LEFT JOIN tickets t ON t.booking_id = o.booking_id
    WHERE o.booking_id = ANY($1) AND o.kind = 'ticket' AND o.status = 'pending'""";

  private static final String RECORD =
    "UPDATE outbox SET status = 'recorded' WHERE id = ANY($1) AND status = 'pending' RETURNING id";

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
    WHERE id = $1 AND status = 'pending' AND claimed_by_job = $4 AND claimed_attempt = $5""";

  private static final String NOTE_ON_BOOKING =
    "UPDATE bookings SET last_error = left($2, 2000), updated_at = now() WHERE id = $1";

  private final Vertx vertx;
  private final Pool pool;
  private final MailClient mail;
  private final OutboxMessages messages;
  private final Counter sent;
  private final Counter retry;
  private final Counter failed;
  private final Tracing tracing;

  /** @param mail null when no SMTP server is configured */
  public OutboxSender(Vertx vertx, Pool pool, MailClient mail, String from) {
    this.vertx = vertx;
    this.pool = pool;
    this.mail = mail;
    this.messages = new OutboxMessages(from);
    MeterRegistry registry = Metrics.registry(vertx).orElse(null);
    this.sent = counter(registry, "sent");
    this.retry = counter(registry, "retry");
    this.failed = counter(registry, "failed");
    this.tracing = Tracing.of(vertx);
  }

  private static Counter counter(MeterRegistry registry, String outcome) {
    return registry == null ? null : Counter.builder("boxoffice.outbox.messages")
      .description("Ticket e-mails by outcome on this node: sent, retry (an attempt failed), failed (given up)")
      .tag("outcome", outcome).register(registry);
  }

  private static void count(Counter counter) {
    if (counter != null) {
      counter.increment();
    }
  }

  /** The status a new outbox row starts in: {@code pending} (to send) or {@code recorded} (no SMTP server). */
  String initialStatus() {
    return mail == null ? "recorded" : "pending";
  }

  /** Attempts a new row starts with: none, each delivering attempt counts itself when it claims the row. */
  int initialAttempts() {
    return 0;
  }

  /**
   * Messages finalization has just committed, each with the attempt that wrote it: claimed (fenced) in one
   * statement, then to SMTP and marked sent. The outcome per outbox id, at once (they complete as the batch goes).
   */
  Map<Long, Future<JsonObject>> deliverNew(List<Delivery> deliveries) {
    Map<Long, Future<JsonObject>> out = new HashMap<>();
    if (mail == null) {
      deliveries.forEach(d -> out.put(d.mail().outboxId(),
        Future.succeededFuture(d.mail().result().put("status", "recorded"))));
      return out;
    }
    return OutboxBatch.send(pool, deliveries, this::deliver);
  }

  /**
   * The still-pending ticket e-mails of bookings that were finalized earlier (this job's retry, or its rescue from a
   * node that died after the commit): each row is delivered by the job that wrote it, once claimed by that attempt.
   * The outcome per booking id; bookings with nothing for this job to send are missing from it.
   */
  Future<Map<Long, Future<JsonObject>>> deliverPending(Map<Long, List<Job>> byBooking) {
    Long[] bookings = byBooking.keySet().toArray(new Long[0]);
    return pool.preparedQuery(LOAD_PENDING).execute(Tuple.of((Object) bookings)).compose(rows -> {
      List<Delivery> mine = new ArrayList<>();
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
          mine.add(new Delivery(job, m));
        }
      }
      if (mine.isEmpty()) {
        return Future.succeededFuture(out);
      }
      if (mail == null) {
        Long[] ids = mine.stream().map(d -> d.mail().outboxId()).toArray(Long[]::new);
        return pool.preparedQuery(RECORD).execute(Tuple.of((Object) ids)).map(changed -> {
          // rows missing here were recorded or given up since we read them
          Map<Long, Mail> byId = new HashMap<>();
          mine.forEach(d -> byId.put(d.mail().outboxId(), d.mail()));
          changed.forEach(r -> {
            Mail m = byId.get(r.getLong("id"));
            out.put(m.bookingId(), Future.succeededFuture(m.result().put("status", "recorded")));
          });
          return out;
        });
      }
      Map<Long, Future<JsonObject>> sent = OutboxBatch.send(pool, mine, this::deliver);
      mine.forEach(d -> out.put(d.mail().bookingId(), sent.get(d.mail().outboxId())));
      return Future.succeededFuture(out);
    });
  }

  /** One message to SMTP; marked sent as soon as the server has it, so the duplicate window stays one message. */
  private Future<JsonObject> deliver(Job job, Mail m) {
    Span span = smtpSpan(job, m);
    Future<?> smtp = mail.sendMail(messages.of(m));
    if (span != null) {
      smtp = smtp.andThen(ar -> Traces.end(span, ar));
    }
    return smtp.compose(
      accepted -> {
        count(sent);
        return markSent(m.outboxId(), RECORD_TRIES).map(m.result().put("status", "sent"));
      },
      err -> recordFailure(job, m, err));
  }

  /**
   * The span of one SMTP send, in the trace of the finalization attempt that delivers it (its job's own, also when
   * the attempt ran in a batch); null when untraced. No addresses on it: a trace is no place for personal data.
   */
  private Span smtpSpan(Job job, Mail m) {
    if (!tracing.on()) {
      return null;
    }
    Context parent = Traces.context(job.trace());
    return parent == null ? null : tracing.tracer().spanBuilder("smtp send").setParent(parent)
      .setSpanKind(SpanKind.CLIENT)
      .setAttribute("boxoffice.outbox.id", m.outboxId())
      .setAttribute("boxoffice.booking.id", m.bookingId())
      .setAttribute("boxoffice.job.id", job.id().toString())
      .startSpan();
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
    Future<?> noted = pool.preparedQuery(MARK_ERROR).execute(Tuple.of(m.outboxId(), error, last, job.id(),
      job.attempt())).onSuccess(rows -> {
        if (rows.rowCount() > 0) { // not when the attempt had been superseded: the row is not this one's to give up
          count(last ? failed : retry);
        }
      });
    if (last) {
      noted = noted.compose(v -> pool.preparedQuery(NOTE_ON_BOOKING)
        .execute(Tuple.of(m.bookingId(), "ticket e-mail failed: " + error)));
    }
    return noted.transform(ar -> Future.failedFuture(last ? JobFailure.permanent(error)
      : JobFailure.retryable(error)));
  }
}
