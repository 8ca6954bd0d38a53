package dev.boxoffice.booking;

import dev.boxoffice.jobs.BatchResult;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code booking.finalize} job (payload {@code {"booking_id": N}}): confirmed → finalized, with the ticket PDF
 * and its e-mail queued in the outbox. A batch handler: the due finalizations of a node are rendered in one blocking
 * task and written in one transaction (one gate UPDATE, one insert each for tickets, outbox rows and send jobs, one
 * upsert of the events' finalized counters), so finalization keeps up with the booking rate instead of taking a
 * transaction and a counter lock per ticket.
 *
 * <p>Exactly once per booking, however often or wherever the job runs: the conditional
 * {@code UPDATE ... WHERE status = 'confirmed'} is the gate, and the tickets, the outbox rows, the events counters
 * and the send jobs are written in the same transaction only for the bookings that update changed. A concurrent run
 * (retry after a lost lease, a second job, another node) blocks on the row locks, then finds them no longer
 * confirmed and writes nothing for them. The unique keys of tickets and outbox are a second line of defence. The
 * gate comes first (rather than after the inserts) so that a booking cancelled between the read and the
 * transaction never gets a ticket.
 */
public final class Finalization {
  private static final String LOAD = """
    SELECT b.id, b.name, b.email, b.status, b.event_id, b.product_id, b.quantity, b.owner,
           e.title AS event_title, e.starts_at AS event_starts_at, p.name AS product_name
    FROM bookings b
    LEFT JOIN events e ON e.id = b.event_id
    LEFT JOIN products p ON p.id = b.product_id
    WHERE b.id = ANY($1)""";

  private static final String FINALIZE = """
    UPDATE bookings SET status = 'finalized', finalized_at = now(), updated_at = now()
    WHERE id = ANY($1) AND status = 'confirmed'
    RETURNING id, event_id, quantity""";

  private static final String INSERT_TICKETS = """
    INSERT INTO tickets (booking_id, pdf) SELECT * FROM unnest($1::bigint[], $2::bytea[])
    ON CONFLICT (booking_id) DO NOTHING""";

  private static final String INSERT_MAIL = """
    INSERT INTO outbox (booking_id, kind, "to", subject, body)
    SELECT b, 'ticket', t, s, m FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS x(b, t, s, m)
    ON CONFLICT (booking_id, kind) DO NOTHING""";

  private static final String MAIL = """
    SELECT id, booking_id, status FROM outbox WHERE booking_id = ANY($1) AND kind = 'ticket'""";

  // in event id order, so two batches sharing events take the counter rows' locks in the same order (no deadlock)
  private static final String COUNT_FINALIZED = """
    INSERT INTO event_finalized AS f (event_id, finalized)
    SELECT id, n FROM unnest($1::bigint[], $2::int[]) AS x(id, n) ORDER BY id
    ON CONFLICT (event_id) DO UPDATE SET finalized = f.finalized + excluded.finalized""";

  private static final String STATUS = "SELECT id, status FROM bookings WHERE id = ANY($1)";

  private final Vertx vertx;
  private final Pool pool;

  public Finalization(Vertx vertx, Pool pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  public Future<BatchResult> handleAll(List<Job> jobs) {
    BatchResult out = new BatchResult();
    Map<Long, List<Job>> byBooking = new LinkedHashMap<>();
    for (Job job : jobs) {
      Long id = job.payload().getLong("booking_id");
      if (id == null) {
        out.failed(job.id(), JobFailure.permanent("payload has no booking_id"));
      } else {
        byBooking.computeIfAbsent(id, k -> new ArrayList<>()).add(job);
      }
    }
    if (byBooking.isEmpty()) {
      return Future.succeededFuture(out);
    }
    return pool.preparedQuery(LOAD).execute(Tuple.of((Object) ids(byBooking.keySet()))).compose(rows -> {
      Map<Long, Row> confirmed = new LinkedHashMap<>();
      Map<Long, Row> loaded = new HashMap<>();
      rows.forEach(r -> loaded.put(r.getLong("id"), r));
      byBooking.forEach((id, its) -> {
        Row b = loaded.get(id);
        String status = b == null ? null : b.getString("status");
        if (b == null) {
          its.forEach(j -> out.failed(j.id(), JobFailure.permanent("booking " + id + " not found")));
        } else if ("finalized".equals(status)) {
          its.forEach(j -> out.succeeded(j.id(), done(id).put("unchanged", true)));
        } else if (!"confirmed".equals(status)) {
          // cancelled or expired meanwhile, or not yet confirmed: nothing to issue, and nothing to retry
          its.forEach(j -> out.succeeded(j.id(), skipped(id, status)));
        } else {
          confirmed.put(id, b);
        }
      });
      if (confirmed.isEmpty()) {
        return Future.succeededFuture(out);
      }
      List<TicketPdf.Data> all = confirmed.values().stream().map(Finalization::ticketData).toList();
      // rendering is CPU work off the event loop; one task per batch keeps PDF work to one worker thread
      return vertx.executeBlocking(() -> all.stream().map(Ticket::render).toList(), false).compose(rendered -> {
        // a ticket that cannot be rendered fails its own job (retried, then dead), not the rest of the batch
        List<Ticket> tickets = new ArrayList<>();
        for (Ticket t : rendered) {
          if (t.error() == null) {
            tickets.add(t);
          } else {
            confirmed.remove(t.bookingId());
            byBooking.get(t.bookingId()).forEach(j -> out.failed(j.id(), t.error()));
          }
        }
        return confirmed.isEmpty() ? Future.succeededFuture(Map.<Long, JsonObject>of())
          : pool.withTransaction(tx -> finalize(tx, confirmed, tickets));
      })
        .map(results -> {
          byBooking.forEach((id, its) -> {
            JsonObject result = results.get(id);
            if (result != null) {
              its.forEach(j -> out.succeeded(j.id(), result));
            }
          });
          return out;
        })
        .recover(err -> {
          confirmed.keySet().forEach(id -> byBooking.get(id).forEach(j -> out.failed(j.id(), err)));
          return Future.succeededFuture(out);
        });
    });
  }

  /** The gate, then everything a finalized booking gets; the result per confirmed booking id. */
  private Future<Map<Long, JsonObject>> finalize(SqlClient tx, Map<Long, Row> confirmed, List<Ticket> tickets) {
    Long[] all = ids(confirmed.keySet());
    return tx.preparedQuery(FINALIZE).execute(Tuple.of((Object) all)).compose(gated -> {
      Set<Long> changed = new HashSet<>();
      Map<Long, Integer> perEvent = new HashMap<>();
      gated.forEach(r -> {
        changed.add(r.getLong("id"));
        if (r.getLong("event_id") != null) {
          perEvent.merge(r.getLong("event_id"), r.getInteger("quantity"), Integer::sum);
        }
      });
      Map<Long, JsonObject> results = new HashMap<>();
      // another run finalized some, or they were cancelled, after we read them: report where they stand
      Future<?> others = changed.size() == confirmed.size() ? Future.succeededFuture()
        : tx.preparedQuery(STATUS).execute(Tuple.of((Object) all)).onSuccess(rows -> rows.forEach(r -> {
          long id = r.getLong("id");
          if (!changed.contains(id)) {
            String now = r.getString("status");
            results.put(id, "finalized".equals(now) ? done(id).put("unchanged", true) : skipped(id, now));
          }
        }));
      return others.compose(v -> changed.isEmpty() ? Future.succeededFuture(results)
        : issue(tx, changed, perEvent, tickets, confirmed, results));
    });
  }

  private Future<Map<Long, JsonObject>> issue(SqlClient tx, Set<Long> changed, Map<Long, Integer> perEvent,
                                              List<Ticket> tickets, Map<Long, Row> confirmed,
                                              Map<Long, JsonObject> results) {
    List<Long> ids = new ArrayList<>();
    List<Buffer> files = new ArrayList<>();
    List<String> to = new ArrayList<>();
    List<String> subjects = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    for (Ticket t : tickets) {
      TicketPdf.Data d = t.data();
      if (changed.contains(d.bookingId())) {
        ids.add(d.bookingId());
        files.add(Buffer.buffer(t.pdf()));
        to.add(d.email());
        subjects.add(subject(d));
        bodies.add(body(d));
      }
    }
    Long[] idArray = ids.toArray(new Long[0]);
    // (Object): an array as the second argument would otherwise bind as Tuple.of's varargs
    return tx.preparedQuery(INSERT_TICKETS).execute(Tuple.of(idArray, (Object) files.toArray(new Buffer[0])))
      .compose(v -> tx.preparedQuery(INSERT_MAIL).execute(Tuple.of(idArray, to.toArray(new String[0]),
        subjects.toArray(new String[0]), bodies.toArray(new String[0]))))
      .compose(v -> tx.preparedQuery(MAIL).execute(Tuple.of((Object) idArray)))
      .compose(mails -> {
        List<NewJob> sends = new ArrayList<>();
        mails.forEach(mail -> {
          long bookingId = mail.getLong("booking_id");
          long outboxId = mail.getLong("id");
          results.put(bookingId, done(bookingId).put("outbox_id", outboxId));
          if ("pending".equals(mail.getString("status"))) {
            sends.add(NewJob.of(BookingJobs.SEND_EMAIL,
                new JsonObject().put("outbox_id", outboxId).put("booking_id", bookingId))
              .uniqueKey(OutboxSender.uniqueKey(outboxId)).owner(confirmed.get(bookingId).getString("owner")));
          }
        });
        return JobQueue.enqueueAll(tx, sends);
      })
      .compose(v -> countFinalized(tx, perEvent))
      .map(results);
  }

  /** The events' finalized counters, last in the transaction so that their rows are locked only until the commit. */
  private static Future<?> countFinalized(SqlClient tx, Map<Long, Integer> perEvent) {
    if (perEvent.isEmpty()) {
      return Future.succeededFuture();
    }
    Long[] events = perEvent.keySet().toArray(new Long[0]);
    return tx.preparedQuery(COUNT_FINALIZED)
      .execute(Tuple.of(events, (Object) Arrays.stream(events).map(perEvent::get).toArray(Integer[]::new)));
  }

  /** One ticket of a batch: its PDF, or the exception that stopped the rendering. */
  private record Ticket(TicketPdf.Data data, byte[] pdf, RuntimeException error) {
    static Ticket render(TicketPdf.Data data) {
      try {
        return new Ticket(data, TicketPdf.render(data), null);
      } catch (RuntimeException e) {
        return new Ticket(data, null, e);
      }
    }

    long bookingId() {
      return data.bookingId();
    }
  }

  private static Long[] ids(Collection<Long> ids) {
    return ids.toArray(new Long[0]);
  }

  private static JsonObject skipped(long bookingId, String status) {
    return new JsonObject().put("booking_id", bookingId).put("skipped", status);
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
