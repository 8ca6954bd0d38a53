package dev.boxoffice.faults;

import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.boxoffice.faults.FaultHarness.progress;
import static dev.boxoffice.faults.FaultHarness.report;

/**
 * The network harness, run by {@code bench/net/net.sh} as root once it has made the namespaces and started
 * PostgreSQL and Redis in theirs: three nodes, each at its own address in its own network namespace, under load from
 * this process (in the root namespace, over the bridge), then a 12 s pause of a node ({@link PauseScenario}), a
 * partition, a node cut off from PostgreSQL and latency between the nodes ({@link NetScenarios}). One line per
 * scenario, then {@code N passed, M failed}; the exit status is non-zero on any violation.
 *
 * <p>Environment (set by net.sh): FAULTS_RUN, NET_PG_HOST, NET_PG_PORT, NET_REDIS_HOST, NET_REDIS_PORT,
 * NET_SMTP_HOST (the bridge's address, where the SMTP sink listens), NET_NODE_HOSTS and NET_NODE_NAMESPACES (comma
 * lists, in node order), NET_CTL (netctl.sh); NET_ONLY=partition,... runs only those scenarios.
 */
public final class NetHarness {
  static final int SMTP_PORT = 2525;

  private NetHarness() {
  }

  public static void main(String[] args) {
    int code;
    try {
      code = run();
    } catch (Throwable t) {
      System.err.println("net: " + t);
      t.printStackTrace();
      code = 2;
    }
    System.out.flush();
    System.exit(code);
  }

  private static int run() throws Exception {
    FaultHarness.Settings s = FaultHarness.Settings.of("net", Path.of(env("FAULTS_RUN")));
    Files.createDirectories(s.outDir());
    String pgHost = env("NET_PG_HOST");
    int pgPort = Integer.parseInt(env("NET_PG_PORT"));
    Cluster.Placement placement = new Cluster.Placement(pgHost, env("NET_REDIS_HOST"), env("NET_SMTP_HOST"),
      List.of(env("NET_NODE_HOSTS").split(",")), List.of(env("NET_NODE_NAMESPACES").split(",")));
    Db.createDatabase(pgHost, pgPort, FaultHarness.DATABASE);
    Db db = new Db(pgHost, pgPort, FaultHarness.DATABASE);
    Vertx vertx = Vertx.vertx();
    try (MailSink mail = new MailSink(placement.smtpHost(), SMTP_PORT);
         Cluster cluster = new Cluster(vertx, s, pgPort, Integer.parseInt(env("NET_REDIS_PORT")), SMTP_PORT,
           placement)) {
      Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
      Scenarios scenarios = new Scenarios(s, vertx, cluster, db, mail);
      NetScenarios net = new NetScenarios(s, vertx, cluster, db, scenarios, Path.of(env("NET_CTL")));
      Map<String, Supplier<Outcome>> all = new LinkedHashMap<>();
      all.put("pause-12s", () -> new PauseScenario(scenarios, cluster, db).run());
      all.put("partition", net::partition);
      all.put("postgres-cut", net::postgresCut);
      all.put("latency-100ms", net::latency);
      String only = System.getenv().getOrDefault("NET_ONLY", "").trim();
      List<String> order = only.isEmpty() ? List.copyOf(all.keySet())
        : Arrays.stream(only.split(",")).map(String::trim).toList();
      for (String name : order) {
        if (!all.containsKey(name)) {
          throw new IllegalArgumentException("NET_ONLY: no scenario " + name + "; there are " + all.keySet());
        }
      }
      List<Outcome> outcomes = new ArrayList<>();
      scenarios.startCluster(s.nodes());
      for (String name : order) {
        try {
          cluster.awaitAll(60_000); // each scenario starts from one whole cluster
        } catch (IllegalStateException e) {
          Outcome o = new Outcome(name);
          o.violations.add("not run: the cluster is not whole: " + e.getMessage());
          outcomes.add(o);
          System.out.println(o.line());
          continue;
        }
        outcomes.add(report(() -> {
          try {
            return all.get(name).get();
          } catch (RuntimeException e) {
            progress("%s aborted: %s", name, e.getMessage());
            net.clearFaults();
            Outcome o = new Outcome(name);
            o.violations.add("aborted: " + e.getMessage());
            return o;
          }
        }));
      }
      long passed = outcomes.stream().filter(Outcome::passed).count();
      System.out.println(passed + " passed, " + (outcomes.size() - passed) + " failed");
      return passed == outcomes.size() ? 0 : 1;
    } finally {
      vertx.close();
    }
  }

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      throw new IllegalStateException(name + " is not set (run bench/net/net.sh)");
    }
    return v;
  }
}
