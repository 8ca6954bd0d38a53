package dev.boxoffice.tickets;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.Objects;

/** {@code GET /bookings/{id}/ticket}: the ticket PDF, to the booking's owner or an admin, once it is issued. */
public final class TicketApi {
  private static final String FIND = """
    SELECT b.owner, t.pdf FROM bookings b LEFT JOIN tickets t ON t.booking_id = b.id WHERE b.id = $1""";

  private final Pool pool;

  public TicketApi(Pool pool) {
    this.pool = pool;
  }

  public Future<JsonObject> get(Bus.ApiRequest req) {
    Long id = req.pathId("id");
    if (id == null) {
      return Future.failedFuture(Failure.notFound("Booking not found"));
    }
    return pool.preparedQuery(FIND).execute(Tuple.of(id)).compose(rows -> {
      Row row = rows.size() == 0 ? null : rows.iterator().next();
      // someone else's booking is reported exactly like a missing one
      if (row == null || !(req.isAdmin() || Objects.equals(row.getString("owner"), req.user()))) {
        return Future.failedFuture(Failure.notFound("Booking not found"));
      }
      Buffer pdf = row.getBuffer("pdf");
      if (pdf == null) {
        return Future.failedFuture(Failure.notFound("Ticket not available"));
      }
      return Future.succeededFuture(Bus.ApiReply.binary("application/pdf", pdf.getBytes(), TicketPdf.fileName(id)));
    });
  }
}
