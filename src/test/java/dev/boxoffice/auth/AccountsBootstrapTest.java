package dev.boxoffice.auth;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.cli.Cli;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Database;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Which accounts exist after start-up, per profile, and when a production node refuses to start. */
@ExtendWith(VertxExtension.class)
class AccountsBootstrapTest {
  private static final String PROD_SECRET = "0123456789abcdefghij0123456789abcdefghij";

  @Test
  void devNodesStartingTogetherCreateTheDevAccountsOnceAndProdThenRefusesToStart(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("BootstrapDevThenProd");
    String prefix = TestStorage.redisPrefix("BootstrapDevThenProd");
    Future<Boxoffice.Node> first = Boxoffice.start(AppConfig.of(TestNodes.settings(db, prefix)), false);
    Future<Boxoffice.Node> second = Boxoffice.start(AppConfig.of(TestNodes.settings(db, prefix)), false);
    Boxoffice.Node a = await(first);
    Boxoffice.Node b = await(second);
    try {
      assertThat(accounts(a.platform().pool())).containsExactly("admin:admin", "testuser:user");
    } finally {
      TestNodes.stop(a);
      TestNodes.stop(b);
    }

    Throwable failure = catchThrowable(() -> TestNodes.start(prod(db, prefix), false));

    assertThat(failure).hasMessageContaining("prod profile refuses to start")
      .hasMessageContaining("admin").hasMessageContaining("testuser").hasMessageContaining("dev password");
  }

  @Test
  void prodStartsOnceNoAccountOpensWithADevPassword(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("BootstrapChanged");
    String prefix = TestStorage.redisPrefix("BootstrapChanged");
    TestNodes.stop(TestNodes.start(TestNodes.settings(db, prefix), false));
    Pool pool = Database.pool(vertx, db, 2);
    try {
      await(pool.preparedQuery("UPDATE accounts SET password_hash = $1 WHERE username = 'admin'")
        .execute(Tuple.of(Passwords.hashNow("a-real-admin-password"))));
      assertThat(catchThrowable(() -> TestNodes.start(prod(db, prefix), false)))
        .as("testuser still opens with testpass").hasMessageContaining("testuser").hasMessageNotContaining("admin,");
      await(pool.query("DELETE FROM accounts WHERE username = 'testuser'").execute());
    } finally {
      pool.close();
    }

    Boxoffice.Node node = TestNodes.start(prod(db, prefix), false);
    try {
      ApiClient api = ApiClient.create(vertx, node.platform().config().integer("http_port"));
      assertThat(await(api.post("/token", credentials("admin", "admin"))).statusCode()).isEqualTo(401);
      assertThat(await(api.post("/token", credentials("admin", "a-real-admin-password"))).statusCode())
        .isEqualTo(200);
      assertThat(accounts(node.platform().pool())).containsExactly("admin:admin");
    } finally {
      TestNodes.stop(node);
    }
  }

  @Test
  void prodCreatesNoDevAccountsAndBootstrapsTheFirstAdminFromAdminPassword(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("BootstrapProd");
    String prefix = TestStorage.redisPrefix("BootstrapProd");

    Boxoffice.Node node = TestNodes.start(prod(db, prefix).put("admin_password", "first-admin-secret"), false);
    try {
      assertThat(accounts(node.platform().pool())).containsExactly("admin:admin");
      ApiClient api = ApiClient.create(vertx, node.platform().config().integer("http_port"));
      assertThat(await(api.post("/token", credentials("admin", "first-admin-secret"))).statusCode()).isEqualTo(200);
      assertThat(await(api.post("/token", credentials("testuser", "testpass"))).statusCode()).isEqualTo(401);
    } finally {
      TestNodes.stop(node);
    }

    // An admin exists now: another password in the setting does not replace it.
    Boxoffice.Node again = TestNodes.start(prod(db, prefix).put("admin_password", "another-password"), false);
    try {
      ApiClient api = ApiClient.create(vertx, again.platform().config().integer("http_port"));
      assertThat(await(api.post("/token", credentials("admin", "first-admin-secret"))).statusCode()).isEqualTo(200);
    } finally {
      TestNodes.stop(again);
    }
  }

  @Test
  void prodWithoutAdminPasswordCreatesNoAccountsAndRefusesADevAdminPassword(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("BootstrapProdEmpty");
    String prefix = TestStorage.redisPrefix("BootstrapProdEmpty");

    assertThat(catchThrowable(() -> TestNodes.start(prod(db, prefix).put("admin_password", "admin"), false)))
      .hasMessageContaining("dev password");
    Boxoffice.Node node = TestNodes.start(prod(db, prefix), false);
    try {
      assertThat(accounts(node.platform().pool())).isEmpty();
    } finally {
      TestNodes.stop(node);
    }
  }

  @Test
  void theAccountsCommandsTakeADevDatabaseToProd(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("BootstrapByCommand");
    String prefix = TestStorage.redisPrefix("BootstrapByCommand");
    TestNodes.stop(TestNodes.start(TestNodes.settings(db, prefix), false));
    Map<String, String> env = Map.of("BOXOFFICE_PG_URI", db, "BOXOFFICE_PROFILE", "prod");

    assertThat(command(env, "testpass\n", "accounts", "reset-password", "admin")).as("a dev password in prod")
      .isEqualTo(2);
    assertThat(command(env, "a-real-admin-password\n", "accounts", "reset-password", "admin")).isZero();
    assertThat(command(env, "", "accounts", "disable", "testuser")).isZero();

    Boxoffice.Node node = TestNodes.start(prod(db, prefix), false);
    try {
      ApiClient api = ApiClient.create(vertx, node.platform().config().integer("http_port"));
      assertThat(await(api.post("/token", credentials("testuser", "testpass"))).statusCode()).isEqualTo(401);
      assertThat(await(api.post("/token", credentials("admin", "a-real-admin-password"))).statusCode())
        .isEqualTo(200);
    } finally {
      TestNodes.stop(node);
    }
  }

  private static int command(Map<String, String> env, String stdin, String... args) {
    PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
    return Cli.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), discard, discard, env);
  }

  private static JsonObject prod(String db, String prefix) {
    return TestNodes.settings(db, prefix).put("profile", "prod").put("jwt_secret", PROD_SECRET);
  }

  private static JsonObject credentials(String username, String password) {
    return new JsonObject().put("username", username).put("password", password);
  }

  private static List<String> accounts(Pool pool) throws Exception {
    List<String> found = new ArrayList<>();
    for (Row r : await(pool.query("SELECT username, role FROM accounts ORDER BY username").execute())) {
      found.add(r.getString("username") + ":" + r.getString("role"));
    }
    return found;
  }
}
