package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Failures.Violation;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.Paging;
import dev.boxoffice.platform.StorableText;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** The booking operations of openapi.yaml. A user sees and acts on their own bookings only; admins on all. */
public final class BookingApi {
  static final String STARTED = "Booking process started";
  static final String REPROCESSING = "Started processing unprocessed bookings in the background.";
  private static final Pattern EMAIL = Pattern.compile("^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$");
  private static final Pattern PHONE = Pattern.compile("^[0-9 +()\\-]{5,32}$");

  private final Pool pool;
  private final Reprocessing reprocessing;
  private final BookingBatcher batcher;
  private final boolean autoPayment;
  private final IdempotencyKeys keys;

  BookingApi(Pool pool, Reprocessing reprocessing, BookingBatcher batcher, boolean autoPayment, IdempotencyKeys keys) {
    this.pool = pool;
    this.reprocessing = reprocessing;
    this.batcher = batcher;
    this.autoPayment = autoPayment;
    this.keys = keys;
  }

  public Future<Void> serve(Vertx vertx) {
    return Future.all(List.of(
      ApiHandlers.serve(vertx, "createBooking", this::create),
      ApiHandlers.serve(vertx, "getBooking", this::get),
      ApiHandlers.serve(vertx, "listBookings", this::list),
      ApiHandlers.serve(vertx, "confirmBooking", this::confirm),
      ApiHandlers.serve(vertx, "cancelBooking", this::cancel),
      ApiHandlers.serve(vertx, "getUnprocessedBookings", this::reprocess),
      ApiHandlers.serve(vertx, "reprocessBookings", this::reprocess))).mapEmpty();
  }

  /** Insert, first saga jobs and the hold in one transaction (shared with concurrent bookings of the item). */
  private Future<JsonObject> create(Bus.ApiRequest req) {
    if (req.user() == null) {
      return Future.failedFuture(Failure.unauthorized("Missing or invalid bearer token"));
    }
    BookingStore.NewBooking booking;
    IdempotencyKeys.Key key;
    try {
      booking = validated(req.body(), req.user());
      key = IdempotencyKeys.Key.of(req, "createBooking");
    } catch (Failure e) {
      return Future.failedFuture(e);
    }
    // with a key, the batch claims it and stores this answer in its transaction (BookingBatcher)
    java.util.function.Supplier<Future<JsonObject>> work = () -> batcher.submit(booking, key, req.deadline())
      .recover(err -> Future.failedFuture(unknownItem(err, booking)))
      .map(row -> {
        long id = row.getLong("id");
        BookingLog.debug(id, "booking {} created by {} ({} x {})", id, booking.owner(), booking.quantity(),
          describe(booking.item()));
        return created(row);
      });
    return key == null ? work.get() : keys.guard(key, work).recover(IdempotencyKeys::replayed);
  }

  /** The answer to a created booking (also what its Idempotency-Key keeps). */
  static JsonObject created(Row row) {
    return Bus.ApiReply.of(201, new JsonObject().put("message", STARTED).put("booking_id", row.getLong("id"))
      .mergeIn(BookingStore.json(row)));
  }

  private Future<JsonObject> get(Bus.ApiRequest req) {
    return visible(pool, req).map(row -> Bus.ApiReply.ok(BookingStore.json(row)));
  }

  private Future<JsonObject> list(Bus.ApiRequest req) {
    if (req.user() == null) {
      return Future.failedFuture(Failure.unauthorized("Missing or invalid bearer token"));
    }
    String owner = req.isAdmin() ? null : req.user();
    return BookingStore.page(pool, owner, req.params().getString("status"),
      Paging.Request.of(req, "bookings", Paging.Key.LONG));
  }

  /**
   * pending / payment_processed → confirmed, then finalization. A hold that has run out is expired here rather
   * than confirmed, even if no sweep has expired it yet: a booking is never both confirmed and expired.
   *
   * <p>In auto payment mode the payment decides: a user confirms only a booking whose payment went through
   * (payment_processed), else a slow provider would let the owner confirm, and get a ticket, unpaid. An admin may
   * confirm regardless (a payment taken outside the system); the booking then records {@code manual:<admin>} as its
   * payment reference, as does any confirmation in manual mode, unless the booking already has one.
   */
  private Future<JsonObject> confirm(Bus.ApiRequest req) {
    long id = req.pathId("id");
    boolean paidOnly = autoPayment && !req.isAdmin();
    Transition confirm = paidOnly ? Transition.CONFIRM_PAID : Transition.CONFIRM;
    String ref = paidOnly ? null : "manual:" + req.user();
    return pool.withTransaction(tx -> visible(tx, req)
        .compose(b -> confirm.apply(tx, id, null, ref))
        .compose(row -> row.isPresent()
          ? BookingSaga.confirmedAll(tx, List.of(id)).map(v -> row)
          : Transition.EXPIRE.apply(tx, id, null).map(Optional.<Row>empty())))
      .compose(row -> changedOrConflict(id, row, "confirmed"))
      .recover(err -> Future.failedFuture(paidOnly ? unpaid(err) : err));
  }

  /** The 409 of a user's confirm in auto mode says why when the payment is what is missing. */
  private static Throwable unpaid(Throwable err) {
    String status = err instanceof Failure f && f.status() == 409 ? f.body().getString("status") : null;
    if (status != null && Set.of(BookingStatus.PENDING, BookingStatus.PAYMENT_FAILED).contains(status)) {
      return Failure.conflict("Booking cannot be confirmed in status " + status + ": its payment has not gone through")
        .with("status", status);
    }
    return err;
  }

  /** pending / payment_processed / payment_failed / confirmed → cancelled; the hold returns if still held. */
  private Future<JsonObject> cancel(Bus.ApiRequest req) {
    long id = req.pathId("id");
    return pool.withTransaction(tx -> visible(tx, req)
        .compose(b -> Transition.CANCEL_HOLDING.apply(tx, id, null))
        .compose(row -> row.isPresent() ? Future.succeededFuture(row) : Transition.CANCEL_FAILED.apply(tx, id, null)))
      .compose(row -> changedOrConflict(id, row, "cancelled"));
  }

  private Future<JsonObject> reprocess(Bus.ApiRequest req) {
    return reprocessing.restartAll().map(count -> Bus.ApiReply.of(202,
      new JsonObject().put("message", REPROCESSING).put("count", count)));
  }

  private Future<JsonObject> changedOrConflict(long id, Optional<Row> changed, String verb) {
    if (changed.isPresent()) {
      return Future.succeededFuture(Bus.ApiReply.ok(BookingStore.json(changed.get())));
    }
    return BookingStore.find(pool, id).compose(b -> {
      String status = b.map(r -> r.getString("status")).orElse("unknown");
      return Future.failedFuture(Failure.conflict("Booking cannot be " + verb + " in status " + status)
        .with("status", status));
    });
  }

  /** The booking if this user may see it; others' bookings are as unknown as missing ones. */
  private static Future<Row> visible(SqlClient sql, Bus.ApiRequest req) {
    Long id = req.pathId("id");
    return BookingStore.find(sql, id).compose(b -> b.isPresent()
      && (req.isAdmin() || b.get().getString("owner").equals(req.user()))
      ? Future.succeededFuture(b.get()) : Future.failedFuture(Failure.notFound("Booking not found")));
  }

  private static Throwable unknownItem(Throwable err, BookingStore.NewBooking b) {
    if (Violation.FOREIGN_KEY.of(err)) {
      return Failure.notFound(b.eventId() != null ? "Event not found" : "Product not found");
    }
    return err;
  }

  private static String describe(Inventory.Item item) {
    return item.eventId() != null ? "event " + item.eventId()
      : item.productId() != null ? "product " + item.productId() : "no item";
  }

  /**
   * The contract validates the body at the edge; this repeats the rules (and the "not both ids" one) so the
   * handler is safe on its own and answers in the same 422 shape.
   */
  static BookingStore.NewBooking validated(JsonObject body, String owner) {
    Map<String, String> errors = new LinkedHashMap<>();
    String name = text(body, "name", errors);
    String email = text(body, "email", errors);
    String phone = text(body, "phone", errors);
    if (name != null && (name.length() < 2 || name.length() > 200 || name.isBlank())) {
      errors.put("name", "must be 2..200 characters, not only blanks");
    }
    if (email != null && (email.length() > 254 || !EMAIL.matcher(email).matches())) {
      errors.put("email", "must be a valid e-mail address");
    }
    if (phone != null && !PHONE.matcher(phone).matches()) {
      errors.put("phone", "must be 5..32 digits, spaces and + - ( )");
    }
    Long eventId = id(body, "event_id", errors);
    Long productId = id(body, "product_id", errors);
    if (eventId != null && productId != null) {
      errors.put("event_id", "give event_id or product_id, not both");
      errors.put("product_id", "give event_id or product_id, not both");
    }
    Object q = body.getValue("quantity", 1);
    int quantity = q instanceof Number n && n.doubleValue() == n.intValue() ? n.intValue() : -1;
    if (quantity < 1 || quantity > 1000) {
      errors.put("quantity", "must be an integer 1..1000");
    }
    if (!errors.isEmpty()) {
      throw Failure.invalid(errors);
    }
    return new BookingStore.NewBooking(name, email, phone, eventId, productId, quantity, owner);
  }

  private static String text(JsonObject body, String field, Map<String, String> errors) {
    Object v = body.getValue(field);
    if (v instanceof String s && !s.isEmpty()) {
      if (!StorableText.isField(s)) { // one such name would fail the whole group commit it joins
        errors.put(field, StorableText.FIELD_MESSAGE);
        return null;
      }
      return s;
    }
    errors.put(field, v == null ? "is required" : "must be a non-empty string");
    return null;
  }

  private static Long id(JsonObject body, String field, Map<String, String> errors) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (v instanceof Number n && n.doubleValue() == n.longValue() && n.longValue() >= 1) {
      return n.longValue();
    }
    errors.put(field, "must be a positive integer");
    return null;
  }
}
