package dev.boxoffice.users;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.boxoffice.Boxoffice;
import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.users.UsersTesting.count;
import static dev.boxoffice.users.UsersTesting.run;
import static dev.boxoffice.users.UsersTesting.succeeded;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The users API over HTTP after a real sync and partial enrichment: every address looked up, cards only for the
 * first 120 users, so all four filter combinations have members. Also the promise that no full card number
 * reaches a response, a table or a log line.
 */
@ExtendWith(VertxExtension.class)
class UsersApiTest {
  private static final int USERS = 250;
  private static final int CARD_BATCH = 120;
  private static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();
  private static FakeProvider fake;
  private static Vertx fakeVertx;
  private static Boxoffice.Node node;
  private static Pool pool;
  private static ApiClient user;
  private static final List<String> responses = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    LOGS.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(LOGS);
    fakeVertx = Vertx.vertx();
    fake = FakeProvider.start(fakeVertx, USERS);
    String db = UsersTesting.newDatabase("UsersApiTest");
    node = TestNodes.start(UsersTesting.settings(db, TestStorage.redisPrefix("UsersApiTest"), fake), false);
    pool = node.platform().pool();
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    succeeded(run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", 1000)));
    succeeded(run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", CARD_BATCH)));
    user = ApiClient.create(node.vertx(), node.platform().config().integer("http_port")).withToken(TestTokens.user());
  }

  @AfterAll
  static void stop() throws Exception {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(LOGS);
    TestNodes.stop(node);
    if (fakeVertx != null) {
      await(fakeVertx.close());
    }
  }

  @Test
  void listsPageInIdOrderWithTheTotal() throws Exception {
    HttpResponse<Buffer> first = get("/users");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.getHeader("X-Total-Count")).isEqualTo(String.valueOf(USERS));
    assertThat(first.bodyAsJsonArray()).hasSize(20);

    List<Long> ids = new ArrayList<>();
    for (int offset = 0; offset < USERS + 100; offset += 100) {
      HttpResponse<Buffer> page = get("/users?limit=100&offset=" + offset);
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.getHeader("X-Total-Count")).isEqualTo(String.valueOf(USERS));
      page.bodyAsJsonArray().forEach(u -> ids.add(((JsonObject) u).getLong("id")));
    }
    assertThat(ids).hasSize(USERS).doesNotHaveDuplicates().isSorted();
    assertThat(get("/users?limit=100&offset=200").bodyAsJsonArray()).hasSize(50);
    assertThat(get("/users?offset=1000").bodyAsJsonArray()).isEmpty();
  }

  @Test
  void bothFiltersAgreeWithTheReturnedUsersForTrueAndFalse() throws Exception {
    long withAddress = count(pool, "SELECT count(*) FROM addresses");
    long withCard = count(pool, "SELECT count(*) FROM cards");
    assertThat(withAddress).isEqualTo(225);
    assertThat(withCard).isEqualTo(105); // the first 120 users, less every 8th

    List<JsonObject> hasAddress = all("has_address=true");
    List<JsonObject> noAddress = all("has_address=false");
    List<JsonObject> hasCard = all("has_card=true");
    List<JsonObject> noCard = all("has_card=false");
    assertThat(hasAddress).hasSize((int) withAddress).allMatch(u -> u.getValue("address") instanceof JsonObject);
    assertThat(noAddress).hasSize(USERS - (int) withAddress).allMatch(u -> u.getValue("address") == null);
    assertThat(hasCard).hasSize((int) withCard).allMatch(u -> u.getValue("credit_card") instanceof JsonObject);
    assertThat(noCard).hasSize(USERS - (int) withCard).allMatch(u -> u.getValue("credit_card") == null);

    int total = 0;
    for (String a : List.of("true", "false")) {
      for (String c : List.of("true", "false")) {
        List<JsonObject> both = all("has_address=" + a + "&has_card=" + c);
        assertThat(both).isNotEmpty()
          .allMatch(u -> (u.getValue("address") != null) == Boolean.parseBoolean(a))
          .allMatch(u -> (u.getValue("credit_card") != null) == Boolean.parseBoolean(c));
        total += both.size();
      }
    }
    assertThat(total).isEqualTo(USERS);
  }

  @Test
  void enrichmentStateTellsPendingFromUnavailable() throws Exception {
    JsonObject noBank = userByExternalId(8);   // looked up, the provider has no card
    JsonObject late = userByExternalId(201);   // beyond the card batch: not looked up yet
    JsonObject noAddress = userByExternalId(10);
    assertThat(noBank.getJsonObject("enrichment")).isEqualTo(new JsonObject()
      .put("address", "enriched").put("card", "unavailable"));
    assertThat(late.getJsonObject("enrichment").getString("card")).isEqualTo("pending");
    assertThat(late.getValue("credit_card")).isNull();
    assertThat(noAddress.getJsonObject("enrichment").getString("address")).isEqualTo("unavailable");
  }

  @Test
  void oneUserHasItsAddressAndMaskedCard() throws Exception {
    long id = internalId(42);
    HttpResponse<Buffer> response = get("/users/" + id);
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject u = response.bodyAsJsonObject();
    JsonObject sent = fake.get(42);
    assertThat(u.fieldNames()).contains("id", "external_id", "first_name", "last_name", "email", "phone", "username",
      "address", "credit_card", "created_at", "updated_at");
    assertThat(u.getLong("id")).isEqualTo(id);
    assertThat(u.getLong("external_id")).isEqualTo(42);
    assertThat(u.getString("first_name")).isEqualTo("First42");
    assertThat(u.getString("email")).isEqualTo(sent.getString("email"));
    assertThat(u.getString("created_at")).endsWith("Z");
    assertThat(u.getJsonObject("address")).isEqualTo(new JsonObject()
      .put("address", "42 Main Street").put("city", "City 0").put("state", "State 2").put("state_code", "S2")
      .put("postal_code", "10042").put("country", "United States").put("lat", 4.2).put("lng", -10.5));
    String digits = FakeProvider.cardDigits(42);
    assertThat(u.getJsonObject("credit_card")).isEqualTo(new JsonObject()
      .put("number", "**** **** **** " + digits.substring(12)).put("type", "Visa").put("expire", "07/2028"));
  }

  @Test
  void twoAndFourDigitExpiryYearsReadTheSame() throws Exception {
    assertThat(FakeProvider.expireAsSent(11)).isEqualTo("12/27");
    assertThat(FakeProvider.expireAsSent(22)).isEqualTo("11/2028");
    JsonObject card11 = userByExternalId(11).getJsonObject("credit_card");
    JsonObject card22 = userByExternalId(22).getJsonObject("credit_card");
    assertThat(card11.getString("expire")).isEqualTo("12/2027");
    assertThat(card22.getString("expire")).isEqualTo("11/2028");
    // a number sent with spaces keeps the same last four digits
    assertThat(FakeProvider.cardNumber(33)).contains(" ");
    assertThat(userByExternalId(33).getJsonObject("credit_card").getString("number"))
      .isEqualTo("**** **** **** " + FakeProvider.cardDigits(33).substring(12));
  }

  @Test
  void unknownOrMalformedIdsAndBadParametersAreRefused() throws Exception {
    HttpResponse<Buffer> unknown = get("/users/999999");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "User not found"));
    assertThat(get("/users/abc").statusCode()).isEqualTo(422);
    for (String bad : List.of("limit=0", "limit=101", "offset=-1", "has_address=maybe", "has_card=2")) {
      HttpResponse<Buffer> r = get("/users?" + bad);
      assertThat(r.statusCode()).as(bad).isEqualTo(422);
      assertThat(r.bodyAsJsonObject().getString("error")).as(bad).isNotBlank();
    }
    assertThat(get("/users?limit=1").bodyAsJsonArray()).hasSize(1);
    assertThat(get("/users?limit=100").bodyAsJsonArray()).hasSize(100);
  }

  @Test
  void bothRolesReadAndAnonymousCallersDoNot() throws Exception {
    ApiClient admin = ApiClient.create(node.vertx(), user.port()).withToken(TestTokens.admin());
    ApiClient anonymous = ApiClient.create(node.vertx(), user.port());
    long id = internalId(1);
    assertThat(await(admin.get("/users")).statusCode()).isEqualTo(200);
    assertThat(await(admin.get("/users/" + id)).statusCode()).isEqualTo(200);
    assertThat(get("/users/" + id).statusCode()).isEqualTo(200);
    assertThat(await(anonymous.get("/users")).statusCode()).isEqualTo(401);
    assertThat(await(anonymous.get("/users/" + id)).statusCode()).isEqualTo(401);
  }

  @Test
  void thePageIsServedWithoutALoginAndNeedsNothingFromOutside() throws Exception {
    HttpResponse<Buffer> page = await(ApiClient.create(node.vertx(), user.port()).get("/users/ui"));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Content-Type")).isEqualTo("text/html; charset=utf-8");
    String html = page.bodyAsString();
    assertThat(html).contains("<form id=\"login-form\"", "fetch('/token'", "'/users?limit='", "fetch(state.url",
      "sessionStorage", "X-Total-Count", "has_address=", "has_card=");
    assertThat(html).doesNotContainPattern("(src|href)=\"(https?:)?//");
  }

  @Test
  void thePageWalksTheDirectoryByItsNextLinksNotByOffsets() throws Exception {
    String html = await(ApiClient.create(node.vertx(), user.port()).get("/users/ui")).bodyAsString();
    assertThat(html).contains("response.headers.get('Link')").doesNotContain("offset");
    // the page's own reading of the header (a JavaScript regex that Java reads the same way)
    String script = html.substring(html.indexOf("function nextLink"));
    Pattern next = Pattern.compile(script.substring(script.indexOf("/<") + 1, script.indexOf("/.exec")));
    String url = "/users?limit=100&has_card=false"; // as the page's first page with the filter set
    List<Long> seen = new ArrayList<>();
    String total = get(url).getHeader("X-Total-Count");
    while (url != null) {
      HttpResponse<Buffer> page = get(url);
      assertThat(page.statusCode()).as(url).isEqualTo(200);
      page.bodyAsJsonArray().forEach(u -> seen.add(((JsonObject) u).getLong("id")));
      Matcher m = next.matcher(String.valueOf(page.getHeader("Link")));
      url = m.find() ? m.group(1) : null;
      assertThat(url == null || url.contains("has_card=false") && url.contains("cursor=")).as(url).isTrue();
    }
    assertThat(seen).doesNotHaveDuplicates().hasSize(Integer.parseInt(total)).isSorted();
  }

  @Test
  void noFullCardNumberInAnyResponseTableOrLogLine() throws Exception {
    try {
      scanForFullCardNumbers();
    } finally {
      // back to the shared starting point: cards for the first CARD_BATCH users only
      await(pool.query("DELETE FROM cards WHERE user_id IN (SELECT id FROM users WHERE external_id > " + CARD_BATCH
        + ")").execute());
      await(pool.query("UPDATE users SET card_checked_at = NULL WHERE external_id > " + CARD_BATCH).execute());
    }
  }

  private void scanForFullCardNumbers() throws Exception {
    List<String> numbers = UsersTesting.fullCardNumbers(fake);
    // the whole directory goes through the card enrichment, and a failure with a card in its body is logged too
    succeeded(run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", 1000)));
    fake.malformedDetail.add(5L);
    await(pool.query("UPDATE users SET card_checked_at = NULL WHERE external_id = 5").execute());
    await(pool.query("DELETE FROM cards WHERE user_id = (SELECT id FROM users WHERE external_id = 5)").execute());
    JobRow dead = run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", 1));
    assertThat(dead.status()).isEqualTo("dead");
    fake.malformedDetail.clear();
    succeeded(run(pool, UsersJobs.ENRICH_CARDS, new JsonObject()));
    assertThat(count(pool, "SELECT count(*) FROM cards")).isEqualTo(219);

    for (int offset = 0; offset < USERS; offset += 100) {
      for (Object u : get("/users?limit=100&offset=" + offset).bodyAsJsonArray()) {
        get("/users/" + ((JsonObject) u).getLong("id"));
      }
    }
    assertThat(responses).hasSizeGreaterThan(USERS);
    for (String body : responses) {
      for (String n : numbers) {
        assertThat(body).doesNotContain(n);
      }
    }
    assertThat(UsersTesting.rowsContaining(pool, numbers)).isEmpty();
    List<String> lines = new ArrayList<>();
    for (ILoggingEvent e : LOGS.list) {
      lines.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
        : ThrowableProxyUtil.asString(e.getThrowableProxy())));
    }
    assertThat(lines).anyMatch(l -> l.contains("users/5 answered a malformed body"));
    for (String line : lines) {
      for (String n : numbers) {
        assertThat(line).doesNotContain(n);
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private static HttpResponse<Buffer> get(String path) throws Exception {
    HttpResponse<Buffer> r = await(user.get(path));
    synchronized (responses) {
      responses.add(r.bodyAsString());
    }
    return r;
  }

  /** Every user the filter returns, page by page; checks the total header against what came back. */
  private static List<JsonObject> all(String filter) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    long total = -1;
    for (int offset = 0; total < 0 || offset < total; offset += 37) {
      HttpResponse<Buffer> page = get("/users?limit=37&offset=" + offset + "&" + filter);
      assertThat(page.statusCode()).isEqualTo(200);
      total = Long.parseLong(page.getHeader("X-Total-Count"));
      JsonArray items = page.bodyAsJsonArray();
      items.forEach(u -> out.add((JsonObject) u));
      if (items.isEmpty()) {
        break;
      }
    }
    assertThat(out).hasSize((int) total);
    assertThat(out.stream().map(u -> u.getLong("id")).toList()).isSorted().doesNotHaveDuplicates();
    return out;
  }

  private static long internalId(long externalId) throws Exception {
    return await(pool.preparedQuery("SELECT id FROM users WHERE external_id = $1")
      .execute(io.vertx.sqlclient.Tuple.of(externalId))).iterator().next().getLong(0);
  }

  private static JsonObject userByExternalId(long externalId) throws Exception {
    HttpResponse<Buffer> r = get("/users/" + internalId(externalId));
    assertThat(r.statusCode()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }
}
