package dev.boxoffice.cluster;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.SharedSettings;
import dev.boxoffice.testing.MainProcess;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One deployment per cluster: a node whose database is not the members' refuses to start, naming both databases,
 * and leaves the cluster having served nothing; so does a node whose must-match settings (profile, hold time,
 * payment mode, Redis key prefix, JWT secret, ticket key) differ from the members', naming each setting and both
 * values (secrets by fingerprint). A node of the same database and settings joins.
 */
class DeploymentCheckTest {
  private static final String OTHER_TICKET_KEY = "another-ticket-key-of-at-least-32-characters";
  private static Boxoffice.Node first;
  private static String cluster;
  private static String db;
  private static String redisPrefix;
  private static int[] ports;

  @TempDir
  Path work;

  @BeforeAll
  static void start() throws Exception {
    db = TestStorage.get().newDatabase("DeploymentCheckTest");
    redisPrefix = TestStorage.redisPrefix("DeploymentCheckTest");
    cluster = "deploy-" + UUID.randomUUID().toString().substring(0, 8);
    ports = new int[] {TestStorage.freePort(), TestStorage.freePort(), TestStorage.freePort(), TestStorage.freePort(),
      TestStorage.freePort()};
    first = TestNodes.start(settings(db, 0), true);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(first);
  }

  @Test
  void aNodeOfAnotherDatabaseRefusesToJoinNamingBoth() {
    String other = TestStorage.get().newDatabase("DeploymentCheckOther");
    assertThatThrownBy(() -> TestNodes.start(settings(other, 1), true))
      .hasMessageContaining("refusing to join cluster '" + cluster + "'")
      .hasMessageContaining(name(other)).hasMessageContaining(name(db));
    eventually(() -> assertThat(first.platform().membership().members()).hasSize(1));
  }

  @Test
  void aNodeOfTheSameDatabaseJoins() throws Exception {
    Boxoffice.Node second = TestNodes.start(settings(db, 2), true);
    try {
      assertThat(second.platform().membership().members()).hasSize(2);
    } finally {
      TestNodes.stop(second);
    }
  }

  @Test
  void aNodeWhosePaymentModeAndTicketKeyDifferRefusesToJoinNamingBothValues() {
    JsonObject different = settings(db, 3).put("payment_mode", "MANUAL").put("ticket_key", OTHER_TICKET_KEY);

    assertThatThrownBy(() -> TestNodes.start(different, true))
      .hasMessageContaining("refusing to join cluster '" + cluster + "'")
      .hasMessageContaining("BOXOFFICE_PAYMENT_MODE is manual on this node, auto on the cluster")
      .hasMessageContaining("BOXOFFICE_TICKET_KEY is " + SharedSettings.fingerprint(OTHER_TICKET_KEY)
        + " on this node, " + SharedSettings.fingerprint(TestNodes.TEST_TICKET_KEY) + " on the cluster")
      .satisfies(e -> assertThat(e.getMessage()).doesNotContain(OTHER_TICKET_KEY, TestNodes.TEST_TICKET_KEY)
        .doesNotContain("BOXOFFICE_HOLD_SECONDS"));
    eventually(() -> assertThat(first.platform().membership().members()).hasSize(1));
  }

  /** As the jar runs it: exit status 1, one refusal naming the hold time and the JWT secret, never joined. */
  @Test
  void aJarWhoseHoldTimeAndJwtSecretDifferExitsOneNamingEachSetting() throws Exception {
    String otherSecret = "a-jwt-secret-this-cluster-has-never-seen-0123456789";
    Map<String, String> env = new HashMap<>();
    JsonObject s = settings(db, 4);
    s.put("hold_seconds", 30).put("jwt_secret", otherSecret).put("data_dir", work.resolve("data").toString());
    s.forEach(e -> {
      if (e.getValue() != null) {
        env.put(AppConfig.envName(e.getKey()), String.valueOf(e.getValue()));
      }
    });

    MainProcess.Run run = MainProcess.run(work, env);

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.all()).contains("refusing to join cluster '" + cluster + "'")
      .contains("BOXOFFICE_HOLD_SECONDS is 30 on this node, 60 on the cluster")
      .contains("BOXOFFICE_JWT_SECRET is " + SharedSettings.fingerprint(otherSecret) + " on this node, "
        + SharedSettings.fingerprint(AppConfig.DEV_JWT_SECRET) + " on the cluster")
      .doesNotContain(otherSecret);
    eventually(() -> assertThat(first.platform().membership().members()).hasSize(1));
  }

  private static JsonObject settings(String uri, int index) {
    JsonObject base = TestNodes.settings(uri, redisPrefix).mergeIn(TestNodes.noUserCrons())
      .put("roles", "http").put("http_port", TestStorage.freePort());
    return TestNodes.clustered(base, cluster, ports[index], ports);
  }

  private static String name(String uri) {
    return uri.substring(uri.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
  }
}
