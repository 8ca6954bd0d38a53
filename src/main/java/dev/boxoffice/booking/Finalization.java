package dev.boxoffice.booking;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;

/**
 * The {@code booking.finalize} job (payload {@code {"booking_id": N}}): confirmed → finalized, with the ticket PDF
 * and its e-mail queued in the outbox.
 *
 * <p>Exactly once per booking, however often or wherever the job runs: the conditional
 * {@code UPDATE ... WHERE status = 'confirmed'} is the gate, and the ticket, the outbox row, the events counter and
 * the send job are written in the same transaction only when that update changed the row. A concurrent run (retry
 * after a lost lease, a second job, another node) blocks on the row lock, then finds it no longer confirmed and
 * writes nothing. The unique keys of tickets and outbox are a second line of defence. The gate comes first (rather
 * than after the inserts) so that a booking cancelled between the read and the transaction never gets a ticket.
 */
public final class Finalization {
  private static final String LOAD = """
    SELECT b.id, b.name, b.email, b.status, b.event_id, b.product_id, b.quantity, b.owner,
           e.title AS event_title, e.starts_at AS event_starts_at, p.name AS product_name
    FROM bookings b
    LEFT JOIN events e ON e.id = b.event_id
    LEFT JOIN products p ON p.id = b.product_id
    WHERE b.id = $1""";

  private static final String FINALIZE = """
    UPDATE bookings SET status = 'finalized', finalized_at = now(), updated_at = now()
    WHERE id = $1 AND status = 'confirmed'
    RETURNING event_id, quantity""";

  private static final String INSERT_TICKET =
    "INSERT INTO tickets (booking_id, pdf) VALUES ($1, $2) ON CONFLICT (booking_id) DO NOTHING";

  private static final String INSERT_MAIL = """
    INSERT INTO outbox (booking_id, kind, "to", subject, body) VALUES ($1, 'ticket', $2, $3, $4)
    ON CONFLICT (booking_id, kind) DO NOTHING
    RETURNING id, status""";

  private static final String FIND_MAIL = "SELECT id, status FROM outbox WHERE booking_id = $1 AND kind = 'ticket'";

  private static final String COUNT_FINALIZED = "UPDATE events SET finalized = finalized + $2 WHERE id = $1";

  private static final String STATUS = "SELECT status FROM bookings WHERE id = $1";

  private final Vertx vertx;
  private final Pool pool;

  public Finalization(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  public Future<JsonObject> handle(Job job) {
    Long bookingId = job.payload().getLong("booking_id");
    if (bookingId == null) {
      return Future.failedFuture(JobFailure.permanent("payload has no booking_id"));
    }
    return pool.preparedQuery(LOAD).execute(Tuple.of(bookingId)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(JobFailure.permanent("booking " + bookingId + " not found"));
      }
      Row booking = rows.iterator().next();
      String status = booking.getString("status");
      if ("finalized".equals(status)) {
        return Future.succeededFuture(done(bookingId).put("unchanged", true));
      }
      if (!"confirmed".equals(status)) {
        // cancelled or expired meanwhile, or not yet confirmed: nothing to issue, and nothing to retry
        return Future.succeededFuture(new JsonObject().put("booking_id", bookingId).put("skipped", status));
      }
      TicketPdf.Data data = ticketData(booking);
      // rendering is CPU work off the event loop; unordered so tickets render in parallel
      return vertx.executeBlocking(() -> TicketPdf.render(data), false)
        .compose(pdf -> pool.withTransaction(tx -> finalize(tx, booking, data, pdf)));
    });
  }

  private Future<JsonObject> finalize(SqlClient tx, Row booking, TicketPdf.Data data, byte[] pdf) {
    long bookingId = data.bookingId();
    return tx.preparedQuery(FINALIZE).execute(Tuple.of(bookingId)).compose(changed -> {
      if (changed.size() == 0) {
        // another run finalized it, or it was cancelled, after we read it
        return tx.preparedQuery(STATUS).execute(Tuple.of(bookingId)).map(rows -> {
          String now = rows.size() == 0 ? null : rows.iterator().next().getString("status");
          return "finalized".equals(now) ? done(bookingId).put("unchanged", true)
            : new JsonObject().put("booking_id", bookingId).put("skipped", now);
        });
      }
      Row gate = changed.iterator().next();
      Long eventId = gate.getLong("event_id");
      int quantity = gate.getInteger("quantity");
      Future<?> counted = eventId == null ? Future.succeededFuture()
        : tx.preparedQuery(COUNT_FINALIZED).execute(Tuple.of(eventId, quantity));
      return counted
        .compose(v -> tx.preparedQuery(INSERT_TICKET).execute(Tuple.of(bookingId, Buffer.buffer(pdf))))
        .compose(v -> tx.preparedQuery(INSERT_MAIL)
          .execute(Tuple.of(bookingId, data.email(), subject(data), body(data))))
        .compose(inserted -> inserted.size() == 1 ? Future.succeededFuture(inserted.iterator().next())
          : tx.preparedQuery(FIND_MAIL).execute(Tuple.of(bookingId)).map(rows -> rows.iterator().next()))
        .compose(mail -> {
          long outboxId = mail.getLong("id");
          JsonObject result = done(bookingId).put("outbox_id", outboxId);
          if (!"pending".equals(mail.getString("status"))) {
            return Future.succeededFuture(result);
          }
          return JobQueue.enqueue(tx, NewJob.of(BookingJobs.SEND_EMAIL,
                new JsonObject().put("outbox_id", outboxId).put("booking_id", bookingId))
              .uniqueKey(OutboxSender.uniqueKey(outboxId)).owner(booking.getString("owner")))
            .map(result);
        });
    });
  }

  private static JsonObject done(long bookingId) {
    return new JsonObject().put("booking_id", bookingId).put("status", "finalized");
  }

  private static TicketPdf.Data ticketData(Row b) {
    String kind = null;
    String item = null;
    String startsAt = null;
    if (b.getLong("event_id") != null) {
      kind = "Event";
      item = b.getString("event_title");
      OffsetDateTime starts = b.getOffsetDateTime("event_starts_at");
      startsAt = Times.ts(starts);
    } else if (b.getLong("product_id") != null) {
      kind = "Product";
      item = b.getString("product_name");
    }
    Integer quantity = b.getInteger("quantity");
    return new TicketPdf.Data(b.getLong("id"), b.getString("name"), b.getString("email"), kind, item,
      quantity == null ? 1 : quantity, startsAt);
  }

  static String subject(TicketPdf.Data d) {
    return d.item() == null ? "Your boxoffice ticket " + d.reference()
      : "Your ticket for " + d.item() + " (" + d.reference() + ")";
  }

  static String body(TicketPdf.Data d) {
    StringBuilder text = new StringBuilder()
      .append("Hello ").append(d.name()).append(",\n\n")
      .append("your booking ").append(d.reference()).append(" is confirmed. Your ticket is attached (")
      .append(TicketPdf.fileName(d.bookingId())).append(").\n\n");
    if (d.item() != null) {
      text.append(d.itemKind()).append(": ").append(d.item()).append('\n');
    }
    if (d.startsAt() != null) {
      text.append("Starts at: ").append(d.startsAt()).append('\n');
    }
    text.append("Quantity: ").append(d.quantity()).append("\n\n")
      .append("Show the QR code on the ticket at the entrance.\n\n-- \nboxoffice\n");
    return text.toString();
  }
}
