package dev.boxoffice.inventory;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Events, their stats and the reports, through the HTTP API of one node. */
class EventsApiTest {
  @RegisterExtension
  static final TestNode node = TestNode.create();
  private static ApiClient admin;
  private static ApiClient user;

  @BeforeAll
  static void clients() {
    admin = node.admin();
    user = node.user();
  }

  @Test
  void anAdminCreatesAnEventAndAnyoneReadsItBack() throws Exception {
    HttpResponse<Buffer> created = await(admin.post("/events", new JsonObject().put("title", "Jazz night")
      .put("capacity", 100).put("price", 25.5).put("starts_at", "2030-06-01T20:00:00Z")));

    assertThat(created.statusCode()).isEqualTo(201);
    JsonObject event = created.bodyAsJsonObject();
    assertThat(event.fieldNames()).containsExactlyInAnyOrder("id", "title", "capacity", "price", "starts_at",
      "booked_count", "available", "created_at");
    assertThat(event.getLong("id")).isPositive();
    assertThat(event.getString("title")).isEqualTo("Jazz night");
    assertThat(event.getInteger("capacity")).isEqualTo(100);
    assertThat(event.getValue("price")).isInstanceOf(Number.class);
    assertThat(event.getDouble("price")).isEqualTo(25.5);
    assertThat(event.getString("starts_at")).isEqualTo("2030-06-01T20:00:00Z");
    assertThat(event.getInteger("booked_count")).isZero();
    assertThat(event.getInteger("available")).isEqualTo(100);
    assertThat(Instant.parse(event.getString("created_at"))).isBefore(Instant.now().plusSeconds(5));

    HttpResponse<Buffer> read = await(user.get("/events/" + event.getLong("id")));
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.bodyAsJsonObject()).isEqualTo(event);
  }

  @Test
  void priceDefaultsToZeroAndStartsAtToNull() throws Exception {
    JsonObject event = createEvent("Free talk", 5);

    assertThat(event.getValue("price")).isInstanceOf(Number.class);
    assertThat(event.getDouble("price")).isZero();
    assertThat(event.containsKey("starts_at")).isTrue();
    assertThat(event.getString("starts_at")).isNull();
  }

  @Test
  void startsAtWithAnOffsetIsStoredAsUtc() throws Exception {
    HttpResponse<Buffer> created = await(admin.post("/events", new JsonObject().put("title", "Matinee")
      .put("capacity", 3).put("starts_at", "2030-06-01T14:30:00+02:00")));

    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.bodyAsJsonObject().getString("starts_at")).isEqualTo("2030-06-01T12:30:00Z");
  }

  @Test
  void listIsOrderedByIdPagedAndCarriesTheTotal() throws Exception {
    for (int i = 0; i < 3; i++) {
      createEvent("Listed " + i, 10);
    }

    HttpResponse<Buffer> all = await(user.get("/events?limit=100"));
    assertThat(all.statusCode()).isEqualTo(200);
    JsonArray items = all.bodyAsJsonArray();
    List<Long> ids = ids(items);
    assertThat(ids).hasSizeGreaterThanOrEqualTo(3).isSorted().doesNotHaveDuplicates();
    assertThat(all.getHeader("X-Total-Count")).isEqualTo(String.valueOf(items.size()));

    HttpResponse<Buffer> page = await(user.get("/events?limit=2&offset=1"));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(ids(page.bodyAsJsonArray())).isEqualTo(ids.subList(1, 3));
    assertThat(page.getHeader("X-Total-Count")).isEqualTo(String.valueOf(items.size()));

    HttpResponse<Buffer> past = await(user.get("/events?offset=10000"));
    assertThat(past.bodyAsJsonArray()).isEmpty();
    assertThat(past.getHeader("X-Total-Count")).isEqualTo(String.valueOf(items.size()));
    assertThat(await(user.get("/events?offset=-1")).statusCode()).as("a negative offset").isEqualTo(422);
  }

  @Test
  void listRejectsLimitsOutsideTheContract() throws Exception {
    assertThat(await(user.get("/events?limit=0")).statusCode()).isEqualTo(422);
    assertThat(await(user.get("/events?limit=101")).statusCode()).isEqualTo(422);
    assertThat(await(user.get("/events?offset=-1")).statusCode()).isEqualTo(422);
  }

  @Test
  void statsAndReportsCountWhatBookingsHold() throws Exception {
    long id = createEvent("Held", 10).getLong("id");
    hold(id, 3);
    hold(id, 2);
    // finalization moves tickets into the finalized counter (the finalize job owns that in production)
    await(node.platform().pool().preparedQuery("INSERT INTO event_finalized (event_id, finalized) VALUES ($1, 2)")
      .execute(Tuple.of(id)));

    JsonObject stats = await(user.get("/events/" + id + "/stats")).bodyAsJsonObject();
    assertThat(stats).isEqualTo(new JsonObject().put("event_id", id).put("capacity", 10).put("booked_count", 5)
      .put("finalized_count", 2));
    assertThat(await(user.get("/report/event/" + id)).bodyAsJsonObject()).isEqualTo(stats);
    JsonObject event = await(user.get("/events/" + id)).bodyAsJsonObject();
    assertThat(event.getInteger("booked_count")).isEqualTo(5);
    assertThat(event.getInteger("available")).isEqualTo(5);

    long capacity = 0;
    long reserved = 0;
    long finalized = 0;
    for (Object o : await(user.get("/events?limit=100")).bodyAsJsonArray()) {
      JsonObject e = (JsonObject) o;
      JsonObject s = await(user.get("/events/" + e.getLong("id") + "/stats")).bodyAsJsonObject();
      capacity += s.getInteger("capacity");
      reserved += s.getInteger("booked_count");
      finalized += s.getInteger("finalized_count");
    }
    HttpResponse<Buffer> report = await(user.get("/report"));
    assertThat(report.statusCode()).isEqualTo(200);
    assertThat(report.bodyAsJsonObject()).isEqualTo(new JsonObject().put("total_capacity", capacity)
      .put("total_reserved", reserved).put("total_finalized", finalized));
    assertThat(reserved).isGreaterThanOrEqualTo(5);
    assertThat(finalized).isGreaterThanOrEqualTo(2);
  }

  @Test
  void holdsNeverExceedTheCapacity() throws Exception {
    long id = createEvent("Tiny", 2).getLong("id");
    hold(id, 2);

    Throwable soldOut = await(node.platform().pool()
      .withTransaction(tx -> Inventory.holdAll(tx, Map.of(new Inventory.Item(id, null), 1)))
      .map(v -> (Throwable) null).otherwise(err -> err));

    assertThat(soldOut).hasMessage("Event is sold out");
    assertThat(await(user.get("/events/" + id + "/stats")).bodyAsJsonObject().getInteger("booked_count"))
      .isEqualTo(2);
  }

  @Test
  void theDatabaseRefusesToCountMoreFinalizedThanBooked() throws Exception {
    long id = createEvent("Counted", 10).getLong("id");
    hold(id, 2);
    io.vertx.sqlclient.Pool pool = node.platform().pool();
    String add = """
      INSERT INTO event_finalized AS f (event_id, finalized) VALUES ($1, $2)
      ON CONFLICT (event_id) DO UPDATE SET finalized = f.finalized + excluded.finalized""";
    await(pool.preparedQuery(add).execute(Tuple.of(id, 2)));

    Throwable tooMany = await(pool.preparedQuery(add).execute(Tuple.of(id, 1))
      .map(v -> (Throwable) null).otherwise(err -> err));

    assertThat(tooMany).hasMessageContaining("would have 3 finalized of 2 booked");
    assertThat(await(user.get("/events/" + id + "/stats")).bodyAsJsonObject().getInteger("finalized_count"))
      .isEqualTo(2);
  }

  @Test
  void capacityBelowOneIsRejectedNamingTheField() throws Exception {
    HttpResponse<Buffer> r = await(admin.post("/events", new JsonObject().put("title", "Nobody").put("capacity", 0)));

    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(fields(r)).contains("capacity");
  }

  @Test
  void aTitleHasOneTo200Characters() throws Exception {
    assertThat(createEvent("T", 1).getString("title")).isEqualTo("T");
    assertThat(createEvent("t".repeat(200), 1).getString("title")).hasSize(200);
    HttpResponse<Buffer> r = await(admin.post("/events", new JsonObject().put("title", "t".repeat(201))
      .put("capacity", 1)));
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(fields(r)).contains("title");
  }

  @Test
  void emptyOrBlankTitleIsRejected() throws Exception {
    for (String title : new String[] {"", "   "}) {
      HttpResponse<Buffer> r = await(admin.post("/events", new JsonObject().put("title", title).put("capacity", 5)));
      assertThat(r.statusCode()).as("title '%s'", title).isEqualTo(422);
      assertThat(fields(r)).contains("title");
    }
  }

  @Test
  void missingCapacityNegativePriceAndBadStartsAtAreRejected() throws Exception {
    assertThat(await(admin.post("/events", new JsonObject().put("title", "x"))).statusCode()).isEqualTo(422);
    assertThat(await(admin.post("/events", new JsonObject().put("title", "x").put("capacity", 1).put("price", -1)))
      .statusCode()).isEqualTo(422);
    HttpResponse<Buffer> badDate = await(admin.post("/events", new JsonObject().put("title", "x").put("capacity", 1)
      .put("starts_at", "next tuesday")));
    assertThat(badDate.statusCode()).isEqualTo(422);
    assertThat(fields(badDate)).contains("starts_at");
    HttpResponse<Buffer> hugePrice = await(admin.post("/events", new JsonObject().put("title", "x").put("capacity", 1)
      .put("price", 1e15)));
    assertThat(hugePrice.statusCode()).isEqualTo(422);
    assertThat(fields(hugePrice)).contains("price");
  }

  @Test
  void malformedJsonIsABadRequest() throws Exception {
    HttpResponse<Buffer> r = await(admin.postRaw("/events", "{\"title\": "));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getString("error")).isNotBlank();
  }

  @Test
  void unknownEventIsA404WithAJsonError() throws Exception {
    for (String path : new String[] {"/events/987654", "/events/987654/stats", "/report/event/987654"}) {
      HttpResponse<Buffer> r = await(user.get(path));
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(r.bodyAsJsonObject()).as(path).isEqualTo(new JsonObject().put("error", "Event not found"));
    }
  }

  @Test
  void nonNumericIdIsRejected() throws Exception {
    for (String path : new String[] {"/events/abc", "/events/abc/stats", "/report/event/abc"}) {
      HttpResponse<Buffer> r = await(user.get(path));
      assertThat(r.statusCode()).as(path).isEqualTo(422);
      assertThat(r.bodyAsJsonObject().getString("error")).as(path).isNotBlank();
    }
  }

  @Test
  void onlyAdminsCreateEventsAndEveryoneNeedsAToken() throws Exception {
    JsonObject body = new JsonObject().put("title", "Mine").put("capacity", 5);
    HttpResponse<Buffer> forbidden = await(user.post("/events", body));
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.bodyAsJsonObject().getString("error")).isNotBlank();

    ApiClient anonymous = ApiClient.create(node.vertx(), admin.port());
    assertThat(await(anonymous.get("/events")).statusCode()).isEqualTo(401);
    assertThat(await(anonymous.get("/report")).statusCode()).isEqualTo(401);
  }

  private static JsonObject createEvent(String title, int capacity) throws Exception {
    HttpResponse<Buffer> r = await(admin.post("/events", new JsonObject().put("title", title).put("capacity", capacity)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  /** What a booking does to an event: hold tickets in its own transaction. */
  private static void hold(long eventId, int quantity) throws Exception {
    await(node.platform().pool().withTransaction(tx -> Inventory.holdAll(tx,
      Map.of(new Inventory.Item(eventId, null), quantity))));
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
