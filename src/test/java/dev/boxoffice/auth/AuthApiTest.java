package dev.boxoffice.auth;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.RedisClients;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.hashing.HashString;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** POST /token, the login limiter, and how the HTTP edge treats the tokens it issues. */
class AuthApiTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("trusted_proxies", "127.0.0.1, ::1");
  private static ApiClient anonymous;
  private static ApiClient admin;
  private static ApiClient user;

  @BeforeAll
  static void login() {
    anonymous = node.api();
    admin = await(anonymous.login("admin", "admin"));
    user = await(anonymous.login("testuser", "testpass"));
  }

  @Test
  void goodLoginReturnsBearerTokenThatOpensProtectedRoutes() throws Exception {
    HttpResponse<Buffer> r = await(anonymous.post("/token", credentials("admin", "admin")));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("Cache-Control")).isEqualTo("no-store");
    JsonObject body = r.bodyAsJsonObject();
    assertThat(body.getString("token_type")).isEqualTo("bearer");
    assertThat(body.getInteger("expires_in")).isEqualTo(3600);
    JsonObject claims = claims(body.getString("access_token"));
    assertThat(claims.getString("sub")).isEqualTo("admin");
    assertThat(claims.getString("role")).isEqualTo("admin");

    HttpResponse<Buffer> bookings = await(anonymous.withToken(body.getString("access_token")).get("/bookings"));
    assertThat(bookings.statusCode()).isNotIn(401, 403);
  }

  @Test
  void tokensVerifyWithTheEdgeProviderAndCarrySubAndRole() throws Exception {
    HttpResponse<Buffer> r = await(anonymous.post("/token", credentials("testuser", "testpass")));
    String token = r.bodyAsJsonObject().getString("access_token");

    var verified = await(Jwt.provider(node.vertx(), node.platform().config().jwtSecret())
      .authenticate(new TokenCredentials(token)));

    assertThat(verified.principal().getString("sub")).isEqualTo("testuser");
    assertThat(verified.principal().getString("role")).isEqualTo("user");
    assertThat(verified.principal().getString("iss")).isEqualTo(Jwt.ISSUER);
  }

  @Test
  void wrongPasswordIs401WithJsonError() throws Exception {
    HttpResponse<Buffer> r = await(anonymous.post("/token", credentials("admin", "not-the-password")));

    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    assertThat(r.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "Invalid username or password"));
    assertThat(r.bodyAsString()).doesNotContain("not-the-password");
  }

  @Test
  void unknownUserGetsTheSame401AsAWrongPassword() throws Exception {
    HttpResponse<Buffer> r = await(anonymous.post("/token", credentials("nobody-" + UUID.randomUUID(), "admin")));

    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.bodyAsJsonObject()).isEqualTo(new JsonObject().put("error", "Invalid username or password"));
  }

  @Test
  void repeatedFailuresBlockThatUsernameFromThatAddressEvenWithTheRightPassword() throws Exception {
    String username = "limited-" + UUID.randomUUID().toString().substring(0, 8);
    await(node.platform().pool().preparedQuery(
        "INSERT INTO accounts (username, password_hash, role) VALUES ($1, $2, 'user')")
      .execute(Tuple.of(username, Passwords.hashNow("right-password"))));

    for (int i = 1; i <= 5; i++) {
      assertThat(await(anonymous.post("/token", credentials(username, "wrong-" + i))).statusCode())
        .as("failure %d of 5 is still a plain 401", i).isEqualTo(401);
    }
    HttpResponse<Buffer> sixth = await(anonymous.post("/token", credentials(username, "wrong-6")));

    assertThat(sixth.statusCode()).isEqualTo(429);
    int retryAfter = Integer.parseInt(sixth.getHeader("Retry-After"));
    assertThat(retryAfter).isBetween(1, 60);
    assertThat(sixth.bodyAsJsonObject().getString("error")).isEqualTo("Too many failed logins; try again later");
    assertThat(sixth.bodyAsJsonObject().getInteger("retry_after")).isEqualTo(retryAfter);

    HttpResponse<Buffer> right = await(anonymous.post("/token", credentials(username, "right-password")));
    assertThat(right.statusCode()).as("blocked even with the right password").isEqualTo(429);
    assertThat(right.getHeader("Retry-After")).isNotNull();

    assertThat(await(anonymous.post("/token", credentials("testuser", "testpass"))).statusCode())
      .as("another username from the same address is unaffected").isEqualTo(200);
  }

  @Test
  void fiftyConcurrentWrongGuessesGetOnlyTheCapChecked() throws Exception {
    String username = "burst-" + UUID.randomUUID().toString().substring(0, 8);
    List<Future<HttpResponse<Buffer>>> guesses = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      guesses.add(anonymous.post("/token", credentials(username, "guess-" + i)));
    }
    await(Future.join(guesses));

    List<Integer> statuses = guesses.stream().map(f -> f.result().statusCode()).toList();
    assertThat(statuses).as("the first 5 are checked, the rest refused before their hash")
      .filteredOn(s -> s == 401).hasSize(5);
    assertThat(statuses).filteredOn(s -> s == 429).hasSize(45);
  }

  @Test
  void aUsernameIsLimitedAcrossAddressesWithAHigherCap() throws Exception {
    String username = "spread-" + UUID.randomUUID().toString().substring(0, 8);
    for (int i = 1; i <= 20; i++) {
      HttpResponse<Buffer> r = await(viaProxy("10.1.0." + i, credentials(username, "wrong")));
      assertThat(r.statusCode()).as("guess %d of 20, each from its own address", i).isEqualTo(401);
    }
    HttpResponse<Buffer> fresh = await(viaProxy("10.1.1.1", credentials(username, "wrong")));
    assertThat(fresh.statusCode()).as("a 21st address for the same username").isEqualTo(429);
    assertThat(fresh.getHeader("Retry-After")).isNotNull();

    assertThat(await(viaProxy("10.1.1.1", credentials("testuser", "testpass"))).statusCode())
      .as("other usernames are unaffected").isEqualTo(200);
  }

  @Test
  void theForwardedAddressCountsOnlyFromATrustedProxy() throws Exception {
    String username = "forwarded-" + UUID.randomUUID().toString().substring(0, 8);
    for (int i = 1; i <= 5; i++) {
      assertThat(await(viaProxy("10.2.0.1", credentials(username, "wrong"))).statusCode()).isEqualTo(401);
    }
    assertThat(await(viaProxy("10.2.0.1", credentials(username, "wrong"))).statusCode())
      .as("the forwarded client is blocked").isEqualTo(429);
    assertThat(await(viaProxy("10.2.0.2", credentials(username, "wrong"))).statusCode())
      .as("another client behind the same proxy is not").isEqualTo(401);
  }

  @Test
  void limiterCountsOnThisNodeWhileRedisIsDown() throws Exception {
    var deadRedis = RedisClients.create(node.vertx(), "redis://127.0.0.1:" + TestStorage.freePort());
    LoginLimiter limiter = new LoginLimiter(deadRedis, node.redisPrefix(), 2, 3, 60);

    assertThat(await(limiter.acquire("bob", "10.0.0.3"))).isZero();
    assertThat(await(limiter.acquire("bob", "10.0.0.3"))).isZero();
    assertThat(await(limiter.acquire("bob", "10.0.0.3"))).as("the pair's cap, kept locally").isBetween(1L, 60L);
    assertThat(await(limiter.acquire("bob", "10.0.0.4"))).isZero();
    assertThat(await(limiter.acquire("bob", "10.0.0.5"))).as("the username's cap, kept locally").isBetween(1L, 60L);

    await(limiter.succeeded("bob", "10.0.0.3"));
    assertThat(await(limiter.acquire("bob", "10.0.0.3"))).as("a right password gives its slots back").isZero();
  }

  @Test
  void anAttemptTheHashingPoolRefusedGivesItsSlotBack() throws Exception {
    LoginLimiter limiter = new LoginLimiter(node.platform().redis(), node.redisPrefix() + "unchecked:", 2, 10, 60);

    assertThat(await(limiter.acquire("carol", "10.0.0.7"))).isZero();
    assertThat(await(limiter.acquire("carol", "10.0.0.7"))).isZero();
    assertThat(await(limiter.acquire("carol", "10.0.0.7"))).as("both slots taken").isPositive();
    await(limiter.unchecked("carol", "10.0.0.7"));

    assertThat(await(limiter.acquire("carol", "10.0.0.7"))).as("the unchecked attempt's slot is free again").isZero();
  }

  @Test
  void limiterWindowExpiresAndTheCountersAlwaysHaveATtl() throws Exception {
    String prefix = node.redisPrefix() + "window:";
    LoginLimiter limiter = new LoginLimiter(node.platform().redis(), prefix, 2, 10, 1);

    assertThat(await(limiter.acquire("alice", "10.0.0.1"))).isZero();
    assertThat(await(limiter.acquire("alice", "10.0.0.1"))).isZero();
    assertThat(await(limiter.acquire("alice", "10.0.0.1"))).isEqualTo(1L);
    assertThat(await(limiter.acquire("alice", "10.0.0.2"))).as("other address").isZero();
    assertThat(await(node.platform().redis().pttl(prefix + "login-failures:10.0.0.1:alice")).toLong())
      .as("the counter always expires").isBetween(1L, 1000L);
    assertThat(await(node.platform().redis().pttl(prefix + "login-failures-user:alice")).toLong())
      .isBetween(1L, 1000L);

    eventually(Duration.ofSeconds(5), () -> assertThat(await(limiter.acquire("alice", "10.0.0.1")))
      .as("unblocked after the window").isZero());
  }

  @Test
  void missingFieldsAre422NamingTheField() throws Exception {
    HttpResponse<Buffer> noPassword = await(anonymous.post("/token", new JsonObject().put("username", "admin")));
    HttpResponse<Buffer> noUsername = await(anonymous.post("/token", new JsonObject().put("password", "admin")));
    HttpResponse<Buffer> emptyUsername = await(anonymous.post("/token", credentials("", "admin")));

    assertThat(noPassword.statusCode()).isEqualTo(422);
    assertThat(fieldNames(noPassword)).contains("password");
    assertThat(noPassword.bodyAsJsonObject().getString("error")).contains("password");
    assertThat(noUsername.statusCode()).isEqualTo(422);
    assertThat(fieldNames(noUsername)).contains("username");
    assertThat(emptyUsername.statusCode()).isEqualTo(422);
    assertThat(fieldNames(emptyUsername)).contains("username");
  }

  @Test
  void malformedJsonIs400() throws Exception {
    HttpResponse<Buffer> r = await(anonymous.postRaw("/token", "{\"username\": \"admin\", "));

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getString("error")).isNotBlank();
  }

  @Test
  void protectedRouteWithoutOrWithABadTokenIs401Json() throws Exception {
    HttpResponse<Buffer> none = await(anonymous.get("/bookings"));
    String forged = Jwt.issue(Jwt.provider(node.vertx(), "some-other-secret-that-is-long-enough-0123456789"),
      "admin", "admin", 3600);
    HttpResponse<Buffer> wrongKey = await(anonymous.withToken(forged).get("/bookings"));
    HttpResponse<Buffer> garbage = await(anonymous.withToken("not.a.jwt").get("/bookings"));

    for (HttpResponse<Buffer> r : List.of(none, wrongKey, garbage)) {
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.bodyAsJsonObject().getString("error")).isNotBlank();
    }
  }

  @Test
  void userTokenOnAnAdminOperationIs403() throws Exception {
    JsonObject event = new JsonObject().put("title", "Jazz night").put("capacity", 10);

    HttpResponse<Buffer> asUser = await(user.post("/events", event));
    HttpResponse<Buffer> asAdmin = await(admin.post("/events", event));

    assertThat(asUser.statusCode()).isEqualTo(403);
    assertThat(asUser.bodyAsJsonObject().getString("error")).isNotBlank();
    assertThat(asAdmin.statusCode()).isNotIn(401, 403);
  }

  @Test
  void passwordsAreStoredAsSaltedPbkdf2Hashes() throws Exception {
    List<Row> rows = new ArrayList<>();
    await(node.platform().pool().query(
        "SELECT username, password_hash, role FROM accounts WHERE username IN ('admin', 'testuser') ORDER BY username")
      .execute()).forEach(rows::add);

    assertThat(rows).extracting(r -> r.getString("username") + ":" + r.getString("role"))
      .containsExactly("admin:admin", "testuser:user");
    for (Row row : rows) {
      String hash = row.getString("password_hash");
      assertThat(hash).startsWith("$pbkdf2$").doesNotContain("admin").doesNotContain("testpass");
      assertThat(new HashString(hash).param("it")).isEqualTo(String.valueOf(Passwords.ITERATIONS));
    }
    assertThat(new HashString(rows.get(0).getString("password_hash")).salt())
      .isNotEqualTo(new HashString(rows.get(1).getString("password_hash")).salt());
    String a = Passwords.hashNow("same");
    String b = Passwords.hashNow("same");
    assertThat(a).as("a random salt per hash").isNotEqualTo(b);
    assertThat(Passwords.verifyNow(a, "same")).isTrue();
    assertThat(Passwords.verifyNow(a, "Same")).isFalse();
    assertThat(Passwords.verifyNow("not a hash", "same")).isFalse();
  }

  @Test
  void prodProfileRefusesTheDevJwtSecret() {
    JsonObject prod = TestNodes.settings("postgresql://postgres@127.0.0.1:1/none", node.redisPrefix())
      .put("profile", "prod");

    for (Object secret : new Object[] {AppConfig.DEV_JWT_SECRET, null, "short-secret"}) {
      AppConfig config = AppConfig.of(prod.copy().put("jwt_secret", secret));
      assertThat(org.assertj.core.api.Assertions.catchThrowable(config::validate))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("JWT_SECRET");
      Throwable startFailure = org.assertj.core.api.Assertions.catchThrowable(() -> await(
        Boxoffice.start(config, false)));
      assertThat(startFailure).hasMessageContaining("JWT_SECRET");
    }
  }

  /** A login as if forwarded by a proxy on this host for {@code client}. */
  private static Future<HttpResponse<Buffer>> viaProxy(String client, JsonObject body) {
    return anonymous.request(HttpMethod.POST, "/token").putHeader("X-Forwarded-For", client).sendJsonObject(body);
  }

  private static JsonObject credentials(String username, String password) {
    return new JsonObject().put("username", username).put("password", password);
  }

  private static JsonObject claims(String jwt) {
    String payload = jwt.split("\\.")[1];
    return new JsonObject(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8));
  }

  private static List<String> fieldNames(HttpResponse<Buffer> r) {
    JsonArray fields = r.bodyAsJsonObject().getJsonArray("fields", new JsonArray());
    List<String> names = new ArrayList<>();
    fields.forEach(f -> names.add(((JsonObject) f).getString("field")));
    return names;
  }
}
