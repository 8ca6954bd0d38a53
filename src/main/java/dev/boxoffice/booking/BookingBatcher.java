package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.inventory.ItemLock;
import dev.boxoffice.platform.Bus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Group commit for {@code POST /bookings}. Bookings of the same item (event, product, or none) that arrive while a
 * transaction for that item is running wait for it and then go together in the next one: the item's row is locked
 * once per batch instead of once per booking, which is what lets a hot event take thousands of bookings a second.
 * A booking that finds no transaction running goes at once, so a quiet system adds no delay.
 *
 * <p>Inside a batch: lock the item row ({@code FOR UPDATE}), give each booking in arrival order what is left
 * (a booking that does not fit gets 409, later smaller ones may still fit), take the total with the usual
 * conditional UPDATE (so the CHECK constraints and {@link Inventory#hold} stay the guard), insert the bookings
 * and their first saga jobs, commit. One Redis lock per batch keeps other nodes' batches of the same item from
 * queueing inside Postgres; correctness never depends on it. Confined to the verticle's event loop.
 */
final class BookingBatcher {
  private static final int MAX_BATCH = 256;
  private static final String LEFT_EVENT = "SELECT capacity - booked AS left FROM events WHERE id = $1 FOR UPDATE";
  private static final String LEFT_PRODUCT = "SELECT quantity AS left FROM products WHERE id = $1 FOR UPDATE";

  private final Pool pool;
  private final BookingSaga saga;
  private final ItemLock lock;
  private final int holdSeconds;
  private final Map<Inventory.Item, ArrayDeque<Pending>> waiting = new HashMap<>();

  private record Pending(BookingStore.NewBooking booking, Promise<Row> promise) {
  }

  BookingBatcher(Pool pool, BookingSaga saga, ItemLock lock, int holdSeconds) {
    this.pool = pool;
    this.saga = saga;
    this.lock = lock;
    this.holdSeconds = holdSeconds;
  }

  /** The created booking row, or a failure carrying 404 (unknown item) / 409 (not enough left). */
  Future<Row> submit(BookingStore.NewBooking booking) {
    Promise<Row> promise = Promise.promise();
    Inventory.Item item = booking.item();
    ArrayDeque<Pending> queue = waiting.get(item);
    if (queue != null) {
      queue.add(new Pending(booking, promise)); // a batch of this item is running: join the next one
    } else {
      waiting.put(item, new ArrayDeque<>());
      run(item, List.of(new Pending(booking, promise)));
    }
    return promise.future();
  }

  private void run(Inventory.Item item, List<Pending> batch) {
    Future<Void> done = item.none()
      ? commit(item, batch)
      : lock.withLock(ItemLock.name(item), () -> commit(item, batch));
    done.onComplete(ar -> {
      if (ar.failed()) {
        batch.forEach(p -> p.promise().tryFail(ar.cause()));
      }
      ArrayDeque<Pending> queue = waiting.get(item);
      if (queue.isEmpty()) {
        waiting.remove(item);
        return;
      }
      List<Pending> next = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
      while (!queue.isEmpty() && next.size() < MAX_BATCH) {
        next.add(queue.poll());
      }
      run(item, next);
    });
  }

  /** One transaction for the batch; completes each booking's promise once it has committed. */
  private Future<Void> commit(Inventory.Item item, List<Pending> batch) {
    List<Pending> accepted = new ArrayList<>(batch.size());
    List<Pending> refused = new ArrayList<>();
    return pool.withTransaction(tx -> allocate(tx, item, batch, accepted, refused)
        .compose(total -> total == 0 ? Future.succeededFuture(List.<Row>of())
          : Inventory.hold(tx, item, total)
            .compose(v -> BookingStore.insertAll(tx, accepted.stream().map(Pending::booking).toList(), holdSeconds))
            .compose(rows -> saga.startedAll(tx, rows).map(rows))))
      .map(rows -> {
        for (int i = 0; i < rows.size(); i++) {
          accepted.get(i).promise().complete(rows.get(i));
        }
        refused.forEach(p -> p.promise().fail(item.eventId() != null
          ? Bus.fail(409, "Event is sold out") : Bus.fail(409, "Not enough product in stock")));
        return null;
      });
  }

  /** Splits the batch into what fits and what does not; returns the quantity to hold. */
  private static Future<Integer> allocate(SqlClient tx, Inventory.Item item, List<Pending> batch,
                                          List<Pending> accepted, List<Pending> refused) {
    if (item.none()) {
      accepted.addAll(batch);
      return Future.succeededFuture(batch.stream().mapToInt(p -> p.booking().quantity()).sum());
    }
    boolean event = item.eventId() != null;
    long id = event ? item.eventId() : item.productId();
    return tx.preparedQuery(event ? LEFT_EVENT : LEFT_PRODUCT).execute(Tuple.of(id)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(Bus.fail(404, event ? "Event not found" : "Product not found"));
      }
      int left = rows.iterator().next().getInteger("left");
      int total = 0;
      for (Pending p : batch) {
        int q = p.booking().quantity();
        if (total + q <= left) {
          total += q;
          accepted.add(p);
        } else {
          refused.add(p);
        }
      }
      return Future.succeededFuture(total);
    });
  }
}
