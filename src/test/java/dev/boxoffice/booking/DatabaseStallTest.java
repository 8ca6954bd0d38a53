package dev.boxoffice.booking;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.auth.TokenGate;
import dev.boxoffice.platform.Database;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.PausableProxy;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL stalls for 5 s under a burst of bookings: a pausable TCP proxy sits between the node and the (shared)
 * server and stops all traffic. Each request has a 2 s budget and the node lets at most {@link #LIMIT} bookings wait
 * for a transaction. Beyond the bound bookings are refused at once (503, Retry-After) while the stall lasts; the
 * others are answered 503 when their budget runs out; and no booking whose client got an error is in the table
 * afterwards, while every 201 is.
 */
@ExtendWith(VertxExtension.class)
class DatabaseStallTest {
  private static final int LIMIT = 40;
  private static final int BURST = 200;
  private static final long STALL_MS = 5_000;
  private static PausableProxy proxy;
  private static Boxoffice.Node node;
  private static Pool direct;
  private static BookingFixtures db;
  private static WebClient web;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    String pg = TestStorage.get().newDatabase("DatabaseStallTest");
    proxy = await(PausableProxy.forUri(vertx, pg));
    node = TestNodes.start(TestNodes.settings(proxy.uri(pg), TestStorage.redisPrefix("DatabaseStallTest"))
      .mergeIn(TestNodes.noUserCrons()).mergeIn(TestNodes.manualPayment()).put("pg_pool_size", 4)
      .put("request_timeout_ms", 2_000).put("request_grace_ms", 1_500).put("booking_queue_limit", LIMIT), false);
    direct = Database.pool(vertx, pg, 2);
    db = new BookingFixtures(direct);
    // enough connections that the whole burst reaches the node at once
    web = ApiClient.webClient(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(node.platform().config().integer("http_port")), new PoolOptions().setHttp1MaxSize(BURST));
  }

  @AfterAll
  static void stop() throws Exception {
    await(proxy.resume());
    TestNodes.stop(node);
    await(proxy.close());
    await(direct.close());
  }

  private record Answer(String name, int status, String retryAfter, String error, long atMs) {
  }

  @Test
  void aStallAnswersEveryBookingInTimeAndCommitsNoneWhoseClientGotAnError() throws Exception {
    long event = db.event(1_000_000);
    long product = db.product(1_000_000);
    assertThat(await(book(new JsonObject().put("event_id", event), "warm-up")).status()).isEqualTo(201);
    burstThroughAStall(event, product, "Stall guest ");
  }

  /**
   * The edge's token check remembers an account for a while and then reads it again: a stall that begins just as
   * that memory ages must not hold the burst at the edge, unbounded and unseen by the waiting bound.
   */
  @Test
  void aStallThatBeginsAsTheTokenCheckRereadsTheAccountStillRefusesBeyondTheBound() throws Exception {
    long event = db.event(1_000_000);
    long product = db.product(1_000_000);
    assertThat(await(book(new JsonObject().put("event_id", event), "warm-up")).status()).isEqualTo(201);
    Thread.sleep(TokenGate.FRESH_MS + 200);
    burstThroughAStall(event, product, "Late stall guest ");
  }

  private void burstThroughAStall(long event, long product, String prefix) throws Exception {
    await(proxy.pause());
    long stallStart = System.currentTimeMillis();
    List<Future<Answer>> burst = new ArrayList<>();
    for (int i = 0; i < BURST; i++) {
      JsonObject item = i % 2 == 0 ? new JsonObject().put("event_id", event) : new JsonObject().put("product_id", product);
      burst.add(book(item, prefix + i));
    }
    Thread.sleep(1_000); // within the budget: the bookings admitted are still waiting
    long waitingMidStall = waitingGauge();
    Thread.sleep(Math.max(0, stallStart + STALL_MS - System.currentTimeMillis()));
    long resumedAt = System.currentTimeMillis();
    await(proxy.resume());
    List<Answer> answers = await(Future.all(burst)).list();

    // after the stall: a booking of each item goes through, so the transactions the stall held have ended
    assertThat(await(book(new JsonObject().put("event_id", event), "after A")).status()).isEqualTo(201);
    assertThat(await(book(new JsonObject().put("product_id", product), "after B")).status()).isEqualTo(201);

    Set<String> stored = new HashSet<>();
    for (Row r : db.sql("SELECT name FROM bookings WHERE name LIKE '" + prefix + "%'")) {
      stored.add(r.getString("name"));
    }
    List<String> erroredButStored = new ArrayList<>();
    List<String> createdButMissing = new ArrayList<>();
    int created = 0;
    int refusedAtOnce = 0;
    int outOfTime = 0;
    for (Answer a : answers) {
      assertThat(a.status()).as("answer to %s: %s", a.name(), a.error()).isIn(201, 503, 504);
      if (a.status() == 201) {
        created++;
        if (!stored.contains(a.name())) {
          createdButMissing.add(a.name());
        }
        continue;
      }
      if (stored.contains(a.name())) {
        erroredButStored.add(a.name() + " (" + a.status() + ")");
      }
      if (a.status() == 503) {
        assertThat(a.retryAfter()).as("Retry-After of a 503 (%s)", a.error()).isNotBlank();
        if (a.error().startsWith("Too many bookings") && a.atMs() < resumedAt) {
          refusedAtOnce++;
        } else if (a.error().contains("time ran out")) {
          outOfTime++;
        }
      }
    }
    assertThat(erroredButStored).as("bookings committed although their client got an error").isEmpty();
    assertThat(createdButMissing).as("201s without a row").isEmpty();
    assertThat(stored).hasSize(created);
    // the bound: bookings beyond the waiting ones were refused at once, while PostgreSQL was still stalled; the
    // waiting ones ran out of time (how many of each depends on how fast the burst arrives: on a loaded machine it
    // spreads over the budget, and the bookings that ran out make room for later ones)
    assertThat(refusedAtOnce).isPositive();
    assertThat(outOfTime).isPositive();
    assertThat(waitingMidStall).isBetween(1L, (long) LIMIT);
  }

  @Test
  void aRequestWhoseBudgetIsGoneIsRefusedUnread() {
    Throwable refused = await(node.vertx().eventBus().<JsonObject>request("api.listBookings", new JsonObject()
        .put("operation", "listBookings").put("params", new JsonObject()).put("budget_ms", 0)
        .put("user", new JsonObject().put("sub", "testuser").put("role", "user")))
      .map(m -> (Throwable) null).otherwise(err -> err));
    assertThat(refused).isInstanceOf(ReplyException.class);
    assertThat(((ReplyException) refused).failureCode()).isEqualTo(503);
    assertThat(refused.getMessage()).contains("time ran out").contains("retry_after");
  }

  @Test
  void aClientMayShortenItsBudgetButNotGiveANonsenseOne() {
    JsonObject body = body("Budget Guest", "budget@example.com").put("event_id", db.event(10));
    HttpResponse<Buffer> shortened = await(web.post("/bookings").putHeader("Authorization", "Bearer " + TestTokens.user())
      .putHeader("X-Request-Budget-Ms", "1500").sendJsonObject(body));
    assertThat(shortened.statusCode()).isEqualTo(201);
    for (String nonsense : List.of("0", "-5", "soon")) {
      HttpResponse<Buffer> r = await(web.post("/bookings").putHeader("Authorization", "Bearer " + TestTokens.user())
        .putHeader("X-Request-Budget-Ms", nonsense).sendJsonObject(body));
      assertThat(r.statusCode()).as(nonsense).isEqualTo(422);
      assertThat(r.bodyAsJsonObject().getString("error")).contains("X-Request-Budget-Ms");
    }
  }

  private static final AtomicLong seq = new AtomicLong();

  private static Future<Answer> book(JsonObject item, String name) {
    JsonObject body = body(name, "stall" + seq.incrementAndGet() + "@example.com").mergeIn(item);
    return web.post("/bookings").putHeader("Authorization", "Bearer " + TestTokens.user())
      .sendJsonObject(body).map(r -> answer(name, r));
  }

  private static Answer answer(String name, HttpResponse<Buffer> r) {
    String error = r.statusCode() >= 400 ? r.bodyAsJsonObject().getString("error", "") : "";
    return new Answer(name, r.statusCode(), r.getHeader("Retry-After"), error, System.currentTimeMillis());
  }

  /** The node's boxoffice_bookings_waiting gauge, from GET /metrics (answered at the edge, no database). */
  private static long waitingGauge() {
    String metrics = await(web.get("/metrics").send()).bodyAsString();
    return metrics.lines().filter(l -> l.startsWith("boxoffice_bookings_waiting "))
      .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim())).findFirst().orElse(-1);
  }
}
