package dev.boxoffice.users;

import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Paging;
import dev.boxoffice.platform.Times;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * {@code listUsers} and {@code getUser}: the synced directory with each user's address and masked card (open to
 * both roles). The filters are tri-state: absent → everyone, true → only users with one, false → only without.
 */
public final class UsersApi {
  private static final String SELECT = """
    SELECT u.id, u.external_id, u.first_name, u.last_name, u.email, u.phone, u.username,
           u.address_checked_at, u.card_checked_at, u.created_at, u.updated_at,
           a.user_id AS address_user_id, a.address, a.city, a.state, a.state_code, a.postal_code, a.country,
           a.lat, a.lng,
           c.last4, c.card_type, c.expire_month, c.expire_year
    FROM users u
    LEFT JOIN addresses a ON a.user_id = u.id
    LEFT JOIN cards c ON c.user_id = u.id
    """;

  private static final String FILTER = """
    WHERE ($1::boolean IS NULL OR (a.user_id IS NOT NULL) = $1)
      AND ($2::boolean IS NULL OR (c.user_id IS NOT NULL) = $2)
    """;

  // by id from the cursor's ($3 the id to start after): a range scan of the primary key, filtered
  private static final String PAGE = SELECT + FILTER + "AND u.id > $3 ORDER BY u.id LIMIT $4 OFFSET $5";

  private static final String COUNT = Paging.countUpTo("""
    FROM users u
    LEFT JOIN addresses a ON a.user_id = u.id
    LEFT JOIN cards c ON c.user_id = u.id
    """ + FILTER);
  private static final String TOTAL = Paging.tableTotal("users");

  private static final String ONE = SELECT + "WHERE u.id = $1";

  private final Pool pool;

  public UsersApi(Pool pool) {
    this.pool = pool;
  }

  public Future<Void> serve(Vertx vertx) {
    return Future.all(
      ApiHandlers.serve(vertx, "listUsers", this::list),
      ApiHandlers.serve(vertx, "getUser", this::get)
    ).mapEmpty();
  }

  private Future<JsonObject> list(Bus.ApiRequest req) {
    Boolean hasAddress = flag(req.params().getValue("has_address"));
    Boolean hasCard = flag(req.params().getValue("has_card"));
    Paging.Request paging = Paging.Request.of(req, "users", Paging.Key.LONG);
    Future<Paging.Slice> page = pool.preparedQuery(PAGE)
      .execute(Tuple.of(hasAddress, hasCard, paging.after(0, 0L), paging.fetch(), paging.offset()))
      .map(rows -> paging.slice(rows, UsersApi::user, r -> new Object[]{r.getLong("id")}));
    // unfiltered: the table's total (estimated when large); filtered: counted up to the cap
    Future<Paging.Total> total = hasAddress == null && hasCard == null
      ? pool.query(TOTAL).execute().map(Paging.Total::ofTable)
      : pool.preparedQuery(COUNT).execute(Tuple.of(hasAddress, hasCard)).map(Paging.Total::counted);
    return Future.all(page, total).map(v -> Paging.reply(page.result(), total.result()));
  }

  private Future<JsonObject> get(Bus.ApiRequest req) {
    return pool.preparedQuery(ONE).execute(Tuple.of(req.pathId("id"))).compose(rows -> rows.size() == 0
      ? Future.failedFuture(Failure.notFound("User not found"))
      : Future.succeededFuture(Bus.ApiReply.ok(user(rows.iterator().next()))));
  }

  /** The contract validated the parameter; it arrives as a boolean (or its text form through other callers). */
  private static Boolean flag(Object value) {
    if (value instanceof Boolean b) {
      return b;
    }
    return value == null ? null : Boolean.valueOf(value.toString().trim());
  }

  static JsonObject user(Row row) {
    UserAddress address = UserAddress.fromRow(row);
    MaskedCard card = MaskedCard.fromRow(row);
    return new JsonObject()
      .put("id", row.getLong("id"))
      .put("external_id", row.getLong("external_id"))
      .put("first_name", row.getString("first_name"))
      .put("last_name", row.getString("last_name"))
      .put("email", row.getString("email"))
      .put("phone", row.getString("phone"))
      .put("username", row.getString("username"))
      .put("address", address == null ? null : address.toJson())
      .put("credit_card", card == null ? null : card.toJson())
      .put("enrichment", new JsonObject()
        .put("address", state(address != null, row.getValue("address_checked_at") != null))
        .put("card", state(card != null, row.getValue("card_checked_at") != null)))
      .put("created_at", Times.ts(row.getOffsetDateTime("created_at")))
      .put("updated_at", Times.ts(row.getOffsetDateTime("updated_at")));
  }

  /** enriched: stored; unavailable: the provider had none; pending: not looked up yet. */
  private static String state(boolean stored, boolean checked) {
    return stored ? "enriched" : checked ? "unavailable" : "pending";
  }
}
