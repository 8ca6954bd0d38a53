package dev.boxoffice.platform;

import com.hazelcast.cluster.Address;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceImpl;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.instance.impl.Node;
import com.hazelcast.internal.cluster.Joiner;
import com.hazelcast.internal.cluster.impl.AbstractJoiner;
import com.hazelcast.internal.cluster.impl.ClusterServiceImpl;
import com.hazelcast.internal.cluster.impl.SplitBrainJoinMessage;
import com.hazelcast.internal.cluster.impl.SplitBrainJoinMessage.SplitBrainMergeCheckResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Merges this node back into the cluster it was cut from as soon as it can, instead of at Hazelcast's next
 * split-brain check.
 *
 * <p>A node frozen past the heartbeat timeout (a long GC pause, a stalled VM, SIGSTOP) is removed by the others; when
 * it wakes they refuse its heartbeats and it ends up alone, the master of a cluster of one. Hazelcast repairs such a
 * split from a periodic check (cluster.xml, {@code hazelcast.merge.next.run.delay.seconds}) that asks every address
 * of the member list in turn, each one that does not answer costing it 5 s; so the woken node ran alone for tens of
 * seconds. This class remembers the addresses of the members that left this node's view (the cluster it was cut
 * from is there) and, while this node is the master of its side, asks them first, once a second, with Hazelcast's
 * own merge check: when the answer is that this side should merge (it is the smaller), it merges at once, exactly as
 * the periodic check would. The periodic check still runs, for whatever this misses. A partition that heals is
 * mended the same way from the smaller side.
 *
 * <p>Hazelcast offers no public call for this: the check and the merge are the joiner's own methods, reached by
 * reflection against the pinned Hazelcast (vertx-hazelcast's managed version). If they cannot be reached this class
 * asks the joiner for its full search instead, which is slower but the same decision.
 */
public final class ClusterRejoin implements MembershipListener {
  private static final Logger log = LoggerFactory.getLogger(ClusterRejoin.class);
  static final long TRY_EVERY_MS = 1_000;
  /** How long after a member left this node keeps asking it; the periodic check carries on after. */
  static final long KEEP_TRYING_MS = 60_000;

  private static final Method CHECK;
  private static final Method MERGE;

  static {
    Method check = null;
    Method merge = null;
    try {
      check = AbstractJoiner.class.getDeclaredMethod("sendSplitBrainJoinMessageAndCheckResponse", Address.class,
        SplitBrainJoinMessage.class);
      merge = AbstractJoiner.class.getDeclaredMethod("startClusterMerge", Address.class, int.class);
      check.setAccessible(true);
      merge.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("Hazelcast's merge check is not reachable ({}); a node cut off will rejoin through its full search",
        e.toString());
      check = null;
      merge = null;
    }
    CHECK = check;
    MERGE = merge;
  }

  private final Node node;
  /** Addresses of members that left this node's view, and when. */
  private final Map<Address, Long> lost = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "boxoffice-cluster-rejoin");
    t.setDaemon(true);
    return t;
  });

  private ClusterRejoin(Node node) {
    this.node = node;
  }

  /** Starts watching {@code hazelcast}'s membership; does nothing for an instance it cannot look into. */
  static void install(HazelcastInstance hazelcast) {
    Node node = node(hazelcast);
    if (node == null) {
      log.warn("not a Hazelcast member instance ({}); a node cut off rejoins at Hazelcast's periodic check",
        hazelcast.getClass().getName());
      return;
    }
    ClusterRejoin rejoin = new ClusterRejoin(node);
    hazelcast.getCluster().addMembershipListener(rejoin);
    rejoin.timer.scheduleWithFixedDelay(rejoin::tick, TRY_EVERY_MS, TRY_EVERY_MS, TimeUnit.MILLISECONDS);
    hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.SHUTTING_DOWN) {
        rejoin.timer.shutdownNow();
      }
    });
  }

  private static Node node(HazelcastInstance hazelcast) {
    if (hazelcast instanceof HazelcastInstanceProxy proxy) {
      return proxy.getOriginal().node;
    }
    return hazelcast instanceof HazelcastInstanceImpl impl ? impl.node : null;
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    lost.remove(event.getMember().getAddress());
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    if (!event.getMember().localMember()) {
      lost.put(event.getMember().getAddress(), System.nanoTime());
    }
  }

  private void tick() {
    try {
      long now = System.nanoTime();
      lost.values().removeIf(at -> TimeUnit.NANOSECONDS.toMillis(now - at) > KEEP_TRYING_MS);
      if (lost.isEmpty()) {
        return;
      }
      ClusterServiceImpl cluster = node.getClusterService();
      // only a master decides for its side, and not while its cluster state forbids joins (a merge under way
      // freezes it; the merge itself re-checks the member list version)
      if (!node.isRunning() || !cluster.isJoined() || !cluster.isMaster()
        || !cluster.getClusterState().isJoinAllowed()) {
        return;
      }
      List<Address> candidates = new ArrayList<>(lost.keySet());
      candidates.removeAll(cluster.getMemberAddresses());
      lost.keySet().retainAll(candidates);
      candidates.sort(Comparator.comparing((Address a) -> lost.getOrDefault(a, 0L)).reversed());
      Joiner joiner = node.getJoiner();
      if (candidates.isEmpty()) {
        return;
      }
      if (CHECK == null || !(joiner instanceof AbstractJoiner)) {
        joiner.searchForOtherClusters();
        return;
      }
      for (Address target : candidates) {
        SplitBrainJoinMessage request = node.createSplitBrainJoinMessage();
        Object result = CHECK.invoke(joiner, target, request);
        if (result == SplitBrainMergeCheckResult.LOCAL_NODE_SHOULD_MERGE) {
          log.warn("this node's side of the cluster ({} member(s)) is merging into the cluster of {}, which it was"
            + " cut from", cluster.getSize(), target);
          lost.clear();
          joiner.setTargetAddress(target);
          MERGE.invoke(joiner, target, request.getMemberListVersion());
          return;
        }
        if (result == SplitBrainMergeCheckResult.REMOTE_NODE_SHOULD_MERGE) {
          return; // the other side is the smaller: it merges into this one
        }
      }
    } catch (InvocationTargetException e) {
      log.debug("prompt rejoin attempt failed: {}", e.getCause() == null ? e.toString() : e.getCause().toString());
    } catch (Exception e) {
      log.debug("prompt rejoin attempt failed: {}", e.toString());
    }
  }
}
