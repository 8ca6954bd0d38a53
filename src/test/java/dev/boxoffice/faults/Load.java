package dev.boxoffice.faults;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Mixed load through every target, round-robin (the nodes themselves, or one load balancer in front of them):
 * bookings (hot events and products whose capacity is smaller than the demand, so 409s happen, plus a roomy event so
 * bookings keep succeeding) and text tasks ({@code POST /submit}). Open loop at {@code rate} requests/s, at most
 * {@code maxInFlight} at once (rate 0: closed loop, always {@code maxInFlight} in flight). Only a 201 booking or a 202
 * task counts as accepted; anything else (409, 5xx, a timeout, a refused connection) was not accepted and is only
 * counted. With {@code idempotencyKeys}, each request carries an {@code Idempotency-Key} of its own, so that a load
 * balancer may send it again; a 409 for a key still in flight is then a failure, not a refusal.
 */
final class Load {
  private static final long REQUEST_TIMEOUT_MS = 20_000;
  private static final int SAMPLES = 5;

  /** The items bookings go to; hot ones are small on purpose. */
  record Items(List<Long> hotEvents, List<Long> hotProducts, List<Long> roomyEvents) {
  }

  /** rate: requests/s (0 = closed loop); shares are fractions of requests / of bookings. */
  record Settings(double rate, int maxInFlight, double taskShare, double hotShare, double declineShare,
                  double failingTaskShare, boolean idempotencyKeys) {
    Settings(double rate, int maxInFlight, double taskShare, double hotShare, double declineShare,
             double failingTaskShare) {
      this(rate, maxInFlight, taskShare, hotShare, declineShare, failingTaskShare, false);
    }
  }

  /** Where requests go: a node's own HTTP listener, or a load balancer's. */
  record Target(String name, WebClient web) {
    static Target of(NodeProcess node) {
      return new Target(node.name, node.web);
    }
  }

  private final Context context;
  private final String token;
  private final Items items;
  private final Settings settings;
  private final List<Target> targets = new CopyOnWriteArrayList<>();

  final Set<Long> bookings = ConcurrentHashMap.newKeySet();
  final Set<String> tasks = ConcurrentHashMap.newKeySet();
  /** Wall-clock millis at which each accepted booking's 201 arrived. */
  final List<Long> bookingAcceptedAt = Collections.synchronizedList(new ArrayList<>());
  /** Nanoseconds each accepted booking took (throughput mode reports percentiles). */
  final List<Long> bookingLatencyNs = Collections.synchronizedList(new ArrayList<>());
  /** Accepted requests per node name (which node's HTTP listener answered). */
  final Map<String, AtomicInteger> acceptedVia = new ConcurrentHashMap<>();
  final AtomicInteger sent = new AtomicInteger();
  final AtomicInteger conflicts = new AtomicInteger();
  final AtomicInteger serverErrors = new AtomicInteger();
  final AtomicInteger transportErrors = new AtomicInteger();
  final AtomicInteger unexpected = new AtomicInteger();
  final AtomicInteger throttled = new AtomicInteger();
  /** 409: a request with this Idempotency-Key is still in flight (only with idempotencyKeys): a failure. */
  final AtomicInteger keyConflicts = new AtomicInteger();
  final List<String> unexpectedSamples = Collections.synchronizedList(new ArrayList<>());
  /** Every answer by status (0: no answer: a timeout, a refused or reset connection). */
  final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
  /** What the requests that failed said (status and body, or the transport error), the first few. */
  final List<String> failureSamples = Collections.synchronizedList(new ArrayList<>());
  /** Wall-clock millis at which each failed request (5xx, no answer, unexpected status) ended. */
  final List<Long> failedAt = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong counter = new AtomicLong();
  private volatile boolean running;
  private long timer = -1;
  private double credit;
  private long lastTick;
  private int next;
  private long startedNs;
  private long stoppedNs;

  Load(Vertx vertx, String token, Items items, Settings settings, List<NodeProcess> targets) {
    this(vertx, token, items, settings, targets.stream().map(Target::of).toArray(Target[]::new));
  }

  private Load(Vertx vertx, String token, Items items, Settings settings, Target[] targets) {
    this.context = vertx.getOrCreateContext();
    this.token = token;
    this.items = items;
    this.settings = settings;
    this.targets.addAll(List.of(targets));
  }

  /** The load through one address in front of the nodes (a load balancer). */
  static Load through(Vertx vertx, String token, Items items, Settings settings, Target balancer) {
    return new Load(vertx, token, items, settings, new Target[]{balancer});
  }

  /** Like a load balancer whose health check failed: no new requests to it (in-flight ones finish or fail). */
  void addTarget(NodeProcess node) {
    targets.add(Target.of(node));
  }

  void removeTarget(NodeProcess node) {
    targets.removeIf(t -> t.name().equals(node.name));
  }

  /** Requests that were answered neither 2xx nor a legitimate 409 (sold out), or not answered at all. */
  int failed() {
    return serverErrors.get() + transportErrors.get() + keyConflicts.get() + unexpected.get();
  }

  void start() {
    running = true;
    startedNs = System.nanoTime();
    context.runOnContext(v -> {
      if (settings.rate() <= 0) {
        for (int i = 0; i < settings.maxInFlight(); i++) {
          issue();
        }
        return;
      }
      lastTick = System.nanoTime();
      timer = context.owner().setPeriodic(10, id -> tick());
    });
  }

  /** Stops issuing and waits (bounded) for the requests in flight. */
  void stop() {
    running = false;
    stoppedNs = System.nanoTime();
    context.runOnContext(v -> {
      if (timer >= 0) {
        context.owner().cancelTimer(timer);
      }
    });
    long end = System.currentTimeMillis() + REQUEST_TIMEOUT_MS + 5_000;
    while (inFlight.get() > 0 && System.currentTimeMillis() < end) {
      NodeProcess.sleep(50);
    }
  }

  double seconds() {
    return (stoppedNs - startedNs) / 1e9;
  }

  int accepted() {
    return bookings.size() + tasks.size();
  }

  /** Requests that failed in [fromMs, toMs). */
  long failedBetween(long fromMs, long toMs) {
    synchronized (failedAt) {
      return failedAt.stream().filter(t -> t >= fromMs && t < toMs).count();
    }
  }

  /** Accepted bookings whose 201 arrived in [fromMs, toMs). */
  long bookingsAcceptedBetween(long fromMs, long toMs) {
    synchronized (bookingAcceptedAt) {
      return bookingAcceptedAt.stream().filter(t -> t >= fromMs && t < toMs).count();
    }
  }

  private void tick() {
    long now = System.nanoTime();
    credit = Math.min(credit + settings.rate() * (now - lastTick) / 1e9, settings.rate());
    lastTick = now;
    while (running && credit >= 1) {
      credit -= 1;
      if (inFlight.get() >= settings.maxInFlight()) {
        throttled.incrementAndGet();
        continue;
      }
      issue();
    }
  }

  private void issue() {
    if (!running || targets.isEmpty()) {
      return;
    }
    Target node = targets.get(Math.floorMod(next++, targets.size()));
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long n = counter.incrementAndGet();
    boolean task = random.nextDouble() < settings.taskShare();
    inFlight.incrementAndGet();
    sent.incrementAndGet();
    long t0 = System.nanoTime();
    var request = node.web().post(task ? "/submit" : "/bookings").timeout(REQUEST_TIMEOUT_MS)
      .putHeader("Authorization", "Bearer " + token);
    if (settings.idempotencyKeys()) {
      request.putHeader("Idempotency-Key", java.util.UUID.randomUUID().toString());
    }
    request.sendJsonObject(task ? taskBody(n, random) : bookingBody(n, random)).onComplete(ar -> {
      inFlight.decrementAndGet();
      if (ar.failed()) {
        transportErrors.incrementAndGet();
        statuses.computeIfAbsent(0, k -> new AtomicInteger()).incrementAndGet();
        sample((task ? "POST /submit" : "POST /bookings") + " → no answer after "
          + (System.nanoTime() - t0) / 1_000_000 + " ms: " + ar.cause());
        failedAt.add(System.currentTimeMillis());
      } else {
        record(node, task, ar.result(), System.nanoTime() - t0);
      }
      if (running && settings.rate() <= 0) {
        issue();
      }
    });
  }

  private void record(Target node, boolean task, HttpResponse<Buffer> r, long tookNs) {
    int status = r.statusCode();
    statuses.computeIfAbsent(status, k -> new AtomicInteger()).incrementAndGet();
    String what = (task ? "POST /submit" : "POST /bookings") + " → " + status + " after " + tookNs / 1_000_000
      + " ms via " + node.name() + ": " + r.bodyAsString();
    if (!task && status == 201) {
      bookings.add(r.bodyAsJsonObject().getLong("booking_id"));
      bookingAcceptedAt.add(System.currentTimeMillis());
      bookingLatencyNs.add(tookNs);
      acceptedVia.computeIfAbsent(node.name(), k -> new AtomicInteger()).incrementAndGet();
    } else if (task && status == 202) {
      tasks.add(r.bodyAsJsonObject().getString("task_id"));
      acceptedVia.computeIfAbsent(node.name(), k -> new AtomicInteger()).incrementAndGet();
    } else if (status == 409 && String.valueOf(r.bodyAsString()).contains("Idempotency-Key")) {
      keyConflicts.incrementAndGet(); // the first copy of this request was still running: not an answer
      sample(what);
    } else if (!task && status == 409) {
      conflicts.incrementAndGet();
    } else if (status >= 500) {
      serverErrors.incrementAndGet();
      sample(what);
      failedAt.add(System.currentTimeMillis());
    } else {
      unexpected.incrementAndGet();
      failedAt.add(System.currentTimeMillis());
      if (unexpectedSamples.size() < SAMPLES) {
        unexpectedSamples.add(what);
      }
      sample(what);
    }
  }

  private void sample(String what) {
    if (failureSamples.size() < 3 * SAMPLES) {
      failureSamples.add(what);
    }
  }

  private JsonObject bookingBody(long n, ThreadLocalRandom random) {
    boolean decline = random.nextDouble() < settings.declineShare();
    JsonObject body = new JsonObject()
      .put("name", "Guest " + n)
      .put("email", decline ? "guest" + n + "@decline.test" : "guest" + (n % 40) + "@example.com")
      .put("phone", "+1 555 0100");
    boolean hot = random.nextDouble() < settings.hotShare()
      && !(items.hotEvents().isEmpty() && items.hotProducts().isEmpty());
    if (hot) {
      int k = random.nextInt(items.hotEvents().size() + items.hotProducts().size());
      if (k < items.hotEvents().size()) {
        body.put("event_id", items.hotEvents().get(k));
      } else {
        body.put("product_id", items.hotProducts().get(k - items.hotEvents().size()));
      }
      body.put("quantity", 1 + random.nextInt(2));
    } else {
      body.put("event_id", items.roomyEvents().get(random.nextInt(items.roomyEvents().size()))).put("quantity", 1);
    }
    return body;
  }

  private JsonObject taskBody(long n, ThreadLocalRandom random) {
    // "fail:1" fails its first attempt: the task succeeds on its retry (10 s later)
    String prefix = random.nextDouble() < settings.failingTaskShare() ? "fail:1 " : "";
    return new JsonObject().put("data", prefix + "fault harness task " + n + ": the quick brown fox jumps over "
      + "the lazy dog " + random.nextInt(1_000_000));
  }
}
