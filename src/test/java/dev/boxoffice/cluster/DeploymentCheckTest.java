package dev.boxoffice.cluster;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One deployment per cluster: a node whose database is not the members' refuses to start, naming both databases,
 * and leaves the cluster having served nothing; a node of the same database joins.
 */
class DeploymentCheckTest {
  private static Boxoffice.Node first;
  private static String cluster;
  private static String db;
  private static int[] ports;

  @BeforeAll
  static void start() throws Exception {
    db = TestStorage.get().newDatabase("DeploymentCheckTest");
    cluster = "deploy-" + UUID.randomUUID().toString().substring(0, 8);
    ports = new int[] {TestStorage.freePort(), TestStorage.freePort(), TestStorage.freePort()};
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

  private static JsonObject settings(String uri, int index) {
    JsonObject base = TestNodes.settings(uri, TestStorage.redisPrefix("DeploymentCheckTest" + index))
      .mergeIn(TestNodes.noUserCrons()).put("roles", "http").put("http_port", TestStorage.freePort());
    return TestNodes.clustered(base, cluster, ports[index], ports);
  }

  private static String name(String uri) {
    return uri.substring(uri.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
  }
}
