package dev.boxoffice.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * Real PostgreSQL and Redis for tests, found in this order: the servers named by {@code BOXOFFICE_TEST_PG_URI} /
 * {@code BOXOFFICE_TEST_REDIS_URI} (what CI uses), Testcontainers when a Docker engine answers, else embedded
 * PostgreSQL and Redis. Each test class asks for its own database, so classes never see each other's rows.
 */
public final class TestStorage {
  private static final Logger log = LoggerFactory.getLogger(TestStorage.class);
  private static TestStorage instance;

  private final String adminPgUri;
  private final String redisUri;
  private final Runnable redisRestart;

  private TestStorage(String adminPgUri, String redisUri, Runnable redisRestart) {
    this.adminPgUri = adminPgUri;
    this.redisUri = redisUri;
    this.redisRestart = redisRestart;
  }

  public static synchronized TestStorage get() {
    if (instance == null) {
      instance = create();
    }
    return instance;
  }

  private static TestStorage create() {
    String pg = System.getenv("BOXOFFICE_TEST_PG_URI");
    String redis = System.getenv("BOXOFFICE_TEST_REDIS_URI");
    if (pg != null && redis != null) {
      log.info("tests use PostgreSQL {} and Redis {} from the environment", pg, redis);
      return new TestStorage(pg, redis, null);
    }
    if (dockerAvailable()) {
      PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:17-alpine");
      postgres.start();
      GenericContainer<?> redisContainer = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
      redisContainer.start();
      String pgUri = "postgresql://" + postgres.getUsername() + ":" + postgres.getPassword() + "@"
        + postgres.getHost() + ":" + postgres.getMappedPort(5432) + "/" + postgres.getDatabaseName();
      log.info("tests use Testcontainers PostgreSQL and Redis");
      return new TestStorage(pgUri, "redis://" + redisContainer.getHost() + ":" + redisContainer.getMappedPort(6379),
        null);
    }
    try {
      EmbeddedPostgres postgres = EmbeddedPostgres.builder()
        .setServerConfig("max_connections", "300")
        .start();
      int redisPort = freePort();
      RedisServer server = RedisServer.newRedisServer().port(redisPort).bind("127.0.0.1")
        .setting("save \"\"").setting("appendonly no")
        .setting("dir " + Files.createTempDirectory("bo-redis").toAbsolutePath()).build();
      server.start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          server.stop();
          postgres.close();
        } catch (IOException ignored) {
          // the JVM is going away
        }
      }));
      log.info("tests use embedded PostgreSQL (port {}) and Redis (port {})", postgres.getPort(), redisPort);
      return new TestStorage("postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/postgres",
        "redis://127.0.0.1:" + redisPort, null);
    } catch (IOException e) {
      throw new IllegalStateException("no PostgreSQL/Redis for tests: set BOXOFFICE_TEST_PG_URI and "
        + "BOXOFFICE_TEST_REDIS_URI, or run Docker", e);
    }
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A port {@code p} such that {@code p .. p + span - 1} were all free on 127.0.0.1 just now: for nodes that must
   * bind near each other (a cluster port window), where {@link #freePort()}'s scattered ports would not do.
   */
  public static int freePortRun(int span) {
    java.util.Random random = new java.util.Random();
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = 20000 + random.nextInt(10000);
      boolean free = true;
      for (int p = base; p < base + span && free; p++) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new java.net.InetSocketAddress("127.0.0.1", p));
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IllegalStateException("no run of " + span + " free ports found");
  }

  /** A fresh, empty database for one test class; returns its URI. */
  public String newDatabase(String hint) {
    String name = ("bo_" + hint.replaceAll("[^A-Za-z0-9]", "_") + "_"
      + UUID.randomUUID().toString().substring(0, 8)).toLowerCase(Locale.ROOT);
    try (Connection c = DriverManager.getConnection(jdbc(adminPgUri), user(), password());
         Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name, e);
    }
    return adminPgUri.substring(0, adminPgUri.lastIndexOf('/') + 1) + name;
  }

  public String redisUri() {
    return redisUri;
  }

  /** A Redis key prefix of its own for one test class. */
  public static String redisPrefix(String hint) {
    return "t:" + hint + ":" + UUID.randomUUID().toString().substring(0, 6) + ":";
  }

  /** A plain JDBC connection to a database this class made, for tests that check what is stored. */
  public static Connection connect(String uri) throws SQLException {
    io.vertx.pgclient.PgConnectOptions o = io.vertx.pgclient.PgConnectOptions.fromUri(uri);
    return DriverManager.getConnection(jdbc(uri), o.getUser(), o.getPassword());
  }

  public static String jdbc(String uri) {
    io.vertx.pgclient.PgConnectOptions o = io.vertx.pgclient.PgConnectOptions.fromUri(uri);
    return "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
  }

  private String user() {
    return io.vertx.pgclient.PgConnectOptions.fromUri(adminPgUri).getUser();
  }

  private String password() {
    return io.vertx.pgclient.PgConnectOptions.fromUri(adminPgUri).getPassword();
  }
}
