package dev.boxoffice.booking;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Holds expire at {@code expires_at} from the bookings table, on whichever worker node is alive, exactly once.
 * Manual payment keeps bookings pending; the safety poll is set to a minute, so a hold that expires on time was
 * armed from the bus announcement or from the table at start, not found by the poll.
 */
@ExtendWith(VertxExtension.class)
class HoldExpiryTest {
  private static final int HOLD_SECONDS = 2;
  /** How late an expiry may be here: generous for a loaded CI machine, far below the minute-long poll. */
  private static final Duration LATE = Duration.ofMillis(1500);
  /** How long a test waits for one hold to expire at all. */
  private static final Duration EXPIRY_WAIT = Duration.ofSeconds(HOLD_SECONDS + 10);

  private final List<Boxoffice.Node> nodes = new ArrayList<>();
  private final String cluster = "holds-" + UUID.randomUUID().toString().substring(0, 8);
  private final int[] ports = {TestStorage.freePort(), TestStorage.freePort()};
  private String db;
  /** One Redis key prefix for the test's nodes: clustered nodes must share it (a setting checked at join time). */
  private String redisPrefix;

  @AfterEach
  void stopNodes() throws Exception {
    for (Boxoffice.Node node : nodes) {
      TestNodes.stop(node);
    }
  }

  @Test
  void aHoldMadeThroughOneNodeExpiresOnTimeOnAnotherAfterTheFirstIsGone(Vertx vertx) throws Exception {
    Boxoffice.Node first = node("HoldExpiryHandover", 0);
    Boxoffice.Node second = node("HoldExpiryHandover", 1);
    BookingFixtures fixtures = new BookingFixtures(second.platform().pool());
    long product = fixtures.product(10);

    long id = book(user(vertx, first), product, 3);
    TestNodes.stop(first);
    nodes.remove(first);

    eventually(EXPIRY_WAIT, () -> assertThat(fixtures.status(id)).isEqualTo("expired"));
    assertThat(lateness(fixtures.booking(id))).as("expired on time by the surviving node").isLessThan(LATE);
    assertThat(fixtures.productQuantity(product)).isEqualTo(10);
  }

  @Test
  void withNoHoldOpenThereIsNoNextExpiryToSweepFor() throws Exception {
    db = TestStorage.get().newDatabase("HoldExpiryNone");
    Boxoffice.Node node = TestNodes.start(settings("HoldExpiryNone", 0), false);
    nodes.add(node);

    Row next = await(node.platform().pool().preparedQuery(HoldExpiry.NEXT).execute(Tuple.of((Object) new Long[0])))
      .iterator().next();

    assertThat(next.getLong("wait_ms")).as("none, not \"due now\": an idle node would sweep again and again")
      .isNull();
  }

  @Test
  void aNodeStartedAfterTheHoldWasMadeArmsFromTheTable(Vertx vertx) throws Exception {
    db = TestStorage.get().newDatabase("HoldExpiryRestart");
    // written while no node runs: nobody heard of this hold, only the table knows it
    Boxoffice.Node migrator = TestNodes.start(settings("HoldExpiryRestart", 0), false);
    BookingFixtures fixtures = new BookingFixtures(migrator.platform().pool());
    long product = fixtures.product(5);
    TestNodes.stop(migrator);
    Pool pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(db)).using(vertx).build();
    try {
      BookingFixtures direct = new BookingFixtures(pool);
      direct.sql("UPDATE products SET quantity = quantity - 2 WHERE id = $1", product);
      long id = direct.sql("""
        INSERT INTO bookings (name, email, phone, product_id, quantity, owner, expires_at)
        VALUES ('Late Starter', 'late@example.com', '+44 20 7946 0958', $1, 2, 'testuser',
                now() + interval '3 seconds') RETURNING id""", product).iterator().next().getLong("id");

      nodes.add(TestNodes.start(settings("HoldExpiryRestart", 0), false));

      eventually(EXPIRY_WAIT, () -> assertThat(direct.status(id)).isEqualTo("expired"));
      assertThat(lateness(direct.booking(id))).isLessThan(LATE);
      assertThat(direct.productQuantity(product)).isEqualTo(5);
    } finally {
      await(pool.close());
    }
  }

  @Test
  void manyHoldsDueTogetherOnTwoNodesEachReturnTheirQuantityOnce(Vertx vertx) throws Exception {
    Boxoffice.Node first = node("HoldExpiryMany", 0);
    Boxoffice.Node second = node("HoldExpiryMany", 1);
    BookingFixtures fixtures = new BookingFixtures(first.platform().pool());
    long product = fixtures.product(1000);
    ApiClient[] apis = {user(vertx, first), user(vertx, second)};

    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      posts.add(apis[i % 2].post("/bookings", body("Many " + i, "many@example.com").put("product_id", product)
        .put("quantity", 1 + i % 3)));
    }
    int held = 0;
    for (int i = 0; i < posts.size(); i++) {
      HttpResponse<Buffer> r = await(posts.get(i));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
      held += 1 + i % 3;
    }
    assertThat(fixtures.productQuantity(product)).isEqualTo(1000 - held);

    eventually(Duration.ofSeconds(20), () -> assertThat(fixtures.sql(
      "SELECT count(*) AS n FROM bookings WHERE status <> 'expired'").iterator().next().getLong("n"))
      .as("holds not yet expired").isZero());
    assertThat(fixtures.productQuantity(product)).as("each quantity back exactly once").isEqualTo(1000);
    Duration worst = Duration.ZERO;
    for (Row b : fixtures.sql("SELECT id, expires_at, updated_at FROM bookings")) {
      worst = lateness(b).compareTo(worst) > 0 ? lateness(b) : worst;
    }
    assertThat(worst).isLessThan(LATE);
  }

  private Boxoffice.Node node(String name, int index) throws Exception {
    if (db == null) {
      db = TestStorage.get().newDatabase(name);
    }
    JsonObject settings = TestNodes.clustered(settings(name, index), cluster, ports[index], ports);
    Boxoffice.Node node = TestNodes.start(settings, true);
    nodes.add(node);
    return node;
  }

  private JsonObject settings(String name, int index) {
    if (redisPrefix == null) {
      redisPrefix = TestStorage.redisPrefix(name);
    }
    return TestNodes.settings(db, redisPrefix).mergeIn(TestNodes.noUserCrons())
      .put("roles", index == 0 ? "http,workers,scheduler" : "http,workers")
      .put("payment_mode", "manual").put("hold_seconds", HOLD_SECONDS).put("jobs_poll_seconds", 60);
  }

  private static ApiClient user(Vertx vertx, Boxoffice.Node node) {
    return ApiClient.create(vertx, node.platform().config().integer("http_port"))
      .withToken(TestTokens.user());
  }

  private static long book(ApiClient api, long product, int quantity) {
    HttpResponse<Buffer> r = await(api.post("/bookings", body("Hold Test", "hold@example.com")
      .put("product_id", product).put("quantity", quantity)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject().getLong("id");
  }

  private static Duration lateness(Row b) {
    return Duration.between(b.getOffsetDateTime("expires_at"), b.getOffsetDateTime("updated_at"));
  }
}
