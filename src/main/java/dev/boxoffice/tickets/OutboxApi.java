package dev.boxoffice.tickets;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Paging;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

/**
 * {@code GET /outbox} (admin; the contract enforces the role): outgoing mail by id, oldest first, so that a reader
 * paging through a growing outbox neither skips nor repeats a message (new mail only adds pages). A page is a range
 * scan of the primary key from the cursor's id.
 */
public final class OutboxApi {
  private static final String PAGE = """
    SELECT id, booking_id, "to", subject, status, attempts, sent_at, last_error, created_at
    FROM outbox WHERE id > $1 ORDER BY id LIMIT $2 OFFSET $3""";

  private static final String TOTAL = Paging.tableTotal("outbox");

  private final Pool pool;

  public OutboxApi(Pool pool) {
    this.pool = pool;
  }

  public Future<JsonObject> list(Bus.ApiRequest req) {
    return Paging.byId(pool, req, "outbox", PAGE, TOTAL, OutboxApi::view);
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
