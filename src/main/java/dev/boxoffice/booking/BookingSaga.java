package dev.boxoffice.booking;

import dev.boxoffice.jobs.BatchResult;
import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.JobHandoff;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.jobs.LeaseFence;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.platform.AfterCommit;
import dev.boxoffice.platform.Traces;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The saga's steps, each a job ({@link BookingJobs}) whose handler is one conditional transition (so running it
 * twice changes nothing) that enqueues the next step in the same transaction:
 *
 * <pre>
 *   pending ──payment (approved)──────────────────────▶ confirmed ──finalize──▶ finalized
 *      │ declined     payment_processed ──confirm──▶ ┘     (finalization: the tickets feature)
 *      ▼                     │ step dead (onDead)
 *   payment_failed ──compensate──▶ cancelled ◀──────┘
 *   pending / payment_processed ──expire (at expires_at, {@link HoldExpiry}, not a job)──▶ expired
 * </pre>
 *
 * An approved payment confirms in the same transaction: one job and one commit per booking on the hot path, which
 * keeps pending→confirmed short. On the hot path the payment and finalization jobs are handed straight to this
 * node's engines after their commit ({@link JobHandoff}) rather than claimed. The confirm step remains for bookings
 * found in payment_processed ({@link Reprocessing}).
 */
public final class BookingSaga {
  private static final Logger log = LoggerFactory.getLogger(BookingSaga.class);
  private static final String STATUSES =
    "SELECT id, status, email, name, quantity FROM bookings WHERE id = ANY($1)";

  private final Vertx vertx;
  private final Pool pool;
  private final PaymentProvider payments;
  private final boolean autoPayment;

  public BookingSaga(Vertx vertx, Pool pool, PaymentProvider payments, boolean autoPayment) {
    this.vertx = vertx;
    this.pool = pool;
    this.payments = payments;
    this.autoPayment = autoPayment;
  }

  /** Every node: the saga's job types (finalization and e-mail are registered by their own feature). */
  public static void registerJobTypes() {
    JobTypes.register(
      JobType.of(BookingJobs.PAYMENT).maxAttempts(5).backoff(Duration.ofMillis(500), 2, Duration.ofSeconds(30))
        .timeout(Duration.ofSeconds(30)).onDead(BookingJobs.COMPENSATE),
      JobType.of(BookingJobs.CONFIRM).maxAttempts(5).backoff(Duration.ofMillis(200), 2, Duration.ofSeconds(10))
        .onDead(BookingJobs.COMPENSATE),
      // compensation returns stock: it must get through, so it retries for a long time
      JobType.of(BookingJobs.COMPENSATE).maxAttempts(20).backoff(Duration.ofMillis(500), 2, Duration.ofSeconds(60)));
  }

  /** Registers the step handlers on this node (call from a verticle's start). */
  public Future<Void> handle(Vertx vertx) {
    return Future.all(List.of(
      // the two steps every booking takes run many bookings per transaction under load
      JobWorkers.handleBatch(vertx, BookingJobs.PAYMENT, this::payments),
      JobWorkers.handleBatch(vertx, BookingJobs.CONFIRM, this::confirms),
      JobWorkers.handle(vertx, BookingJobs.COMPENSATE, this::compensate))).mapEmpty();
  }

  // ------------------------------------------------------------------ enqueueing, inside the caller's transaction

  /**
   * New bookings, many at once: (auto mode) their payments in one statement; their expiry needs no job. Each payment
   * continues the trace at its booking's index of {@code traces} (its request's; null: none named).
   */
  Future<Void> startedAll(SqlClient tx, AfterCommit after, List<Row> bookings, List<String> traces) {
    if (!autoPayment) {
      return Future.succeededFuture();
    }
    return handOff(tx, after, BookingJobs.PAYMENT,
      BookingJobs.steps(BookingJobs.PAYMENT, bookings.stream().map(b -> b.getLong("id")).toList(), traces));
  }

  /** Bookings that just became confirmed: their finalization (a confirmed booking has no expiry to cancel). */
  static Future<Void> confirmedAll(SqlClient tx, List<Long> ids) {
    return JobQueue.enqueueAll(tx, BookingJobs.steps(BookingJobs.FINALIZE, ids)).mapEmpty();
  }

  /** Jobs due now: started on this node's engine once {@code after} commits, when it runs their type here. */
  private Future<Void> handOff(SqlClient tx, AfterCommit after, String type, List<NewJob> jobs) {
    return JobHandoff.enqueueAll(vertx, tx, type, jobs).map(start -> {
      after.add(start);
      return null;
    });
  }

  // ------------------------------------------------------------------ steps

  /** One charge of a payment batch: its job, its booking, the provider's answer and, if declined, its handling. */
  private record Charge(Job job, long bookingId, Future<PaymentProvider.Outcome> outcome, Future<Void> declined) {
    boolean approved() {
      return outcome.succeeded() && outcome.result().approved();
    }

    String reference() {
      return outcome.result().reference();
    }
  }

  /**
   * Charges every pending booking of the batch; the approved ones move to confirmed (and get their finalization)
   * in one transaction. Declines are rare and take the single-booking path with their reason.
   */
  private Future<BatchResult> payments(List<Job> jobs) {
    BatchResult out = new BatchResult();
    return statuses(jobs, out).compose(bookings -> {
      List<Job> toCharge = new ArrayList<>();
      for (Job job : jobs) {
        Row booking = bookings.get(BookingJobs.bookingId(job));
        if (booking == null) {
          continue; // reported missing by statuses()
        }
        if (!BookingStatus.PENDING.equals(booking.getString("status"))) {
          out.succeeded(job.id(), result(booking.getLong("id"), booking.getString("status"), false));
        } else {
          toCharge.add(job);
        }
      }
      // right before the provider is called: only attempts that still hold their leases charge (one statement)
      return LeaseFence.holding(pool, toCharge).map(held -> charge(toCharge, held, bookings, out));
    }).compose(charges -> settle(jobs, charges, out));
  }

  /** Calls the provider for each job whose attempt still holds its lease; the others report the lost lease. */
  private List<Charge> charge(List<Job> toCharge, Set<UUID> held, Map<Long, Row> bookings, BatchResult out) {
    List<Charge> charges = new ArrayList<>();
    List<String> fenced = new ArrayList<>();
    for (Job job : toCharge) {
      if (!held.contains(job.id())) {
        fenced.add(job.id() + "#" + job.attempt());
        out.failed(job.id(), LeaseFence.lost(job, "no payment was attempted"));
        continue;
      }
      Row booking = bookings.get(BookingJobs.bookingId(job));
      long id = booking.getLong("id");
      Future<PaymentProvider.Outcome> outcome = payments.charge(new PaymentProvider.Charge(id,
        booking.getString("email"), booking.getString("name"), booking.getInteger("quantity"),
        BookingJobs.key(id, BookingJobs.PAYMENT)));
      charges.add(new Charge(job, id, outcome,
        outcome.compose(o -> o.approved() ? Future.succeededFuture() : declined(job, id, o.reason(), out))));
    }
    if (!fenced.isEmpty()) {
      log.warn("{} payment(s) not attempted: their job attempts no longer hold their leases (this node was paused or "
        + "cut off and the jobs were taken back): {}", fenced.size(), fenced.stream().limit(5).toList());
    }
    return charges;
  }

  /** The approved charges confirmed in one transaction; declines and provider failures reported per job. */
  private Future<BatchResult> settle(List<Job> jobs, List<Charge> charges, BatchResult out) {
    return Future.join(charges.stream().map(Charge::outcome).toList())
      .transform(ar -> {
        List<Charge> approved = charges.stream().filter(Charge::approved).toList();
        return confirmAll(jobs, approved.stream().map(Charge::bookingId).toList(),
          approved.stream().map(Charge::reference).toList(), Transition.PAYMENT_CONFIRMED, out);
      })
      .compose(v -> Future.join(charges.stream().map(Charge::declined).toList()).transform(ar -> {
        // a charge that failed (provider down): that job retries on its own
        charges.stream().filter(c -> c.outcome().failed())
          .forEach(c -> out.failed(c.job().id(), c.outcome().cause()));
        return Future.succeededFuture(out);
      }));
  }

  /** pending → payment_failed with the provider's reason, and its compensation, in one transaction. */
  private Future<Void> declined(Job job, long id, String reason, BatchResult out) {
    return pool.withTransaction(tx -> Transition.PAYMENT_DECLINED.apply(tx, id, reason).compose(row -> row.isEmpty()
        ? Future.succeededFuture(row)
        : JobQueue.enqueue(tx, BookingJobs.step(BookingJobs.COMPENSATE, id).trace(job.trace())).map(row)))
      .compose(row -> outcome(id, row))
      .onSuccess(r -> out.succeeded(job.id(), r))
      .onFailure(err -> out.failed(job.id(), err))
      .mapEmpty();
  }

  /** payment_processed → confirmed for the whole batch in one transaction, each with its finalization. */
  private Future<BatchResult> confirms(List<Job> jobs) {
    BatchResult out = new BatchResult();
    return statuses(jobs, out).compose(bookings ->
      confirmAll(jobs, new ArrayList<>(bookings.keySet()), null, Transition.CONFIRM_PAID, out).map(out));
  }

  /**
   * Applies the confirming transition {@code t} to {@code ids} (recording {@code refs}, the payment reference of
   * each, or keeping the one a booking has when null) and enqueues the finalization of each booking it changed, in
   * one transaction; records each job's result (changed or not, with the status it found).
   */
  private Future<Void> confirmAll(List<Job> jobs, List<Long> ids, List<String> refs, Transition t, BatchResult out) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    // the finalizations go to this node's ticket engine after the commit, when it has one
    return AfterCommit.transaction(pool, (tx, after) -> t.applyAll(tx, ids, null, refs).compose(changed -> {
        List<Long> moved = changed.stream().map(r -> r.getLong("id")).toList();
        return handOff(tx, after, BookingJobs.FINALIZE, BookingJobs.steps(BookingJobs.FINALIZE, moved,
          traces(jobs, moved))).map(moved);
      }))
      .compose(moved -> {
        Set<Long> changed = new HashSet<>(moved);
        List<Job> untouched = new ArrayList<>();
        for (Job job : jobs) {
          long id = BookingJobs.bookingId(job);
          if (changed.contains(id)) {
            out.succeeded(job.id(), result(id, t.to(), true));
          } else if (ids.contains(id)) {
            untouched.add(job);
          }
        }
        // raced with something else (cancel, expiry): report where the booking stands now
        return untouched.isEmpty() ? Future.<Void>succeededFuture() : statuses(untouched, out).map(rows -> {
          untouched.forEach(job -> {
            Row row = rows.get(BookingJobs.bookingId(job));
            if (row != null) {
              out.succeeded(job.id(), result(row.getLong("id"), row.getString("status"), false));
            }
          });
          return null;
        });
      })
      .recover(err -> {
        jobs.stream().filter(j -> ids.contains(BookingJobs.bookingId(j))).forEach(j -> out.failed(j.id(), err));
        return Future.succeededFuture();
      });
  }

  /**
   * The trace each of {@code bookings} continues: the attempt of its job in this batch (each booking's next step
   * stays in its own trace, not the batch's); null while tracing is off.
   */
  private static List<String> traces(List<Job> jobs, List<Long> bookings) {
    if (!Traces.on()) {
      return null;
    }
    Map<Long, String> byBooking = new HashMap<>();
    jobs.forEach(j -> {
      if (j.trace() != null && j.payload().getValue("booking_id") instanceof Number n) {
        byBooking.put(n.longValue(), j.trace());
      }
    });
    return bookings.stream().map(byBooking::get).toList();
  }

  /** The bookings of the batch by id; jobs whose booking does not exist fail permanently. */
  private Future<Map<Long, Row>> statuses(List<Job> jobs, BatchResult out) {
    List<Long> ids = new ArrayList<>();
    for (Job job : jobs) {
      try {
        ids.add(BookingJobs.bookingId(job));
      } catch (JobFailure e) {
        out.failed(job.id(), e);
      }
    }
    return pool.preparedQuery(STATUSES).execute(Tuple.of((Object) ids.toArray(new Long[0]))).map(rows -> {
      Map<Long, Row> byId = new HashMap<>();
      rows.forEach(r -> byId.put(r.getLong("id"), r));
      for (Job job : jobs) {
        Object id = job.payload().getValue("booking_id");
        if (id instanceof Number n && !byId.containsKey(n.longValue())) {
          out.failed(job.id(), JobFailure.permanent("booking " + n + " does not exist"));
        }
      }
      return byId;
    });
  }

  /** Cancels a booking the saga could not finish; keeps the failure as last_error. */
  private Future<JsonObject> compensate(Job job) {
    long id = BookingJobs.bookingId(job);
    String failure = job.payload().getString("failure");
    return pool.withTransaction(tx -> Transition.COMPENSATE_HOLDING.apply(tx, id, failure)
        .compose(row -> row.isPresent() ? Future.succeededFuture(row)
          : Transition.CANCEL_FAILED.apply(tx, id, failure)))
      .compose(row -> outcome(id, row));
  }

  private Future<JsonObject> outcome(long id, Optional<Row> changed) {
    if (changed.isPresent()) {
      return Future.succeededFuture(result(id, changed.get().getString("status"), true));
    }
    return BookingStore.find(pool, id).compose(b -> b.isPresent()
      ? Future.succeededFuture(result(id, b.get().getString("status"), false))
      : Future.failedFuture(JobFailure.permanent("booking " + id + " does not exist")));
  }

  /** The job's stored result: where the booking stands and whether this run moved it. */
  private static JsonObject result(long id, String status, boolean changed) {
    return new JsonObject().put("booking_id", id).put("status", status).put("changed", changed);
  }
}
