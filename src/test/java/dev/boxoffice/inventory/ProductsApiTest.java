package dev.boxoffice.inventory;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Products CRUD through the HTTP API of one node, and what holds do to the stock. */
class ProductsApiTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("payment_mode", "manual"); // bookings stay pending
  private static ApiClient admin;
  private static ApiClient user;

  @BeforeAll
  static void clients() {
    admin = node.admin();
    user = node.user();
  }

  @Test
  void aProductGoesThroughItsWholeLife() throws Exception {
    HttpResponse<Buffer> created = await(admin.post("/products", new JsonObject().put("name", "Festival T-shirt")
      .put("quantity", 50).put("unique_id", "tshirt-life")));
    assertThat(created.statusCode()).isEqualTo(201);
    JsonObject product = created.bodyAsJsonObject();
    long id = product.getLong("id");
    assertThat(product).isEqualTo(new JsonObject().put("id", id).put("name", "Festival T-shirt").put("quantity", 50)
      .put("unique_id", "tshirt-life"));
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject()).isEqualTo(product);

    HttpResponse<Buffer> patched = await(admin.patch("/products/" + id, new JsonObject().put("quantity", 75)));
    assertThat(patched.statusCode()).isEqualTo(200);
    assertThat(patched.bodyAsJsonObject()).isEqualTo(product.copy().put("quantity", 75));

    HttpResponse<Buffer> renamed = await(admin.patch("/products/" + id, new JsonObject().put("name", "Blue T-shirt")));
    assertThat(renamed.bodyAsJsonObject()).isEqualTo(product.copy().put("quantity", 75).put("name", "Blue T-shirt"));

    HttpResponse<Buffer> replaced = await(admin.put("/products/" + id, new JsonObject().put("name", "Red T-shirt")
      .put("quantity", 40).put("unique_id", "tshirt-red")));
    assertThat(replaced.statusCode()).isEqualTo(200);
    assertThat(replaced.bodyAsJsonObject()).isEqualTo(new JsonObject().put("id", id).put("name", "Red T-shirt")
      .put("quantity", 40).put("unique_id", "tshirt-red"));

    HttpResponse<Buffer> keptKey = await(admin.put("/products/" + id, new JsonObject().put("name", "Green T-shirt")
      .put("quantity", 30)));
    assertThat(keptKey.bodyAsJsonObject()).isEqualTo(new JsonObject().put("id", id).put("name", "Green T-shirt")
      .put("quantity", 30).put("unique_id", "tshirt-red"));
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject()).isEqualTo(keptKey.bodyAsJsonObject());

    HttpResponse<Buffer> deleted = await(admin.delete("/products/" + id));
    assertThat(deleted.statusCode()).isEqualTo(204);
    assertThat(deleted.body() == null || deleted.body().length() == 0).isTrue();

    HttpResponse<Buffer> gone = await(user.get("/products/" + id));
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(gone.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "Product not found"));
    assertThat(await(admin.delete("/products/" + id)).statusCode()).isEqualTo(404);
    assertThat(await(admin.patch("/products/" + id, new JsonObject().put("quantity", 1))).statusCode()).isEqualTo(404);
    assertThat(await(admin.put("/products/" + id, new JsonObject().put("name", "xy").put("quantity", 1))).statusCode())
      .isEqualTo(404);
  }

  @Test
  void aMissingUniqueIdIsGenerated() throws Exception {
    JsonObject a = createProduct("Mug", 3);
    JsonObject b = createProduct("Mug", 3);

    assertThat(UUID.fromString(a.getString("unique_id"))).isNotNull();
    assertThat(a.getString("unique_id")).isNotEqualTo(b.getString("unique_id"));
  }

  @Test
  void aTakenUniqueIdIsAConflict() throws Exception {
    createProduct("Poster", 1, "poster-1");
    long other = createProduct("Sticker", 1, "sticker-1").getLong("id");

    HttpResponse<Buffer> dup = await(admin.post("/products", new JsonObject().put("name", "Poster again")
      .put("quantity", 1).put("unique_id", "poster-1")));
    assertThat(dup.statusCode()).isEqualTo(409);
    assertThat(dup.bodyAsJsonObject())
      .isEqualTo(new JsonObject().put("error", "A product with this unique_id already exists"));

    assertThat(await(admin.patch("/products/" + other, new JsonObject().put("unique_id", "poster-1"))).statusCode())
      .isEqualTo(409);
    assertThat(await(admin.put("/products/" + other, new JsonObject().put("name", "Sticker").put("quantity", 1)
      .put("unique_id", "poster-1"))).statusCode()).isEqualTo(409);
    assertThat(await(user.get("/products/" + other)).bodyAsJsonObject().getString("unique_id")).isEqualTo("sticker-1");
  }

  @Test
  void quantityIsNeverNegative() throws Exception {
    HttpResponse<Buffer> create = await(admin.post("/products", new JsonObject().put("name", "Cap").put("quantity", -1)));
    assertThat(create.statusCode()).isEqualTo(422);
    assertThat(fields(create)).contains("quantity");

    long id = createProduct("Cap", 2).getLong("id");
    HttpResponse<Buffer> patch = await(admin.patch("/products/" + id, new JsonObject().put("quantity", -5)));
    assertThat(patch.statusCode()).isEqualTo(422);
    assertThat(fields(patch)).contains("quantity");
    assertThat(await(admin.put("/products/" + id, new JsonObject().put("name", "Cap").put("quantity", -5)))
      .statusCode()).isEqualTo(422);
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject().getInteger("quantity")).isEqualTo(2);
  }

  @Test
  void invalidBodiesAreRejectedNamingTheFields() throws Exception {
    HttpResponse<Buffer> noName = await(admin.post("/products", new JsonObject().put("quantity", 1)));
    assertThat(noName.statusCode()).isEqualTo(422);
    assertThat(fields(noName)).contains("name");
    HttpResponse<Buffer> blank = await(admin.post("/products", new JsonObject().put("name", " ").put("quantity", 1)));
    assertThat(blank.statusCode()).isEqualTo(422);
    assertThat(fields(blank)).contains("name");

    long id = createProduct("Scarf", 1).getLong("id");
    assertThat(await(admin.patch("/products/" + id, new JsonObject())).statusCode()).isEqualTo(422);
    assertThat(await(admin.put("/products/" + id, new JsonObject().put("name", "Scarf"))).statusCode()).isEqualTo(422);
    assertThat(await(admin.patch("/products/" + id, new JsonObject().put("quantity", "many"))).statusCode())
      .isEqualTo(422);
    assertThat(await(admin.postRaw("/products", "{\"name\": \"x\",")).statusCode()).isEqualTo(400);
  }

  @Test
  void aNameHasTwoTo200Characters() throws Exception {
    String longest = "n".repeat(200);
    for (String name : new String[] {"P", "n".repeat(201)}) {
      HttpResponse<Buffer> r = await(admin.post("/products", new JsonObject().put("name", name).put("quantity", 1)));
      assertThat(r.statusCode()).as("%d characters", name.length()).isEqualTo(422);
      assertThat(fields(r)).contains("name");
    }
    assertThat(createProduct("Pi", 1).getString("name")).isEqualTo("Pi");
    long id = createProduct(longest, 1).getLong("id");
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject().getString("name")).isEqualTo(longest);

    HttpResponse<Buffer> put = await(admin.put("/products/" + id, new JsonObject().put("name", "P").put("quantity", 1)));
    assertThat(put.statusCode()).isEqualTo(422);
    assertThat(fields(put)).contains("name");
    HttpResponse<Buffer> patch = await(admin.patch("/products/" + id, new JsonObject().put("name", "P")));
    assertThat(patch.statusCode()).isEqualTo(422);
    assertThat(fields(patch)).contains("name");
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject().getString("name")).isEqualTo(longest);
    // the table keeps the bound too, for writes that do not come through the contract
    Throwable direct = await(node.pool().query("INSERT INTO products (name, quantity, unique_id) VALUES ('P', 1, '"
      + UUID.randomUUID() + "')").execute().map(rows -> (Throwable) null).otherwise(err -> err));
    assertThat(direct).hasMessageContaining("products_name_check");
  }

  @Test
  void unknownAndNonNumericIds() throws Exception {
    HttpResponse<Buffer> unknown = await(user.get("/products/987654"));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "Product not found"));

    assertThat(await(user.get("/products/abc")).statusCode()).isEqualTo(422);
    assertThat(await(admin.delete("/products/abc")).statusCode()).isEqualTo(422);
  }

  @Test
  void listIsOrderedByIdPagedAndCarriesTheTotal() throws Exception {
    for (int i = 0; i < 3; i++) {
      createProduct("Listed " + i, i);
    }

    HttpResponse<Buffer> all = await(user.get("/products?limit=100"));
    assertThat(all.statusCode()).isEqualTo(200);
    List<Long> ids = ids(all.bodyAsJsonArray());
    assertThat(ids).hasSizeGreaterThanOrEqualTo(3).isSorted().doesNotHaveDuplicates();
    assertThat(all.getHeader("X-Total-Count")).isEqualTo(String.valueOf(ids.size()));

    HttpResponse<Buffer> page = await(user.get("/products?limit=2&offset=1"));
    assertThat(ids(page.bodyAsJsonArray())).isEqualTo(ids.subList(1, 3));
    assertThat(page.getHeader("X-Total-Count")).isEqualTo(String.valueOf(ids.size()));
    assertThat(await(user.get("/products?limit=101")).statusCode()).isEqualTo(422);
  }

  @Test
  void onlyAdminsWriteProducts() throws Exception {
    long id = createProduct("Pin", 5).getLong("id");

    assertThat(await(user.post("/products", new JsonObject().put("name", "Pin").put("quantity", 1))).statusCode())
      .isEqualTo(403);
    assertThat(await(user.patch("/products/" + id, new JsonObject().put("quantity", 0))).statusCode()).isEqualTo(403);
    assertThat(await(user.put("/products/" + id, new JsonObject().put("name", "Pin").put("quantity", 0))).statusCode())
      .isEqualTo(403);
    assertThat(await(user.delete("/products/" + id)).statusCode()).isEqualTo(403);
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject().getInteger("quantity")).isEqualTo(5);
  }

  @Test
  void holdsTakeStockAndNeverMoreThanIsLeft() throws Exception {
    long id = createProduct("Badge", 5).getLong("id");
    Inventory.Item item = new Inventory.Item(null, id);

    await(node.platform().pool().withTransaction(tx -> Inventory.holdAll(tx, Map.of(item, 4))));
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject().getInteger("quantity")).isEqualTo(1);

    Throwable tooMany = await(node.platform().pool().withTransaction(tx -> Inventory.holdAll(tx, Map.of(item, 2)))
      .map(v -> (Throwable) null).otherwise(err -> err));
    assertThat(tooMany).hasMessage("Not enough product in stock");

    await(node.platform().pool().withTransaction(tx -> Inventory.release(tx, item, 4)));
    assertThat(await(user.get("/products/" + id)).bodyAsJsonObject().getInteger("quantity")).isEqualTo(5);
  }

  @Test
  void aProductHeldByALiveBookingCannotBeDeletedUntilTheBookingIsCancelled() throws Exception {
    long id = createProduct("Held", 3).getLong("id");
    HttpResponse<Buffer> booked = await(user.post("/bookings", new JsonObject().put("name", "Holder")
      .put("email", "holder@example.com").put("phone", "+1 555 0100").put("product_id", id).put("quantity", 2)));
    assertThat(booked.statusCode()).as(booked.bodyAsString()).isEqualTo(201);
    long bookingId = booked.bodyAsJsonObject().getLong("booking_id");

    HttpResponse<Buffer> refused = await(admin.delete("/products/" + id));
    assertThat(refused.statusCode()).isEqualTo(409);
    assertThat(refused.bodyAsJsonObject().getString("error")).startsWith("Product is held by live bookings");
    assertThat(await(user.get("/products/" + id)).statusCode()).isEqualTo(200);

    assertThat(await(user.post("/bookings/" + bookingId + "/cancel", new JsonObject())).statusCode()).isEqualTo(200);
    assertThat(await(admin.delete("/products/" + id)).statusCode()).isEqualTo(204);
    // the finished booking keeps its history, without the item
    JsonObject kept = await(user.get("/bookings/" + bookingId)).bodyAsJsonObject();
    assertThat(kept.getString("status")).isEqualTo("cancelled");
    assertThat(kept.getValue("product_id")).isNull();
  }

  private static JsonObject createProduct(String name, int quantity) throws Exception {
    return createProduct(name, quantity, null);
  }

  private static JsonObject createProduct(String name, int quantity, String uniqueId) throws Exception {
    JsonObject body = new JsonObject().put("name", name).put("quantity", quantity);
    if (uniqueId != null) {
      body.put("unique_id", uniqueId);
    }
    HttpResponse<Buffer> r = await(admin.post("/products", body));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  private static List<Long> ids(JsonArray items) {
    List<Long> ids = new ArrayList<>();
    items.forEach(o -> ids.add(((JsonObject) o).getLong("id")));
    return ids;
  }

  private static List<String> fields(HttpResponse<Buffer> r) {
    List<String> names = new ArrayList<>();
    r.bodyAsJsonObject().getJsonArray("fields", new JsonArray())
      .forEach(f -> names.add(((JsonObject) f).getString("field")));
    return names;
  }
}
