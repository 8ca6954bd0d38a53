package dev.boxoffice.inventory;

import dev.boxoffice.platform.Failure;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Taking and returning held quantity, meant to run inside the bookings' own transaction. Taking is a conditional
 * UPDATE: the check and the change are a single atomic statement, so no interleaving can oversell.
 */
public final class Inventory {
  /** The bound of event capacity and product stock (openapi.yaml, and the CHECKs of the schema). */
  public static final int MAX_QUANTITY = 1_000_000_000;
  private static final String RELEASE_EVENT = "UPDATE events SET booked = booked - $2 WHERE id = $1";
  // in bigint, and at most the bound of the quantity CHECK: an admin may have set the stock to the bound while
  // bookings held some, and their return must never fail (a cancel answering 500, an expiry sweep stalling on it)
  private static final String RELEASE_PRODUCT = """
    UPDATE products SET quantity = least(quantity::bigint + $2::bigint, %d), updated_at = now()
    WHERE id = $1""".formatted(Inventory.MAX_QUANTITY);
  // several items at once: rows locked in id order (events, then products), so two batches sharing items cannot
  // deadlock; NO KEY UPDATE is the lock the counter UPDATE takes anyway, and unlike FOR UPDATE it lets rows
  // referencing the item be inserted meanwhile (their foreign-key check takes a KEY SHARE lock)
  private static final String LOCK_EVENTS =
    "SELECT id, capacity - booked AS left FROM events WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE";
  private static final String LOCK_PRODUCTS =
    "SELECT id, quantity AS left FROM products WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE";
  private static final String HOLD_EVENTS = """
    UPDATE events e SET booked = e.booked + x.n FROM unnest($1::bigint[], $2::int[]) AS x(id, n)
    WHERE e.id = x.id AND e.booked + x.n <= e.capacity RETURNING e.id""";
  private static final String HOLD_PRODUCTS = """
    UPDATE products p SET quantity = p.quantity - x.n, updated_at = now()
    FROM unnest($1::bigint[], $2::int[]) AS x(id, n)
    WHERE p.id = x.id AND p.quantity >= x.n RETURNING p.id""";

  private Inventory() {
  }

  /** The item a booking holds: exactly one of the ids is set, or neither (a plain saga booking). */
  public record Item(Long eventId, Long productId) {
    /** The order rows are locked in (events, then products, by id): whoever locks several follows it. */
    public static final Comparator<Item> LOCK_ORDER = Comparator
      .comparing(Item::eventId, Comparator.nullsLast(Comparator.<Long>naturalOrder()))
      .thenComparing(Item::productId, Comparator.nullsLast(Comparator.<Long>naturalOrder()));

    public boolean none() {
      return eventId == null && productId == null;
    }
  }

  /**
   * Locks the rows of these items until the transaction ends and returns what each has left; an item that does not
   * exist is missing from the map. Items that hold nothing ({@link Item#none()}) are ignored.
   */
  public static Future<Map<Item, Integer>> lockLeft(SqlClient tx, Collection<Item> items) {
    Long[] events = items.stream().map(Item::eventId).filter(Objects::nonNull).sorted().toArray(Long[]::new);
    Long[] products = items.stream().filter(i -> i.eventId() == null).map(Item::productId).filter(Objects::nonNull)
      .sorted().toArray(Long[]::new);
    Map<Item, Integer> left = new HashMap<>();
    Future<Void> lockedEvents = events.length == 0 ? Future.succeededFuture()
      : tx.preparedQuery(LOCK_EVENTS).execute(Tuple.of((Object) events)).map(rows -> {
        rows.forEach(r -> left.put(new Item(r.getLong("id"), null), r.getInteger("left")));
        return null;
      });
    return lockedEvents.compose(v -> products.length == 0 ? Future.succeededFuture()
      : tx.preparedQuery(LOCK_PRODUCTS).execute(Tuple.of((Object) products)).<Void>map(rows -> {
        rows.forEach(r -> left.put(new Item(null, r.getLong("id")), r.getInteger("left")));
        return null;
      })).map(v -> left);
  }

  /**
   * Holds the quantities of items in one conditional UPDATE per table (an item's row changes only if it has
   * enough left); fails with 409, changing nothing, unless every item still had enough (callers lock the rows
   * and allocate first, so that means a bug, and the CHECK constraints stand behind this as well).
   */
  public static Future<Void> holdAll(SqlClient tx, Map<Item, Integer> quantities) {
    List<Long> events = new ArrayList<>();
    List<Integer> eventQuantities = new ArrayList<>();
    List<Long> products = new ArrayList<>();
    List<Integer> productQuantities = new ArrayList<>();
    quantities.forEach((item, n) -> {
      if (item.eventId() != null) {
        events.add(item.eventId());
        eventQuantities.add(n);
      } else if (item.productId() != null) {
        products.add(item.productId());
        productQuantities.add(n);
      }
    });
    return holdEach(tx, HOLD_EVENTS, events, eventQuantities, "Event is sold out")
      .compose(v -> holdEach(tx, HOLD_PRODUCTS, products, productQuantities, "Not enough product in stock"));
  }

  private static Future<Void> holdEach(SqlClient tx, String sql, List<Long> ids, List<Integer> quantities,
                                       String refusal) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    return tx.preparedQuery(sql)
      .execute(Tuple.of(ids.toArray(new Long[0]), (Object) quantities.toArray(new Integer[0])))
      .compose(rows -> rows.size() == ids.size() ? Future.<Void>succeededFuture()
        : Future.failedFuture(Failure.conflict(refusal)));
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
