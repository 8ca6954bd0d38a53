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
 *
 * <p>Cold and warm phases (bench/coldwarm.sh): {@code --self-warmup=N} first runs N seconds of the same requests
 * against a stand-in server inside this process, so that the driver's own JIT is done before the node is touched;
 * {@code --wait-ready=N} then waits up to N seconds for the node's {@code /health/ready} and starts at once;
 * {@code --event-ids=LO..HI} books events that already exist (inserted by the script: creating 1,000 events over
 * HTTP would warm the node up); {@code --phases=cold:20,settle:40,warm:20} runs the load in back-to-back phases
 * (no pause between them) and prints one line per phase, with the CPU the node ({@code --node-pid-file}), every
 * {@code postgres} backend of the database {@code --pg-db} (every postgres process without it) and
 * {@code redis-server} spent per created booking in that phase (from /proc, so Linux only; the server's shared
 * processes, WAL writer and checkpointer, are not counted with a database; a Redis shared with other work counts
 * that work too).
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
    int selfWarmup = Integer.parseInt(arg(args, "self-warmup", "0"));
    int waitReady = Integer.parseInt(arg(args, "wait-ready", "0"));
    String eventRange = arg(args, "event-ids", null);
    String phases = arg(args, "phases", null);
    String nodePidFile = arg(args, "node-pid-file", null);
    String pgDb = arg(args, "pg-db", null);
    Vertx vertx = Vertx.vertx();
    if (selfWarmup > 0) {
      StandIn.warmUp(vertx, clients, selfWarmup);
      System.out.println("self-warmed");
      System.out.flush();
    }
    if (waitReady > 0) {
      long readyAt = waitReady(url, waitReady);
      System.out.println("ready at " + readyAt);
      System.out.flush();
    }
    long nodePid = nodePidFile == null ? 0 : Long.parseLong(java.nio.file.Files.readString(
      java.nio.file.Path.of(nodePidFile)).trim());
    WebClient web = WebClient.create(vertx, new WebClientOptions().setDefaultHost(url.getHost())
      .setDefaultPort(url.getPort()).setKeepAlive(true));
    try {
      String token = await(web.post("/token").sendJsonObject(new JsonObject().put("username", "admin")
        .put("password", "admin"))).bodyAsJsonObject().getString("access_token");
      long[] eventIds = eventRange != null ? range(eventRange) : new long[events];
      for (int i = 0; eventRange == null && i < events; i++) {
        HttpResponse<Buffer> r = await(web.post("/events").putHeader("Authorization", "Bearer " + token)
          .sendJsonObject(new JsonObject().put("title", scenario + " event " + i).put("capacity", capacity)));
        eventIds[i] = r.bodyAsJsonObject().getLong("id");
      }
      if (eventRange != null) { // the script inserts them as soon as the table exists: wait for the last one
        for (int i = 0; i < 200 && await(web.get("/events/" + eventIds[eventIds.length - 1])
          .putHeader("Authorization", "Bearer " + token).send()).statusCode() != 200; i++) {
          Thread.sleep(50);
        }
      }
      if (phases != null) {
        phased(vertx, url, token, eventIds, clients, scenario, phases, nodePid, pgDb);
        return;
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

  /** Load phases back to back; one line each, with the CPU per created booking of the node and of PostgreSQL. */
  private static void phased(Vertx vertx, URI url, String token, long[] eventIds, int clients, String scenario,
                             String phases, long nodePid, String pgDb) throws Exception {
    for (String phase : phases.split(",")) {
      String name = phase.substring(0, phase.indexOf(':'));
      int seconds = Integer.parseInt(phase.substring(phase.indexOf(':') + 1));
      long startedAt = System.currentTimeMillis();
      long node0 = Cpu.ticks(nodePid);
      var pg0 = Cpu.named("postgres", pgDb == null ? null : " " + pgDb + " ");
      var redis0 = Cpu.named("redis-server", null);
      Run run = timed(vertx, url, token, eventIds, clients, seconds);
      long node1 = Cpu.ticks(nodePid);
      var pg1 = Cpu.named("postgres", pgDb == null ? null : " " + pgDb + " ");
      var redis1 = Cpu.named("redis-server", null);
      long[] lat = run.latencies();
      Arrays.sort(lat);
      int ok = Math.max(1, run.ok.get());
      System.out.printf("phase=%s scenario=%s from=%d to=%d ok=%d conflicts=%d errors=%d rate=%.0f/s p50=%.1fms "
          + "p99=%.1fms max=%.1fms cpu_node=%.3fms cpu_pg=%.3fms cpu_redis=%.3fms%n", name, scenario, startedAt,
        System.currentTimeMillis(), run.ok.get(), run.conflicts.get(), run.errors.get(), run.ok.get() / run.seconds,
        pct(lat, 50) / 1e6, pct(lat, 99) / 1e6, lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6,
        (node1 - node0) * Cpu.MS_PER_TICK / ok, Cpu.spent(pg0, pg1) * Cpu.MS_PER_TICK / ok,
        Cpu.spent(redis0, redis1) * Cpu.MS_PER_TICK / ok);
      System.out.flush();
    }
  }

  private static long[] range(String lohi) {
    long lo = Long.parseLong(lohi.substring(0, lohi.indexOf("..")));
    long hi = Long.parseLong(lohi.substring(lohi.indexOf("..") + 2));
    long[] ids = new long[(int) (hi - lo + 1)];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = lo + i;
    }
    return ids;
  }

  /** Polls /health/ready until it answers 200; returns when (epoch ms). */
  private static long waitReady(URI url, int seconds) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest ready = java.net.http.HttpRequest.newBuilder(url.resolve("/health/ready"))
      .timeout(java.time.Duration.ofSeconds(2)).build();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      try {
        if (http.send(ready, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return System.currentTimeMillis();
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("the node was not ready within " + seconds + " s");
  }

  /** CPU time from /proc (clock ticks of 10 ms: USER_HZ is 100 on Linux). */
  private static final class Cpu {
    static final double MS_PER_TICK = 10.0;

    static long ticks(long pid) {
      try {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
      } catch (Exception e) {
        return 0;
      }
    }

    /**
     * CPU ticks per pid of the processes of that name whose command line contains {@code filter} (a backend's
     * title names its database: "postgres: user db host(port) idle").
     */
    static java.util.Map<Long, Long> named(String name, String filter) {
      java.util.Map<Long, Long> ticks = new java.util.HashMap<>();
      java.io.File[] procs = new java.io.File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
      for (java.io.File p : procs == null ? new java.io.File[0] : procs) {
        try {
          String stat = java.nio.file.Files.readString(p.toPath().resolve("stat"));
          if (!stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).equals(name)) {
            continue;
          }
          if (filter != null && !java.nio.file.Files.readString(p.toPath().resolve("cmdline")).contains(filter)) {
            continue;
          }
          ticks.put(Long.parseLong(p.getName()), ticks(Long.parseLong(p.getName())));
        } catch (Exception e) {
          // gone meanwhile
        }
      }
      return ticks;
    }

    /** What the processes spent between the two readings (one that ended meanwhile counts nothing). */
    static long spent(java.util.Map<Long, Long> before, java.util.Map<Long, Long> after) {
      long sum = 0;
      for (java.util.Map.Entry<Long, Long> e : after.entrySet()) {
        sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
      }
      return sum;
    }
  }

  /** A stand-in for the node, inside the driver: the driver's own code paths get compiled before the real run. */
  private static final class StandIn {
    static void warmUp(Vertx vertx, int clients, int seconds) throws Exception {
      io.vertx.core.http.HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b ->
        req.response().setStatusCode(201).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("message", "Booking process started").put("booking_id", 1)
            .put("status", "pending").put("event_id", b.toJsonObject().getLong("event_id")).encode())));
      await(server.listen(0, "127.0.0.1"));
      try {
        timed(vertx, URI.create("http://127.0.0.1:" + server.actualPort()), "stand-in", new long[]{1, 2, 3},
          clients, seconds);
      } finally {
        await(server.close());
      }
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
