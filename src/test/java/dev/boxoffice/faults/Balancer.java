package dev.boxoffice.faults;

import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * HAProxy from the machine's packages in front of the run's nodes, with the shipped {@code haproxy.cfg}: the same
 * checks, timeouts and retry rules, only its {@code bind} moved to a free loopback port, its {@code server} lines
 * pointed at the nodes' HTTP ports, Docker's DNS section dropped, and a stats socket added (to read each server's
 * state: UP, DOWN). Its log (one line per request) goes to {@code target/faults/haproxy.log}.
 */
final class Balancer implements AutoCloseable {
  private static final List<String> SECTIONS = List.of("global", "defaults", "frontend", "backend", "listen",
    "resolvers", "userlist", "peers", "program", "http-errors", "ring", "cache", "mailers");

  final int port;
  private final Process process;
  private final Path socket;
  private final Path config;
  final Path log;
  final WebClient web;

  private Balancer(int port, Process process, Path socket, Path config, Path log, WebClient web) {
    this.port = port;
    this.process = process;
    this.socket = socket;
    this.config = config;
    this.log = log;
    this.web = web;
  }

  /** The haproxy executable, if the machine has one (Debian: {@code apt-get install haproxy}). */
  static Optional<Path> executable() {
    for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/usr/local/sbin").split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "haproxy");
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** Starts HAProxy with the shipped configuration rewritten for {@code nodes}; checks it first ({@code -c}). */
  static Balancer start(Vertx vertx, Path haproxy, Path shipped, List<NodeProcess> nodes, int port, Path runDir,
                        Path logDir, int maxInFlight) throws IOException {
    Path dir = runDir.resolve("haproxy");
    Files.createDirectories(dir);
    Path socket = dir.resolve("admin.sock");
    Path config = dir.resolve("haproxy.cfg");
    Files.writeString(config, template(Files.readString(shipped), port, nodes, socket));
    Files.copy(config, logDir.resolve("haproxy.cfg"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Path log = logDir.resolve("haproxy.log");
    run(List.of(haproxy.toString(), "-c", "-f", config.toString()), log, "haproxy -c (configuration check)");
    Process process = new ProcessBuilder(haproxy.toString(), "-db", "-f", config.toString())
      .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Files.writeString(runDir.resolve("haproxy.pid"), String.valueOf(process.pid())); // services.sh cleanup
    // clients keep idle connections shorter than the balancer's keep-alive timeout (30 s): never a request on a
    // connection the balancer is closing
    WebClient web = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
      .setKeepAlive(true).setKeepAliveTimeout(10).setConnectTimeout(2_000),
      new PoolOptions().setHttp1MaxSize(Math.max(8, maxInFlight)));
    return new Balancer(port, process, socket, config, log, web);
  }

  /**
   * The shipped file for this run: {@code bind} lines on loopback at {@code port}; the {@code server} lines of the
   * backend replaced by one per node ({@code node1 127.0.0.1:<http port>}, options from {@code default-server}); no
   * {@code resolvers} (the nodes are addresses, not names); a stats socket for {@link #states}.
   */
  static String template(String shipped, int port, List<NodeProcess> nodes, Path socket) {
    List<String> out = new ArrayList<>();
    String section = "";
    boolean serversWritten = false;
    for (String line : shipped.split("\n", -1)) {
      String trimmed = line.trim();
      String first = trimmed.isEmpty() ? "" : trimmed.split("\\s+")[0];
      boolean header = !line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && SECTIONS.contains(first);
      if (header) {
        section = first;
      }
      if (section.equals("resolvers")) {
        continue;
      }
      if (header && first.equals("global")) {
        out.add(line);
        out.add("  stats socket " + socket + " mode 600 level admin");
        continue;
      }
      if (!header && first.equals("bind")) {
        out.add("  bind 127.0.0.1:" + port);
        continue;
      }
      if (!header && first.equals("server")) {
        if (!serversWritten) {
          nodes.forEach(n -> out.add("  server " + n.name + " 127.0.0.1:" + n.httpPort));
          serversWritten = true;
        }
        continue;
      }
      out.add(line.replaceAll("\\s+resolvers\\s+\\S+", ""));
    }
    if (!serversWritten) {
      throw new IllegalStateException("the shipped haproxy.cfg has no server line to point at the nodes");
    }
    while (!out.isEmpty() && out.get(out.size() - 1).isBlank()) {
      out.remove(out.size() - 1);
    }
    return String.join("\n", out) + "\n"; // HAProxy refuses a last line without its line feed
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Each server's state as HAProxy sees it ({@code UP}, {@code DOWN}, {@code UP 1/2} while going down...). */
  Map<String, String> states() {
    Map<String, String> states = new LinkedHashMap<>();
    for (Map<String, String> row : stats()) {
      String server = row.get("svname");
      if (!"BACKEND".equals(server) && !"FRONTEND".equals(server)) {
        states.put(server, row.get("status"));
      }
    }
    return states;
  }

  /** The backend's counters: {@code wretr} (retries), {@code wredis} (redispatches), {@code hrsp_5xx}... */
  Map<String, String> backend() {
    return stats().stream().filter(r -> "BACKEND".equals(r.get("svname"))).findFirst().orElse(Map.of());
  }

  /** {@code show stat} on the admin socket: one map per proxy and server, keyed by the CSV header. */
  private List<Map<String, String>> stats() {
    String csv = command("show stat");
    List<Map<String, String>> rows = new ArrayList<>();
    String[] lines = csv.split("\n");
    if (lines.length == 0 || !lines[0].startsWith("# ")) {
      return rows;
    }
    String[] header = lines[0].substring(2).split(",", -1);
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].isBlank()) {
        continue;
      }
      String[] values = lines[i].split(",", -1);
      Map<String, String> row = new HashMap<>();
      for (int c = 0; c < header.length && c < values.length; c++) {
        row.put(header[c], values[c]);
      }
      rows.add(row);
    }
    return rows;
  }

  private String command(String command) {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
      while (channel.read(buffer) >= 0) { // one command per connection: HAProxy closes after answering
        buffer.flip();
        answer.write(buffer.array(), 0, buffer.limit());
        buffer.clear();
      }
      return answer.toString(StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return "";
    }
  }

  /** Waits until HAProxy reports {@code server} in a state starting with {@code prefix}; when it did, or -1. */
  long await(String server, String prefix, long timeoutMs) {
    long end = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < end) {
      String state = states().get(server);
      if (state != null && state.startsWith(prefix)) {
        return System.currentTimeMillis();
      }
      NodeProcess.sleep(50);
    }
    return -1;
  }

  @Override
  public void close() {
    web.close();
    if (process.isAlive()) {
      process.destroy(); // SIGTERM: hard stop, the run is over
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void run(List<String> command, Path log, String what) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    try {
      boolean done = p.waitFor(30, TimeUnit.SECONDS);
      if (!done || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(what + " failed (" + (done ? "exit " + p.exitValue() : "no answer in 30 s")
          + "; see " + log + "): " + String.join(" ", command));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public String toString() {
    return "haproxy(pid " + process.pid() + ", 127.0.0.1:" + port + ", " + config + ")";
  }
}
