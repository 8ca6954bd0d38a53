package dev.boxoffice.inventory;

import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Failures.Violation;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.Paging;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.UUID;

/**
 * Products CRUD. {@code quantity} is the stock left: bookings take from it through
 * {@link Inventory#holdAll}, and an admin edit sets it outright. Uniqueness of {@code unique_id} is left to the
 * database constraint, so there is no check-then-act race. A delete is refused (409) while live bookings hold the
 * product; finished bookings keep their history through {@code ON DELETE SET NULL}.
 */
public final class ProductsApi {
  private static final String COLUMNS = "id, name, quantity, unique_id";
  private static final String INSERT =
    "INSERT INTO products (name, quantity, unique_id) VALUES ($1, $2, $3) RETURNING " + COLUMNS;
  // by id from the cursor's: a range scan of the primary key ($1 the id to start after)
  private static final String PAGE =
    "SELECT " + COLUMNS + " FROM products WHERE id > $1 ORDER BY id LIMIT $2 OFFSET $3";
  private static final String TOTAL = Paging.tableTotal("products");
  private static final String ONE = "SELECT " + COLUMNS + " FROM products WHERE id = $1";
  // PUT and PATCH share it: an absent field (null) keeps the current value; the contract never lets null through.
  private static final String UPDATE = """
    UPDATE products
    SET name = coalesce($2, name), quantity = coalesce($3, quantity), unique_id = coalesce($4, unique_id),
        updated_at = now()
    WHERE id = $1
    RETURNING id, name, quantity, unique_id""";
  // The delete locks the row first: booking batches lock it too (FOR NO KEY UPDATE, which FOR UPDATE excludes) before
  // they hold stock, so once the lock is ours no new hold can appear and every committed one is visible to LIVE.
  private static final String LOCK = "SELECT id FROM products WHERE id = $1 FOR UPDATE";
  // live = still waiting to be paid or ticketed (the contract's list); finalized and finished ones keep a null item
  private static final String LIVE = """
    SELECT EXISTS (SELECT 1 FROM bookings
                   WHERE product_id = $1 AND status IN ('pending', 'payment_processed', 'confirmed')) AS live""";
  private static final String DELETE = "DELETE FROM products WHERE id = $1";

  private final Pool pool;
  private final IdempotencyKeys keys;

  public ProductsApi(Pool pool, IdempotencyKeys keys) {
    this.pool = pool;
    this.keys = keys;
  }

  public Future<Void> serve(Vertx vertx) {
    return Future.all(
      ApiHandlers.serve(vertx, "listProducts", this::list),
      ApiHandlers.serve(vertx, "createProduct", req -> keys.run(req, "createProduct", sql -> create(sql, req))),
      ApiHandlers.serve(vertx, "getProduct", this::get),
      ApiHandlers.serve(vertx, "replaceProduct", this::update),
      ApiHandlers.serve(vertx, "updateProduct", this::update),
      ApiHandlers.serve(vertx, "deleteProduct", this::delete)
    ).mapEmpty();
  }

  private Future<JsonObject> list(Bus.ApiRequest req) {
    return Paging.byId(pool, req, "products", PAGE, TOTAL, ProductsApi::product);
  }

  private Future<JsonObject> create(SqlClient sql, Bus.ApiRequest req) {
    JsonObject body = req.body();
    String uniqueId = body.getString("unique_id");
    Tuple args = Tuple.of(body.getString("name"), body.getInteger("quantity"),
      uniqueId == null ? UUID.randomUUID().toString() : uniqueId);
    return sql.preparedQuery(INSERT).execute(args)
      .recover(err -> Future.failedFuture(mapWriteFailure(err)))
      .map(rows -> Bus.ApiReply.of(201, product(rows.iterator().next())));
  }

  private Future<JsonObject> get(Bus.ApiRequest req) {
    return pool.preparedQuery(ONE).execute(Tuple.of(req.pathId("id")))
      .compose(ProductsApi::single)
      .map(Bus.ApiReply::ok);
  }

  /** PUT (name and quantity required by the contract; an omitted unique_id is kept) and PATCH (any subset). */
  private Future<JsonObject> update(Bus.ApiRequest req) {
    JsonObject body = req.body();
    Tuple args = Tuple.of(req.pathId("id"), body.getString("name"), body.getInteger("quantity"),
      body.getString("unique_id"));
    return pool.preparedQuery(UPDATE).execute(args)
      .recover(err -> Future.failedFuture(mapWriteFailure(err)))
      .compose(ProductsApi::single)
      .map(Bus.ApiReply::ok);
  }

  private Future<JsonObject> delete(Bus.ApiRequest req) {
    Tuple id = Tuple.of(req.pathId("id"));
    return pool.withTransaction(tx -> tx.preparedQuery(LOCK).execute(id).compose(locked -> {
      if (locked.size() == 0) {
        return Future.failedFuture(Failure.notFound("Product not found"));
      }
      return tx.preparedQuery(LIVE).execute(id).compose(live -> live.iterator().next().getBoolean("live")
        ? Future.failedFuture(Failure.conflict("Product is held by live bookings; cancel them or let them finish"))
        : tx.preparedQuery(DELETE).execute(id).map(Bus.ApiReply.noContent()));
    }));
  }

  private static Throwable mapWriteFailure(Throwable err) {
    if (Violation.UNIQUE.of(err)) {
      return Failure.conflict("A product with this unique_id already exists");
    }
    return Failures.invalidInput(err, "products");
  }

  private static Future<JsonObject> single(RowSet<Row> rows) {
    return rows.size() == 0
      ? Future.failedFuture(Failure.notFound("Product not found"))
      : Future.succeededFuture(product(rows.iterator().next()));
  }

  static JsonObject product(Row row) {
    return new JsonObject()
      .put("id", row.getLong("id"))
      .put("name", row.getString("name"))
      .put("quantity", row.getInteger("quantity"))
      .put("unique_id", row.getString("unique_id"));
  }
}
