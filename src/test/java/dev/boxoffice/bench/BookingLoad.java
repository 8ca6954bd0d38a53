package dev.boxoffice.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Load driver for bench/bookings.sh (a separate process from the service). Scenarios:
 * <ul>
 *   <li>{@code hot}: every booking on one event; {@code clients} connections for {@code seconds}.</li>
 *   <li>{@code spread}: bookings spread over {@code events} events.</li>
 *   <li>{@code contention}: {@code clients} simultaneous 1-ticket bookings on one event of capacity
 *   {@code capacity}; reports how many got 201 and 409 (exactly {@code capacity} must win).</li>
 * </ul>
 * Prints one line: {@code scenario=... ok=... conflicts=... errors=... rate=.../s p50=...ms p99=...ms events=...}.
 * {@code --warmup=N} first runs the same load for N seconds without measuring it (JIT, pools, caches).
 * {@code --keys=true} sends every booking with an Idempotency-Key of its own (what keys cost the group commit).
 */
public final class BookingLoad {
  private static boolean keys;

  public static void main(String[] args) throws Exception {
    URI url = URI.create(arg(args, "url", "http://127.0.0.1:18080"));
    String scenario = arg(args, "scenario", "hot");
    int clients = Integer.parseInt(arg(args, "clients", "32"));
    int seconds = Integer.parseInt(arg(args, "seconds", "20"));
    int events = Integer.parseInt(arg(args, "events", scenario.equals("spread") ? "1000" : "1"));
    int capacity = Integer.parseInt(arg(args, "capacity", scenario.equals("contention") ? "100" : "10000000"));
    int warmup = Integer.parseInt(arg(args, "warmup", "0"));
    keys = Boolean.parseBoolean(arg(args, "keys", "false"));
    Vertx vertx = Vertx.vertx();
    WebClient web = WebClient.create(vertx, new WebClientOptions().setDefaultHost(url.getHost())
      .setDefaultPort(url.getPort()).setKeepAlive(true));
    try {
      String token = await(web.post("/token").sendJsonObject(new JsonObject().put("username", "admin")
        .put("password", "admin"))).bodyAsJsonObject().getString("access_token");
      long[] eventIds = new long[events];
      for (int i = 0; i < events; i++) {
        HttpResponse<Buffer> r = await(web.post("/events").putHeader("Authorization", "Bearer " + token)
          .sendJsonObject(new JsonObject().put("title", scenario + " event " + i).put("capacity", capacity)));
        eventIds[i] = r.bodyAsJsonObject().getLong("id");
      }
      if (warmup > 0 && !scenario.equals("contention")) {
        timed(vertx, url, token, eventIds, clients, warmup); // JIT and pools warm up; not measured
      }
      Run run = scenario.equals("contention")
        ? contention(vertx, url, token, eventIds[0], clients)
        : timed(vertx, url, token, eventIds, clients, seconds);
      long[] lat = run.latencies();
      Arrays.sort(lat);
      System.out.printf("scenario=%s clients=%d ok=%d conflicts=%d errors=%d rate=%.0f/s p50=%.1fms p99=%.1fms "
          + "max=%.1fms events=%s%n", scenario, clients, run.ok.get(), run.conflicts.get(), run.errors.get(),
        run.ok.get() / run.seconds, pct(lat, 50) / 1e6, pct(lat, 99) / 1e6,
        lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6,
        eventIds.length == 1 ? String.valueOf(eventIds[0]) : eventIds[0] + ".." + eventIds[eventIds.length - 1]);
    } finally {
      vertx.close();
    }
  }

  private static final class Run {
    final AtomicInteger ok = new AtomicInteger();
    final AtomicInteger conflicts = new AtomicInteger();
    final AtomicInteger errors = new AtomicInteger();
    final List<long[]> perClient = new ArrayList<>();
    final List<Integer> counts = new ArrayList<>();
    double seconds;

    long[] latencies() {
      int n = counts.stream().mapToInt(Integer::intValue).sum();
      long[] all = new long[n];
      int k = 0;
      for (int c = 0; c < perClient.size(); c++) {
        System.arraycopy(perClient.get(c), 0, all, k, counts.get(c));
        k += counts.get(c);
      }
      return all;
    }
  }

  /** Each client keeps one request in flight, on its own connection, until the time is up. */
  private static Run timed(Vertx vertx, URI url, String token, long[] eventIds, int clients, int seconds)
    throws Exception {
    Run run = new Run();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Future<Void>> done = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      WebClient web = WebClient.create(vertx, new WebClientOptions().setDefaultHost(url.getHost())
        .setDefaultPort(url.getPort()).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(1));
      long[] lat = new long[2_000_000 / Math.max(1, clients)];
      run.perClient.add(lat);
      run.counts.add(0);
      int client = c;
      Promise<Void> finished = Promise.promise();
      done.add(finished.future());
      vertx.runOnContext(v -> loop(web, token, eventIds, run, client, lat, end, finished));
    }
    long start = System.nanoTime();
    await(Future.all(done));
    run.seconds = (System.nanoTime() - start) / 1e9;
    return run;
  }

  private static void loop(WebClient web, String token, long[] eventIds, Run run, int client, long[] lat, long end,
                           Promise<Void> finished) {
    if (System.nanoTime() >= end) {
      finished.complete();
      return;
    }
    long event = eventIds[ThreadLocalRandom.current().nextInt(eventIds.length)];
    long t0 = System.nanoTime();
    keyed(web.post("/bookings").putHeader("Authorization", "Bearer " + token)).sendJsonObject(body(event))
      .onComplete(ar -> {
        long took = System.nanoTime() - t0;
        count(run, ar.succeeded() ? ar.result().statusCode() : -1);
        int n = run.counts.get(client);
        if (n < lat.length) {
          lat[n] = took;
          synchronized (run.counts) {
            run.counts.set(client, n + 1);
          }
        }
        loop(web, token, eventIds, run, client, lat, end, finished);
      });
  }

  private static Run contention(Vertx vertx, URI url, String token, long eventId, int clients) throws Exception {
    Run run = new Run();
    long[] lat = new long[clients];
    run.perClient.add(lat);
    run.counts.add(clients);
    WebClient web = WebClient.create(vertx, new WebClientOptions().setDefaultHost(url.getHost())
      .setDefaultPort(url.getPort()), new PoolOptions().setHttp1MaxSize(clients));
    List<Future<?>> all = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < clients; i++) {
      int k = i;
      long t0 = System.nanoTime();
      all.add(keyed(web.post("/bookings").putHeader("Authorization", "Bearer " + token)).sendJsonObject(body(eventId))
        .onComplete(ar -> {
          lat[k] = System.nanoTime() - t0;
          count(run, ar.succeeded() ? ar.result().statusCode() : -1);
        }));
    }
    Future.join(all).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    run.seconds = (System.nanoTime() - start) / 1e9;
    return run;
  }

  private static io.vertx.ext.web.client.HttpRequest<Buffer> keyed(io.vertx.ext.web.client.HttpRequest<Buffer> r) {
    return keys ? r.putHeader("Idempotency-Key", java.util.UUID.randomUUID().toString()) : r;
  }

  private static void count(Run run, int status) {
    if (status == 201) {
      run.ok.incrementAndGet();
    } else if (status == 409) {
      run.conflicts.incrementAndGet();
    } else {
      run.errors.incrementAndGet();
    }
  }

  private static JsonObject body(long eventId) {
    int n = ThreadLocalRandom.current().nextInt(1_000_000);
    return new JsonObject().put("name", "Load Tester " + n).put("email", "load" + n + "@example.com")
      .put("phone", "+1 555 0100").put("event_id", eventId).put("quantity", 1);
  }

  private static long pct(long[] sorted, int p) {
    return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static String arg(String[] args, String name, String dflt) {
    for (String a : args) {
      if (a.startsWith("--" + name + "=")) {
        return a.substring(name.length() + 3);
      }
    }
    return dflt;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(600, TimeUnit.SECONDS);
  }
}
