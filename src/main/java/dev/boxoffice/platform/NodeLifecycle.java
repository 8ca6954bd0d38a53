package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where this node is in its life, for those who route work to it: a load balancer polling readiness and the other
 * members' HTTP edges sending API requests over the bus. One per node (Vert.x instance), found with {@link #of}.
 *
 * <ul>
 *   <li>{@code STARTING}: readiness 503 {@code starting} until every deployment is done.</li>
 *   <li>{@code SERVING}: readiness 200 (when storage is up).</li>
 *   <li>{@code DRAINING} (SIGTERM, during {@code shutdown_drain_ms}): readiness 503 {@code draining} while
 *       everything is still served, so the balancer stops sending here before the HTTP server stops accepting; HTTP
 *       responses say {@code Connection: close}, so no keep-alive connection is left to be reused at that moment.</li>
 *   <li>{@code CLOSING} (after the HTTP server has stopped): the API handlers here take no new request from the bus
 *       ({@link #admit} is false: they answer {@link Bus#NOT_TAKEN}, which the sending edge retries on another
 *       member); those already running finish. Then the node withdraws its handlers' addresses from the cluster
 *       ({@link ClusterMembership#withdraw}) and only then closes Vert.x and leaves: a request routed here while the
 *       handlers unregistered would have been dropped without an answer (Vert.x drops a message from the wire whose
 *       address has no consumer left), and its client answered only when the edge gave up.</li>
 * </ul>
 */
public final class NodeLifecycle implements Shareable {
  private static final String MAP = "boxoffice.node.lifecycle";

  /** The states in order; a node only moves forward. */
  public enum State {
    STARTING, SERVING, DRAINING, CLOSING;

    /** As readiness reports it: starting, serving, draining (closing reads as draining too). */
    public String readiness() {
      return (this == CLOSING ? DRAINING : this).name().toLowerCase(Locale.ROOT);
    }
  }

  private volatile State state = State.STARTING;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final Set<String> addresses = ConcurrentHashMap.newKeySet();

  private NodeLifecycle() {
  }

  /** This node's lifecycle (made on first use). */
  public static NodeLifecycle of(Vertx vertx) {
    LocalMap<String, NodeLifecycle> map = vertx.sharedData().getLocalMap(MAP);
    NodeLifecycle fresh = new NodeLifecycle();
    NodeLifecycle known = map.putIfAbsent("node", fresh);
    return known != null ? known : fresh;
  }

  public State state() {
    return state;
  }

  /** True from SIGTERM on: readiness 503, HTTP responses close their connections. */
  public boolean draining() {
    return state.compareTo(State.DRAINING) >= 0;
  }

  /** Every deployment is done: readiness may answer 200. */
  public void started() {
    advance(State.SERVING);
  }

  /** SIGTERM: readiness 503 from now on; everything else is still served. */
  public void drain() {
    advance(State.DRAINING);
  }

  /** The HTTP server has stopped: API handlers here take no new request from the bus. */
  public void close() {
    advance(State.CLOSING);
  }

  private synchronized void advance(State next) {
    if (next.compareTo(state) > 0) {
      state = next;
    }
  }

  // ------------------------------------------------------------------ the API handlers' side

  /** An API handler listens on {@code address}; withdrawn from the cluster when the node closes. */
  void served(String address) {
    addresses.add(address);
  }

  /** The addresses the API handlers here listen on. */
  public Set<String> addresses() {
    return Set.copyOf(addresses);
  }

  /**
   * Whether a handler may start a request now; when it does, {@link #finished} must follow. Counted before the state
   * is read, so that {@link #awaitIdle} after {@link #close} either sees the request running or the request sees the
   * node closing (and is refused): none slips between the two.
   */
  boolean admit() {
    running.incrementAndGet();
    if (state == State.CLOSING) {
      running.decrementAndGet();
      refused.incrementAndGet();
      return false;
    }
    return true;
  }

  void finished() {
    running.decrementAndGet();
  }

  /** Requests the handlers here refused since the node began closing (their edges sent them elsewhere). */
  public int refused() {
    return refused.get();
  }

  /** Requests the handlers here are running now. */
  public int running() {
    return running.get();
  }

  /** Completes when no handler here runs a request, or after {@code limitMs} with how many still do. */
  public Future<Integer> awaitIdle(Vertx vertx, long limitMs) {
    Promise<Integer> idle = Promise.promise();
    pollIdle(vertx, System.nanoTime() + limitMs * 1_000_000, idle);
    return idle.future();
  }

  // one timer after another, not a periodic one cancelled from its own handler: a periodic timer cancelled in its
  // first run (1 ms after it was set) can meet Vert.x before it has kept its handle, and the cancel then throws,
  // leaving the node's stop waiting for ever
  private void pollIdle(Vertx vertx, long deadline, Promise<Integer> idle) {
    int left = running.get();
    if (left == 0 || System.nanoTime() - deadline > 0) {
      idle.complete(left);
      return;
    }
    vertx.setTimer(10, t -> pollIdle(vertx, deadline, idle));
  }
}
