package dev.boxoffice.cli;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code accounts create|reset-password|disable}, run in-process through {@link Cli#run} against a running node's
 * database (what an operator does beside a running cluster), then checked through that node's API.
 */
class AccountsCommandTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());

  /** What a command left: its exit status and its two outputs. */
  record Result(int status, String out, String err) {
  }

  @Test
  void createThenLogInThroughTheApiWithThatPassword() {
    String name = unique("ops");
    Result created = run("s3cret-enough\n", "accounts", "create", name, "--role", "ADMIN");

    assertThat(created.status()).as(created.err()).isZero();
    assertThat(created.out().trim()).isEqualTo("created account " + name + " (role admin)");
    assertThat(created.err()).isEmpty();
    ApiClient admin = await(node.api().login(name, "s3cret-enough"));
    assertThat(await(admin.get("/accounts")).statusCode()).as("the role given").isEqualTo(200);

    Result again = run("another-password\n", "accounts", "create", name);
    assertThat(again.status()).isEqualTo(1);
    assertThat(again.err()).contains("already exists");
  }

  @Test
  void createWithoutRoleMakesAUser() {
    String name = unique("plain");
    assertThat(run("plain-password\n", "accounts", "create", name).status()).isZero();
    ApiClient user = await(node.api().login(name, "plain-password"));
    assertThat(await(user.get("/accounts")).statusCode()).isEqualTo(403);
  }

  @Test
  void resetPasswordReplacesTheOldOneAndEndsEarlierTokens() {
    String name = unique("reset");
    assertThat(run("first-password\n", "accounts", "create", name).status()).isZero();
    ApiClient before = await(node.api().login(name, "first-password"));
    assertThat(await(before.get("/bookings")).statusCode()).isEqualTo(200);

    Result reset = run("second-password\n", "accounts", "reset-password", name);

    assertThat(reset.status()).as(reset.err()).isZero();
    assertThat(reset.out().trim()).startsWith("password of " + name + " reset");
    assertThat(await(node.api().post("/token", credentials(name, "first-password"))).statusCode()).isEqualTo(401);
    ApiClient after = await(node.api().login(name, "second-password"));
    assertThat(await(after.get("/bookings")).statusCode()).isEqualTo(200);
    // no bus reaches the command: the node re-reads the account within its few seconds of memory
    eventually(() -> assertThat(await(before.get("/bookings")).statusCode()).isEqualTo(401));
  }

  @Test
  void disableRefusesLoginAndTheAccountsTokens() {
    String name = unique("gone");
    assertThat(run("gone-password\n", "accounts", "create", name).status()).isZero();
    ApiClient before = await(node.api().login(name, "gone-password"));

    Result disabled = run("", "accounts", "disable", name);

    assertThat(disabled.status()).as(disabled.err()).isZero();
    assertThat(disabled.out().trim()).startsWith("disabled account " + name);
    assertThat(await(node.api().post("/token", credentials(name, "gone-password"))).statusCode()).isEqualTo(401);
    eventually(() -> assertThat(await(before.get("/bookings")).statusCode()).isEqualTo(401));
    JsonObject listed = await(node.admin().get("/accounts?limit=100")).bodyAsJsonArray().stream()
      .map(JsonObject.class::cast).filter(a -> a.getString("username").equals(name)).findFirst().orElseThrow();
    assertThat(listed.getBoolean("disabled")).isTrue();
  }

  @Test
  void refusalsSayWhyWithANonZeroStatus() {
    Result unknown = run("", "accounts", "disable", "nobody-" + UUID.randomUUID());
    assertThat(unknown.status()).isEqualTo(1);
    assertThat(unknown.err()).startsWith("boxoffice: No account named nobody-");

    Result shortPassword = run("short\n", "accounts", "create", unique("tiny"));
    assertThat(shortPassword.status()).isEqualTo(2);
    assertThat(shortPassword.err()).contains("password must be 8..200 characters");

    Result noPassword = run("", "accounts", "reset-password", "testuser");
    assertThat(noPassword.status()).isEqualTo(2);
    assertThat(noPassword.err()).contains("no password on standard input");

    Result badRole = run("long-enough\n", "accounts", "create", unique("r"), "--role", "root");
    assertThat(badRole.status()).isEqualTo(2);
    assertThat(badRole.err()).contains("--role must be admin or user");

    Result badName = run("long-enough\n", "accounts", "create", "two words");
    assertThat(badName.status()).isEqualTo(2);
    assertThat(badName.err()).contains("USER must be");

    Result badCommand = run("", "accounts", "delete", "testuser");
    assertThat(badCommand.status()).isEqualTo(2);
    assertThat(badCommand.err()).contains("unknown accounts command: delete").contains("Usage:");
  }

  @Test
  void anUnreachableDatabaseIsAClearFailure() {
    Map<String, String> env = env();
    env.put("BOXOFFICE_PG_URI", "postgresql://postgres@127.0.0.1:" + TestStorage.freePort() + "/nothing");
    Result r = run(env, "", "accounts", "disable", "testuser");
    assertThat(r.status()).isEqualTo(1);
    assertThat(r.err()).startsWith("boxoffice: accounts disable failed:");
  }

  private static Result run(String stdin, String... args) {
    return run(env(), stdin, args);
  }

  private static Result run(Map<String, String> env, String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Cli.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
      new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env);
    return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** The node's database; no other BOXOFFICE_ variable, as on an operator's shell beside it. */
  private static Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("BOXOFFICE_PG_URI", node.db());
    return env;
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static JsonObject credentials(String username, String password) {
    return new JsonObject().put("username", username).put("password", password);
  }
}
