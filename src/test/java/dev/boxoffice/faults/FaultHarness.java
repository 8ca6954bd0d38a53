package dev.boxoffice.faults;

import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The fault-injection harness of ISSUE6, run by {@code bench/faults.sh} (which builds the jar and starts the private
 * PostgreSQL and Redis first). Starts boxoffice processes clustered on loopback, drives mixed load through all of
 * them and breaks things: {@code kill -9} of a node, a late joiner, a Redis restart, a PostgreSQL restart, poisoned
 * bookings beside the load ({@link PoisonScenario}). Each scenario prints one line with what it checked; the last
 * line is {@code N passed, M failed}; the exit status is non-zero on any violation.
 *
 * <pre>
 *   --mode=short       2 nodes + a late joiner, 12 s of load per scenario (CI)
 *   --mode=long        3 nodes + a late joiner, 40 s of load per scenario
 *   --mode=throughput  bookings/s through 1 node, then through 2 nodes
 *   --mode=rolling-restart  3 nodes behind HAProxy (the shipped haproxy.cfg), each restarted in turn under load
 *                      ({@link RollingRestartScenario})
 * </pre>
 * Environment: FAULTS_RUN (run directory of services.sh), FAULTS_PG_PORT, FAULTS_REDIS_PORT.
 */
public final class FaultHarness {
  static final String DATABASE = "boxoffice";

  /** Everything a run is parameterised by. */
  record Settings(String mode, int nodes, int loadSeconds, double rate, int maxInFlight, int outageSeconds,
                  int leaseSeconds, int holdSeconds, int hotCapacity, int productStock, String logLevel,
                  boolean strictEmail, String paymentMode, int drainMs, Path jar, Path outDir, Path runDir,
                  Path services) {
    /** After the load stops, everything accepted must be final within this (expiries fire after the hold). */
    long settleLimitMs() {
      // the last booking's expiry (hold) or a rescued lease, a failing task's 10 s retry, then the ticket backlog
      return (Math.max(holdSeconds, leaseSeconds) + 20) * 1000L;
    }

    static Settings of(String mode, Path runDir) {
      Path root = Path.of("").toAbsolutePath();
      Path jar = root.resolve("target/boxoffice.jar");
      Path out = root.resolve("target/faults");
      Path services = root.resolve("bench/faults/services.sh");
      String level = System.getenv().getOrDefault("FAULTS_LOG_LEVEL", "INFO");
      boolean strict = "1".equals(System.getenv("FAULTS_STRICT_EMAIL"));
      // throughput only: "manual" leaves bookings pending (no payment, no PDF), measuring the booking API alone
      String payment = mode.equals("throughput") ? System.getenv().getOrDefault("FAULTS_PAYMENT_MODE", "auto") : "auto";
      return switch (mode) {
        case "short" -> new Settings(mode, 2, 12, 30, 48, 3, 10, 8, 20, 20, level, strict, payment, 0, jar, out,
          runDir, services);
        case "long" -> new Settings(mode, 3, 40, 50, 96, 5, 10, 8, 60, 60, level, strict, payment, 0, jar, out,
          runDir, services);
        case "throughput" -> new Settings(mode, 2, 20, 0, 32, 0, 10, 3600, 0, 0, "WARN", strict, payment, 0,
          jar, out, runDir, services);
        // bookings only, ~150/s through the balancer; the prod drain delay; holds long enough for a restart
        case "rolling-restart" -> new Settings(mode, 3, 0, RollingRestartScenario.RATE, 512, 0, 10, 60, 200, 200,
          level, strict, payment, RollingRestartScenario.DRAIN_MS, jar, out, runDir, services);
        // bench/net/: 3 nodes in their own network namespaces (NetHarness); its logs go to target/net
        case "net" -> new Settings(mode, 3, 20, 40, 64, 5, 10, 8, 60, 60, level, strict, payment, 0, jar,
          root.resolve("target/net"), runDir, services);
        default -> throw new IllegalArgumentException("--mode must be short, long, throughput, rolling-restart or net, "
          + "got " + mode);
      };
    }
  }

  public static void main(String[] args) {
    String mode = "long";
    for (String a : args) {
      if (a.startsWith("--mode=")) {
        mode = a.substring("--mode=".length());
      }
    }
    int code;
    try {
      code = run(Settings.of(mode, Path.of(env("FAULTS_RUN"))), Integer.parseInt(env("FAULTS_PG_PORT")),
        Integer.parseInt(env("FAULTS_REDIS_PORT")));
    } catch (Throwable t) {
      System.err.println("faults: " + t);
      t.printStackTrace();
      code = 2;
    }
    System.out.flush();
    System.exit(code);
  }

  private static int run(Settings s, int pgPort, int redisPort) throws Exception {
    if (s.mode().equals("rolling-restart") && Balancer.executable().isEmpty()) {
      System.out.println("rolling-restart: SKIP no haproxy on this machine (Debian: apt-get install -y haproxy)");
      System.out.println("0 passed, 0 failed");
      return 0;
    }
    Files.createDirectories(s.outDir());
    Db.createDatabase(pgPort, DATABASE);
    Db db = new Db(pgPort, DATABASE);
    Vertx vertx = Vertx.vertx();
    int smtpPort = Cluster.freePort(new java.util.HashSet<>(List.of(pgPort, redisPort)));
    try (MailSink mail = new MailSink(smtpPort); Cluster cluster = new Cluster(vertx, s, pgPort, redisPort, smtpPort)) {
      Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
      Scenarios scenarios = new Scenarios(s, vertx, cluster, db, mail);
      if (s.mode().equals("throughput")) {
        new ThroughputRun(s, vertx, scenarios, cluster, db).run();
        return 0;
      }
      if (s.mode().equals("rolling-restart")) {
        Outcome o;
        try {
          scenarios.startCluster(s.nodes());
          o = report(() -> new RollingRestartScenario(s, vertx, scenarios, cluster).run());
        } catch (RuntimeException e) {
          progress("aborted: " + e.getMessage());
          o = new Outcome("rolling-restart");
          o.violations.add("not run: " + e.getMessage());
          System.out.println(o.line());
        }
        System.out.println((o.passed() ? 1 : 0) + " passed, " + (o.passed() ? 0 : 1) + " failed");
        return o.passed() ? 0 : 1;
      }
      List<Outcome> outcomes = new ArrayList<>();
      // kill -9 first; the late joiner then takes the dead node's place, so the outages hit a full cluster
      Map<String, Supplier<Outcome>> all = new LinkedHashMap<>();
      all.put("kill-9", scenarios::kill9);
      all.put("late-join", scenarios::lateJoin);
      all.put("redis-restart", scenarios::redisRestart);
      all.put("postgres-restart", scenarios::postgresRestart);
      all.put("poison-under-load", () -> new PoisonScenario(scenarios, s, vertx, cluster, db).run());
      all.put("retry-storm", () -> new RetryStormScenario(s, vertx, cluster, db).run());
      all.put("database-stall", () -> new StallScenario(s, vertx, cluster, db, mail).run());
      all.put("pause-12s", () -> new PauseScenario(scenarios, cluster, db).run());
      // by hand, while working on some of them: FAULTS_ONLY=pause-12s runs only those, on a fresh cluster
      String only = System.getenv().getOrDefault("FAULTS_ONLY", "").trim();
      List<String> order = only.isEmpty() ? List.copyOf(all.keySet())
        : Arrays.stream(only.split(",")).map(String::trim).toList();
      for (String name : order) {
        if (!all.containsKey(name)) {
          throw new IllegalArgumentException("FAULTS_ONLY: no scenario " + name + "; there are " + all.keySet());
        }
      }
      try {
        scenarios.startCluster(s.nodes());
        for (String name : order) {
          outcomes.add(report(all.get(name)));
        }
      } catch (RuntimeException e) {
        progress("aborted: " + e.getMessage());
        for (int i = outcomes.size(); i < order.size(); i++) {
          Outcome o = new Outcome(order.get(i));
          o.violations.add("not run: " + e.getMessage());
          outcomes.add(o);
          System.out.println(o.line());
        }
      }
      long passed = outcomes.stream().filter(Outcome::passed).count();
      System.out.println(passed + " passed, " + (outcomes.size() - passed) + " failed");
      return passed == outcomes.size() ? 0 : 1;
    } finally {
      vertx.close();
    }
  }

  /** Runs one scenario, prints its line (and its violations on stderr); a crash of the scenario is a failure. */
  static Outcome report(Supplier<Outcome> scenario) {
    Outcome o = scenario.get();
    System.out.println(o.line());
    System.out.flush();
    for (String v : o.violations) {
      System.err.println("    violation (" + o.name + "): " + v);
    }
    return o;
  }

  static void progress(String text, Object... args) {
    System.err.printf(Locale.ROOT, "  [faults %tT] %s%n", System.currentTimeMillis(),
      args.length == 0 ? text : String.format(Locale.ROOT, text, args));
  }

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      throw new IllegalStateException(name + " is not set (run bench/faults.sh)");
    }
    return v;
  }
}
