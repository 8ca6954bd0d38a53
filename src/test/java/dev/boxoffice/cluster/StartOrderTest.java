package dev.boxoffice.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The safe start order: a node that cannot finish starting (its HTTP port taken, a port out of range) fails before
 * it joins the cluster, so it never appears among a running node's members and never takes its bus traffic. A
 * node that can start does join (the same cluster settings), which shows the first node would have seen it.
 */
class StartOrderTest {
  private static Boxoffice.Node first;
  private static JsonObject base;
  private static int firstClusterPort;
  private static final List<String> joined = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    String db = TestStorage.get().newDatabase("StartOrderTest");
    String cluster = "order-" + UUID.randomUUID().toString().substring(0, 8);
    firstClusterPort = TestStorage.freePort();
    base = TestNodes.settings(db, TestStorage.redisPrefix("StartOrderTest")).mergeIn(TestNodes.noUserCrons())
      .put("cluster_name", cluster);
    first = TestNodes.start(TestNodes.clustered(base.copy().put("roles", "http,workers"), cluster, firstClusterPort,
      firstClusterPort), true);
    HazelcastClusterManager hz = (HazelcastClusterManager) ((VertxInternal) first.vertx()).clusterManager();
    hz.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        joined.add(String.valueOf(event.getMember()));
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
      }
    });
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(first);
  }

  private static JsonObject second(int httpPort) {
    int port = TestStorage.freePort();
    return TestNodes.clustered(base.copy().put("http_port", httpPort), base.getString("cluster_name"), port,
      firstClusterPort, port);
  }

  @Test
  void aNodeWhoseHttpPortIsTakenFailsWithoutEverJoining() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Throwable failure = catchThrowable(() -> TestNodes.start(second(taken.getLocalPort()), true));

      assertThat(failure).hasMessageContaining("cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
    assertThat(joined).as("members that joined the first node's cluster").isEmpty();
  }

  @Test
  void aPortOutOfRangeIsRefusedBeforeJoining() {
    Throwable failure = catchThrowable(() -> TestNodes.start(second(70000), true));

    assertThat(failure).hasMessageContaining("BOXOFFICE_HTTP_PORT must be a port (1..65535), got 70000");
    assertThat(joined).isEmpty();
  }

  /** The control: the same settings with a free port join, so the listener above would have seen a failed node. */
  @Test
  void aNodeThatCanStartJoins() throws Exception {
    int before = joined.size();
    Boxoffice.Node second = await(Boxoffice.start(AppConfig.of(second(TestStorage.freePort()).put("roles", "http")),
      true));
    try {
      eventually(() -> assertThat(joined).hasSize(before + 1));
    } finally {
      TestNodes.stop(second);
      joined.clear();
    }
  }
}
