package dev.boxoffice.cluster;

import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.ClusterConfig;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nodes on one host with distinct cluster ports and {@code BOXOFFICE_CLUSTER_MEMBERS=127.0.0.1} form one cluster
 * whichever starts first. Hazelcast alone looks only at a node's own port and the two above it, so a node started
 * after one with a lower port stayed alone. The nodes here are the clustered Vert.x instances a node starts, built
 * from the same settings by {@link ClusterConfig} (membership needs no database).
 */
class ClusterPortsTest {
  private final List<Vertx> started = new ArrayList<>();
  private final String cluster = "ports-" + UUID.randomUUID().toString().substring(0, 8);

  @AfterEach
  void stop() {
    for (Vertx vertx : started) {
      await(vertx.close());
    }
  }

  @Test
  void theHigherPortFirstThenTheLowerJoin() {
    int base = TestStorage.freePortRun(6);
    Vertx high = join(base + 5);
    Vertx low = join(base);
    eventually(() -> {
      assertThat(members(high)).hasSize(2);
      assertThat(members(low)).hasSize(2);
    });
  }

  @Test
  void theLowerPortFirstThenTheHigherJoin() {
    int base = TestStorage.freePortRun(6);
    Vertx low = join(base);
    Vertx high = join(base + 5);
    eventually(() -> {
      assertThat(members(low)).hasSize(2);
      assertThat(members(high)).hasSize(2);
    });
  }

  @Test
  void threeNodesInMixedOrderFormOneCluster() {
    int base = TestStorage.freePortRun(9);
    Vertx middle = join(base + 4);
    Vertx high = join(base + 8);
    Vertx low = join(base);
    eventually(() -> {
      for (Vertx node : List.of(low, middle, high)) {
        assertThat(members(node)).hasSize(3);
      }
    });
  }

  @Test
  void aMemberWithAPortIsLookedForThereOnly() {
    int base = TestStorage.freePortRun(6);
    Vertx first = join(base + 5, "127.0.0.1:" + (base + 5));
    Vertx second = join(base, "127.0.0.1:" + (base + 5));
    eventually(() -> assertThat(members(second)).hasSize(2));
    assertThat(members(first)).hasSize(2);
  }

  @Test
  void aPortRangeIsLookedForOnEachPort() {
    int base = TestStorage.freePortRun(6);
    Vertx first = join(base + 5, "127.0.0.1:" + base + "-" + (base + 5));
    Vertx second = join(base, "127.0.0.1:" + base + "-" + (base + 5));
    eventually(() -> assertThat(members(second)).hasSize(2));
    assertThat(members(first)).hasSize(2);
  }

  private Vertx join(int port) {
    return join(port, "127.0.0.1");
  }

  private Vertx join(int port, String members) {
    AppConfig config = AppConfig.of(new JsonObject().put("cluster_name", cluster).put("cluster_host", "127.0.0.1")
      .put("cluster_port", port).put("cluster_members", members));
    config.validate();
    Vertx vertx = await(Vertx.builder()
      .with(new VertxOptions().setEventBusOptions(ClusterConfig.eventBusOptions(config)))
      .withClusterManager(ClusterConfig.clusterManager(config)).buildClustered());
    started.add(vertx);
    return vertx;
  }

  private static List<String> members(Vertx vertx) {
    return ((VertxInternal) vertx).clusterManager().getNodes();
  }
}
