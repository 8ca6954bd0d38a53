package dev.boxoffice.platform;

import com.hazelcast.cluster.Address;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.HazelcastInstanceImpl;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.instance.impl.Node;
import com.hazelcast.internal.cluster.Joiner;
import com.hazelcast.internal.cluster.impl.AbstractJoiner;
import com.hazelcast.internal.cluster.impl.ClusterJoinManager;
import com.hazelcast.internal.cluster.impl.ClusterServiceImpl;
import com.hazelcast.internal.cluster.impl.SplitBrainJoinMessage;
import com.hazelcast.internal.cluster.impl.SplitBrainJoinMessage.SplitBrainMergeCheckResult;
import com.hazelcast.internal.cluster.impl.TcpIpJoiner;
import com.hazelcast.internal.server.ServerConnectionManager;
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
 * Merges this node back into the cluster it was cut from as soon as it can, and looks for other clusters to merge
 * with (Hazelcast's split-brain check) every {@link #SEARCH_EVERY_MS}.
 *
 * <p>A node frozen past the heartbeat timeout (a long GC pause, a stalled VM, SIGSTOP) is removed by the others; when
 * it wakes they refuse its heartbeats and it ends up alone, the master of a cluster of one. Hazelcast repairs such a
 * split from a periodic check that asks every address of the member list in turn, each one that does not answer
 * costing it 5 s (by default first 300 s after the start, then every 120 s); so the woken node ran alone for
 * minutes. This class remembers the addresses of the members that left this node's view (the cluster it was cut
 * from is there) and, while this node is the master of its side, asks them first, once a second, with Hazelcast's
 * own merge check: when the answer is that this side should merge (it is the smaller), it merges at once, exactly
 * as the periodic check would. A partition that heals is mended the same way from the smaller side.
 *
 * <p>The periodic check itself runs here too, on the same thread, every {@link #SEARCH_EVERY_MS} (and without
 * Hazelcast's 5 s wait on each address that does not answer, {@link #searchConnected}): two checks running at once
 * both merged, the second undoing the first (seen: a woken node merged twice in a second). So cluster.xml moves
 * Hazelcast's own scheduled check out to a minute, as a last resort should this thread ever stop.
 *
 * <p>Hazelcast offers no public call for the targeted check: the check and the merge are the joiner's own methods,
 * reached by reflection against the pinned Hazelcast (vertx-hazelcast's managed version). If they cannot be reached
 * this class relies on the periodic search alone, which is slower but the same decision.
 */
public final class ClusterRejoin implements MembershipListener {
  private static final Logger log = LoggerFactory.getLogger(ClusterRejoin.class);
  static final long TRY_EVERY_MS = 1_000;
  /** How long after a member left this node keeps asking it; the periodic search carries on after. */
  static final long KEEP_TRYING_MS = 60_000;
  /** Hazelcast's split-brain check, every address of the member list (cluster.xml pushes Hazelcast's own out). */
  static final long SEARCH_EVERY_MS = 5_000;

  private static final Method CHECK;
  private static final Method MERGE;
  private static final Method JOINING;
  private static final Method POSSIBLE;

  static {
    Method check = null;
    Method merge = null;
    Method joining = null;
    Method possible = null;
    try {
      check = AbstractJoiner.class.getDeclaredMethod("sendSplitBrainJoinMessageAndCheckResponse", Address.class,
        SplitBrainJoinMessage.class);
      merge = AbstractJoiner.class.getDeclaredMethod("startClusterMerge", Address.class, int.class);
      joining = ClusterJoinManager.class.getDeclaredMethod("isJoinInProgress");
      possible = TcpIpJoiner.class.getDeclaredMethod("getPossibleAddresses");
      check.setAccessible(true);
      possible.setAccessible(true);
      merge.setAccessible(true);
      joining.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("Hazelcast's merge check is not reachable ({}); a node cut off will rejoin through the periodic search",
        e.toString());
      check = null;
      merge = null;
      joining = null;
      possible = null;
    }
    CHECK = check;
    MERGE = merge;
    JOINING = joining;
    POSSIBLE = possible;
  }

  private final Node node;
  /** Addresses of members that left this node's view, and when. */
  private final Map<Address, Long> lost = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "boxoffice-cluster-rejoin");
    t.setDaemon(true);
    return t;
  });

  private long lastSearch = System.nanoTime();

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
      ClusterServiceImpl cluster = node.getClusterService();
      // only a master decides for its side, never while a join or merge is under way (what Hazelcast's own check
      // asks before it runs)
      if (!node.isRunning() || !cluster.isJoined() || !cluster.isMaster()
        || !cluster.getClusterState().isJoinAllowed()
        || (JOINING != null && (Boolean) JOINING.invoke(cluster.getClusterJoinManager()))) {
        return;
      }
      Joiner joiner = node.getJoiner();
      if (CHECK != null && joiner instanceof AbstractJoiner && mergedIntoLost(cluster, joiner)) {
        return;
      }
      if (TimeUnit.NANOSECONDS.toMillis(now - lastSearch) >= SEARCH_EVERY_MS) {
        lastSearch = now;
        if (CHECK != null && joiner instanceof TcpIpJoiner) {
          searchConnected(cluster, joiner);
        } else {
          joiner.searchForOtherClusters();
        }
      }
    } catch (InvocationTargetException e) {
      log.debug("rejoin attempt failed: {}", e.getCause() == null ? e.toString() : e.getCause().toString());
    } catch (Exception e) {
      log.debug("rejoin attempt failed: {}", e.toString());
    }
  }

  /**
   * Hazelcast's split-brain search over every address of the member list, without its 5 s wait on each address
   * that does not answer (a static list names hosts that are down; the search would block this thread, and with it
   * the prompt rejoin above, for 5 s each): an address is asked only once a connection to it is up; one that is not
   * is sent a connection attempt and asked at the next search if it answered.
   */
  @SuppressWarnings("unchecked")
  private void searchConnected(ClusterServiceImpl cluster, Joiner joiner) throws ReflectiveOperationException {
    List<Address> addresses = new ArrayList<>((java.util.Collection<Address>) POSSIBLE.invoke(joiner));
    addresses.remove(node.getThisAddress());
    addresses.removeAll(cluster.getMemberAddresses());
    ServerConnectionManager connections = node.getServer().getConnectionManager(EndpointQualifier.MEMBER);
    for (Address target : addresses) {
      if (connections.getOrConnect(target) == null) {
        continue;
      }
      SplitBrainJoinMessage request = node.createSplitBrainJoinMessage();
      if (CHECK.invoke(joiner, target, request) == SplitBrainMergeCheckResult.LOCAL_NODE_SHOULD_MERGE) {
        log.warn("this node's side of the cluster ({} member(s)) is merging into the cluster of {}", cluster.getSize(),
          target);
        joiner.setTargetAddress(target);
        MERGE.invoke(joiner, target, request.getMemberListVersion());
        return;
      }
    }
  }

  /** Asks the members this node lost sight of, newest first; merges into the first whose side is the larger. */
  private boolean mergedIntoLost(ClusterServiceImpl cluster, Joiner joiner) throws ReflectiveOperationException {
    List<Address> candidates = new ArrayList<>(lost.keySet());
    candidates.removeAll(cluster.getMemberAddresses());
    lost.keySet().retainAll(candidates);
    candidates.sort(Comparator.comparing((Address a) -> lost.getOrDefault(a, 0L)).reversed());
    for (Address target : candidates) {
      SplitBrainJoinMessage request = node.createSplitBrainJoinMessage();
      Object result = CHECK.invoke(joiner, target, request);
      if (result == SplitBrainMergeCheckResult.LOCAL_NODE_SHOULD_MERGE) {
        log.warn("this node's side of the cluster ({} member(s)) is merging into the cluster of {}, which it was"
          + " cut from", cluster.getSize(), target);
        lost.clear();
        joiner.setTargetAddress(target);
        MERGE.invoke(joiner, target, request.getMemberListVersion());
        return true;
      }
      if (result == SplitBrainMergeCheckResult.REMOTE_NODE_SHOULD_MERGE) {
        return true; // the other side is the smaller: it merges into this one
      }
    }
    return false;
  }
}
