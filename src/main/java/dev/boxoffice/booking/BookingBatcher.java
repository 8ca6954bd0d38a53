package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.inventory.ItemLock;
import dev.boxoffice.platform.BatchSpan;
import dev.boxoffice.platform.Deadline;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.Traces;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongConsumer;

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
 * <p>Inside a transaction ({@link BatchCommit}): lock the items' rows in id order ({@link Inventory#lockLeft}), give
 * each booking of an item in arrival order what is left (one that does not fit gets 409, later smaller ones may still
 * fit), take the totals with the usual conditional UPDATE ({@link Inventory#holdAll}, so the CHECK constraints stay
 * the guard), insert the bookings and their first saga jobs, commit, then start those jobs (handed to this node's
 * engine) and announce the batch's earliest hold expiry. Redis locks on the batch's items keep other nodes' batches of
 * the same items from queueing inside Postgres; correctness never depends on them. Confined to the verticle's event
 * loop.
 *
 * <p>Under a stall of PostgreSQL, {@link BookingBounds} keeps the waiting bookings bounded and answers those whose
 * budget runs out (503) without ever committing them afterwards.
 */
final class BookingBatcher {
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
  private final ItemLock lock;
  private final BookingBounds bounds;
  private final BatchCommit commits;
  /** Bookings in {@link #waiting}. */
  private int waitingCount;
  /** Items with waiting bookings, the longest-waiting first. */
  private final Map<Inventory.Item, ArrayDeque<PendingBooking>> waiting = new LinkedHashMap<>();
  private final Set<Inventory.Item> busy = new HashSet<>();
  private int running;

  /** {@code holdsDue} hears the earliest {@code expires_at} (epoch ms) of each committed batch. */
  BookingBatcher(Vertx vertx, Pool pool, BookingSaga saga, ItemLock lock, int holdSeconds, LongConsumer holdsDue,
                 BookingBounds bounds) {
    this.vertx = vertx;
    this.bounds = bounds;
    this.lock = lock;
    this.commits = new BatchCommit(pool, saga, holdSeconds, holdsDue, bounds);
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
      .add(new PendingBooking(booking, key, promise, deadline, Traces.origin()));
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
    for (Iterator<ArrayDeque<PendingBooking>> it = waiting.values().iterator(); it.hasNext(); ) {
      ArrayDeque<PendingBooking> queue = it.next();
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
      List<PendingBooking> batch = new ArrayList<>();
      Set<Inventory.Item> items = new HashSet<>();
      Set<Object> once = new HashSet<>(); // a key repeated goes in a later batch, and finds it answered there
      Iterator<Map.Entry<Inventory.Item, ArrayDeque<PendingBooking>>> it = waiting.entrySet().iterator();
      while (it.hasNext() && batch.size() < MAX_BATCH) {
        Map.Entry<Inventory.Item, ArrayDeque<PendingBooking>> entry = it.next();
        if (busy.contains(entry.getKey())) {
          continue;
        }
        ArrayDeque<PendingBooking> queue = entry.getValue();
        while (!queue.isEmpty() && batch.size() < MAX_BATCH && once.add(queue.peek().once())) {
          PendingBooking p = queue.poll();
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
          : p.origin().span()).toList(), () -> lock.withLocks(locks, () -> commits.commit(batch)))
        : lock.withLocks(locks, () -> commits.commit(batch));
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
    for (Map.Entry<Inventory.Item, ArrayDeque<PendingBooking>> entry : waiting.entrySet()) {
      if (!busy.contains(entry.getKey())) {
        free += entry.getValue().size();
        if (free >= n) {
          return true;
        }
      }
    }
    return false;
  }
}
