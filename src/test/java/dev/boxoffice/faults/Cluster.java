package dev.boxoffice.faults;

import io.vertx.core.Vertx;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The boxoffice processes of one run and the private PostgreSQL and Redis they use. Every node gets the same
 * settings except its ports (or, placed in network namespaces, its address); the member list names every node the
 * run may start (the late joiner too), as a static production member list would.
 */
final class Cluster implements AutoCloseable {
  /** Ports of a node in its own network namespace: at its own address, every node uses the same ones. */
  static final int NET_HTTP_PORT = 8080;
  static final int NET_CLUSTER_PORT = 5701;
  static final int NET_EVENTBUS_PORT = 5801;

  /**
   * Where the services and the nodes live. {@link #loopback()}: everything on 127.0.0.1, nodes told apart by port
   * (bench/faults.sh). Otherwise each node at its own address inside its own network namespace (bench/net/), with
   * PostgreSQL, Redis and the SMTP sink at theirs.
   */
  record Placement(String pgHost, String redisHost, String smtpHost, List<String> nodeHosts,
                   List<String> namespaces) {
    static Placement loopback() {
      return new Placement("127.0.0.1", "127.0.0.1", "127.0.0.1", List.of(), List.of());
    }

    boolean namespaced() {
      return !nodeHosts.isEmpty();
    }
  }

  private final Vertx vertx;
  private final Path jar;
  private final Path logDir;
  private final Path runDir;
  private final Path services;
  private final int maxInFlight;
  private final List<int[]> ports = new ArrayList<>();
  private final Map<String, String> env = new LinkedHashMap<>();
  private final Placement placement;
  private int started;
  /** Nodes that should be running (a killed node leaves this list). */
  final List<NodeProcess> live = new CopyOnWriteArrayList<>();
  final List<NodeProcess> all = new CopyOnWriteArrayList<>();

  Cluster(Vertx vertx, FaultHarness.Settings s, int pgPort, int redisPort, int smtpPort) throws IOException {
    this(vertx, s, pgPort, redisPort, smtpPort, Placement.loopback());
  }

  Cluster(Vertx vertx, FaultHarness.Settings s, int pgPort, int redisPort, int smtpPort, Placement placement)
    throws IOException {
    this.vertx = vertx;
    this.placement = placement;
    this.jar = s.jar();
    this.logDir = s.outDir();
    this.runDir = s.runDir();
    this.services = s.services();
    this.maxInFlight = s.maxInFlight();
    Set<Integer> taken = new HashSet<>(Set.of(pgPort, redisPort, smtpPort));
    if (placement.namespaced()) {
      placement.nodeHosts().forEach(h -> ports.add(new int[]{NET_HTTP_PORT, NET_CLUSTER_PORT}));
    } else {
      for (int i = 0; i < s.nodes() + 1; i++) {
        ports.add(new int[]{freePort(taken), freePort(taken)});
      }
    }
    env.put("BOXOFFICE_PROFILE", "dev");
    env.put("BOXOFFICE_PG_URI", "postgresql://postgres@" + placement.pgHost() + ":" + pgPort + "/"
      + FaultHarness.DATABASE);
    env.put("BOXOFFICE_REDIS_URI", "redis://" + placement.redisHost() + ":" + redisPort);
    env.put("BOXOFFICE_REDIS_KEY_PREFIX", "faults:");
    env.put("BOXOFFICE_DATA_DIR", runDir.resolve("data").toString());
    env.put("BOXOFFICE_CLUSTER_NAME", "faults-" + UUID.randomUUID().toString().substring(0, 8));
    if (placement.namespaced()) {
      env.put("BOXOFFICE_CLUSTER_MEMBERS", placement.nodeHosts().stream().map(h -> h + ":" + NET_CLUSTER_PORT)
        .collect(Collectors.joining(",")));
      env.put("BOXOFFICE_EVENTBUS_PORT", String.valueOf(NET_EVENTBUS_PORT));
    } else {
      env.put("BOXOFFICE_CLUSTER_HOST", "127.0.0.1");
      env.put("BOXOFFICE_CLUSTER_MEMBERS", ports.stream().map(p -> "127.0.0.1:" + p[1])
        .collect(Collectors.joining(",")));
    }
    env.put("BOXOFFICE_JOBS_LEASE_SECONDS", String.valueOf(s.leaseSeconds()));
    env.put("BOXOFFICE_HOLD_SECONDS", String.valueOf(s.holdSeconds()));
    env.put("BOXOFFICE_PAYMENT_MODE", s.paymentMode());
    env.put("BOXOFFICE_PAYMENT_DECLINE_EMAILS", "@decline\\.test$");
    env.put("BOXOFFICE_SMTP_HOST", placement.smtpHost());
    env.put("BOXOFFICE_SMTP_PORT", String.valueOf(smtpPort));
    // the user-directory schedules call an outside service: off, and nowhere to call if one ran anyway
    env.put("BOXOFFICE_USERS_SYNC_CRON", "off");
    env.put("BOXOFFICE_ENRICH_ADDRESSES_CRON", "off");
    env.put("BOXOFFICE_ENRICH_CARDS_CRON", "off");
    env.put("BOXOFFICE_USERS_PROVIDER_URL", "http://127.0.0.1:9");
    // the database-stall scenario (StallScenario): a waiting bound its burst exceeds
    env.put("BOXOFFICE_BOOKING_QUEUE_LIMIT", String.valueOf(StallScenario.LIMIT));
    // SIGTERM: readiness 503 this long before the node stops accepting (the rolling restart's balancer needs it)
    env.put("BOXOFFICE_SHUTDOWN_DRAIN_MS", String.valueOf(s.drainMs()));
    env.put("BOXOFFICE_LOG_FORMAT", "TEXT");
    env.put("BOXOFFICE_LOG_LEVEL", s.logLevel());
  }

  /** Starts the next node (ports from the pre-allocated list); does not wait for it. */
  NodeProcess start() throws IOException {
    if (started >= ports.size()) {
      throw new IllegalStateException("no ports left for another node");
    }
    int i = started++;
    int[] p = ports.get(i);
    NodeProcess node;
    if (placement.namespaced()) {
      // its own address for HTTP, Hazelcast and the event bus (dev listens on loopback unless told a host)
      String host = placement.nodeHosts().get(i);
      Map<String, String> own = new LinkedHashMap<>(env);
      own.put("BOXOFFICE_HTTP_HOST", host);
      own.put("BOXOFFICE_CLUSTER_HOST", host);
      node = NodeProcess.start(vertx, "node" + started, host, List.of("ip", "netns", "exec",
        placement.namespaces().get(i)), jar, p[0], p[1], own, logDir, runDir.resolve("nodes"), maxInFlight);
    } else {
      node = NodeProcess.start(vertx, "node" + started, jar, p[0], p[1], env, logDir, runDir.resolve("nodes"),
        maxInFlight);
    }
    live.add(node);
    all.add(node);
    return node;
  }

  /**
   * Starts {@code stopped} (a node that has exited) again: the same name, ports and log file, a new process (and a
   * new cluster node id once ready). Does not wait for it.
   */
  NodeProcess restart(NodeProcess stopped) throws IOException {
    if (stopped.alive()) {
      throw new IllegalStateException(stopped + " is still running");
    }
    NodeProcess node = NodeProcess.start(vertx, stopped.name, jar, stopped.httpPort, stopped.clusterPort, env, logDir,
      runDir.resolve("nodes"), maxInFlight);
    live.replaceAll(n -> n == stopped ? node : n);
    if (!live.contains(node)) {
      live.add(node);
    }
    all.add(node);
    return node;
  }

  /** Every live node ready and seeing {@code live.size()} members. */
  void awaitAll(long timeoutMs) {
    for (NodeProcess n : live) {
      n.awaitReady(live.size(), timeoutMs);
    }
  }

  /**
   * When every live node answered readiness 200 reporting every live node as a member (one cluster again), or -1
   * if that did not happen before {@code until} (epoch ms).
   */
  long awaitOneCluster(long until) {
    while (System.currentTimeMillis() < until) {
      boolean whole = live.stream().allMatch(n -> {
        NodeProcess.Readiness r = n.readiness(1_000);
        return r.status() == 200 && r.members() == live.size();
      });
      if (whole && live.stream().allMatch(NodeProcess::alive)) {
        return System.currentTimeMillis();
      }
      NodeProcess.sleep(250);
    }
    return -1;
  }

  void kill9(NodeProcess node) {
    live.remove(node);
    node.kill9();
  }

  /** Runs {@code bench/faults/services.sh <args>} (PostgreSQL / Redis stop and start); fails on a non-zero exit. */
  void service(String... args) {
    List<String> cmd = new ArrayList<>(List.of("bash", services.toString()));
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logDir.resolve("services.log").toFile()));
      pb.environment().put("FAULTS_RUN", runDir.toString());
      Process p = pb.start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("services.sh " + String.join(" ", args) + " took over 60 s");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("services.sh " + String.join(" ", args) + " failed (exit " + p.exitValue()
          + "; see " + logDir.resolve("services.log") + ")");
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run services.sh", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Nodes that died without being killed by the harness. */
  List<NodeProcess> crashed() {
    return live.stream().filter(n -> !n.alive()).toList();
  }

  @Override
  public void close() {
    List<Thread> stopping = new ArrayList<>();
    for (NodeProcess n : all) {
      Thread t = new Thread(n::stop, "stop-" + n.name);
      t.start();
      stopping.add(t);
    }
    for (Thread t : stopping) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A port nobody listens on, below the ephemeral range (so an outgoing connection cannot take it meanwhile). */
  static int freePort(Set<Integer> taken) throws IOException {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    for (int i = 0; i < 200; i++) {
      int port = 20_000 + random.nextInt(12_000);
      if (taken.contains(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        taken.add(port);
        return port;
      } catch (IOException busy) {
        // try another
      }
    }
    throw new IOException("no free port");
  }
}
