package dev.boxoffice.tickets;

import dev.boxoffice.booking.BookingStatus;
import dev.boxoffice.booking.Transition;
import dev.boxoffice.jobs.BatchResult;
import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.platform.AfterCommit;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.OneByOne;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The {@code booking.finalize} job (payload {@code {"booking_id": N}}): confirmed → finalized, with the ticket PDF
 * and its e-mail, written to the outbox and then delivered by the same job. A batch handler: the due finalizations
 * of a node are rendered in one blocking task and written in one transaction (one gate UPDATE, one insert each for
 * tickets and outbox rows, one upsert of the events' finalized counters), so finalization keeps up with the booking
 * rate instead of taking a transaction and a counter lock per ticket. After the commit each new message goes to SMTP
 * ({@link OutboxSender}); an attempt that fails there fails the job, whose retry finds the booking finalized and
 * delivers the row still pending. No second job per e-mail: that was a jobs insert, claim and completion per
 * booking, and a NOTIFY round trip before the mail left.
 *
 * <p>Exactly once per booking, however often or wherever the job runs: {@link Transition#FINALIZE} (conditional on
 * {@code status = 'confirmed'}) is the gate, and the tickets, the outbox rows and the events counters are written in
 * the same transaction only for the bookings it changed. A concurrent run (retry after a lost lease, a second job,
 * another node) blocks on the row locks, then finds them no longer confirmed and writes nothing for them. The unique
 * keys of tickets and outbox are a second line of defence. The gate comes first (rather than after the inserts) so
 * that a booking cancelled between the read and the transaction never gets a ticket. The outbox row names the job
 * that wrote it, and only that job delivers it, and only while its attempt still holds the job's lease: an attempt
 * that lost it between its commit and the send (its node was paused and the job taken back) sends nothing.
 */
public final class Finalization {
  private static final Logger log = LoggerFactory.getLogger(Finalization.class);
  private static final String LOAD = """
    SELECT b.id, b.name, b.email, b.status, b.event_id, b.product_id, b.quantity,
           e.title AS event_title, e.starts_at AS event_starts_at, p.name AS product_name, o.status AS mail
    FROM bookings b
    LEFT JOIN events e ON e.id = b.event_id
    LEFT JOIN products p ON p.id = b.product_id
    LEFT JOIN outbox o ON o.booking_id = b.id AND o.kind = 'ticket'
    WHERE b.id = ANY($1)""";

  private static final String INSERT_TICKETS = """
    INSERT INTO tickets (booking_id, pdf) SELECT * FROM unnest($1::bigint[], $2::bytea[])
    ON CONFLICT (booking_id) DO NOTHING""";

  // $6 status and $7 attempts as the sender starts them; RETURNING gives the rows written (all of them: the gate
  // let only bookings through that have none yet)
  private static final String INSERT_MAIL = """
    INSERT INTO outbox (booking_id, kind, "to", subject, body, job_id, status, attempts)
    SELECT b, 'ticket', t, s, m, j, $6, $7
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::uuid[]) AS x(b, t, s, m, j)
    ON CONFLICT (booking_id, kind) DO NOTHING
    RETURNING id, booking_id""";

  // in event id order, so two batches sharing events take the counter rows' locks in the same order (no deadlock)
  private static final String COUNT_FINALIZED = """
    INSERT INTO event_finalized AS f (event_id, finalized)
    SELECT id, n FROM unnest($1::bigint[], $2::int[]) AS x(id, n) ORDER BY id
    ON CONFLICT (event_id) DO UPDATE SET finalized = f.finalized + excluded.finalized""";

  private static final String STATUS = "SELECT id, status FROM bookings WHERE id = ANY($1)";

  private final Vertx vertx;
  private final Pool pool;
  private final OutboxSender sender;
  private final TicketCodes codes;

  public Finalization(Vertx vertx, Pool pool, OutboxSender sender, TicketCodes codes) {
    this.vertx = vertx;
    this.pool = pool;
    this.sender = sender;
    this.codes = codes;
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
    // every booking of the batch gets exactly one outcome, shared by its jobs
    Map<Long, Future<JsonObject>> outcomes = new HashMap<>();
    return pool.preparedQuery(LOAD).execute(Tuple.of((Object) byBooking.keySet().toArray(new Long[0])))
      .compose(rows -> Future.join(start(rows, byBooking, outcomes))
        .transform(ar -> Future.join(new ArrayList<>(outcomes.values())))
        .transform(ar -> Future.succeededFuture(report(byBooking, outcomes, out))));
  }

  /** Each job gets its booking's outcome. */
  private static BatchResult report(Map<Long, List<Job>> byBooking, Map<Long, Future<JsonObject>> outcomes,
                                    BatchResult out) {
    byBooking.forEach((id, its) -> {
      Future<JsonObject> outcome = outcomes.getOrDefault(id, Future.failedFuture("no outcome for booking " + id));
      its.forEach(j -> {
        if (outcome.succeeded()) {
          out.succeeded(j.id(), outcome.result());
        } else {
          out.failed(j.id(), outcome.cause());
        }
      });
    });
    return out;
  }

  /**
   * Decides each booking's outcome from where it stands: issues the tickets of the confirmed ones and redelivers
   * the e-mails of those finalized earlier, whose outcomes follow; the work under way.
   */
  private List<Future<Void>> start(Iterable<Row> rows, Map<Long, List<Job>> byBooking,
                                   Map<Long, Future<JsonObject>> outcomes) {
    Map<Long, Row> confirmed = new LinkedHashMap<>();
    Map<Long, List<Job>> undelivered = new HashMap<>();
    Map<Long, Row> loaded = new HashMap<>();
    rows.forEach(r -> loaded.put(r.getLong("id"), r));
    byBooking.forEach((id, its) -> {
      Row b = loaded.get(id);
      String status = b == null ? null : b.getString("status");
      if (b == null) {
        outcomes.put(id, Future.failedFuture(JobFailure.permanent("booking " + id + " not found")));
      } else if (BookingStatus.FINALIZED.equals(status) && "pending".equals(b.getString("mail"))) {
        undelivered.put(id, its); // finalized by an earlier attempt whose e-mail did not go out
      } else if (BookingStatus.FINALIZED.equals(status)) {
        outcomes.put(id, Future.succeededFuture(done(id).put("unchanged", true)));
      } else if (!BookingStatus.CONFIRMED.equals(status)) {
        // cancelled or expired meanwhile, or not yet confirmed: nothing to issue, and nothing to retry
        outcomes.put(id, Future.succeededFuture(skipped(id, status)));
      } else {
        confirmed.put(id, b);
      }
    });
    return List.of(confirmed.isEmpty() ? Future.succeededFuture() : finalizeAll(confirmed, byBooking, outcomes),
      undelivered.isEmpty() ? Future.succeededFuture() : redeliver(undelivered, outcomes));
  }

  /** Renders, writes and (after the commit) sends: each confirmed booking's outcome goes into {@code outcomes}. */
  private Future<Void> finalizeAll(Map<Long, Row> confirmed, Map<Long, List<Job>> byBooking,
                                   Map<Long, Future<JsonObject>> outcomes) {
    // a booking's first job of the batch writes its outbox row, and so delivers it
    Map<Long, Job> writers = new HashMap<>();
    confirmed.keySet().forEach(id -> writers.put(id, byBooking.get(id).get(0)));
    List<TicketPdf.Data> all = confirmed.values().stream().map(this::ticketData).toList();
    // rendering is CPU work off the event loop; one task per batch keeps PDF work to one worker thread
    return vertx.executeBlocking(() -> all.stream().map(d -> Ticket.render(d, writers.get(d.bookingId()))).toList(),
        false)
      .compose(rendered -> {
        // a ticket that cannot be rendered fails its own job (retried, then dead), not the rest of the batch
        List<Ticket> tickets = new ArrayList<>();
        for (Ticket t : rendered) {
          if (t.error() == null) {
            tickets.add(t);
          } else {
            outcomes.put(t.bookingId(), Future.failedFuture(t.error()));
          }
        }
        return tickets.isEmpty() ? Future.<Void>succeededFuture() : write(tickets, outcomes);
      })
      .recover(err -> {
        confirmed.keySet().forEach(id -> outcomes.putIfAbsent(id, Future.failedFuture(err)));
        return Future.succeededFuture();
      });
  }

  /**
   * The batch's tickets in one transaction; if it fails for any reason but lost storage, one transaction per ticket,
   * so that a row the database refuses (a trigger, a rule, a value) fails its own booking's job, not all of them
   * again at every retry.
   */
  private Future<Void> write(List<Ticket> tickets, Map<Long, Future<JsonObject>> outcomes) {
    return AfterCommit.transaction(pool, (tx, after) -> finalize(tx, after, tickets, outcomes)).recover(err -> {
      if (tickets.size() == 1 || !OneByOne.worthIsolating(err)) {
        return Future.failedFuture(err);
      }
      log.warn("finalizing {} bookings together failed, finalizing them one by one: {}", tickets.size(),
        Failures.text(err));
      return OneByOne.run(tickets, t -> AfterCommit.transaction(pool,
        (tx, after) -> finalize(tx, after, List.of(t), outcomes)), (t, e) -> {
          log.warn("finalization of booking {} failed: {}", t.bookingId(), Failures.text(e));
          outcomes.put(t.bookingId(), Future.failedFuture(e));
        });
    });
  }

  /** E-mails of bookings finalized by an earlier attempt, still pending: delivered by the job that wrote them. */
  private Future<Void> redeliver(Map<Long, List<Job>> undelivered, Map<Long, Future<JsonObject>> outcomes) {
    return sender.deliverPending(undelivered).<Void>map(delivered -> {
      undelivered.keySet().forEach(id -> outcomes.put(id,
        delivered.getOrDefault(id, Future.succeededFuture(new JsonObject().put("skipped", "not pending")))
          .map(mail -> done(id).put("unchanged", true).put("email", mail))));
      return null;
    }).recover(err -> {
      undelivered.keySet().forEach(id -> outcomes.put(id, Future.failedFuture(err)));
      return Future.succeededFuture();
    });
  }

  /**
   * The gate, then everything a finalized booking gets. Outcomes are recorded once the transaction has committed:
   * where the bookings it did not finalize stand, and the delivery of each message it wrote.
   */
  private Future<Void> finalize(SqlClient tx, AfterCommit after, List<Ticket> tickets,
                                Map<Long, Future<JsonObject>> outcomes) {
    Long[] all = tickets.stream().map(Ticket::bookingId).toArray(Long[]::new);
    return Transition.FINALIZE.applyAll(tx, List.of(all), null).compose(gated -> {
      Set<Long> changed = new HashSet<>();
      Map<Long, Integer> perEvent = new HashMap<>();
      gated.forEach(r -> {
        changed.add(r.getLong("id"));
        if (r.getLong("event_id") != null) {
          perEvent.merge(r.getLong("event_id"), r.getInteger("quantity"), Integer::sum);
        }
      });
      // another run finalized some, or they were cancelled, after we read them: report where they stand
      Map<Long, List<Job>> finalizedElsewhere = new HashMap<>();
      Future<?> others = changed.size() == all.length ? Future.succeededFuture()
        : tx.preparedQuery(STATUS).execute(Tuple.of((Object) all)).onSuccess(rows -> rows.forEach(r -> {
          long id = r.getLong("id");
          String now = r.getString("status");
          if (!changed.contains(id) && BookingStatus.FINALIZED.equals(now)) {
            tickets.stream().filter(t -> t.bookingId() == id).findFirst()
              .ifPresent(t -> finalizedElsewhere.put(id, List.of(t.writer())));
          } else if (!changed.contains(id)) {
            after.add(() -> outcomes.put(id, Future.succeededFuture(skipped(id, now))));
          }
        }));
      if (changed.size() < all.length) {
        // finalized by an earlier attempt of this same job, which lost its lease before its e-mail went (its node
        // was paused, the job taken back and run again here): this attempt delivers it; another job's row is left
        // to that job (deliverPending skips it)
        after.add(() -> {
          if (!finalizedElsewhere.isEmpty()) {
            Future<Map<Long, Future<JsonObject>>> pending = sender.deliverPending(finalizedElsewhere);
            finalizedElsewhere.keySet().forEach(id -> outcomes.put(id, pending
              .compose(mails -> mails.getOrDefault(id, Future.succeededFuture(new JsonObject()
                .put("skipped", "not pending"))))
              .map(mail -> done(id).put("unchanged", true).put("email", mail))));
          }
        });
      }
      List<Ticket> issued = tickets.stream().filter(t -> changed.contains(t.bookingId())).toList();
      return others.compose(v -> issued.isEmpty() ? Future.succeededFuture()
        : issue(tx, after, issued, perEvent, outcomes));
    });
  }

  /** Tickets, outbox rows and the events' counters of the bookings the gate let through. */
  private Future<Void> issue(SqlClient tx, AfterCommit after, List<Ticket> issued, Map<Long, Integer> perEvent,
                             Map<Long, Future<JsonObject>> outcomes) {
    Map<Long, Ticket> byBooking = new HashMap<>();
    issued.forEach(t -> byBooking.put(t.bookingId(), t));
    Long[] ids = column(issued, Ticket::bookingId, Long[]::new);
    // (Object): an array as the second argument would otherwise bind as Tuple.of's varargs
    return tx.preparedQuery(INSERT_TICKETS).execute(Tuple.of(ids, (Object) column(issued, Ticket::pdf, Buffer[]::new)))
      .compose(v -> tx.preparedQuery(INSERT_MAIL).execute(Tuple.of(ids,
        column(issued, t -> t.data().email(), String[]::new), column(issued, Ticket::subject, String[]::new),
        column(issued, Ticket::body, String[]::new), column(issued, t -> t.writer().id(), UUID[]::new),
        sender.initialStatus(), sender.initialAttempts())))
      .compose(written -> countFinalized(tx, perEvent).map(v -> {
        List<OutboxSender.Delivery> deliveries = new ArrayList<>();
        written.forEach(row -> {
          Ticket t = byBooking.get(row.getLong("booking_id"));
          deliveries.add(new OutboxSender.Delivery(t.writer(), t.mail(row.getLong("id"))));
        });
        // after the commit, the batch's messages go together: one fenced claim, then SMTP
        after.add(() -> {
          Map<Long, Future<JsonObject>> sent = sender.deliverNew(deliveries);
          deliveries.forEach(d -> outcomes.put(d.mail().bookingId(), sent.get(d.mail().outboxId())
            .map(mail -> done(d.mail().bookingId()).put("outbox_id", d.mail().outboxId())
              .put("email", mail.getString("status")))));
        });
        return null;
      }));
  }

  /** The events' finalized counters, last in the transaction so that their rows are locked only until the commit. */
  private static Future<?> countFinalized(SqlClient tx, Map<Long, Integer> perEvent) {
    if (perEvent.isEmpty()) {
      return Future.succeededFuture();
    }
    Long[] events = perEvent.keySet().toArray(new Long[0]);
    return tx.preparedQuery(COUNT_FINALIZED)
      .execute(Tuple.of(events, (Object) column(List.of(events), perEvent::get, Integer[]::new)));
  }

  /**
   * One booking's ticket in a batch: what it shows, the job that issues it (and delivers its e-mail), its PDF and
   * e-mail text, or the exception that stopped the rendering.
   */
  private record Ticket(TicketPdf.Data data, Job writer, Buffer pdf, String subject, String body,
                        RuntimeException error) {
    static Ticket render(TicketPdf.Data data, Job writer) {
      try {
        return new Ticket(data, writer, Buffer.buffer(TicketPdf.render(data)), TicketMail.subject(data),
          TicketMail.body(data), null);
      } catch (RuntimeException e) {
        return new Ticket(data, writer, null, null, null, e);
      }
    }

    long bookingId() {
      return data.bookingId();
    }

    OutboxSender.Mail mail(long outboxId) {
      return new OutboxSender.Mail(outboxId, bookingId(), data.email(), subject, body, pdf);
    }
  }

  /** One field of every element, as the array a statement takes for an {@code unnest} column. */
  private static <T, C> C[] column(List<T> rows, Function<T, C> field, IntFunction<C[]> array) {
    return rows.stream().map(field).toArray(array);
  }

  private static JsonObject skipped(long bookingId, String status) {
    return new JsonObject().put("booking_id", bookingId).put("skipped", status);
  }

  private static JsonObject done(long bookingId) {
    return new JsonObject().put("booking_id", bookingId).put("status", BookingStatus.FINALIZED);
  }

  private TicketPdf.Data ticketData(Row b) {
    String kind = null;
    String item = null;
    String startsAt = null;
    if (b.getLong("event_id") != null) {
      kind = "Event";
      item = b.getString("event_title");
      startsAt = Times.ts(b.getOffsetDateTime("event_starts_at"));
    } else if (b.getLong("product_id") != null) {
      kind = "Product";
      item = b.getString("product_name");
    }
    Integer quantity = b.getInteger("quantity");
    return new TicketPdf.Data(b.getLong("id"), b.getString("name"), b.getString("email"), kind, item,
      quantity == null ? 1 : quantity, startsAt, codes.code(b.getLong("id")));
  }
}
