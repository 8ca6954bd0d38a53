package dev.boxoffice.cli;

import dev.boxoffice.ops.BuildInfo;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.testing.Await;
import dev.boxoffice.testing.TestStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --help}, {@code --version} and a wrong argument, run as the jar runs them: {@code Main} in a JVM of its own,
 * so that its real exit status is seen and a start (embedded PostgreSQL, the cluster, the HTTP port) would show.
 */
class CommandLineTest {
  @TempDir
  Path dataDir;
  @TempDir
  Path output;

  /** The finished process: its exit status and what it printed. */
  record Run(int status, String out, String err) {
  }

  @Test
  void helpListsEveryPackagedSettingWithItsVariableAndDefaultAndStartsNothing() throws Exception {
    int httpPort = TestStorage.freePort();
    int clusterPort = TestStorage.freePort();
    Run run = main(Map.of("BOXOFFICE_HTTP_PORT", String.valueOf(httpPort),
      "BOXOFFICE_CLUSTER_PORT", String.valueOf(clusterPort)), "--help");

    assertThat(run.status()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).startsWith("Usage: java -jar boxoffice.jar")
      .contains("--version", "accounts create USER [--role admin|user]", "accounts reset-password USER",
        "accounts disable USER", "BOXOFFICE_CONFIG");
    AppConfig.defaults().forEach(setting -> {
      String line = run.out().lines().filter(l -> l.trim().startsWith(AppConfig.envName(setting.getKey()) + " "))
        .findFirst().orElseThrow(() -> new AssertionError("--help does not list " + setting.getKey()));
      assertThat(line.trim()).as(setting.getKey())
        .endsWith(setting.getValue() == null ? "(unset)" : String.valueOf(setting.getValue()));
    });
    assertThat(run.out()).contains("BOXOFFICE_HTTP_PORT", "8080").contains("BOXOFFICE_PG_URI")
      .contains("OFF in", "prod: a prod node runs no user sync or enrichment");
    assertNothingStarted(httpPort, clusterPort);
  }

  @Test
  void versionPrintsTheBuildsVersionAndCommitAndStartsNothing() throws Exception {
    int httpPort = TestStorage.freePort();
    int clusterPort = TestStorage.freePort();
    Run run = main(Map.of("BOXOFFICE_HTTP_PORT", String.valueOf(httpPort),
      "BOXOFFICE_CLUSTER_PORT", String.valueOf(clusterPort)), "--version");

    assertThat(run.status()).isZero();
    assertThat(run.out().trim()).isEqualTo("boxoffice " + BuildInfo.version() + " (commit " + BuildInfo.commit() + ")");
    // the build filled both in (the test runs from a git checkout; a tarball build would say unknown)
    assertThat(BuildInfo.version()).isNotEqualTo(BuildInfo.UNKNOWN).doesNotContain("${");
    assertThat(BuildInfo.commit()).doesNotContain("${").matches("unknown|[0-9a-f]{7,40}");
    assertNothingStarted(httpPort, clusterPort);
  }

  @Test
  void anUnknownArgumentPrintsUsageOnStandardErrorAndExitsTwo() throws Exception {
    Run run = main(Map.of(), "--verison");

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).startsWith("boxoffice: unknown argument: --verison").contains("Usage: java -jar boxoffice.jar");
    assertThat(dataDir).isEmptyDirectory();
  }

  private void assertNothingStarted(int httpPort, int clusterPort) throws IOException {
    assertThat(dataDir).as("no embedded storage under the data dir").isEmptyDirectory();
    for (int port : new int[] {httpPort, clusterPort}) {
      try (ServerSocket s = new ServerSocket(port)) {
        assertThat(s.getLocalPort()).as("port %d was never taken", port).isEqualTo(port);
      }
    }
  }

  /** {@code java dev.boxoffice.Main args} on the test class path, with the data dir of this test. */
  private Run main(Map<String, String> env, String... args) throws Exception {
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-cp", classPath, "dev.boxoffice.Main"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> k.startsWith("BOXOFFICE_"));
    pb.environment().putAll(env);
    pb.environment().put("BOXOFFICE_DATA_DIR", dataDir.toString());
    File out = output.resolve("out").toFile();
    File err = output.resolve("err").toFile();
    Process p = pb.redirectOutput(out).redirectError(err).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    p.getOutputStream().close();
    if (!p.waitFor(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("boxoffice " + String.join(" ", args) + " did not exit: it started something");
    }
    return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
      Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }
}
