package dev.boxoffice.auth;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The admin's accounts API, and what its changes do to logins and to tokens already issued. */
class AccountsApiTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());
  private static ApiClient anonymous;
  private static ApiClient admin;

  @BeforeAll
  static void login() {
    anonymous = node.api();
    admin = await(anonymous.login("admin", "admin"));
  }

  @Test
  void createdAccountsAreListedWithoutSecretsAndCanLogIn() {
    String name = unique("ada");
    HttpResponse<Buffer> created = await(admin.post("/accounts", account(name, "long-enough-1", "user")));

    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    JsonObject body = created.bodyAsJsonObject();
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("username", "role", "disabled", "created_at");
    assertThat(body.getString("username")).isEqualTo(name);
    assertThat(body.getString("role")).isEqualTo("user");
    assertThat(body.getBoolean("disabled")).isFalse();
    assertThat(Instant.parse(body.getString("created_at"))).isBeforeOrEqualTo(Instant.now());

    ApiClient ada = await(anonymous.login(name, "long-enough-1"));
    assertThat(await(ada.get("/bookings")).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> list = await(admin.get("/accounts?limit=100"));
    assertThat(list.statusCode()).isEqualTo(200);
    JsonArray accounts = list.bodyAsJsonArray();
    assertThat(Long.parseLong(list.getHeader("X-Total-Count"))).isEqualTo(accounts.size()).isGreaterThanOrEqualTo(3);
    assertThat(accounts.stream().map(a -> ((JsonObject) a).getString("username"))).contains("admin", "testuser", name);
    assertThat(list.bodyAsString()).doesNotContain("long-enough-1", "pbkdf2", "password");
    HttpResponse<Buffer> page = await(admin.get("/accounts?limit=1&offset=1"));
    assertThat(page.bodyAsJsonArray()).hasSize(1);
    assertThat(page.bodyAsJsonArray().getJsonObject(0)).isEqualTo(accounts.getJsonObject(1));
  }

  @Test
  void roleDefaultsToUserAndATakenUsernameIs409() {
    String name = unique("bob");
    HttpResponse<Buffer> first = await(admin.post("/accounts",
      new JsonObject().put("username", name).put("password", "long-enough-2")));
    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(first.bodyAsJsonObject().getString("role")).isEqualTo("user");

    HttpResponse<Buffer> again = await(admin.post("/accounts", account(name, "other-password", "admin")));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.bodyAsJsonObject().getString("error")).contains(name);
    await(anonymous.login(name, "long-enough-2")); // the first password still opens it
  }

  @Test
  void invalidAccountsAre422NamingTheField() {
    expect422(await(admin.post("/accounts", account("has space", "long-enough-3", "user"))), "username");
    expect422(await(admin.post("/accounts", account("-dash-first", "long-enough-3", "user"))), "username");
    expect422(await(admin.post("/accounts", account("x".repeat(101), "long-enough-3", "user"))), "username");
    expect422(await(admin.post("/accounts", account(unique("carl"), "short", "user"))), "password");
    expect422(await(admin.post("/accounts", account(unique("carl"), "long-enough-3", "root"))), "role");
    expect422(await(admin.post("/accounts", new JsonObject().put("password", "long-enough-3"))), "username");
    String name = unique("dora");
    assertThat(await(admin.post("/accounts", account(name, "long-enough-3", "user"))).statusCode()).isEqualTo(201);
    expect422(await(admin.patch("/accounts/" + name, new JsonObject().put("password", "short"))), "password");
    expect422(await(admin.patch("/accounts/" + name, new JsonObject().put("role", "owner"))), "role");
    assertThat(await(admin.patch("/accounts/" + name, new JsonObject())).statusCode()).isEqualTo(422);
    assertThat(await(admin.patch("/accounts/" + name, new JsonObject().put("disable", true))).statusCode())
      .isEqualTo(422);
    assertThat(await(admin.patch("/accounts/nobody-" + UUID.randomUUID(), new JsonObject().put("disabled", true)))
      .statusCode()).isEqualTo(404);
  }

  @Test
  void aDisabledAccountCannotLogInAndItsTokensStopAtTheirNextUse() {
    String name = unique("erin");
    assertThat(await(admin.post("/accounts", account(name, "long-enough-4", "user"))).statusCode()).isEqualTo(201);
    ApiClient before = await(anonymous.login(name, "long-enough-4"));
    assertThat(await(before.get("/bookings")).statusCode()).isEqualTo(200); // the node now knows the account

    HttpResponse<Buffer> disabled = await(admin.patch("/accounts/" + name, new JsonObject().put("disabled", true)));
    assertThat(disabled.statusCode()).isEqualTo(200);
    assertThat(disabled.bodyAsJsonObject().getBoolean("disabled")).isTrue();

    assertThat(await(before.get("/bookings")).statusCode()).as("the token issued before").isEqualTo(401);
    HttpResponse<Buffer> login = await(anonymous.post("/token", credentials(name, "long-enough-4")));
    assertThat(login.statusCode()).isEqualTo(401);
    assertThat(login.bodyAsJsonObject().getString("error")).isEqualTo("Invalid username or password");

    HttpResponse<Buffer> enabled = await(admin.patch("/accounts/" + name, new JsonObject().put("disabled", false)));
    assertThat(enabled.statusCode()).isEqualTo(200);
    assertThat(enabled.bodyAsJsonObject().getBoolean("disabled")).isFalse();
    assertThat(await(before.get("/bookings")).statusCode()).as("re-enabling does not revive old tokens")
      .isEqualTo(401);
    ApiClient after = await(anonymous.login(name, "long-enough-4"));
    assertThat(await(after.get("/bookings")).statusCode()).isEqualTo(200);
  }

  @Test
  void aNewPasswordReplacesTheOldOneAndEndsEarlierTokens() {
    String name = unique("fay");
    assertThat(await(admin.post("/accounts", account(name, "long-enough-5", "user"))).statusCode()).isEqualTo(201);
    ApiClient before = await(anonymous.login(name, "long-enough-5"));

    assertThat(await(admin.patch("/accounts/" + name, new JsonObject().put("password", "new-password-5")))
      .statusCode()).isEqualTo(200);

    assertThat(await(before.get("/bookings")).statusCode()).isEqualTo(401);
    assertThat(await(anonymous.post("/token", credentials(name, "long-enough-5"))).statusCode()).isEqualTo(401);
    ApiClient after = await(anonymous.login(name, "new-password-5"));
    assertThat(await(after.get("/bookings")).statusCode()).isEqualTo(200);
  }

  @Test
  void aRoleChangeTakesEffectWithTheNextLogin() {
    String name = unique("gus");
    assertThat(await(admin.post("/accounts", account(name, "long-enough-6", "user"))).statusCode()).isEqualTo(201);
    ApiClient asUser = await(anonymous.login(name, "long-enough-6"));
    assertThat(await(asUser.get("/accounts")).statusCode()).as("a user may not list accounts").isEqualTo(403);
    assertThat(await(asUser.post("/accounts", account(unique("x"), "long-enough-6", "admin"))).statusCode())
      .isEqualTo(403);
    assertThat(await(asUser.patch("/accounts/" + name, new JsonObject().put("role", "admin"))).statusCode())
      .as("nor promote itself").isEqualTo(403);

    HttpResponse<Buffer> promoted = await(admin.patch("/accounts/" + name, new JsonObject().put("role", "admin")));
    assertThat(promoted.statusCode()).isEqualTo(200);
    assertThat(promoted.bodyAsJsonObject().getString("role")).isEqualTo("admin");

    assertThat(await(asUser.get("/bookings")).statusCode()).as("the user-role token is over").isEqualTo(401);
    ApiClient asAdmin = await(anonymous.login(name, "long-enough-6"));
    assertThat(await(asAdmin.get("/accounts")).statusCode()).isEqualTo(200);

    assertThat(await(admin.patch("/accounts/" + name, new JsonObject().put("role", "user"))).statusCode())
      .isEqualTo(200);
    assertThat(await(asAdmin.get("/accounts")).statusCode()).as("the admin-role token is over").isEqualTo(401);
  }

  @Test
  void theLastEnabledAdminCannotBeDisabledOrDemoted() {
    // every other enabled admin (made by other tests of this class) is disabled first: admin is then the last
    for (Object a : await(admin.get("/accounts?limit=100")).bodyAsJsonArray()) {
      JsonObject account = (JsonObject) a;
      if ("admin".equals(account.getString("role")) && !account.getBoolean("disabled")
        && !"admin".equals(account.getString("username"))) {
        assertThat(await(admin.patch("/accounts/" + account.getString("username"),
          new JsonObject().put("disabled", true))).statusCode()).isEqualTo(200);
      }
    }

    HttpResponse<Buffer> disable = await(admin.patch("/accounts/admin", new JsonObject().put("disabled", true)));
    assertThat(disable.statusCode()).isEqualTo(409);
    assertThat(disable.bodyAsJsonObject().getString("error")).contains("last enabled admin");
    assertThat(await(admin.patch("/accounts/admin", new JsonObject().put("role", "user"))).statusCode())
      .isEqualTo(409);
    assertThat(await(admin.get("/accounts")).statusCode()).as("admin's token still works").isEqualTo(200);

    String second = unique("hal");
    assertThat(await(admin.post("/accounts", account(second, "long-enough-7", "admin"))).statusCode())
      .isEqualTo(201);
    HttpResponse<Buffer> demoted = await(admin.patch("/accounts/" + second, new JsonObject().put("role", "user")));
    assertThat(demoted.statusCode()).as("another enabled admin remains").isEqualTo(200);
  }

  private static void expect422(HttpResponse<Buffer> r, String field) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(422);
    assertThat(r.bodyAsJsonObject().getJsonArray("fields").stream()
      .map(f -> ((JsonObject) f).getString("field"))).as(r.bodyAsString()).contains(field);
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static JsonObject account(String username, String password, String role) {
    return new JsonObject().put("username", username).put("password", password).put("role", role);
  }

  private static JsonObject credentials(String username, String password) {
    return new JsonObject().put("username", username).put("password", password);
  }
}
