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
