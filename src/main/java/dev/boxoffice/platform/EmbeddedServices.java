package dev.boxoffice.platform;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Zero-setup dev storage: embedded PostgreSQL (data kept under the data dir, so it survives restarts) and
 * embedded Redis. A second node started from the same data dir finds the servers already listening and uses them.
 * Blocking: call from a worker thread or before Vert.x starts. No shutdown hooks of its own: the node stops these
 * after Vert.x (see {@code Boxoffice.Node#close}), so that nothing still running meets a closed database; hooks
 * would run concurrently with the node's.
 */
public final class EmbeddedServices implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedServices.class);

  private EmbeddedPostgres postgres;
  private RedisServer redis;
  private volatile Path dataDir;

  public String startPostgres(Path dataDir, int port) throws IOException {
    String uri = "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    this.dataDir = dataDir;
    if (listening(port)) {
      log.info("embedded PostgreSQL already running on port {}; reusing it", port);
      return uri;
    }
    Path pgData = dataDir.resolve("postgres");
    Files.createDirectories(pgData);
    postgres = EmbeddedPostgres.builder()
      .setDataDirectory(pgData)
      .setCleanDataDirectory(false)
      .setPort(port)
      .setRegisterShutdownHook(false)
      .setServerConfig("max_connections", "200")
      .start();
    log.info("embedded PostgreSQL started on port {} with data in {}", port, pgData.toAbsolutePath());
    return uri;
  }

  /** The data directory of the embedded PostgreSQL this node uses (started or found running); null if none. */
  public Path postgresDataDir() {
    return dataDir;
  }

  public String startRedis(Path dataDir, int port) throws IOException {
    String uri = "redis://127.0.0.1:" + port;
    if (listening(port)) {
      log.info("embedded Redis already running on port {}; reusing it", port);
      return uri;
    }
    Path redisDir = dataDir.resolve("redis");
    Files.createDirectories(redisDir);
    redis = RedisServer.newRedisServer()
      .port(port)
      .bind("127.0.0.1")
      .setting("dir " + redisDir.toAbsolutePath())
      .setting("save \"\"")
      .setting("appendonly no")
      .onShutdownForceStop(true)
      .build();
    redis.start();
    log.info("embedded Redis started on port {}", port);
    return uri;
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 300);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops what this instance started (servers it found already running are left alone); idempotent. */
  @Override
  public synchronized void close() {
    try {
      if (redis != null && redis.isActive()) {
        redis.stop();
      }
    } catch (IOException e) {
      log.warn("stopping embedded Redis failed: {}", e.getMessage());
    }
    redis = null;
    try {
      if (postgres != null) {
        postgres.close();
      }
    } catch (IOException e) {
      log.warn("stopping embedded PostgreSQL failed: {}", e.getMessage());
    }
    postgres = null;
  }
}
