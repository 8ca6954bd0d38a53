package dev.boxoffice.http;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.ClusterMembership;
import dev.boxoffice.platform.Failure;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * One edge instance's requests out on the clustered event bus, so that one whose serving node leaves the cluster is
 * answered at once (502, "may have completed") instead of at the bus timeout. The event bus itself only times out:
 * a reply from a member that is gone never comes.
 *
 * <p>Each request carries {@code request_id} and {@code ack_to} (this instance's address); the
 * handler's node acknowledges a request it is still serving {@code ACK_AFTER_MS} (100 ms) after receipt, with its node
 * id (platform's {@code ApiReceipts}). When a member leaves (Hazelcast membership):
 * <ul>
 *   <li>requests it acknowledged fail at once;</li>
 *   <li>requests sent before it left and acknowledged by nobody fail {@link #UNACKED_CHECK_MS} later: a live
 *       handler would have acknowledged them by then, so they were on the departed member (or lost with it).</li>
 * </ul>
 * Confined to the edge verticle's context.
 */
final class InFlightRequests {
  private static final Logger log = LoggerFactory.getLogger(InFlightRequests.class);
  /** After a member leaves, when requests sent before that and acknowledged by nobody are given up. */
  static final long UNACKED_CHECK_MS = 700;
  /** Requests sent this soon after a departure may still have been routed to the departed member. */
  private static final long ROUTING_LAG_MS = 100;
  /**
   * The pauses before sending again a request no member took ({@link Bus#notTaken}); one retry per entry. The first
   * goes at once (the bus picks members in turn, so most likely another one); the later ones leave a closing member
   * time to withdraw its handlers from the cluster.
   */
  private static final long[] RETRY_DELAYS_MS = {1, 10, 25, 50, 100, 200, 400};
  /** A retry needs at least this much of the budget left (the handler refuses less than 50 ms unread). */
  private static final long RETRY_MIN_BUDGET_MS = 100;

  private final Vertx vertx;
  private final Context context;
  private final ClusterMembership membership;
  private final String ackAddress;
  private final Map<Long, Entry> entries = new HashMap<>();
  private long nextId;
  private boolean stopped;

  private static final class Entry {
    private final Promise<Message<JsonObject>> answer = Promise.promise();
    private final long sentNanos = System.nanoTime();
    private String node;
  }

  InFlightRequests(Vertx vertx, Context context) {
    this.vertx = vertx;
    this.context = context;
    this.membership = new ClusterMembership(vertx);
    this.ackAddress = Bus.apiReceipts(membership.nodeId() + "." + UUID.randomUUID());
  }

  Future<Void> start() {
    if (!membership.clustered()) {
      return Future.succeededFuture(); // every handler is on this node: it cannot leave without the edge
    }
    membership.onMemberLeft(node -> context.runOnContext(v -> left(node)));
    return vertx.eventBus().<JsonObject>consumer(ackAddress, msg -> acknowledged(msg.body())).completion();
  }

  void stop() {
    stopped = true;
  }

  /**
   * Sends {@code request} to {@code address} with {@code budgetMs} for the handler (it travels as
   * {@link Bus.ApiRequest#BUDGET_MS}) and waits {@code graceMs} longer for its answer. A request no handler took
   * ({@link Bus#notTaken}: a member that is closing refused it, or nobody had a handler) is sent again, to whichever
   * member the bus picks, a few times within its budget: nothing of it ran, so this is safe for any operation, and a
   * rolling restart does not reach the client. The budget sent shrinks by the time already spent.
   */
  Future<Message<JsonObject>> request(String address, JsonObject request, long budgetMs, long graceMs) {
    return attempt(address, request, budgetMs, graceMs, System.nanoTime(), 0);
  }

  private Future<Message<JsonObject>> attempt(String address, JsonObject request, long budgetMs, long graceMs,
                                              long startNanos, int retries) {
    long left = Math.max(1, budgetMs - elapsedMs(startNanos));
    request.put(Bus.ApiRequest.BUDGET_MS, left);
    return send(address, request, left + graceMs).recover(err -> {
      boolean again = Bus.notTaken(err) && retries < RETRY_DELAYS_MS.length
        && budgetMs - elapsedMs(startNanos) - RETRY_DELAYS_MS[retries] >= RETRY_MIN_BUDGET_MS;
      if (!again) {
        return Future.failedFuture(err);
      }
      Promise<Message<JsonObject>> retried = Promise.promise();
      vertx.setTimer(RETRY_DELAYS_MS[retries], t -> attempt(address, request, budgetMs, graceMs, startNanos,
        retries + 1).onComplete(retried));
      return retried.future();
    });
  }

  private static long elapsedMs(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  /** One send, waiting at most {@code waitMs}; the first outcome wins (the reply, or the serving member leaving). */
  private Future<Message<JsonObject>> send(String address, JsonObject request, long waitMs) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(waitMs);
    if (!membership.clustered()) {
      return vertx.eventBus().request(address, request, options);
    }
    long id = ++nextId;
    Entry entry = new Entry();
    entries.put(id, entry);
    request.put("request_id", id).put("ack_to", ackAddress);
    vertx.eventBus().<JsonObject>request(address, request, options).onComplete(ar -> {
      entries.remove(id);
      if (ar.succeeded()) {
        entry.answer.tryComplete(ar.result());
      } else {
        entry.answer.tryFail(ar.cause());
      }
    });
    return entry.answer.future();
  }

  private void acknowledged(JsonObject ack) {
    String node = ack.getString("node");
    ack.getJsonArray("ids", new io.vertx.core.json.JsonArray()).forEach(id -> {
      Entry e = id instanceof Number n ? entries.get(n.longValue()) : null;
      if (e != null) {
        e.node = node;
      }
    });
  }

  private void left(String node) {
    if (stopped) {
      return;
    }
    long leftAt = System.nanoTime();
    int acknowledged = failWhere(e -> node.equals(e.node));
    if (acknowledged > 0) {
      log.warn("member {} left the cluster: {} request(s) it was serving answered 502", node, acknowledged);
    }
    vertx.setTimer(UNACKED_CHECK_MS, t -> {
      long sentBy = leftAt + TimeUnit.MILLISECONDS.toNanos(ROUTING_LAG_MS);
      int unacknowledged = failWhere(e -> e.node == null && e.sentNanos - sentBy <= 0);
      if (unacknowledged > 0) {
        log.warn("member {} left the cluster: {} request(s) no node had acknowledged answered 502", node,
          unacknowledged);
      }
    });
  }

  private int failWhere(java.util.function.Predicate<Entry> which) {
    List<Long> ids = new ArrayList<>();
    entries.forEach((id, e) -> {
      if (which.test(e)) {
        ids.add(id);
      }
    });
    for (Long id : ids) {
      entries.remove(id).answer.tryFail(memberLeft());
    }
    return ids.size();
  }

  /** The header by which a client shortens its request's budget (never lengthens it). */
  static final String BUDGET_HEADER = "X-Request-Budget-Ms";

  /** The budget of one request: the configured one, or the client's {@link #BUDGET_HEADER} when shorter. */
  static long budget(String header, long configured) {
    if (header == null) {
      return configured;
    }
    try {
      long asked = Long.parseLong(header.trim());
      if (asked >= 1) {
        return Math.min(asked, configured);
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw Failure.invalid(BUDGET_HEADER, "must be an integer number of milliseconds, at least 1");
  }

  /** The answer to a request whose node left: it may have been done, or not; the client checks before retrying. */
  static Failure memberLeft() {
    return Failure.of(502, "The node serving this request left the cluster; it may have completed before it left")
      .with("retry_after", 1);
  }
}
