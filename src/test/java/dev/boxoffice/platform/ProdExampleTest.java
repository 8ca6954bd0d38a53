package dev.boxoffice.platform;

import dev.boxoffice.ConfigCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's two-node production example ({@code deploy/prod/}) is a configuration the start accepts: every
 * variable known, every value valid, the secrets read from their files, the two nodes agreeing on the settings they
 * must share; and it says what prod does by default (no user provider, the operators' routes on their own port).
 */
class ProdExampleTest {
  private static final Path EXAMPLE = Path.of("deploy", "prod");

  @TempDir
  Path secrets;

  @Test
  void bothNodesEnvironmentFilesPassTheStartsChecksAndAgreeOnTheSharedSettings() throws Exception {
    AppConfig node1 = load("node1.env");
    AppConfig node2 = load("node2.env");

    for (AppConfig node : new AppConfig[] {node1, node2}) {
      ConfigCheck.check(node);
      assertThat(node.isProd()).isTrue();
      assertThat(node.usersProviderUrl()).as("prod calls no provider until one is set").isNull();
      assertThat(node.opsPort()).isEqualTo(9090);
    }
    assertThat(SharedSettings.of(node1)).isEqualTo(SharedSettings.of(node2));
    assertThat(node1.string("cluster_public_host")).isNotEqualTo(node2.string("cluster_public_host"));
  }

  /** shared.env then the node's file, as systemd reads them, with each secret file replaced by one of the test's. */
  private AppConfig load(String nodeFile) throws Exception {
    Map<String, String> env = new HashMap<>();
    for (String file : new String[] {"shared.env", nodeFile}) {
      for (String line : Files.readAllLines(EXAMPLE.resolve(file))) {
        String trimmed = line.trim();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          continue;
        }
        String[] kv = trimmed.split("=", 2);
        env.put(kv[0], kv[1]);
      }
    }
    env.replaceAll((name, value) -> name.endsWith("_FILE") ? secret(name, value) : value);
    return AppConfig.load(env, Map.of());
  }

  private String secret(String name, String path) {
    String content = name.equals("BOXOFFICE_PG_URI_FILE") ? "postgresql://boxoffice:pw@db.internal:5432/boxoffice\n"
      : "a-random-secret-of-at-least-32-characters-for-" + name + "\n";
    try {
      return Files.writeString(secrets.resolve(Path.of(path).getFileName()), content).toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
