package dev.boxoffice.tickets;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * {@code GET /outbox} (admin; the contract enforces the role): outgoing mail by id, oldest first, so that a reader
 * paging with offsets through a growing outbox neither skips nor repeats a message (new mail only adds pages).
 */
public final class OutboxApi {
  private static final String PAGE = """
    SELECT id, booking_id, "to", subject, status, attempts, sent_at, last_error, created_at
    FROM outbox ORDER BY id LIMIT $1 OFFSET $2""";

  private static final String COUNT = "SELECT count(*) AS total FROM outbox";

  private final Pool pool;

  public OutboxApi(Pool pool) {
    this.pool = pool;
  }

  public Future<JsonObject> list(Bus.ApiRequest req) {
    Future<JsonArray> page = pool.preparedQuery(PAGE).execute(Tuple.of(req.limit(), req.offset())).map(rows -> {
      JsonArray items = new JsonArray();
      rows.forEach(r -> items.add(view(r)));
      return items;
    });
    Future<Long> total = pool.query(COUNT).execute().map(rows -> rows.iterator().next().getLong("total"));
    return Future.all(page, total).map(v -> Bus.ApiReply.list(page.result(), total.result()));
  }

  static JsonObject view(Row r) {
    return new JsonObject()
      .put("id", r.getLong("id"))
      .put("booking_id", r.getLong("booking_id"))
      .put("to", r.getString("to"))
      .put("subject", r.getString("subject"))
      .put("status", r.getString("status"))
      .put("attempts", r.getInteger("attempts"))
      .put("sent_at", Times.ts(r.getOffsetDateTime("sent_at")))
      .put("last_error", r.getString("last_error"))
      .put("created_at", Times.ts(r.getOffsetDateTime("created_at")));
  }
}
