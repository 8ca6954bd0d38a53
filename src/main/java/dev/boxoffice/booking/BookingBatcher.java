package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.inventory.ItemLock;
import dev.boxoffice.platform.AfterCommit;
import dev.boxoffice.platform.BatchSpan;
import dev.boxoffice.platform.Deadline;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.Failures.Violation;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.OneByOne;
import dev.boxoffice.platform.Traces;
import io.vertx.pgclient.PgException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for {@code POST /bookings}. Bookings wait here while transactions are running and then go together
 * in the next one, so that the commit, the round trips and an item's row lock are paid once per batch instead of
 * once per booking:
 * <ul>
 *   <li>an item (event, product, or none) is in at most one running transaction of this node, so the bookings of a
 *       hot event that arrive during one transaction all go in the next (thousands a second on one row);</li>
 *   <li>a transaction takes the waiting bookings of as many items as are free, so bookings spread over many items
 *       share commits too;</li>
 *   <li>at most {@link #MAX_TRANSACTIONS} run at once, and a second one starts only for at least
 *       {@link #MIN_SHARED_BATCH} bookings, so that bookings spread over many items wait for a batch as those of a hot
 *       event do. A booking that finds no transaction running goes at once, so a quiet system adds no delay.</li>
 * </ul>
 *
 * <p>Inside a transaction: lock the items' rows in id order ({@link Inventory#lockLeft}), give each booking of an
 * item in arrival order what is left (one that does not fit gets 409, later smaller ones may still fit), take the
 * totals with the usual conditional UPDATE ({@link Inventory#holdAll}, so the CHECK constraints stay the guard),
 * insert the bookings and their first saga jobs, commit, then start those jobs (handed to this node's engine) and
 * announce the batch's earliest hold expiry. Redis
 * locks on the batch's items keep other nodes' batches of the same items from queueing inside Postgres; correctness
 * never depends on them. Confined to the verticle's event loop.
 *
 * <p>Under a stall of PostgreSQL, {@link BookingBounds} keeps the waiting bookings bounded and answers those whose
 * budget runs out (503) without ever committing them afterwards.
 */
final class BookingBatcher {
  private static final Logger log = LoggerFactory.getLogger(BookingBatcher.class);
  private static final int MAX_BATCH = 256;
  /** Enough to overlap one transaction's commit with the next ones' work; more only adds row-lock waits. */
  private static final int MAX_TRANSACTIONS = 4;
  /**
   * While a transaction runs, another starts only when it takes at least this many bookings; fewer wait for the
   * running one to end and go together in the next. A hot event gets that from its busy item; bookings spread over
   * many items had nothing to make them wait, and went 5 or 6 to a transaction where a hot event's went 16 (32
   * clients), while every transaction, and the payment and finalization batches that follow it (one each), pays its
   * ~23 statements and its three commits whatever its size. Now both go 16 at a time. Under heavier load more
   * bookings wait and more transactions run at once; a quiet node still starts a booking at once.
   */
  private static final int MIN_SHARED_BATCH = 32;

  private final Vertx vertx;
  private final Pool pool;
  private final BookingSaga saga;
  private final ItemLock lock;
  private final int holdSeconds;
  private final LongConsumer holdsDue;
  private final BookingBounds bounds;
  /** Bookings in {@link #waiting}. */
  private int waitingCount;
  /** Items with waiting bookings, the longest-waiting first. */
  private final Map<Inventory.Item, ArrayDeque<Pending>> waiting = new LinkedHashMap<>();
  private final Set<Inventory.Item> busy = new HashSet<>();
  private int running;

  /**
   * {@code key}: the request's Idempotency-Key, or null. {@code origin}: the request's span and context when it is
   * traced (null otherwise, and always while tracing is off).
   */
  private record Pending(BookingStore.NewBooking booking, IdempotencyKeys.Key key, Promise<Row> promise,
                         Deadline deadline, Traces.Origin origin) {
    Inventory.Item item() {
      return booking.item();
    }

    /** The created booking, answered on the request's own context (in its trace) when it has one. */
    void created(Row row) {
      if (origin == null) {
        promise.tryComplete(row);
      } else {
        origin.complete(promise, row);
      }
    }

    /** The trace the booking's first job continues: the request's. */
    String traceparent() {
      return origin == null ? null : Traces.traceparent(origin.span().getSpanContext());
    }

    /** What may be in a batch once: its key; a booking without one is always distinct. */
    Object once() {
      return key != null ? key.account() + "\n" + key.key() : promise;
    }
  }

  /** {@code holdsDue} hears the earliest {@code expires_at} (epoch ms) of each committed batch. */
  BookingBatcher(Vertx vertx, Pool pool, BookingSaga saga, ItemLock lock, int holdSeconds, LongConsumer holdsDue,
                 BookingBounds bounds) {
    this.vertx = vertx;
    this.bounds = bounds;
    this.pool = pool;
    this.saga = saga;
    this.lock = lock;
    this.holdSeconds = holdSeconds;
    this.holdsDue = holdsDue;
  }

  /** The created booking row, or a failure carrying 404 (unknown item) / 409 (not enough left). */
  Future<Row> submit(BookingStore.NewBooking booking) {
    return submit(booking, null, Deadline.NONE);
  }

  /**
   * As {@link #submit(BookingStore.NewBooking)}, for a client that waits until {@code deadline} (503 beyond it).
   * With an Idempotency-Key, the batch claims it and stores the answer; a key that a committed request holds fails
   * with its answer ({@link IdempotencyKeys.Replayed}, or 422) and books nothing.
   */
  Future<Row> submit(BookingStore.NewBooking booking, IdempotencyKeys.Key key, Deadline deadline) {
    Failure full = bounds.admit(waitingCount);
    if (full != null) {
      return Future.failedFuture(full);
    }
    if (deadline.within(BookingBounds.MIN_START_MS)) {
      return Future.failedFuture(bounds.tooLate());
    }
    Promise<Row> promise = Promise.promise();
    waiting.computeIfAbsent(booking.item(), k -> new ArrayDeque<>())
      .add(new Pending(booking, key, promise, deadline, Traces.origin()));
    waitingCount++;
    dispatch();
    if (waitingCount > 0) {
      bounds.sweepWhile(this::answerLate);
    }
    return promise.future();
  }

  int waitingCount() {
    return waitingCount;
  }

  /** Answers 503 to the waiting bookings that can no longer commit in time; whether any still wait. */
  private boolean answerLate() {
    for (Iterator<ArrayDeque<Pending>> it = waiting.values().iterator(); it.hasNext(); ) {
      ArrayDeque<Pending> queue = it.next();
      queue.removeIf(p -> {
        if (!p.deadline().within(BookingBounds.MIN_START_MS)) {
          return false;
        }
        waitingCount--;
        p.promise().tryFail(bounds.tooLate());
        return true;
      });
      if (queue.isEmpty()) {
        it.remove();
      }
    }
    return waitingCount > 0;
  }

  /** Starts transactions while there is room and waiting bookings of items not in a running one. */
  private void dispatch() {
    while (running < MAX_TRANSACTIONS && (running == 0 || freeWaitingAtLeast(MIN_SHARED_BATCH))) {
      List<Pending> batch = new ArrayList<>();
      Set<Inventory.Item> items = new HashSet<>();
      Set<Object> once = new HashSet<>(); // a key repeated goes in a later batch, and finds it answered there
      Iterator<Map.Entry<Inventory.Item, ArrayDeque<Pending>>> it = waiting.entrySet().iterator();
      while (it.hasNext() && batch.size() < MAX_BATCH) {
        Map.Entry<Inventory.Item, ArrayDeque<Pending>> entry = it.next();
        if (busy.contains(entry.getKey())) {
          continue;
        }
        ArrayDeque<Pending> queue = entry.getValue();
        while (!queue.isEmpty() && batch.size() < MAX_BATCH && once.add(queue.peek().once())) {
          Pending p = queue.poll();
          waitingCount--;
          if (p.deadline().within(BookingBounds.MIN_START_MS)) {
            p.promise().tryFail(bounds.tooLate());
          } else {
            batch.add(p);
          }
        }
        items.add(entry.getKey());
        if (queue.isEmpty()) {
          it.remove();
        }
      }
      if (batch.isEmpty()) {
        return;
      }
      busy.addAll(items);
      running++;
      List<String> locks = items.stream().map(ItemLock::name).filter(Objects::nonNull).sorted().toList();
      // traced, the batch's work (locks, statements) runs under one span: see BatchSpan for how it links to the
      // requests it serves; each booking's answer and payment job stay in its own request's trace
      Future<Void> committed = Traces.on()
        ? BatchSpan.run(vertx, "booking group commit", batch.stream().map(p -> p.origin() == null ? null
          : p.origin().span()).toList(), () -> lock.withLocks(locks, () -> commit(batch)))
        : lock.withLocks(locks, () -> commit(batch));
      committed.onComplete(ar -> {
        if (ar.failed()) {
          batch.forEach(p -> p.promise().tryFail(ar.cause()));
        }
        busy.removeAll(items);
        running--;
        dispatch();
      });
    }
  }

  /** Whether at least {@code n} bookings wait for items that no running transaction holds. */
  private boolean freeWaitingAtLeast(int n) {
    int free = 0;
    for (Map.Entry<Inventory.Item, ArrayDeque<Pending>> entry : waiting.entrySet()) {
      if (!busy.contains(entry.getKey())) {
        free += entry.getValue().size();
        if (free >= n) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Bookings whose time ran out meanwhile (waiting for the item locks) are answered 503; the rest go in one
   * transaction bounded by their earliest deadline ({@link BookingBounds.Guard}).
   */
  private Future<Void> commit(List<Pending> all) {
    List<Pending> batch = new ArrayList<>(all.size());
    Deadline earliest = Deadline.NONE;
    for (Pending p : all) {
      if (p.deadline().within(BookingBounds.MIN_START_MS)) {
        p.promise().tryFail(bounds.tooLate());
      } else {
        batch.add(p);
        earliest = earliest.min(p.deadline());
      }
    }
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    BookingBounds.Guard guard = bounds.guard(earliest, batch.stream()
      .map(p -> (Runnable) () -> p.promise().tryFail(bounds.tooLate())).toList());
    return commitOrIsolate(batch, guard).onComplete(ar -> guard.done());
  }

  /**
   * The batch in one transaction; if that fails for any reason but a lost connection or its time running out (one
   * booking the database refuses, e.g. a trigger or a rule the edge did not know of), each booking again in a
   * transaction of its own (and under its own deadline), in arrival order, so that only the offending one fails. Not
   * after a commit (then the failure came later, and a retry would book twice).
   */
  private Future<Void> commitOrIsolate(List<Pending> batch, BookingBounds.Guard guard) {
    boolean[] committed = {false};
    return commit(batch, guard, committed).recover(err -> {
      if (committed[0] || !OneByOne.worthIsolating(err)) {
        return Future.failedFuture(err);
      }
      if (batch.size() == 1) {
        return Future.failedFuture(refusedByDatabase(err));
      }
      log.warn("a group commit of {} bookings failed, committing them one by one: {}", batch.size(),
        Failures.text(err));
      return OneByOne.run(batch, p -> commit(List.of(p)), (p, e) -> p.promise().tryFail(refusedByDatabase(e)));
    });
  }

  /** A booking the database refused on its own: its data (class 22, 23) is the client's, anything else ours. */
  private static Throwable refusedByDatabase(Throwable err) {
    if (err instanceof PgException pg && pg.getSqlState() != null
      && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23"))
      && !Violation.FOREIGN_KEY.of(err)) { // an unknown item: BookingApi answers 404
      log.warn("booking refused by the database: {} ({})", pg.getErrorMessage(), pg.getSqlState());
      return Failure.invalid("body", "was refused by the database: " + pg.getErrorMessage());
    }
    return err;
  }

  /**
   * One transaction for the batch; completes each booking's promise once it has committed. {@code committed[0]} is
   * set once the commit is done, before anything that runs after it.
   */
  private Future<Void> commit(List<Pending> batch, BookingBounds.Guard guard, boolean[] committed) {
    List<Pending> accepted = new ArrayList<>(batch.size());
    List<Pending> refused = new ArrayList<>();
    Set<Inventory.Item> unknown = new HashSet<>();
    Map<IdempotencyKeys.Key, Throwable> answered = new HashMap<>(); // keys of committed requests: book nothing
    List<IdempotencyKeys.Key> keys = batch.stream().map(Pending::key).filter(Objects::nonNull).toList();
    // the payments are handed to this node's engine once the transaction has committed. The deadline bound, the
    // keys' claim and the items' locks are pipelined (the server runs them in order): one round trip for the three
    return AfterCommit.transaction(pool, (tx, after) -> {
      after.add(() -> committed[0] = true);
      Future<Void> bound = guard.bound(tx);
      return Future.all(bound, allocate(tx, batch, IdempotencyKeys.claimAll(tx, keys), answered, accepted, refused,
          unknown))
        .map(both -> both.<Map<Inventory.Item, Integer>>resultAt(1))
        .compose(totals -> accepted.isEmpty() ? keysAnswered(tx, accepted, List.of(), refused).map(List.<Row>of())
          : Inventory.holdAll(tx, totals)
            .compose(v -> BookingStore.insertAll(tx, accepted.stream().map(Pending::booking).toList(), holdSeconds))
            .compose(rows -> Future.all(saga.startedAll(tx, after, rows, traces(accepted)),
              keysAnswered(tx, accepted, rows, refused))
              .map(rows)))
        .compose(rows -> guard.beforeCommit().map(rows));
    }).map(rows -> {
      long earliest = Long.MAX_VALUE;
      for (int i = 0; i < rows.size(); i++) {
        accepted.get(i).created(rows.get(i));
        earliest = Math.min(earliest, rows.get(i).getOffsetDateTime("expires_at").toInstant().toEpochMilli());
      }
      if (!rows.isEmpty()) {
        holdsDue.accept(earliest);
        BookingMeters.created(rows.size());
      }
      refused.forEach(p -> p.promise().tryFail(refusal(p.item(), unknown.contains(p.item()))));
      batch.stream().filter(p -> p.key() != null && answered.containsKey(p.key()))
        .forEach(p -> p.promise().tryFail(answered.get(p.key())));
      return null;
    });
  }

  /** The trace each accepted booking's first job continues (its request's); null while tracing is off. */
  private static List<String> traces(List<Pending> accepted) {
    return Traces.on() ? accepted.stream().map(Pending::traceparent).toList() : null;
  }

  /** One statement: the created bookings' answers are kept under their keys; refused requests' claims go. */
  private static Future<Void> keysAnswered(SqlClient tx, List<Pending> accepted, List<Row> rows,
                                           List<Pending> refused) {
    List<IdempotencyKeys.Key> keys = new ArrayList<>();
    List<JsonObject> replies = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      if (accepted.get(i).key() != null) {
        keys.add(accepted.get(i).key());
        replies.add(BookingApi.created(rows.get(i)));
      }
    }
    refused.stream().filter(p -> p.key() != null).forEach(p -> {
      keys.add(p.key());
      replies.add(null);
    });
    return IdempotencyKeys.completeAll(tx, keys, replies);
  }

  private static Throwable refusal(Inventory.Item item, boolean unknown) {
    boolean event = item.eventId() != null;
    if (unknown) {
      return Failure.notFound(event ? "Event not found" : "Product not found");
    }
    return Failure.conflict(event ? "Event is sold out" : "Not enough product in stock");
  }

  /**
   * Splits the batch into what fits and what does not (refused, and {@code unknown} when the item does not exist;
   * failed after the commit); returns the quantity to hold per item. Bookings whose key is {@code answered} by its
   * {@code claimed} outcome (a committed request holds it) are neither.
   */
  private static Future<Map<Inventory.Item, Integer>> allocate(SqlClient tx, List<Pending> batch,
                                                               Future<Map<IdempotencyKeys.Key, Throwable>> claimed,
                                                               Map<IdempotencyKeys.Key, Throwable> answered,
                                                               List<Pending> accepted, List<Pending> refused,
                                                               Set<Inventory.Item> unknown) {
    Set<Inventory.Item> items = new HashSet<>();
    batch.forEach(p -> items.add(p.item()));
    Future<Map<Inventory.Item, Integer>> locked = Inventory.lockLeft(tx, items);
    return Future.all(claimed, locked).map(v -> {
      answered.putAll(claimed.result());
      Map<Inventory.Item, Integer> left = locked.result();
      Map<Inventory.Item, Integer> totals = new LinkedHashMap<>();
      for (Pending p : batch) {
        if (p.key() != null && answered.containsKey(p.key())) {
          continue;
        }
        Inventory.Item item = p.item();
        int q = p.booking().quantity();
        if (item.none()) {
          accepted.add(p);
          continue;
        }
        Integer available = left.get(item);
        if (available == null) {
          unknown.add(item);
        }
        int taken = totals.getOrDefault(item, 0);
        if (available != null && taken + q <= available) {
          totals.put(item, taken + q);
          accepted.add(p);
        } else {
          refused.add(p);
        }
      }
      return totals;
    });
  }
}
