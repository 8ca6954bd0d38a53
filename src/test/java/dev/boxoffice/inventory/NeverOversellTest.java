package dev.boxoffice.inventory;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Capacity is never exceeded, whatever the concurrency: bookings race on one item through two clustered nodes, and
 * on a third node whose Redis is unreachable (the lock is skipped; Postgres alone refuses to oversell).
 */
@ExtendWith(VertxExtension.class)
class NeverOversellTest {
  private static Boxoffice.Node a;
  private static Boxoffice.Node b;
  private static Boxoffice.Node noRedis;

  @BeforeAll
  static void start() throws Exception {
    String db = TestStorage.get().newDatabase("NeverOversellTest");
    String cluster = "oversell-" + UUID.randomUUID().toString().substring(0, 8);
    int pa = TestStorage.freePort();
    int pb = TestStorage.freePort();
    // manual payment keeps every accepted booking holding its quantity for the whole test
    JsonObject base = TestNodes.settings(db, TestStorage.redisPrefix("NeverOversellTest"))
      .mergeIn(TestNodes.manualPayment());
    a = TestNodes.start(TestNodes.clustered(base.copy(), cluster, pa, pa, pb), true);
    b = TestNodes.start(TestNodes.clustered(base.copy().put("http_port", TestStorage.freePort()), cluster, pb, pa, pb),
      true);
    noRedis = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("NeverOversellTest"))
      .mergeIn(TestNodes.manualPayment()).put("redis_uri", "redis://127.0.0.1:1"), false);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(noRedis);
    TestNodes.stop(b);
    TestNodes.stop(a);
  }

  @Test
  void twoHundredConcurrentBookingsOverTwoNodesForAHundredSeatsSellExactlyAHundred(Vertx vertx) throws Exception {
    ApiClient viaA = client(vertx, a);
    ApiClient viaB = client(vertx, b);
    long event = await(viaA.post("/events", new JsonObject().put("title", "Hot show").put("capacity", 100)))
      .bodyAsJsonObject().getLong("id");

    List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add((i % 2 == 0 ? viaA : viaB).post("/bookings", booking(i).put("event_id", event)));
    }
    int[] counts = statuses(calls);

    assertThat(counts[0]).as("201 Created").isEqualTo(100);
    assertThat(counts[1]).as("409 Event is sold out").isEqualTo(100);
    assertThat(counts[2]).as("anything else").isZero();
    JsonObject stats = await(viaB.get("/events/" + event + "/stats")).bodyAsJsonObject();
    assertThat(stats.getInteger("booked_count")).isEqualTo(100);
    assertThat(liveQuantity("event_id", event)).isEqualTo(100);
  }

  @Test
  void withRedisUnreachableBookingsStillWorkAndNeverOversell(Vertx vertx) throws Exception {
    ApiClient api = client(vertx, noRedis);
    long product = await(api.post("/products", new JsonObject().put("name", "Last units").put("quantity", 30)))
      .bodyAsJsonObject().getLong("id");

    List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      calls.add(api.post("/bookings", booking(i).put("product_id", product).put("quantity", 1 + i % 2)));
    }
    int[] counts = statuses(calls);

    assertThat(counts[2]).as("neither 201 nor 409").isZero();
    assertThat(counts[0]).isPositive();
    int left = await(api.get("/products/" + product)).bodyAsJsonObject().getInteger("quantity");
    assertThat(left).isBetween(0, 1); // quantities of 1 and 2: at most one unit can be left unsold
    assertThat(liveQuantity("product_id", product)).isEqualTo(30 - left);
  }

  @Test
  void bookingsOfManyItemsAtOnceEachGetTheirOwnAnswer(Vertx vertx) throws Exception {
    ApiClient api = client(vertx, a);
    List<Long> events = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      events.add(await(api.post("/events", new JsonObject().put("title", "Show " + i).put("capacity", 3)))
        .bodyAsJsonObject().getLong("id"));
    }
    long product = await(api.post("/products", new JsonObject().put("name", "Posters").put("quantity", 10)))
      .bodyAsJsonObject().getLong("id");
    // interleaved, so that the node's transactions each take bookings of several events and the product
    List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(api.post("/bookings", booking(i).put("event_id", events.get(i % 5))));
      if (i % 2 == 0) {
        calls.add(api.post("/bookings", booking(i).put("product_id", product)));
      }
    }
    calls.add(api.post("/bookings", booking(98).put("event_id", 999_999)));
    calls.add(api.post("/bookings", booking(99).put("product_id", 999_999)));
    List<HttpResponse<Buffer>> responses = awaitAll(calls);

    List<HttpResponse<Buffer>> unknown = responses.subList(responses.size() - 2, responses.size());
    assertThat(unknown).extracting(HttpResponse::statusCode).containsExactly(404, 404);
    assertThat(unknown).extracting(r -> r.bodyAsJsonObject().getString("error"))
      .containsExactly("Event not found", "Product not found");
    List<HttpResponse<Buffer>> known = responses.subList(0, responses.size() - 2);
    assertThat(known).extracting(HttpResponse::statusCode).containsOnly(201, 409);
    assertThat(known.stream().filter(r -> r.statusCode() == 201).count()).isEqualTo(5 * 3 + 10);
    assertThat(known.stream().filter(r -> r.statusCode() == 409).map(r -> r.bodyAsJsonObject().getString("error")))
      .containsOnly("Event is sold out", "Not enough product in stock");
    for (long event : events) {
      assertThat(liveQuantity("event_id", event)).isEqualTo(3);
      assertThat(await(api.get("/events/" + event + "/stats")).bodyAsJsonObject().getInteger("booked_count"))
        .isEqualTo(3);
    }
    assertThat(liveQuantity("product_id", product)).isEqualTo(10);
    assertThat(await(api.get("/products/" + product)).bodyAsJsonObject().getInteger("quantity")).isZero();
  }

  private static ApiClient client(Vertx vertx, Boxoffice.Node node) {
    return ApiClient.create(vertx, node.platform().config().integer("http_port")).withToken(TestTokens.admin());
  }

  private static JsonObject booking(int i) {
    return new JsonObject().put("name", "Fan " + i).put("email", "fan" + i + "@example.com")
      .put("phone", "+1 555 01" + String.format("%02d", i % 100));
  }

  /** [201s, 409s, others]. */
  private static int[] statuses(List<Future<HttpResponse<Buffer>>> calls) throws Exception {
    int[] counts = new int[3];
    for (HttpResponse<Buffer> r : awaitAll(calls)) {
      counts[r.statusCode() == 201 ? 0 : r.statusCode() == 409 ? 1 : 2]++;
    }
    return counts;
  }

  private static List<HttpResponse<Buffer>> awaitAll(List<Future<HttpResponse<Buffer>>> calls) throws Exception {
    await(Future.join(calls));
    List<HttpResponse<Buffer>> out = new ArrayList<>();
    for (Future<HttpResponse<Buffer>> f : calls) {
      assertThat(f.succeeded()).as("request completed: %s", f.cause()).isTrue();
      out.add(f.result());
    }
    return out;
  }

  /** Quantity held by bookings that hold stock, counted from the bookings themselves. */
  private static long liveQuantity(String column, long id) throws Exception {
    Row row = await(a.platform().pool().preparedQuery("SELECT coalesce(sum(quantity), 0) AS q FROM bookings WHERE "
        + column + " = $1 AND status IN ('pending','payment_processed','confirmed','finalized')")
      .execute(Tuple.of(id))).iterator().next();
    return row.getLong("q");
  }
}
