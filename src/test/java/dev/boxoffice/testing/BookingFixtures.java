package dev.boxoffice.testing;

import dev.boxoffice.booking.BookingStatus;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

import static dev.boxoffice.testing.Await.await;

/**
 * Rows the booking and ticket tests need (events, products, bookings in a given state) made with SQL, and reads of
 * their state (bookings, jobs, outbox).
 */
public final class BookingFixtures {
  private final Supplier<Pool> pool;

  public BookingFixtures(Pool pool) {
    this(() -> pool);
  }

  /** The pool is asked for at each statement, so a static field can hold this before its {@link TestNode} starts. */
  public BookingFixtures(Supplier<Pool> pool) {
    this.pool = pool;
  }

  public static JsonObject body(String name, String email) {
    return new JsonObject().put("name", name).put("email", email).put("phone", "+44 20 7946 0958");
  }

  public RowSet<Row> sql(String sql, Object... args) {
    return await(pool.get().preparedQuery(sql).execute(Tuple.from(args)));
  }

  public long event(int capacity) {
    return sql("INSERT INTO events (title, capacity) VALUES ($1, $2) RETURNING id", "Show", capacity)
      .iterator().next().getLong("id");
  }

  public long product(int quantity) {
    return sql("INSERT INTO products (name, quantity, unique_id) VALUES ($1, $2, $3) RETURNING id", "Widget",
      quantity, UUID.randomUUID().toString()).iterator().next().getLong("id");
  }

  public int productQuantity(long id) {
    return sql("SELECT quantity FROM products WHERE id = $1", id).iterator().next().getInteger("quantity");
  }

  public int eventBooked(long id) {
    return sql("SELECT booked FROM events WHERE id = $1", id).iterator().next().getInteger("booked");
  }

  public String status(long bookingId) {
    return booking(bookingId).getString("status");
  }

  public Row booking(long bookingId) {
    return sql("SELECT * FROM bookings WHERE id = $1", bookingId).iterator().next();
  }

  /** A booking row written directly (no saga jobs), holding its quantity of the product like the API would. */
  public long stuckBooking(String status, long productId, int quantity, String owner) {
    long id = sql("""
      INSERT INTO bookings (name, email, phone, status, product_id, quantity, owner, expires_at)
      VALUES ('Stuck Booking', 'stuck@example.com', '12345', $1, $2, $3, $4, now() + interval '10 minutes')
      RETURNING id""", status, productId, quantity, owner).iterator().next().getLong("id");
    if (BookingStatus.HOLDING.contains(status)) {
      sql("UPDATE products SET quantity = quantity - $2 WHERE id = $1", productId, quantity);
    }
    return id;
  }

  /**
   * A booking as the saga leaves it after payment, written directly: confirmed, owned by {@code testuser}, its
   * quantity held on the event when it has one ({@code eventId} may be null).
   */
  public long confirmedBooking(String email, Long eventId, int quantity) {
    return await(pool.get().withTransaction(tx -> {
      Future<?> held = eventId == null ? Future.succeededFuture()
        : tx.preparedQuery("UPDATE events SET booked = booked + $2 WHERE id = $1").execute(Tuple.of(eventId, quantity));
      return held.compose(v -> tx.preparedQuery("""
          INSERT INTO bookings (name, email, phone, status, event_id, quantity, owner, expires_at, confirmed_at)
          VALUES ('Ada Lovelace', $1, '+44 20 7946 0000', 'confirmed', $2, $3, 'testuser',
                  now() + interval '1 minute', now())
          RETURNING id""").execute(Tuple.of(email, eventId, quantity)))
        .map(rows -> rows.iterator().next().getLong("id"));
    }));
  }

  /** The booking's ticket e-mail as its outbox row, or null while it has none. */
  public JsonObject outbox(long bookingId) {
    RowSet<Row> rows = sql("SELECT * FROM outbox WHERE booking_id = $1", bookingId);
    return rows.size() == 0 ? null : rows.iterator().next().toJson();
  }

  /** The saga jobs of one booking, as {type, status, unique_key, result} objects, oldest first. */
  public List<JsonObject> jobs(long bookingId) {
    List<JsonObject> jobs = new ArrayList<>();
    sql("SELECT type, status, unique_key, result, last_error FROM jobs WHERE payload->>'booking_id' = $1 "
      + "ORDER BY created_at, type", Long.toString(bookingId)).forEach(r -> jobs.add(new JsonObject()
      .put("type", r.getString("type")).put("status", r.getString("status"))
      .put("unique_key", r.getString("unique_key")).put("result", r.getValue("result"))
      .put("last_error", r.getString("last_error"))));
    return jobs;
  }

  public List<JsonObject> jobs(long bookingId, String type) {
    return jobs(bookingId).stream().filter(j -> j.getString("type").equals(type)).toList();
  }
}
