package dev.boxoffice;

import dev.boxoffice.testing.MainProcess;
import dev.boxoffice.testing.TestStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A start refused by its configuration, run as the jar runs (Main in a JVM of its own, the product's logback.xml):
 * exit status 2, one message, nothing started, no secret printed; and the start line a node that gets past the
 * check prints, with its secrets masked.
 */
class StartRefusalTest {
  private static final String SECRET = "a-production-secret-of-more-than-32-characters";
  /** An ISO 8601 timestamp with its zone at the start of a TEXT line. */
  private static final String ISO_LINE = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) .*";

  @TempDir
  Path dataDir;
  @TempDir
  Path work;

  private MainProcess.Run main(Map<String, String> env) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.put("BOXOFFICE_DATA_DIR", dataDir.toString());
    all.putIfAbsent("BOXOFFICE_CLUSTER_PORT", String.valueOf(TestStorage.freePort()));
    return MainProcess.run(work, all);
  }

  @Test
  void aMisspeltVariableExitsTwoNamingTheNearestSettingAndStartsNothing() throws Exception {
    MainProcess.Run run = main(Map.of("BOXOFFICE_HTTP_PROT", "8081"));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.all()).contains("unknown variable BOXOFFICE_HTTP_PROT (did you mean BOXOFFICE_HTTP_PORT?)");
    assertThat(run.out().lines().filter(l -> !l.isBlank())).as("one message").hasSize(1);
    assertThat(dataDir).as("no embedded storage started").isEmptyDirectory();
  }

  @Test
  void lowerCaseTextLogsPrintTheRefusalWithAnIsoTimestamp() throws Exception {
    MainProcess.Run run = main(Map.of("BOXOFFICE_LOG_FORMAT", "text", "BOXOFFICE_HTTP_PORT", "70000"));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.out().lines().filter(l -> !l.isBlank()).toList()).singleElement().satisfies(line -> {
      assertThat(line).matches(ISO_LINE).contains("ERROR")
        .contains("BOXOFFICE_HTTP_PORT must be a port (1..65535), got 70000");
    });
    assertThat(dataDir).isEmptyDirectory();
  }

  @Test
  void anInvalidLogLevelRefusesTheStartInsteadOfBecomingDebug() throws Exception {
    MainProcess.Run run = main(Map.of("BOXOFFICE_LOG_LEVEL", "verbose"));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.all()).contains("BOXOFFICE_LOG_LEVEL must be one of trace, debug, info, warn, error, off "
      + "(got verbose)").doesNotContain("DEBUG");
    assertThat(run.out().lines().filter(l -> !l.isBlank())).hasSize(1);
  }

  @Test
  void anUnparseableDatabaseUriIsRefusedWithoutItsPassword() throws Exception {
    MainProcess.Run run = main(Map.of("BOXOFFICE_PG_URI",
      "postgresql://boxoffice:Sup3r#Secret@db.internal:5432x/boxoffice"));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.all()).contains("BOXOFFICE_PG_URI").doesNotContain("Sup3r", "Secret@");
  }

  /**
   * Past the check, the start line shows the effective settings with every secret masked; this node's HTTP port is
   * taken, so it exits non-zero before it touches storage or joins the cluster (its cluster port stays free).
   */
  @Test
  void theStartLineMasksSecretsAndANodeWhosePortIsTakenExitsBeforeJoining() throws Exception {
    Path jwt = Files.writeString(work.resolve("jwt"), SECRET + "\n");
    int clusterPort = TestStorage.freePort();
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      MainProcess.Run run = main(Map.of("BOXOFFICE_PROFILE", "prod", "BOXOFFICE_LOG_FORMAT", "TEXT",
        "BOXOFFICE_JWT_SECRET_FILE", jwt.toString(), "BOXOFFICE_TICKET_KEY", SECRET + "-ticket",
        "BOXOFFICE_ADMIN_PASSWORD", "Adm1n-Passw0rd!",
        "BOXOFFICE_PG_URI", "postgresql://bo:pg-Pa55w0rd@127.0.0.1:1/none",
        "BOXOFFICE_REDIS_URI", "redis://:redis-Pa55w0rd@127.0.0.1:1",
        "BOXOFFICE_HTTP_HOST", "127.0.0.1", "BOXOFFICE_HTTP_PORT", String.valueOf(taken.getLocalPort()),
        "BOXOFFICE_CLUSTER_PORT", String.valueOf(clusterPort)));

      assertThat(run.status()).isNotZero();
      String start = run.out().lines().filter(l -> l.contains("starting: profile=prod")).findFirst()
        .orElseThrow(() -> new AssertionError("no start line in:\n" + run.all()));
      assertThat(start).as("prod calls no user provider until one is configured").contains("users_provider=off");
      assertThat(start).matches(ISO_LINE).contains("\"http_port\":\"" + taken.getLocalPort() + "\"")
        .contains("postgresql://bo:***@127.0.0.1:1/none", "redis://:***@127.0.0.1:1", "\"jwt_secret\":\"***\"");
      assertThat(run.all()).doesNotContain(SECRET, "Adm1n-Passw0rd!", "pg-Pa55w0rd", "redis-Pa55w0rd")
        .contains("cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
    try (ServerSocket cluster = new ServerSocket(clusterPort)) {
      assertThat(cluster.getLocalPort()).as("the cluster port was never taken").isEqualTo(clusterPort);
    }
  }
}
