package dev.boxoffice.platform;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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

  /**
   * Stops the other members sending this node messages for {@code addresses}, while its consumers stay registered
   * here (so a message already on its way still finds one and is answered): this node's registrations are removed
   * from the cluster's address book; the consumers' own unregistration, when Vert.x closes, then finds nothing left to
   * remove. The members' routing follows within milliseconds (Hazelcast's entry events). No-op when standalone.
   */
  public Future<Void> withdraw(Set<String> addresses) {
    ClusterManager cm = manager();
    if (cm == null || addresses.isEmpty()) {
      return Future.succeededFuture();
    }
    String self = cm.getNodeId();
    List<Future<Void>> removed = new ArrayList<>();
    for (String address : addresses) {
      Promise<List<RegistrationInfo>> found = Promise.promise();
      cm.getRegistrations(address, found);
      removed.add(found.future().compose(registrations -> Future.join(registrations.stream()
        .filter(r -> self.equals(r.nodeId()) && !r.localOnly())
        .map(r -> {
          Promise<Void> gone = Promise.promise();
          cm.removeRegistration(address, r, gone);
          return gone.future();
        }).toList()).<Void>mapEmpty()));
    }
    return Future.join(removed).mapEmpty();
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
