package dev.boxoffice.platform;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The handler side of failing fast when a node leaves: a request from a clustered edge that is still being
 * served {@link #ACK_AFTER_MS} after it arrived is acknowledged to that edge with this node's id
 * ({@code {"node", "ids": [request_id...]}} to the request's {@code ack_to} address), so the edge knows whom it
 * waits on and can answer at once when this node leaves the cluster (see {@code http.ApiReceipts}). Quick requests
 * are answered before any acknowledgement is due and cost nothing; the acknowledgements of one sweep go to each edge
 * in one message. One instance per consumer, confined to its context.
 */
final class ApiReceipts {
  /** A request served longer than this is acknowledged; the edge allows for it (and for the sweep period). */
  static final long ACK_AFTER_MS = 100;
  private static final long SWEEP_MS = 50;

  private final Vertx vertx;
  private final String nodeId;
  /** Open requests not yet acknowledged, oldest first. */
  private final Set<Receipt> open = new LinkedHashSet<>();
  private long timer = -1;

  static final class Receipt {
    private final String ackTo;
    private final long id;
    private final long receivedNanos = System.nanoTime();

    private Receipt(String ackTo, long id) {
      this.ackTo = ackTo;
      this.id = id;
    }
  }

  ApiReceipts(Vertx vertx) {
    this.vertx = vertx;
    this.nodeId = new ClusterMembership(vertx).nodeId();
  }

  /**
   * Starts tracking a request; null for one that asks for no receipt (a standalone node's edge). A request from
   * this node's own edge is acknowledged too (a local message): the edge gives up on slow requests nobody
   * acknowledged when any member leaves.
   */
  Receipt track(JsonObject request) {
    String ackTo = request.getString("ack_to");
    Long id = request.getLong("request_id");
    if (ackTo == null || id == null) {
      return null;
    }
    Receipt r = new Receipt(ackTo, id);
    open.add(r);
    if (timer < 0) {
      timer = vertx.setTimer(ACK_AFTER_MS, t -> sweep());
    }
    return r;
  }

  /** The request has been answered: nothing more to acknowledge. */
  void done(Receipt r) {
    if (r != null) {
      open.remove(r);
    }
  }

  private void sweep() {
    timer = -1;
    long due = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(ACK_AFTER_MS);
    Map<String, JsonArray> acks = new LinkedHashMap<>();
    for (Iterator<Receipt> it = open.iterator(); it.hasNext(); ) {
      Receipt r = it.next();
      if (r.receivedNanos - due > 0) {
        break; // the rest arrived later still
      }
      acks.computeIfAbsent(r.ackTo, k -> new JsonArray()).add(r.id);
      it.remove();
    }
    // an edge that has gone meanwhile has no consumer: the send is simply dropped
    acks.forEach((to, ids) -> vertx.eventBus().send(to, new JsonObject().put("node", nodeId).put("ids", ids)));
    if (!open.isEmpty()) {
      timer = vertx.setTimer(SWEEP_MS, t -> sweep());
    }
  }
}
