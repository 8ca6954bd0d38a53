package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads and inserts of booking rows, and their JSON shape (schema Booking of openapi.yaml). */
public final class BookingStore {
  // ids follow the input order (ORDER BY ord), so sorting the returned rows by id restores it
  private static final String INSERT_MANY = """
    INSERT INTO bookings (name, email, phone, event_id, product_id, quantity, owner, expires_at)
    SELECT n, e, p, ev, pr, q, o, now() + $8 * interval '1 second'
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::text[])
         WITH ORDINALITY AS x(n, e, p, ev, pr, q, o, ord)
    ORDER BY ord
    RETURNING *""";

  private static final String FIND = "SELECT * FROM bookings WHERE id = $1";

  // $1 owner (null: everyone's, for admins), $2 status (null: any)
  private static final String PAGE = """
    SELECT * FROM bookings
    WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR status = $2)
    ORDER BY created_at DESC, id DESC
    LIMIT $3 OFFSET $4""";

  private static final String COUNT = """
    SELECT count(*) AS total FROM bookings
    WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR status = $2)""";

  private static final String OPEN = """
    SELECT id, status, expires_at FROM bookings WHERE status = ANY($1) AND id > $2 ORDER BY id LIMIT $3""";

  private BookingStore() {
  }

  /** What POST /bookings asks for, already validated. */
  public record NewBooking(String name, String email, String phone, Long eventId, Long productId, int quantity,
                           String owner) {
    public Inventory.Item item() {
      return new Inventory.Item(eventId, productId);
    }
  }

  /** Inserts many bookings in one statement; the rows come back in the order given. */
  public static Future<List<Row>> insertAll(SqlClient tx, List<NewBooking> bookings, int holdSeconds) {
    int n = bookings.size();
    String[] names = new String[n];
    String[] emails = new String[n];
    String[] phones = new String[n];
    Long[] events = new Long[n];
    Long[] products = new Long[n];
    Integer[] quantities = new Integer[n];
    String[] owners = new String[n];
    for (int i = 0; i < n; i++) {
      NewBooking b = bookings.get(i);
      names[i] = b.name();
      emails[i] = b.email();
      phones[i] = b.phone();
      events[i] = b.eventId();
      products[i] = b.productId();
      quantities[i] = b.quantity();
      owners[i] = b.owner();
    }
    return tx.preparedQuery(INSERT_MANY)
      .execute(Tuple.from(new Object[]{names, emails, phones, events, products, quantities, owners, holdSeconds}))
      .map(rows -> {
        List<Row> list = new ArrayList<>(n);
        rows.forEach(list::add);
        list.sort(java.util.Comparator.comparingLong(r -> r.getLong("id")));
        return list;
      });
  }

  public static Future<Optional<Row>> find(SqlClient sql, long id) {
    return sql.preparedQuery(FIND).execute(Tuple.of(id))
      .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next()));
  }

  /** A page, newest first, plus the total; {@code owner} null lists everyone's. */
  public static Future<JsonObject> page(SqlClient sql, String owner, String status, int limit, int offset) {
    Future<RowSet<Row>> page = sql.preparedQuery(PAGE).execute(Tuple.of(owner, status, limit, offset));
    Future<RowSet<Row>> count = sql.preparedQuery(COUNT).execute(Tuple.of(owner, status));
    return Future.all(page, count).map(v -> {
      JsonArray items = new JsonArray();
      page.result().forEach(r -> items.add(json(r)));
      return new JsonObject().put("items", items)
        .put("total", count.result().iterator().next().getLong("total"));
    });
  }

  /** One batch (by id, after {@code afterId}) of bookings the saga has not finished with. */
  public static Future<List<Row>> open(SqlClient sql, long afterId, int batch) {
    return sql.preparedQuery(OPEN).execute(Tuple.of(BookingStatus.OPEN.toArray(new String[0]), afterId, batch))
      .map(rows -> {
        List<Row> list = new ArrayList<>();
        rows.forEach(list::add);
        return list;
      });
  }

  static Inventory.Item item(Row row) {
    return new Inventory.Item(row.getLong("event_id"), row.getLong("product_id"));
  }

  public static JsonObject json(Row r) {
    return new JsonObject()
      .put("id", r.getLong("id"))
      .put("name", r.getString("name"))
      .put("email", r.getString("email"))
      .put("phone", r.getString("phone"))
      .put("status", r.getString("status"))
      .put("event_id", r.getLong("event_id"))
      .put("product_id", r.getLong("product_id"))
      .put("quantity", r.getInteger("quantity"))
      .put("owner", r.getString("owner"))
      .put("created_at", Times.ts(r.getOffsetDateTime("created_at")))
      .put("updated_at", Times.ts(r.getOffsetDateTime("updated_at")))
      .put("expires_at", Times.ts(r.getOffsetDateTime("expires_at")))
      .put("confirmed_at", Times.ts(r.getOffsetDateTime("confirmed_at")))
      .put("finalized_at", Times.ts(r.getOffsetDateTime("finalized_at")))
      .put("ticket_emailed_at", Times.ts(r.getOffsetDateTime("ticket_emailed_at")))
      .put("last_error", r.getString("last_error"))
      .put("payment_ref", r.getString("payment_ref"));
  }
}
