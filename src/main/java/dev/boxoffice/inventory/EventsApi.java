package dev.boxoffice.inventory;

import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Failures.Violation;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.Paging;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Events and their reports. The counts are counters, so reading them is one row, never an aggregate over bookings:
 * {@code events.booked}, which the booking transaction maintains through {@link Inventory}, and
 * {@code event_finalized.finalized}, which finalization maintains (a row of its own, so that finalization never
 * waits for the lock every booking of the event takes on the events row).
 */
public final class EventsApi {
  private static final String COLUMNS = "id, title, capacity, booked, price, starts_at, created_at";
  private static final String INSERT = """
    INSERT INTO events (title, capacity, price, starts_at) VALUES ($1, $2, $3, $4)
    RETURNING id, title, capacity, booked, price, starts_at, created_at""";
  // by id from the cursor's: a range scan of the primary key ($1 the id to start after)
  private static final String PAGE = "SELECT " + COLUMNS + " FROM events WHERE id > $1 ORDER BY id LIMIT $2 OFFSET $3";
  private static final String TOTAL = Paging.tableTotal("events");
  private static final String ONE = "SELECT " + COLUMNS + " FROM events WHERE id = $1";
  private static final String STATS = """
    SELECT e.id, e.capacity, e.booked, coalesce(f.finalized, 0) AS finalized
    FROM events e LEFT JOIN event_finalized f ON f.event_id = e.id WHERE e.id = $1""";
  private static final String TOTALS = """
    SELECT coalesce(sum(capacity), 0)::bigint AS total_capacity,
           coalesce(sum(booked), 0)::bigint AS total_reserved,
           (SELECT coalesce(sum(finalized), 0) FROM event_finalized)::bigint AS total_finalized
    FROM events""";

  private final Pool pool;
  private final IdempotencyKeys keys;

  public EventsApi(Pool pool, IdempotencyKeys keys) {
    this.pool = pool;
    this.keys = keys;
  }

  public Future<Void> serve(Vertx vertx) {
    return Future.all(
      ApiHandlers.serve(vertx, "createEvent", req -> keys.run(req, "createEvent", sql -> create(sql, req))),
      ApiHandlers.serve(vertx, "listEvents", this::list),
      ApiHandlers.serve(vertx, "getEvent", req -> one(ONE, req).map(row -> Bus.ApiReply.ok(event(row)))),
      ApiHandlers.serve(vertx, "getEventStats", req -> one(STATS, req).map(row -> Bus.ApiReply.ok(stats(row)))),
      ApiHandlers.serve(vertx, "getEventReport", req -> one(STATS, req).map(row -> Bus.ApiReply.ok(stats(row)))),
      ApiHandlers.serve(vertx, "getReport", req -> report())
    ).mapEmpty();
  }

  private Future<JsonObject> create(SqlClient sql, Bus.ApiRequest req) {
    JsonObject body = req.body();
    OffsetDateTime startsAt;
    try {
      String raw = body.getString("starts_at");
      startsAt = raw == null ? null : OffsetDateTime.parse(raw);
    } catch (DateTimeParseException | ClassCastException e) {
      return Future.failedFuture(Failure.invalid("starts_at", "must be an RFC 3339 date-time"));
    }
    Number price = body.getNumber("price");
    Tuple args = Tuple.of(body.getString("title"), body.getInteger("capacity"),
      price == null ? BigDecimal.ZERO : new BigDecimal(price.toString()), startsAt);
    return sql.preparedQuery(INSERT).execute(args)
      .recover(err -> Future.failedFuture(Violation.NUMERIC_RANGE.of(err)
        ? Failure.invalid("price", "is too large (at most 10 digits before the decimal point)")
        : Failures.invalidInput(err, "events")))
      .map(rows -> Bus.ApiReply.of(201, event(rows.iterator().next())));
  }

  private Future<JsonObject> list(Bus.ApiRequest req) {
    return Paging.byId(pool, req, "events", PAGE, TOTAL, EventsApi::event);
  }

  private Future<Row> one(String sql, Bus.ApiRequest req) {
    return pool.preparedQuery(sql).execute(Tuple.of(req.pathId("id"))).compose(rows -> rows.size() == 0
      ? Future.failedFuture(Failure.notFound("Event not found"))
      : Future.succeededFuture(rows.iterator().next()));
  }

  private Future<JsonObject> report() {
    return pool.query(TOTALS).execute().map(rows -> {
      Row row = rows.iterator().next();
      return Bus.ApiReply.ok(new JsonObject()
        .put("total_capacity", row.getLong("total_capacity"))
        .put("total_reserved", row.getLong("total_reserved"))
        .put("total_finalized", row.getLong("total_finalized")));
    });
  }

  static JsonObject event(Row row) {
    int capacity = row.getInteger("capacity");
    int booked = row.getInteger("booked");
    BigDecimal price = row.getBigDecimal("price");
    return new JsonObject()
      .put("id", row.getLong("id"))
      .put("title", row.getString("title"))
      .put("capacity", capacity)
      // numeric(12,2) fits a double exactly enough to print the same decimal; JSON wants a number, not a string
      .put("price", price == null ? 0.0 : price.doubleValue())
      .put("starts_at", Times.ts(row.getOffsetDateTime("starts_at")))
      .put("booked_count", booked)
      .put("available", capacity - booked)
      .put("created_at", Times.ts(row.getOffsetDateTime("created_at")));
  }

  static JsonObject stats(Row row) {
    return new JsonObject()
      .put("event_id", row.getLong("id"))
      .put("capacity", row.getInteger("capacity"))
      .put("booked_count", row.getInteger("booked"))
      .put("finalized_count", row.getInteger("finalized"));
  }
}
