package dev.boxoffice.faults;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static dev.boxoffice.faults.FaultHarness.progress;
import static dev.boxoffice.testing.Await.await;

/**
 * Retry storm: clients through every node send bookings with an {@code Idempotency-Key}, each several times: two
 * sends at once to two different nodes, then one more to a third node after both were answered, then a last one
 * after the saga has moved on. A 409 "in flight" ({@code Retry-After}) is retried until answered. Checks: at most
 * one booking per key (exactly one when it was answered 201), every 201 of a key the same body, the counters of the
 * event and the product agree with the bookings (nothing oversold), no 5xx.
 */
final class RetryStormScenario {
  private static final long REQUEST_TIMEOUT_MS = 20_000;
  private static final int MAX_IN_FLIGHT = 48;
  private static final int IN_FLIGHT_RETRIES = 100;

  private final FaultHarness.Settings s;
  private final Vertx vertx;
  private final Cluster cluster;
  private final Db db;
  private final Map<String, List<HttpResponse<Buffer>>> answers = new ConcurrentHashMap<>();
  private final AtomicInteger sent = new AtomicInteger();
  private final AtomicInteger inFlight409 = new AtomicInteger();

  RetryStormScenario(FaultHarness.Settings s, Vertx vertx, Cluster cluster, Db db) {
    this.s = s;
    this.vertx = vertx;
    this.cluster = cluster;
    this.db = db;
  }

  Outcome run() {
    Outcome o = new Outcome("retry-storm");
    try {
      storm(o);
    } catch (RuntimeException e) {
      o.violations.add("crashed: " + e);
    }
    return o;
  }

  private void storm(Outcome o) {
    List<NodeProcess> nodes = List.copyOf(cluster.live);
    String run = UUID.randomUUID().toString().substring(0, 8);
    String admin = login(nodes.get(0), "admin", "admin");
    String user = login(nodes.get(0), "testuser", "testpass");
    int clients = s.mode().equals("short") ? 300 : 1000;
    long event = create(nodes.get(0), admin, "/events", new JsonObject().put("title", "storm " + run)
      .put("capacity", clients * 2));
    int stock = clients / 4; // a third of the bookings are for the product, about half of them find it sold out
    long product = create(nodes.get(0), admin, "/products", new JsonObject().put("name", "storm " + run)
      .put("quantity", stock).put("unique_id", "storm-" + run));

    long t0 = System.currentTimeMillis();
    List<Supplier<Future<Void>>> work = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      // two accounts, and the same key text in both: two different keys
      String key = "storm-" + run + "-" + (i / 2);
      String token = i % 2 == 0 ? admin : user;
      String name = "Storm " + run + " " + i;
      JsonObject body = new JsonObject().put("name", name).put("email", "storm" + i + "@example.com")
        .put("phone", "+1 555 0100").put("quantity", 1 + i % 2)
        .put(i % 3 == 0 ? "product_id" : "event_id", i % 3 == 0 ? product : event);
      NodeProcess a = nodes.get(i % nodes.size());
      NodeProcess b = nodes.get((i + 1) % nodes.size());
      NodeProcess c = nodes.get((i + 2) % nodes.size());
      answers.put(name, new CopyOnWriteArrayList<>());
      work.add(() -> client(name, token, key, body, a, b, c));
    }
    runBounded(work);
    double seconds = (System.currentTimeMillis() - t0) / 1000.0;

    // one booking per key at most; each answered 201 exactly once, with one body
    Map<String, Long> booked = new HashMap<>();
    for (Map<String, Object> r : db.rows("SELECT name, count(*) AS n FROM bookings WHERE name LIKE ? GROUP BY name",
      "Storm " + run + " %")) {
      booked.put((String) r.get("name"), Checks.num(r, "n"));
    }
    int duplicates = 0;
    int differing = 0;
    int missing = 0;
    int serverErrors = 0;
    int created = 0;
    int refused = 0;
    int replays = 0;
    for (Map.Entry<String, List<HttpResponse<Buffer>>> e : answers.entrySet()) {
      long n = booked.getOrDefault(e.getKey(), 0L);
      Set<String> createdBodies = new HashSet<>();
      for (HttpResponse<Buffer> r : e.getValue()) {
        if (r == null || r.statusCode() >= 500) {
          serverErrors++;
        } else if (r.statusCode() == 201) {
          createdBodies.add(r.bodyAsString());
          if ("true".equals(r.getHeader("Idempotent-Replayed"))) {
            replays++;
          }
        }
      }
      if (n > 1) {
        duplicates++;
        o.violations.add(e.getKey() + ": " + n + " bookings for one key");
      }
      if (createdBodies.size() > 1) {
        differing++;
        o.violations.add(e.getKey() + ": " + createdBodies.size() + " different 201 bodies: " + createdBodies);
      }
      if (!createdBodies.isEmpty()) {
        created++;
        long id = new JsonObject(createdBodies.iterator().next()).getLong("booking_id");
        if (n != 1 || db.scalar("SELECT count(*) FROM bookings WHERE id = ? AND name = ?", id, e.getKey()) != 1) {
          missing++;
          o.violations.add(e.getKey() + ": answered 201 with booking " + id + " but " + n + " booking(s) exist");
        }
      } else {
        refused++;
        if (n != 0) {
          o.violations.add(e.getKey() + ": never answered 201 but " + n + " booking(s) exist");
        }
      }
    }
    // counters against the bookings, in one snapshot
    Map<String, Object> counters = db.rows("""
      SELECT (SELECT booked FROM events WHERE id = ?) AS booked,
             (SELECT coalesce(sum(quantity), 0) FROM bookings WHERE event_id = ? AND status IN %1$s) AS event_held,
             (SELECT quantity FROM products WHERE id = ?) AS left,
             (SELECT coalesce(sum(quantity), 0) FROM bookings WHERE product_id = ? AND status IN %1$s) AS product_held
      """.formatted(Checks.HOLDING), event, event, product, product).get(0);
    int oversold = 0;
    if (Checks.num(counters, "booked") != Checks.num(counters, "event_held")
      || Checks.num(counters, "booked") > clients * 2L) {
      oversold++;
      o.violations.add("event counters disagree with bookings: " + counters);
    }
    long left = Checks.num(counters, "left");
    if (left < 0 || left + Checks.num(counters, "product_held") != stock) {
      oversold++;
      o.violations.add("product counters disagree with bookings: " + counters + " (stock " + stock + ")");
    }
    progress("retry-storm: %d clients, %d sends in %.1f s (%d answered 409 in flight and retried)", clients,
      sent.get(), seconds, inFlight409.get());
    o.put("keys", clients).put("sends", sent.get()).put("bookings", booked.values().stream().mapToLong(x -> x).sum())
      .put("created", created).put("sold_out", refused).put("replays", replays).put("in_flight_409", inFlight409.get())
      .put("duplicates", duplicates).put("differing_answers", differing).put("missing", missing)
      .put("oversold", oversold).put("failed_requests", serverErrors).put("seconds", seconds);
    o.require(serverErrors == 0, "%d send(s) failed (5xx or no answer)", serverErrors);
    o.require(created > 0 && refused > 0, "expected both bookings and sold-out refusals, got %d and %d", created,
      refused);
    o.require(replays > 0, "no answer was a replay");
  }

  /** One client: two sends at once to two nodes, then one to a third, then one more a moment later. */
  private Future<Void> client(String name, String token, String key, JsonObject body, NodeProcess a, NodeProcess b,
                              NodeProcess c) {
    return Future.all(answer(name, token, key, body, a), answer(name, token, key, body, b))
      .compose(v -> answer(name, token, key, body, c))
      .compose(v -> later(200))
      .compose(v -> answer(name, token, key, body, a))
      .mapEmpty();
  }

  /** A send until it is not "in flight" (bounded); its answer is recorded (null: no answer at all). */
  private Future<Void> answer(String name, String token, String key, JsonObject body, NodeProcess node) {
    return send(token, key, body, node, IN_FLIGHT_RETRIES).transform(ar -> {
      answers.get(name).add(ar.succeeded() ? ar.result() : null);
      return Future.succeededFuture();
    });
  }

  private Future<HttpResponse<Buffer>> send(String token, String key, JsonObject body, NodeProcess node, int left) {
    sent.incrementAndGet();
    return node.web.post("/bookings").timeout(REQUEST_TIMEOUT_MS).putHeader("Authorization", "Bearer " + token)
      .putHeader("Idempotency-Key", key).sendJsonObject(body).compose(r -> {
        if (r.statusCode() == 409 && r.getHeader("Retry-After") != null && left > 0) {
          inFlight409.incrementAndGet();
          return later(100).compose(v -> send(token, key, body, node, left - 1));
        }
        return Future.succeededFuture(r);
      });
  }

  private Future<Void> later(long ms) {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(ms, id -> p.complete());
    return p.future();
  }

  /** Runs the clients, at most {@link #MAX_IN_FLIGHT} at once; returns when all are done. */
  private void runBounded(List<Supplier<Future<Void>>> clients) {
    Context context = vertx.getOrCreateContext();
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    Runnable[] start = new Runnable[1];
    start[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= clients.size()) {
        return;
      }
      clients.get(i).get().onComplete(ar -> {
        if (finished.incrementAndGet() == clients.size()) {
          done.complete(null);
        }
        start[0].run();
      });
    };
    context.runOnContext(v -> {
      for (int i = 0; i < MAX_IN_FLIGHT; i++) {
        start[0].run();
      }
    });
    try {
      done.get(5, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException("the storm did not finish: " + e, e);
    }
  }

  private String login(NodeProcess node, String username, String password) {
    HttpResponse<Buffer> r = await(node.web.post("/token").timeout(REQUEST_TIMEOUT_MS)
      .sendJsonObject(new JsonObject().put("username", username).put("password", password)));
    if (r.statusCode() != 200) {
      throw new IllegalStateException("login as " + username + " failed: " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject().getString("access_token");
  }

  private long create(NodeProcess node, String token, String path, JsonObject body) {
    HttpResponse<Buffer> r = await(node.web.post(path).putHeader("Authorization", "Bearer " + token)
      .timeout(REQUEST_TIMEOUT_MS).sendJsonObject(body));
    if (r.statusCode() != 201) {
      throw new IllegalStateException("POST " + path + " answered " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject().getLong("id");
  }
}
