package dev.boxoffice.platform;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** BOXOFFICE_PROFILE: dev or prod only; what dev does differently (loopback listener, its own random secret). */
class ProfilesTest {
  private static final String PROD_SECRET = "a-production-secret-of-more-than-32-characters";

  @Test
  void aProfileOtherThanDevOrProdRefusesToStart() {
    for (String profile : new String[] {"staging", "", "production"}) {
      AppConfig config = AppConfig.load(Map.of("BOXOFFICE_PROFILE", profile), Map.of("profile", profile));
      assertThatThrownBy(config::validate).hasMessageContaining("BOXOFFICE_PROFILE must be dev or prod");
    }
    Throwable start = catchThrowable(() -> await(Boxoffice.start(AppConfig.of(
      TestNodes.settings("postgresql://postgres@127.0.0.1:1/none", "p:").put("profile", "Staging")), false)));
    assertThat(start).hasMessageContaining("BOXOFFICE_PROFILE must be dev or prod, got Staging");
  }

  @Test
  void theProfileIsCaseInsensitive() {
    AppConfig.load(Map.of("BOXOFFICE_PROFILE", "DEV"), Map.of()).validate();
    AppConfig prod = AppConfig.load(Map.of("BOXOFFICE_PROFILE", "Prod", "BOXOFFICE_JWT_SECRET", PROD_SECRET,
      "BOXOFFICE_TICKET_KEY", PROD_SECRET, "BOXOFFICE_PG_URI", "postgresql://x@h/db",
      "BOXOFFICE_REDIS_URI", "redis://h"), Map.of());
    prod.validate();
    assertThat(prod.isProd()).isTrue();
  }

  @Test
  void prodNeedsATicketKeyAndDevMakesOne(@TempDir Path dir) throws Exception {
    for (String key : new String[] {null, "short"}) {
      AppConfig prod = AppConfig.load(Map.of("BOXOFFICE_PROFILE", "prod", "BOXOFFICE_JWT_SECRET", PROD_SECRET,
        "BOXOFFICE_PG_URI", "postgresql://x@h/db", "BOXOFFICE_REDIS_URI", "redis://h"), key == null ? Map.of()
        : Map.of("ticket_key", key));
      assertThatThrownBy(prod::validate).hasMessageContaining("BOXOFFICE_TICKET_KEY");
    }
    String devKey = AppConfig.load(Map.of(), Map.of("data_dir", dir.toString())).withDevSecrets().string("ticket_key");
    assertThat(devKey).hasSizeGreaterThanOrEqualTo(32);
    assertThat(Files.readString(dir.resolve("ticket-key")).trim()).isEqualTo(devKey);
  }

  @Test
  void devListensOnLoopbackUnlessTheHostIsSetAndProdOnEveryInterface() {
    assertThat(AppConfig.load(Map.of(), Map.of()).httpHost()).isEqualTo("127.0.0.1");
    assertThat(AppConfig.load(Map.of("BOXOFFICE_HTTP_HOST", "0.0.0.0"), Map.of()).httpHost()).isEqualTo("0.0.0.0");
    assertThat(AppConfig.load(Map.of("BOXOFFICE_PROFILE", "prod"), Map.of()).httpHost()).isEqualTo("0.0.0.0");
  }

  @Test
  void aDevNodeCannotBeReachedFromOtherInterfaces() throws Exception {
    JsonObject settings = TestNodes.settings(TestStorage.get().newDatabase("Profiles"),
      TestStorage.redisPrefix("Profiles")).put("http_host", null).put("roles", "http");
    Boxoffice.Node node = TestNodes.start(settings, false);
    try {
      int port = settings.getInteger("http_port");
      assertThat(connects(InetAddress.getLoopbackAddress(), port)).isTrue();
      Optional<InetAddress> external = externalAddress();
      external.ifPresent(address -> assertThat(connects(address, port)).as("via %s", address).isFalse());
    } finally {
      TestNodes.stop(node);
    }
  }

  @Test
  void devSecretsAreRandomPerDataDirectoryKeptOwnerOnlyAndReused(@TempDir Path dir) throws Exception {
    AppConfig config = AppConfig.load(Map.of(), Map.of("data_dir", dir.resolve("a").toString()));
    String first = config.withDevSecrets().jwtSecret();
    String again = AppConfig.load(Map.of(), Map.of("data_dir", dir.resolve("a").toString())).withDevSecrets()
      .jwtSecret();
    String other = AppConfig.load(Map.of(), Map.of("data_dir", dir.resolve("b").toString())).withDevSecrets()
      .jwtSecret();

    assertThat(first).hasSizeGreaterThanOrEqualTo(32).isNotEqualTo(AppConfig.DEV_JWT_SECRET).isEqualTo(again)
      .isNotEqualTo(other);
    Path file = dir.resolve("a").resolve("jwt-secret");
    Path ticketKey = dir.resolve("a").resolve("ticket-key");
    for (Path secret : List.of(file, ticketKey)) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secret))).as(secret.toString())
        .isEqualTo("rw-------");
    }
    try (var listing = Files.list(dir.resolve("a"))) {
      assertThat(listing).as("no temporary file left behind").containsExactlyInAnyOrder(file, ticketKey);
    }
    assertThat(AppConfig.load(Map.of(), Map.of("data_dir", dir.toString(), "jwt_secret", "configured"))
      .withDevSecrets().jwtSecret()).as("a configured secret wins").isEqualTo("configured");
  }

  private static boolean connects(InetAddress address, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, port), 1_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static Optional<InetAddress> externalAddress() throws IOException {
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nif.isUp() && !nif.isLoopback()) {
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          if (a instanceof Inet4Address) {
            return Optional.of(a);
          }
        }
      }
    }
    return Optional.empty();
  }
}
