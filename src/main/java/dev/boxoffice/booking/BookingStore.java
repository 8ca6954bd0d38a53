package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.platform.Paging;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
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

  /*
   * Pages are newest first by id (ids are given in insert order; created_at is the transaction's start, which a whole
   * batch shares) and start below the cursor's id: one backward range scan of the primary key, of bookings_owner for
   * one owner's bookings or of bookings_status for one status, however many bookings there are. One text per filter
   * rather than "($n IS NULL OR owner = $n)", whose generic plan (a prepared statement's, after five runs) could use
   * neither index. $1 the id to start below, $2 rows, $3 offset, then the filters' values.
   */
  private static final String PAGE_ALL = "SELECT * FROM bookings WHERE id < $1 ORDER BY id DESC LIMIT $2 OFFSET $3";
  private static final String PAGE_OWNER =
    "SELECT * FROM bookings WHERE owner = $4 AND id < $1 ORDER BY id DESC LIMIT $2 OFFSET $3";
  private static final String PAGE_STATUS =
    "SELECT * FROM bookings WHERE status = $4 AND id < $1 ORDER BY id DESC LIMIT $2 OFFSET $3";
  // one owner's bookings of one status: that owner's range, filtered
  private static final String PAGE_OWNER_STATUS =
    "SELECT * FROM bookings WHERE owner = $4 AND status = $5 AND id < $1 ORDER BY id DESC LIMIT $2 OFFSET $3";
  private static final String TOTAL_ALL = Paging.tableTotal("bookings");
  private static final String TOTAL_OWNER = Paging.countUpTo("FROM bookings WHERE owner = $1");
  private static final String TOTAL_STATUS = Paging.countUpTo("FROM bookings WHERE status = $1");
  private static final String TOTAL_OWNER_STATUS = Paging.countUpTo("FROM bookings WHERE owner = $1 AND status = $2");

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

  /** A page (newest first) and the total, as the API answers them; {@code owner} null lists everyone's. */
  public static Future<JsonObject> page(SqlClient sql, String owner, String status, Paging.Request req) {
    long below = (Long) req.after(0, Long.MAX_VALUE);
    List<Object> filters = new ArrayList<>(2);
    if (owner != null) {
      filters.add(owner);
    }
    if (status != null) {
      filters.add(status);
    }
    String pageSql = owner == null ? (status == null ? PAGE_ALL : PAGE_STATUS)
      : status == null ? PAGE_OWNER : PAGE_OWNER_STATUS;
    String totalSql = owner == null ? (status == null ? TOTAL_ALL : TOTAL_STATUS)
      : status == null ? TOTAL_OWNER : TOTAL_OWNER_STATUS;
    Tuple pageArgs = Tuple.of(below, req.fetch(), req.offset());
    filters.forEach(pageArgs::addValue);
    Future<Paging.Slice> page = sql.preparedQuery(pageSql).execute(pageArgs)
      .map(rows -> req.slice(rows, BookingStore::json, r -> new Object[]{r.getLong("id")}));
    Future<Paging.Total> total = (filters.isEmpty() ? sql.query(totalSql).execute()
      : sql.preparedQuery(totalSql).execute(Tuple.from(filters)))
      .map(rows -> filters.isEmpty() ? Paging.Total.ofTable(rows) : Paging.Total.counted(rows));
    return Future.all(page, total).map(v -> Paging.reply(page.result(), total.result()));
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
