package dev.boxoffice.tickets;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.OptionalLong;

/**
 * {@code POST /tickets/scan} (admin, i.e. the gate): is a scanned code a genuine ticket, for which booking, and has it
 * been used. The first scan of a ticket records {@code scanned_at} in the same statement that reads it, so two gates
 * scanning one ticket at once admit it once; every later scan answers already used with the first time.
 *
 * <p>A forged or garbled code answers 200 {@code {"valid": false, "reason": ...}}, not an error: for a scanner it is
 * an ordinary answer ("do not admit"), and the request itself was well-formed. 422 is kept for requests that break
 * the contract (no {@code code}, not a string, too long).
 */
final class TicketScanApi {
  // the CTE's UPDATE is invisible to the outer SELECT's snapshot: t.scanned_at is the value before this scan
  private static final String SCAN = """
    WITH first AS (
      UPDATE tickets SET scanned_at = now(), scanned_by = $2
      WHERE booking_id = $1 AND scanned_at IS NULL
      RETURNING booking_id, scanned_at)
    SELECT b.id, b.status, t.booking_id IS NOT NULL AS issued, f.booking_id IS NOT NULL AS first_scan,
           coalesce(f.scanned_at, t.scanned_at) AS scanned_at
    FROM bookings b
    LEFT JOIN tickets t ON t.booking_id = b.id
    LEFT JOIN first f ON f.booking_id = b.id
    WHERE b.id = $1""";
  // a scan that lost the race to a concurrent first scan read the row before that one committed
  private static final String SCANNED_AT = "SELECT scanned_at FROM tickets WHERE booking_id = $1";

  private final Pool pool;
  private final TicketCodes codes;

  TicketScanApi(Pool pool, TicketCodes codes) {
    this.pool = pool;
    this.codes = codes;
  }

  Future<JsonObject> scan(Bus.ApiRequest req) {
    Object code = req.body().getValue("code");
    if (!(code instanceof String text) || text.isEmpty()) {
      return Future.failedFuture(Failure.invalid("code", "is required"));
    }
    OptionalLong bookingId = codes.verify(text);
    if (bookingId.isEmpty()) {
      return Future.succeededFuture(Bus.ApiReply.ok(invalid("not a ticket of this box office")));
    }
    long id = bookingId.getAsLong();
    return pool.preparedQuery(SCAN).execute(Tuple.of(id, req.user())).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(Bus.ApiReply.ok(invalid("no such booking").put("booking_id", id)));
      }
      Row r = rows.iterator().next();
      JsonObject answer = new JsonObject().put("booking_id", id).put("status", r.getString("status"));
      if (!r.getBoolean("issued")) {
        return Future.succeededFuture(Bus.ApiReply.ok(answer.mergeIn(invalid("no ticket issued for this booking"))));
      }
      boolean first = r.getBoolean("first_scan");
      OffsetDateTime at = r.getOffsetDateTime("scanned_at");
      Future<OffsetDateTime> firstAt = at != null ? Future.succeededFuture(at)
        : pool.preparedQuery(SCANNED_AT).execute(Tuple.of(id)).map(t -> t.iterator().next().getOffsetDateTime(
          "scanned_at"));
      return firstAt.map(when -> Bus.ApiReply.ok(answer.put("valid", true).put("already_used", !first)
        .put("scanned_at", Times.ts(when))));
    });
  }

  private static JsonObject invalid(String reason) {
    return new JsonObject().put("valid", false).put("reason", reason);
  }
}
