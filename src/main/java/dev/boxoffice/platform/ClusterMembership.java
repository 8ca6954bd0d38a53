package dev.boxoffice.platform;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * This node's identity and the cluster's members. The node id is the Vert.x cluster node id when clustered,
 * so a lease names the member that holds it and survivors can reclaim a departed member's work at once.
 */
public final class ClusterMembership {
  private static final String VERTX_NODE_ID = "__vertx.nodeId";
  private final Vertx vertx;
  private final String standaloneId = UUID.randomUUID().toString();

  public ClusterMembership(Vertx vertx) {
    this.vertx = vertx;
    PauseWatch.shared(); // from the start: a pause is noticed only by a watch that was running before it
  }

  /**
   * Once the node has joined: merges it back into the cluster it was cut from as soon as that cluster answers, rather
   * than at Hazelcast's periodic split-brain check ({@link ClusterRejoin}). No-op when standalone.
   */
  public static void rejoinPromptly(Vertx vertx) {
    if (vertx instanceof VertxInternal vi && vi.clusterManager() instanceof HazelcastClusterManager hz) {
      ClusterRejoin.install(hz.getHazelcastInstance());
    }
  }

  /**
   * Whether this process is waking from a pause long enough for the cluster to have removed it ({@link PauseWatch}):
   * members that leave its view now were not lost, this node was.
   */
  public boolean waking() {
    return PauseWatch.shared().waking();
  }

  /** The last pause this process noticed, in ms (0 if none). */
  public long lastPauseMs() {
    return PauseWatch.shared().lastPauseMs();
  }

  private ClusterManager manager() {
    return vertx instanceof VertxInternal vi ? vi.clusterManager() : null;
  }

  public boolean clustered() {
    return manager() != null;
  }

  public String nodeId() {
    ClusterManager cm = manager();
    return cm == null ? standaloneId : cm.getNodeId();
  }

  public List<String> members() {
    ClusterManager cm = manager();
    return cm == null ? List.of(standaloneId) : cm.getNodes();
  }

  /** Calls {@code handler} with the id of each member that leaves (crash or shutdown). No-op when standalone. */
  public void onMemberLeft(Consumer<String> handler) {
    if (manager() instanceof HazelcastClusterManager hz) {
      HazelcastInstance instance = hz.getHazelcastInstance();
      instance.getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
          // Vert.x names nodes by its own id, kept as a Hazelcast member attribute
          String id = event.getMember().getAttribute(VERTX_NODE_ID);
          if (id != null) {
            vertx.runOnContext(v -> handler.accept(id));
          }
        }
      });
    }
  }
}
