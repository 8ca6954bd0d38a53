package dev.boxoffice.booking;

import dev.boxoffice.jobs.BatchResult;
import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.JobHandoff;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.jobs.NewJob;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * The saga's steps, each a job whose handler is one conditional transition (so running it twice changes nothing)
 * that enqueues the next step in the same transaction:
 *
 * <pre>
 *   pending ──payment (approved)──────────────────────▶ confirmed ──finalize──▶ finalized
 *      │ declined     payment_processed ──confirm──▶ ┘     (finalization: another feature)
 *      ▼                     │ step dead (onDead)
 *   payment_failed ──compensate──▶ cancelled ◀──────┘
 *   pending / payment_processed ──expire (at expires_at, {@link HoldExpiry}, not a job)──▶ expired
 * </pre>
 *
 * An approved payment confirms in the same transaction: one job and one commit per booking on the hot path, which
 * keeps pending→confirmed short. On the hot path the payment and finalization jobs are handed straight to this
 * node's engines after their commit ({@link JobHandoff}) rather than claimed. The confirm step remains for bookings found in payment_processed (reprocessing).
 * Every job carries {@code {"booking_id": N}} and a unique key {@code booking:N:<step>}, so re-enqueueing a step
 * while one is live (reprocessing, a retried transaction) adds nothing.
 */
public final class BookingSaga {
  private static final int RESTART_BATCH = 200;
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
   * New bookings, many at once: (auto mode) their payments in one statement; their expiry needs no job. When this
   * node runs payments itself the jobs are handed straight to its engine ({@link JobHandoff}): run the returned
   * action once the transaction has committed.
   */
  Future<Runnable> startedAll(SqlClient tx, List<Row> bookings) {
    if (!autoPayment) {
      return Future.succeededFuture(() -> { });
    }
    return JobHandoff.enqueueAll(vertx, tx, BookingJobs.PAYMENT,
      bookings.stream().map(b -> step(BookingJobs.PAYMENT, b.getLong("id"))).toList());
  }

  static Future<JobQueue.Enqueued> enqueueFinalize(SqlClient tx, long id) {
    return enqueue(tx, BookingJobs.FINALIZE, id);
  }

  /** Bookings that just became confirmed: their finalization (a confirmed booking has no expiry to cancel). */
  static Future<Void> confirmedAll(SqlClient tx, List<Long> ids) {
    return JobQueue.enqueueAll(tx, finalizations(ids)).mapEmpty();
  }

  private static List<NewJob> finalizations(List<Long> ids) {
    return ids.stream().map(id -> step(BookingJobs.FINALIZE, id)).toList();
  }

  private static Future<JobQueue.Enqueued> enqueue(SqlClient tx, String type, long id) {
    return JobQueue.enqueue(tx, step(type, id));
  }

  /** The job of one saga step of one booking, under the step's unique key. */
  private static NewJob step(String type, long id) {
    return NewJob.of(type, payload(id)).uniqueKey(key(id, type));
  }

  private static JsonObject payload(long id) {
    return new JsonObject().put("booking_id", id);
  }

  /** {@code booking:N:<step>} with the step as the job type's last segment (payment, confirm, finalize...). */
  static String key(long id, String type) {
    return "booking:" + id + ":" + type.substring(type.lastIndexOf('.') + 1);
  }

  // ------------------------------------------------------------------ steps

  /**
   * Charges every pending booking of the batch; the approved ones move to confirmed (and get their finalization)
   * in one transaction. Declines are rare and take the single-booking path with their reason.
   */
  private Future<BatchResult> payments(List<Job> jobs) {
    BatchResult out = new BatchResult();
    return statuses(jobs, out).compose(bookings -> {
      List<Future<Long>> approved = new ArrayList<>();
      List<Job> charged = new ArrayList<>();
      List<Future<?>> declined = new ArrayList<>();
      for (Job job : jobs) {
        Row booking = bookings.get(bookingId(job));
        if (booking == null) {
          continue; // reported missing by statuses()
        }
        long id = booking.getLong("id");
        if (!BookingStatus.PENDING.equals(booking.getString("status"))) {
          out.succeeded(job.id(), result(id, booking.getString("status"), false));
          continue;
        }
        PaymentProvider.Charge charge = new PaymentProvider.Charge(id, booking.getString("email"),
          booking.getString("name"), booking.getInteger("quantity"), key(id, BookingJobs.PAYMENT));
        Future<PaymentProvider.Outcome> outcome = payments.charge(charge);
        approved.add(outcome.map(o -> o.approved() ? id : null));
        charged.add(job);
        declined.add(outcome.compose(o -> o.approved() ? Future.succeededFuture()
          : advance(id, Transition.PAYMENT_DECLINED, o.reason(), (tx, row) -> enqueue(tx, BookingJobs.COMPENSATE, id))
            .onSuccess(r -> out.succeeded(job.id(), r))
            .onFailure(err -> out.failed(job.id(), err))));
      }
      return Future.join(approved).transform(ar -> {
        List<Long> ids = approved.stream().filter(Future::succeeded).map(Future::result)
          .filter(java.util.Objects::nonNull).toList();
        return confirmAll(jobs, ids, Transition.PAYMENT_CONFIRMED, out);
      }).compose(v -> Future.join(declined).transform(ar -> {
        // a charge that failed (provider down): that job retries on its own
        for (int i = 0; i < approved.size(); i++) {
          if (approved.get(i).failed()) {
            out.failed(charged.get(i).id(), approved.get(i).cause());
          }
        }
        return Future.succeededFuture(out);
      }));
    });
  }

  /** payment_processed → confirmed for the whole batch in one transaction, each with its finalization. */
  private Future<BatchResult> confirms(List<Job> jobs) {
    BatchResult out = new BatchResult();
    return statuses(jobs, out).compose(bookings -> {
      List<Long> ids = new ArrayList<>(bookings.keySet());
      return confirmAll(jobs, ids, Transition.CONFIRM_PAID, out).map(out);
    });
  }

  /**
   * Applies the confirming transition {@code t} to {@code ids} and, for each booking it changed,
   * {@link #confirmedAll}, in one transaction; records each job's result (changed or not, with the status it found).
   */
  private Future<Void> confirmAll(List<Job> jobs, List<Long> ids, Transition t, BatchResult out) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    // the finalizations go to this node's ticket engine after the commit, when it has one (JobHandoff)
    List<Runnable> next = new ArrayList<>(1);
    return pool.withTransaction(tx -> t.applyAll(tx, ids, null).compose(changed -> JobHandoff.enqueueAll(vertx, tx,
          BookingJobs.FINALIZE, finalizations(changed.stream().map(r -> r.getLong("id")).toList()))
        .map(start -> {
          next.add(start);
          return changed;
        })))
      .compose(changed -> {
        next.forEach(Runnable::run);
        java.util.Set<Long> moved = new java.util.HashSet<>();
        changed.forEach(r -> moved.add(r.getLong("id")));
        List<Job> untouched = new ArrayList<>();
        for (Job job : jobs) {
          long id = bookingId(job);
          if (moved.contains(id)) {
            out.succeeded(job.id(), result(id, t.to(), true));
          } else if (ids.contains(id)) {
            untouched.add(job);
          }
        }
        // raced with something else (cancel, expiry): report where the booking stands now
        return untouched.isEmpty() ? Future.<Void>succeededFuture() : statuses(untouched, out).map(rows -> {
          untouched.forEach(job -> {
            Row row = rows.get(bookingId(job));
            if (row != null) {
              out.succeeded(job.id(), result(row.getLong("id"), row.getString("status"), false));
            }
          });
          return null;
        });
      })
      .recover(err -> {
        jobs.stream().filter(j -> ids.contains(bookingId(j))).forEach(j -> out.failed(j.id(), err));
        return Future.succeededFuture();
      });
  }

  /** The bookings of the batch by id; jobs whose booking does not exist fail permanently. */
  private Future<java.util.Map<Long, Row>> statuses(List<Job> jobs, BatchResult out) {
    List<Long> ids = new ArrayList<>();
    for (Job job : jobs) {
      try {
        ids.add(bookingId(job));
      } catch (JobFailure e) {
        out.failed(job.id(), e);
      }
    }
    return pool.preparedQuery(STATUSES).execute(Tuple.of((Object) ids.toArray(new Long[0]))).map(rows -> {
      java.util.Map<Long, Row> byId = new java.util.HashMap<>();
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
    long id = bookingId(job);
    String failure = job.payload().getString("failure");
    return pool.withTransaction(tx -> Transition.COMPENSATE_HOLDING.apply(tx, id, failure)
        .compose(row -> row.isPresent() ? Future.succeededFuture(row)
          : Transition.CANCEL_FAILED.apply(tx, id, failure)))
      .compose(row -> outcome(id, row));
  }

  /** Applies {@code t}; when it changed the booking, runs {@code next} in the same transaction. */
  private Future<JsonObject> advance(long id, Transition t, String lastError,
                                     BiFunction<SqlClient, Row, Future<?>> next) {
    return pool.withTransaction(tx -> t.apply(tx, id, lastError).compose(row -> row.isEmpty()
        ? Future.succeededFuture(row) : next.apply(tx, row.get()).map(v -> row)))
      .compose(row -> outcome(id, row));
  }

  private Future<JsonObject> outcome(long id, Optional<Row> changed) {
    if (changed.isPresent()) {
      return Future.succeededFuture(result(id, changed.get().getString("status"), true));
    }
    return existing(id).map(b -> result(id, b.getString("status"), false));
  }

  private Future<Row> existing(long id) {
    return BookingStore.find(pool, id).compose(b -> b.isPresent() ? Future.succeededFuture(b.get())
      : Future.failedFuture(JobFailure.permanent("booking " + id + " does not exist")));
  }

  private static long bookingId(Job job) {
    Object id = job.payload().getValue("booking_id");
    if (id instanceof Number n) {
      return n.longValue();
    }
    throw JobFailure.permanent("payload has no numeric booking_id");
  }

  /** The job's stored result: where the booking stands and whether this run moved it. */
  private static JsonObject result(long id, String status, boolean changed) {
    return new JsonObject().put("booking_id", id).put("status", status).put("changed", changed);
  }

  // ------------------------------------------------------------------ reprocessing

  /**
   * Re-enqueues the next step of every booking the saga has not finished with; returns how many bookings got a
   * new job. Live jobs keep their unique keys, so this only fills gaps (a lost or dead step) and is safe to repeat.
   */
  public Future<Integer> restartAll() {
    return restartFrom(0, 0);
  }

  private Future<Integer> restartFrom(long afterId, int restarted) {
    return BookingStore.open(pool, afterId, RESTART_BATCH).compose(rows -> {
      if (rows.isEmpty()) {
        return Future.succeededFuture(restarted);
      }
      List<Future<Boolean>> batch = new ArrayList<>();
      rows.forEach(r -> batch.add(restart(r)));
      long last = rows.get(rows.size() - 1).getLong("id");
      return Future.all(batch).compose(all -> {
        int n = restarted + (int) batch.stream().filter(Future::result).count();
        return rows.size() < RESTART_BATCH ? Future.succeededFuture(n) : restartFrom(last, n);
      });
    });
  }

  private Future<Boolean> restart(Row booking) {
    long id = booking.getLong("id");
    List<Future<JobQueue.Enqueued>> jobs = new ArrayList<>();
    switch (booking.getString("status")) {
      case BookingStatus.PENDING -> {
        if (autoPayment) {
          jobs.add(enqueue(pool, BookingJobs.PAYMENT, id));
        }
      }
      case BookingStatus.PAYMENT_PROCESSED -> jobs.add(enqueue(pool, BookingJobs.CONFIRM, id));
      case BookingStatus.PAYMENT_FAILED -> jobs.add(enqueue(pool, BookingJobs.COMPENSATE, id));
      case BookingStatus.CONFIRMED -> jobs.add(enqueueFinalize(pool, id));
      default -> {
        // finished meanwhile
      }
    }
    return Future.all(jobs).map(all -> {
      boolean created = jobs.stream().anyMatch(f -> f.result().created());
      if (created) {
        BookingLog.info(id, "booking {} restarted from {}", id, booking.getString("status"));
      }
      return created;
    });
  }
}
