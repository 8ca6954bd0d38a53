package dev.boxoffice.tickets;

import dev.boxoffice.jobs.BatchResult;
import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
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
import java.util.UUID;

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
 * <p>Exactly once per booking, however often or wherever the job runs: the conditional
 * {@code UPDATE ... WHERE status = 'confirmed'} is the gate, and the tickets, the outbox rows and the events
 * counters are written in the same transaction only for the bookings that update changed. A concurrent run (retry
 * after a lost lease, a second job, another node) blocks on the row locks, then finds them no longer confirmed and
 * writes nothing for them. The unique keys of tickets and outbox are a second line of defence. The gate comes first
 * (rather than after the inserts) so that a booking cancelled between the read and the transaction never gets a
 * ticket. The outbox row names the job that wrote it, and only that job delivers it.
 */
public final class Finalization {
  private static final String LOAD = """
    SELECT b.id, b.name, b.email, b.status, b.event_id, b.product_id, b.quantity,
           e.title AS event_title, e.starts_at AS event_starts_at, p.name AS product_name, o.status AS mail
    FROM bookings b
    LEFT JOIN events e ON e.id = b.event_id
    LEFT JOIN products p ON p.id = b.product_id
    LEFT JOIN outbox o ON o.booking_id = b.id AND o.kind = 'ticket'
    WHERE b.id = ANY($1)""";

  private static final String FINALIZE = """
    UPDATE bookings SET status = 'finalized', finalized_at = now(), updated_at = now()
    WHERE id = ANY($1) AND status = 'confirmed'
    RETURNING id, event_id, quantity""";

  private static final String INSERT_TICKETS = """
    INSERT INTO tickets (booking_id, pdf) SELECT * FROM unnest($1::bigint[], $2::bytea[])
    ON CONFLICT (booking_id) DO NOTHING""";

  // $5 status and $6 attempts as the sender starts them; RETURNING gives the rows written (all of them: the gate
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

  public Finalization(Vertx vertx, Pool pool, OutboxSender sender) {
    this.vertx = vertx;
    this.pool = pool;
    this.sender = sender;
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
      // every booking of the batch gets exactly one outcome, shared by its jobs
      Map<Long, Future<JsonObject>> outcomes = new HashMap<>();
      Map<Long, Row> confirmed = new LinkedHashMap<>();
      Map<Long, List<Job>> undelivered = new HashMap<>();
      Map<Long, Row> loaded = new HashMap<>();
      rows.forEach(r -> loaded.put(r.getLong("id"), r));
      byBooking.forEach((id, its) -> {
        Row b = loaded.get(id);
        String status = b == null ? null : b.getString("status");
        if (b == null) {
          outcomes.put(id, Future.failedFuture(JobFailure.permanent("booking " + id + " not found")));
        } else if ("finalized".equals(status) && "pending".equals(b.getString("mail"))) {
          undelivered.put(id, its); // finalized by an earlier attempt whose e-mail did not go out
        } else if ("finalized".equals(status)) {
          outcomes.put(id, Future.succeededFuture(done(id).put("unchanged", true)));
        } else if (!"confirmed".equals(status)) {
          // cancelled or expired meanwhile, or not yet confirmed: nothing to issue, and nothing to retry
          outcomes.put(id, Future.succeededFuture(skipped(id, status)));
        } else {
          confirmed.put(id, b);
        }
      });
      Future<Void> finalizing = confirmed.isEmpty() ? Future.succeededFuture()
        : finalizeAll(confirmed, byBooking, outcomes);
      Future<Void> redelivering = undelivered.isEmpty() ? Future.succeededFuture()
        : redeliver(undelivered, outcomes);
      return Future.join(finalizing, redelivering)
        .transform(ar -> Future.join(new ArrayList<>(outcomes.values())))
        .transform(ar -> {
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
          return Future.succeededFuture(out);
        });
    });
  }

  /** Renders, writes and (after the commit) sends: each confirmed booking's outcome goes into {@code outcomes}. */
  private Future<Void> finalizeAll(Map<Long, Row> confirmed, Map<Long, List<Job>> byBooking,
                                   Map<Long, Future<JsonObject>> outcomes) {
    Map<Long, Job> writers = new HashMap<>();
    confirmed.keySet().forEach(id -> writers.put(id, byBooking.get(id).get(0)));
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
            outcomes.put(t.bookingId(), Future.failedFuture(t.error()));
          }
        }
        return confirmed.isEmpty() ? Future.succeededFuture(new Written(Map.of(), List.of()))
          : pool.withTransaction(tx -> finalize(tx, confirmed, tickets, writers));
      })
      .<Void>map(written -> {
        written.results().forEach((id, result) -> outcomes.put(id, Future.succeededFuture(result)));
        for (OutboxSender.Mail m : written.mails()) {
          long id = m.bookingId();
          outcomes.put(id, sender.deliverNew(writers.get(id), m)
            .map(mail -> done(id).put("outbox_id", m.outboxId()).put("email", mail.getString("status"))));
        }
        return null;
      })
      .recover(err -> {
        confirmed.keySet().forEach(id -> outcomes.putIfAbsent(id, Future.failedFuture(err)));
        return Future.succeededFuture();
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

  /** What the transaction wrote: a result per booking it did not finalize itself, and the messages to send. */
  private record Written(Map<Long, JsonObject> results, List<OutboxSender.Mail> mails) {
  }

  /** The gate, then everything a finalized booking gets. */
  private Future<Written> finalize(SqlClient tx, Map<Long, Row> confirmed, List<Ticket> tickets,
                                   Map<Long, Job> writers) {
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
      return others.compose(v -> changed.isEmpty() ? Future.succeededFuture(List.<OutboxSender.Mail>of())
          : issue(tx, changed, perEvent, tickets, writers))
        .map(mails -> new Written(results, mails));
    });
  }

  private Future<List<OutboxSender.Mail>> issue(SqlClient tx, Set<Long> changed, Map<Long, Integer> perEvent,
                                                List<Ticket> tickets, Map<Long, Job> writers) {
    List<Long> ids = new ArrayList<>();
    List<Buffer> files = new ArrayList<>();
    List<String> to = new ArrayList<>();
    List<String> subjects = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    List<UUID> jobs = new ArrayList<>();
    for (Ticket t : tickets) {
      TicketPdf.Data d = t.data();
      if (changed.contains(d.bookingId())) {
        ids.add(d.bookingId());
        files.add(Buffer.buffer(t.pdf()));
        to.add(d.email());
        subjects.add(subject(d));
        bodies.add(body(d));
        jobs.add(writers.get(d.bookingId()).id());
      }
    }
    Long[] idArray = ids.toArray(new Long[0]);
    Map<Long, Integer> position = new HashMap<>();
    for (int i = 0; i < idArray.length; i++) {
      position.put(idArray[i], i);
    }
    // (Object): an array as the second argument would otherwise bind as Tuple.of's varargs
    return tx.preparedQuery(INSERT_TICKETS).execute(Tuple.of(idArray, (Object) files.toArray(new Buffer[0])))
      .compose(v -> tx.preparedQuery(INSERT_MAIL).execute(Tuple.of(idArray, to.toArray(new String[0]),
        subjects.toArray(new String[0]), bodies.toArray(new String[0]), jobs.toArray(new UUID[0]),
        sender.initialStatus(), sender.initialAttempts())))
      .compose(written -> countFinalized(tx, perEvent).map(v -> {
        List<OutboxSender.Mail> mails = new ArrayList<>();
        written.forEach(row -> {
          int i = position.get(row.getLong("booking_id"));
          mails.add(new OutboxSender.Mail(row.getLong("id"), ids.get(i), to.get(i), subjects.get(i), bodies.get(i),
            files.get(i)));
        });
        return mails;
      }));
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
