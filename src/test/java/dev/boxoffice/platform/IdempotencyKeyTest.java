package dev.boxoffice.platform;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Idempotency-Key on the five creating operations, against real PostgreSQL and Redis: a repeat answers the first
 * response and does nothing; another body under the key is refused; a repeat while the first is in flight is told to
 * come back; keys belong to accounts; only 2xx answers are kept, for 24 h; and a storm of retries books each
 * booking exactly once.
 */
class IdempotencyKeyTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.manualPayment()).with(TestNodes.noUserCrons());
  private static final BookingFixtures db = new BookingFixtures(node::pool);

  @Test
  void aRepeatedBookingAnswersTheFirstResponseAndBooksOnce() {
    long event = db.event(10);
    String key = UUID.randomUUID().toString();
    JsonObject booking = body("Ada Lovelace", "ada@example.com").put("event_id", event).put("quantity", 2);

    HttpResponse<Buffer> first = send(node.user(), "/bookings", key, booking);
    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(first.getHeader(IdempotencyKeys.REPLAYED_HEADER)).isNull();
    HttpResponse<Buffer> again = send(node.user(), "/bookings", key, booking.copy());

    assertThat(again.statusCode()).isEqualTo(201);
    assertThat(again.bodyAsString()).isEqualTo(first.bodyAsString());
    assertThat(again.getHeader(IdempotencyKeys.REPLAYED_HEADER)).isEqualTo("true");
    assertThat(db.eventBooked(event)).isEqualTo(2);
    assertThat(bookingsOf(event)).isEqualTo(1);
    // the structured-field string form of the draft names the same key
    HttpResponse<Buffer> quoted = send(node.user(), "/bookings", "\"" + key + "\"", booking);
    assertThat(quoted.statusCode()).isEqualTo(201);
    assertThat(quoted.bodyAsString()).isEqualTo(first.bodyAsString());
    assertThat(bookingsOf(event)).isEqualTo(1);
  }

  @Test
  void theSameKeyWithAnotherBodyOrOperationIsRefused() {
    long event = db.event(10);
    String key = UUID.randomUUID().toString();
    JsonObject booking = body("Ada Lovelace", "ada@example.com").put("event_id", event);
    assertThat(send(node.user(), "/bookings", key, booking).statusCode()).isEqualTo(201);

    HttpResponse<Buffer> otherBody = send(node.user(), "/bookings", key, booking.copy().put("quantity", 3));
    HttpResponse<Buffer> otherOperation = send(node.user(), "/submit", key, new JsonObject().put("data", "hello"));

    for (HttpResponse<Buffer> r : List.of(otherBody, otherOperation)) {
      assertThat(r.statusCode()).isEqualTo(422);
      assertThat(r.bodyAsJsonObject().getJsonArray("fields").getJsonObject(0).getString("field"))
        .isEqualTo("Idempotency-Key");
    }
    assertThat(db.eventBooked(event)).isEqualTo(1);
    assertThat(bookingsOf(event)).isEqualTo(1);
  }

  @Test
  void aMalformedKeyIsRefusedBeforeAnythingHappens() {
    long event = db.event(10);
    JsonObject booking = body("Ada Lovelace", "ada@example.com").put("event_id", event);
    for (String bad : List.of("k".repeat(256), "")) {
      HttpResponse<Buffer> r = send(node.user(), "/bookings", bad, booking);
      assertThat(r.statusCode()).as("key of %d characters", bad.length()).isEqualTo(422);
      assertThat(r.bodyAsString()).contains("Idempotency-Key");
    }
    assertThat(send(node.user(), "/bookings", "k".repeat(255), booking).statusCode()).isEqualTo(201);
    assertThat(bookingsOf(event)).isEqualTo(1);
  }

  @Test
  void keysBelongToAccounts() {
    long event = db.event(10);
    String key = UUID.randomUUID().toString();
    JsonObject booking = body("Ada Lovelace", "ada@example.com").put("event_id", event);

    HttpResponse<Buffer> mine = send(node.user(), "/bookings", key, booking);
    HttpResponse<Buffer> yours = send(node.admin(), "/bookings", key, booking);

    assertThat(mine.statusCode()).isEqualTo(201);
    assertThat(yours.statusCode()).isEqualTo(201);
    assertThat(yours.bodyAsJsonObject().getLong("booking_id"))
      .isNotEqualTo(mine.bodyAsJsonObject().getLong("booking_id"));
    assertThat(bookingsOf(event)).isEqualTo(2);
  }

  @Test
  void everyCreatingOperationAnswersARepeatFromTheKey() {
    record Op(ApiClient client, String path, JsonObject body, int status, String count) {
    }
    String unique = UUID.randomUUID().toString();
    List<Op> ops = List.of(
      new Op(node.admin(), "/events", new JsonObject().put("title", "Keyed " + unique).put("capacity", 5), 201,
        "SELECT count(*) FROM events WHERE title = 'Keyed " + unique + "'"),
      new Op(node.admin(), "/products", new JsonObject().put("name", "Keyed " + unique).put("quantity", 5), 201,
        "SELECT count(*) FROM products WHERE name = 'Keyed " + unique + "'"),
      new Op(node.user(), "/tasks", new JsonObject().put("type", "text.process")
        .put("payload", new JsonObject().put("data", "tasks " + unique)).put("run_at", "2999-01-01T00:00:00Z"), 202,
        "SELECT count(*) FROM jobs WHERE payload->>'data' = 'tasks " + unique + "'"),
      new Op(node.user(), "/submit", new JsonObject().put("data", "submit " + unique), 202,
        "SELECT count(*) FROM jobs WHERE payload->>'data' = 'submit " + unique + "'"));
    for (Op op : ops) {
      String key = UUID.randomUUID().toString();
      HttpResponse<Buffer> first = send(op.client(), op.path(), key, op.body());
      HttpResponse<Buffer> again = send(op.client(), op.path(), key, op.body());

      assertThat(first.statusCode()).as(op.path()).isEqualTo(op.status());
      assertThat(again.statusCode()).as(op.path()).isEqualTo(op.status());
      assertThat(again.bodyAsString()).as(op.path()).isEqualTo(first.bodyAsString());
      assertThat(again.getHeader(IdempotencyKeys.REPLAYED_HEADER)).as(op.path()).isEqualTo("true");
      assertThat(db.sql(op.count()).iterator().next().getLong(0)).as(op.path()).isEqualTo(1);
      // without the key the same request runs again
      assertThat(await(op.client().post(op.path(), op.body())).statusCode()).as(op.path()).isEqualTo(op.status());
      assertThat(db.sql(op.count()).iterator().next().getLong(0)).as(op.path()).isEqualTo(2);
    }
  }

  @Test
  void aRefusalIsNotKeptSoTheRetryRunsAgain() {
    long event = db.event(1);
    db.sql("UPDATE events SET booked = 1 WHERE id = $1", event);
    String key = UUID.randomUUID().toString();
    JsonObject booking = body("Ada Lovelace", "ada@example.com").put("event_id", event);

    HttpResponse<Buffer> soldOut = send(node.user(), "/bookings", key, booking);
    assertThat(soldOut.statusCode()).isEqualTo(409);
    assertThat(keyRows(key)).isZero();

    db.sql("UPDATE events SET booked = 0 WHERE id = $1", event);
    HttpResponse<Buffer> retried = send(node.user(), "/bookings", key, booking);
    assertThat(retried.statusCode()).isEqualTo(201);
    assertThat(keyRows(key)).isOne();
  }

  @Test
  void aRepeatWhileTheFirstIsInFlightIsToldToComeBack() {
    long event = db.event(10);
    String key = UUID.randomUUID().toString();
    JsonObject booking = body("Ada Lovelace", "ada@example.com").put("event_id", event);
    // the event's row locked elsewhere: the first request's batch waits for it, in flight
    SqlConnection blocker = await(node.pool().getConnection());
    Transaction tx = await(blocker.begin());
    await(blocker.preparedQuery("SELECT id FROM events WHERE id = $1 FOR UPDATE").execute(Tuple.of(event)));
    Future<HttpResponse<Buffer>> first = request(node.user(), "/bookings", key, booking);
    String marker = IdempotencyKeys.marker(node.redisPrefix(), "testuser", key);
    eventually(() -> node.platform().redis().exists(List.of(marker)), r -> r != null && r.toInteger() == 1);

    HttpResponse<Buffer> duplicate = send(node.user(), "/bookings", key, booking);

    assertThat(duplicate.statusCode()).isEqualTo(409);
    assertThat(duplicate.getHeader("Retry-After")).isEqualTo("1");
    await(tx.rollback());
    await(blocker.close());
    HttpResponse<Buffer> answered = await(first);
    assertThat(answered.statusCode()).isEqualTo(201);
    HttpResponse<Buffer> retried = send(node.user(), "/bookings", key, booking);
    assertThat(retried.statusCode()).isEqualTo(201);
    assertThat(retried.bodyAsString()).isEqualTo(answered.bodyAsString());
    assertThat(bookingsOf(event)).isEqualTo(1);
  }

  @Test
  void withoutRedisAConcurrentDuplicateWaitsForTheFirstAndReplaysIt() {
    IdempotencyKeys.Key key = new IdempotencyKeys.Key("someone", UUID.randomUUID().toString(), "createEvent", "f1");
    JsonObject reply = Bus.ApiReply.of(201, new JsonObject().put("id", 7).put("title", "Jazz"));
    SqlConnection a = await(node.pool().getConnection());
    SqlConnection b = await(node.pool().getConnection());
    try {
      Transaction ta = await(a.begin());
      assertThat(await(IdempotencyKeys.claimAll(a, List.of(key)))).isEmpty();
      Transaction tb = await(b.begin());
      Future<Map<IdempotencyKeys.Key, Throwable>> second = IdempotencyKeys.claimAll(b, List.of(key));
      // b waits on a's uncommitted row
      eventually(() -> node.pool().query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        + "AND datname = current_database() AND query LIKE 'INSERT INTO idempotency_keys%'").execute(), rows -> rows.iterator().next().getLong(0) == 1);
      assertThat(second.isComplete()).isFalse();
      await(IdempotencyKeys.completeAll(a, List.of(key), List.of(reply)));
      await(ta.commit());

      Throwable answer = await(second).get(key);
      assertThat(await(IdempotencyKeys.replayed(answer)))
        .isEqualTo(reply.copy().put("headers", new JsonObject().put(IdempotencyKeys.REPLAYED_HEADER, "true")));
      await(tb.rollback());
    } finally {
      a.close();
      b.close();
    }
  }

  @Test
  void keysAreKeptADayThenSweptAndTheKeyIsFreeAgain() {
    long event = db.event(10);
    String old = UUID.randomUUID().toString();
    String recent = UUID.randomUUID().toString();
    JsonObject booking = body("Ada Lovelace", "ada@example.com").put("event_id", event);
    assertThat(send(node.user(), "/bookings", old, booking).statusCode()).isEqualTo(201);
    assertThat(send(node.user(), "/bookings", recent, booking).statusCode()).isEqualTo(201);
    assertThat(db.sql("SELECT expires_at - created_at >= interval '24 hours' AS day FROM idempotency_keys "
      + "WHERE key = $1", old).iterator().next().getBoolean("day")).isTrue();
    // the one used 25 hours ago, the other 23 hours ago
    db.sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours', "
      + "expires_at = now() - interval '1 hour' WHERE key = $1", old);
    db.sql("UPDATE idempotency_keys SET created_at = now() - interval '23 hours', "
      + "expires_at = now() + interval '1 hour' WHERE key = $1", recent);

    long purged = await(new IdempotencyRetention(node.pool()).purge());

    assertThat(purged).isGreaterThanOrEqualTo(1);
    assertThat(keyRows(old)).isZero();
    assertThat(keyRows(recent)).isOne();
    // the expired key is a new key now: another body books again
    assertThat(send(node.user(), "/bookings", old, booking.copy().put("quantity", 2)).statusCode()).isEqualTo(201);
    assertThat(send(node.user(), "/bookings", recent, booking.copy().put("quantity", 2)).statusCode()).isEqualTo(422);
  }

  /**
   * 200 clients, each with its own key, send their booking three times: two at once, then once more after both
   * answered (and again, briefly, while told the first is in flight). Exactly 200 bookings; each key's answers are
   * one and the same.
   */
  @Test
  void aRetryStormBooksEachBookingOnce() {
    int clients = 200;
    long event = db.event(clients * 2);
    ApiClient user = node.user();
    List<Future<List<HttpResponse<Buffer>>>> all = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      String key = "storm-" + i + "-" + UUID.randomUUID();
      JsonObject booking = body("Storm Guest " + i, "storm" + i + "@example.com").put("event_id", event)
        .put("quantity", 1 + i % 2);
      all.add(Future.all(answer(user, key, booking), answer(user, key, booking))
        .compose(pair -> answer(user, key, booking).map(third -> List.of(pair.<HttpResponse<Buffer>>resultAt(0),
          pair.<HttpResponse<Buffer>>resultAt(1), third))));
    }
    List<List<HttpResponse<Buffer>>> answers = await(Future.all(all)).list();

    Set<Long> ids = new HashSet<>();
    int held = 0;
    for (List<HttpResponse<Buffer>> three : answers) {
      assertThat(three).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(201));
      assertThat(three.stream().map(HttpResponse::bodyAsString).distinct()).hasSize(1);
      ids.add(three.get(0).bodyAsJsonObject().getLong("booking_id"));
      held += three.get(0).bodyAsJsonObject().getInteger("quantity");
    }
    assertThat(ids).hasSize(clients);
    assertThat(bookingsOf(event)).isEqualTo(clients);
    assertThat(db.eventBooked(event)).isEqualTo(held);
  }

  /** The final answer of one send: a 409 "in flight" is retried after its Retry-After (bounded). */
  private static Future<HttpResponse<Buffer>> answer(ApiClient client, String key, JsonObject body) {
    return answer(client, key, body, 50);
  }

  private static Future<HttpResponse<Buffer>> answer(ApiClient client, String key, JsonObject body, int triesLeft) {
    return request(client, "/bookings", key, body).compose(r -> {
      if (r.statusCode() != 409 || r.getHeader("Retry-After") == null || triesLeft == 0) {
        return Future.succeededFuture(r);
      }
      Promise<Void> later = Promise.promise();
      node.vertx().setTimer(100, id -> later.complete());
      return later.future().compose(v -> answer(client, key, body, triesLeft - 1));
    });
  }

  private static HttpResponse<Buffer> send(ApiClient client, String path, String key, JsonObject body) {
    return await(request(client, path, key, body));
  }

  private static Future<HttpResponse<Buffer>> request(ApiClient client, String path, String key, JsonObject body) {
    return client.request(HttpMethod.POST, path).putHeader("Idempotency-Key", key).sendJsonObject(body);
  }

  private static long bookingsOf(long event) {
    return db.sql("SELECT count(*) FROM bookings WHERE event_id = $1", event).iterator().next().getLong(0);
  }

  private static long keyRows(String key) {
    return db.sql("SELECT count(*) FROM idempotency_keys WHERE key = $1", key).iterator().next().getLong(0);
  }
}
