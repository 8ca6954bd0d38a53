package dev.boxoffice.inventory;

import dev.boxoffice.platform.Bus;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Taking and returning held quantity. Each is one conditional UPDATE, meant to run inside the booking's own
 * transaction: the check and the change are a single atomic statement, so no interleaving can oversell.
 */
public final class Inventory {
  private static final String HOLD_EVENT =
    "UPDATE events SET booked = booked + $2 WHERE id = $1 AND booked + $2 <= capacity RETURNING id";
  private static final String HOLD_PRODUCT =
    "UPDATE products SET quantity = quantity - $2, updated_at = now() WHERE id = $1 AND quantity >= $2 RETURNING id";
  private static final String RELEASE_EVENT = "UPDATE events SET booked = booked - $2 WHERE id = $1";
  private static final String RELEASE_PRODUCT =
    "UPDATE products SET quantity = quantity + $2, updated_at = now() WHERE id = $1";
  private static final String EVENT_EXISTS = "SELECT 1 FROM events WHERE id = $1";
  private static final String PRODUCT_EXISTS = "SELECT 1 FROM products WHERE id = $1";

  private Inventory() {
  }

  /** The item a booking holds: exactly one of the ids is set, or neither (a plain saga booking). */
  public record Item(Long eventId, Long productId) {
    public boolean none() {
      return eventId == null && productId == null;
    }
  }

  /** Holds {@code quantity}; fails with 404 (unknown item) or 409 (not enough left), changing nothing. */
  public static Future<Void> hold(SqlClient tx, Item item, int quantity) {
    if (item.none()) {
      return Future.succeededFuture();
    }
    boolean event = item.eventId() != null;
    long id = event ? item.eventId() : item.productId();
    return tx.preparedQuery(event ? HOLD_EVENT : HOLD_PRODUCT).execute(Tuple.of(id, quantity)).compose(rows -> {
      if (rows.size() == 1) {
        return Future.succeededFuture();
      }
      return tx.preparedQuery(event ? EVENT_EXISTS : PRODUCT_EXISTS).execute(Tuple.of(id)).compose(found ->
        Future.failedFuture(found.size() == 0
          ? Bus.fail(404, event ? "Event not found" : "Product not found")
          : Bus.fail(409, event ? "Event is sold out" : "Not enough product in stock")));
    });
  }

  /** Returns {@code quantity}; callers make it exactly-once by tying it to a conditional status change. */
  public static Future<Void> release(SqlClient tx, Item item, int quantity) {
    if (item.none()) {
      return Future.succeededFuture();
    }
    boolean event = item.eventId() != null;
    return tx.preparedQuery(event ? RELEASE_EVENT : RELEASE_PRODUCT)
      .execute(Tuple.of(event ? item.eventId() : item.productId(), quantity)).mapEmpty();
  }
}
