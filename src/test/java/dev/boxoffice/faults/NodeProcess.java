package dev.boxoffice.faults;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code java -jar target/boxoffice.jar} process: its ports, log file, pid file (so the shell's clean-up can
 * kill it even if this driver dies), its cluster node id once ready, and an HTTP client for it.
 */
final class NodeProcess {
  final String name;
  final int httpPort;
  final int clusterPort;
  final Path log;
  final WebClient web;
  private final Process process;
  private final Path pidFile;
  private String nodeId;

  private NodeProcess(String name, int httpPort, int clusterPort, Path log, Process process, Path pidFile,
                      WebClient web) {
    this.name = name;
    this.httpPort = httpPort;
    this.clusterPort = clusterPort;
    this.log = log;
    this.process = process;
    this.pidFile = pidFile;
    this.web = web;
  }

  /** Starts the jar with the given BOXOFFICE_* settings; the inherited environment loses its own BOXOFFICE_*. */
  static NodeProcess start(Vertx vertx, String name, Path jar, int httpPort, int clusterPort, Map<String, String> env,
                           Path logDir, Path pidDir, int maxInFlight) throws IOException {
    return start(vertx, name, "127.0.0.1", List.of(), jar, httpPort, clusterPort, env, logDir, pidDir, maxInFlight);
  }

  /**
   * The same at {@code host} (its HTTP address as the driver reaches it), the command run behind {@code prefix}
   * (bench/net: {@code ip netns exec <namespace>}, which execs the JVM in place, so the pid is still the JVM's).
   */
  /** {@code FAULTS_NODE_ENV}: settings every node gets besides the scenario's, {@code "K=V K=V"}. */
  static Map<String, String> extraEnv(String spec) {
    Map<String, String> env = new HashMap<>();
    for (String pair : spec == null ? new String[0] : spec.trim().split("\\s+")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        env.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
    }
    return env;
  }

  static NodeProcess start(Vertx vertx, String name, String host, List<String> prefix, Path jar, int httpPort,
                           int clusterPort, Map<String, String> env, Path logDir, Path pidDir, int maxInFlight)
    throws IOException {
    Files.createDirectories(logDir);
    Files.createDirectories(pidDir);
    Path log = logDir.resolve(name + ".log");
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(java, "-Xmx512m", "-XX:+ExitOnOutOfMemoryError", "-Dboxoffice.faults.node=" + name,
      "-jar", jar.toString()));
    ProcessBuilder pb = new ProcessBuilder(command)
      .redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> penv = pb.environment();
    penv.keySet().removeIf(k -> k.startsWith("BOXOFFICE_"));
    Map<String, String> all = new HashMap<>(env);
    all.put("BOXOFFICE_HTTP_PORT", String.valueOf(httpPort));
    all.put("BOXOFFICE_CLUSTER_PORT", String.valueOf(clusterPort));
    all.putAll(extraEnv(System.getenv("FAULTS_NODE_ENV")));
    penv.putAll(all);
    Process process = pb.start();
    Path pidFile = pidDir.resolve(name + ".pid");
    Files.writeString(pidFile, String.valueOf(process.pid()));
    WebClient web = WebClient.create(vertx, new WebClientOptions().setDefaultHost(host)
      .setDefaultPort(httpPort).setKeepAlive(true).setConnectTimeout(2_000),
      new PoolOptions().setHttp1MaxSize(Math.max(8, maxInFlight)));
    return new NodeProcess(name, httpPort, clusterPort, log, process, pidFile, web);
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** How the process ended ("exit 137" = SIGKILL, "exit 143" = SIGTERM), or "running". */
  String exitStatus() {
    return process.isAlive() ? "running" : "exit " + process.exitValue();
  }

  String nodeId() {
    return nodeId;
  }

  /** GET /health/ready: the HTTP status and the body (null when the node does not answer). */
  Readiness readiness(long timeoutMs) {
    try {
      HttpResponse<Buffer> r = web.get("/health/ready").timeout(timeoutMs).send()
        .toCompletionStage().toCompletableFuture().get(timeoutMs + 1_000, TimeUnit.MILLISECONDS);
      JsonObject body = null;
      try {
        body = r.bodyAsJsonObject();
      } catch (RuntimeException ignored) {
        // not JSON: keep the status
      }
      return new Readiness(r.statusCode(), body);
    } catch (Exception e) {
      return new Readiness(-1, null);
    }
  }

  /** Waits until readiness is 200 with {@code members} cluster members; remembers the node id. */
  Readiness awaitReady(int members, long timeoutMs) {
    long end = System.currentTimeMillis() + timeoutMs;
    Readiness last = new Readiness(-1, null);
    while (System.currentTimeMillis() < end) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with status " + process.exitValue() + " (see " + log + ")");
      }
      last = readiness(2_000);
      if (last.status() == 200 && last.members() == members) {
        nodeId = last.nodeId();
        return last;
      }
      sleep(250);
    }
    throw new IllegalStateException(name + " not ready with " + members + " members within " + timeoutMs / 1000
      + " s (last: " + last + "; see " + log + ")");
  }

  /** SIGKILL: no shutdown hook, no graceful cluster leave. */
  void kill9() {
    process.destroyForcibly();
    waitExit(10);
  }

  /** SIGTERM, as an orchestrator stops a node: the node drains and closes on its own ({@link #awaitExit}). */
  void terminate() {
    process.destroy();
  }

  /** Waits up to {@code ms} for the process to end; whether it did. */
  boolean awaitExit(long ms) {
    try {
      return process.waitFor(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** SIGTERM, then SIGKILL if it does not exit in time. */
  void stop() {
    if (process.isAlive()) {
      process.destroy();
      if (!waitExit(20)) {
        process.destroyForcibly();
        waitExit(5);
      }
    }
    web.close();
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException ignored) {
      // the shell's clean-up only kills live boxoffice processes
    }
  }

  private boolean waitExit(int seconds) {
    try {
      return process.waitFor(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public String toString() {
    return name + "(pid " + process.pid() + ", http " + httpPort + ", cluster " + clusterPort + ")";
  }

  /** What /health/ready said. */
  record Readiness(int status, JsonObject body) {
    JsonObject cluster() {
      JsonArray checks = body == null ? null : body.getJsonArray("checks");
      if (checks == null) {
        return null;
      }
      for (Object c : checks) {
        if (c instanceof JsonObject check && "cluster".equals(check.getString("id"))) {
          return check.getJsonObject("data");
        }
      }
      return null;
    }

    int members() {
      JsonObject data = cluster();
      return data == null ? -1 : data.getInteger("members", -1);
    }

    String nodeId() {
      JsonObject data = cluster();
      return data == null ? null : data.getString("node_id");
    }

    @Override
    public String toString() {
      return "HTTP " + status + (body == null ? "" : " " + body.encode());
    }
  }
}
