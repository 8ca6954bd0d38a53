package dev.boxoffice.cluster;

import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.ClusterConfig;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.util.Base64;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The event bus over TLS with client authentication, from a key pair made here with the JDK's keytool: two nodes
 * holding the shared key (one as PKCS#12, one as PEM files) talk; a node without it, or with a key of its own,
 * shares the cluster's membership (that is Hazelcast's, not the bus's) but neither delivers a message to a keyholder
 * nor receives one from it.
 */
class EventBusTlsTest {
  private static final long SHORT_MS = 3000;
  @TempDir
  static Path dir;
  private static final List<Vertx> nodes = new ArrayList<>();
  private static Vertx a;
  private static Vertx b;
  private static Vertx plain;
  private static Vertx stranger;

  @BeforeAll
  static void start() throws Exception {
    JsonObject shared = keyPair("shared");
    JsonObject other = keyPair("other");
    String cluster = "tls-" + UUID.randomUUID().toString().substring(0, 8);
    int base = TestStorage.freePortRun(4);
    JsonObject settings = new JsonObject().put("cluster_name", cluster).put("cluster_host", "127.0.0.1")
      .put("cluster_members", "127.0.0.1:" + base + "-" + (base + 3));
    a = join(settings.copy().mergeIn(shared).put("cluster_port", base));
    b = join(settings.copy().mergeIn(pem(shared)).put("cluster_port", base + 1));
    plain = join(settings.copy().put("cluster_port", base + 2));
    stranger = join(settings.copy().mergeIn(other).put("cluster_port", base + 3));
    for (Vertx node : nodes) {
      String name = node == a ? "a" : node == b ? "b" : node == plain ? "plain" : "stranger";
      await(node.eventBus().<String>consumer("echo." + name, m -> m.reply(name + " got " + m.body())).completion());
    }
    eventually(() -> assertThat(((VertxInternal) a).clusterManager().getNodes()).hasSize(4));
  }

  @AfterAll
  static void stop() {
    for (Vertx node : nodes) {
      await(node.close());
    }
  }

  @Test
  void twoNodesWithTheSharedKeyTalk() {
    assertThat(await(request(a, "echo.b")).toString()).isEqualTo("b got hello");
    assertThat(await(request(b, "echo.a")).toString()).isEqualTo("a got hello");
  }

  @Test
  void aNodeWithoutTheKeyCanNeitherDeliverNorReceive() {
    assertThatThrownBy(() -> await(request(plain, "echo.a"))).isNotNull();
    assertThatThrownBy(() -> await(request(a, "echo.plain"))).isNotNull();
  }

  @Test
  void aNodeWithAKeyOfItsOwnCanNeitherDeliverNorReceive() {
    assertThatThrownBy(() -> await(request(stranger, "echo.b"))).isNotNull();
    assertThatThrownBy(() -> await(request(b, "echo.stranger"))).isNotNull();
  }

  private static Future<Object> request(Vertx from, String address) {
    return from.eventBus().request(address, "hello", new DeliveryOptions().setSendTimeout(SHORT_MS))
      .map(m -> m.body());
  }

  private static Vertx join(JsonObject settings) {
    AppConfig config = AppConfig.of(settings);
    config.validate();
    Vertx vertx = await(Vertx.builder()
      .with(new VertxOptions().setEventBusOptions(ClusterConfig.eventBusOptions(config)))
      .withClusterManager(ClusterConfig.clusterManager(config)).buildClustered());
    nodes.add(vertx);
    return vertx;
  }

  /** A self-signed key pair: the PKCS#12 key store as the key, its certificate (PEM) as the CA. */
  private static JsonObject keyPair(String name) throws Exception {
    Path store = dir.resolve(name + ".p12");
    Path cert = dir.resolve(name + ".crt");
    keytool("-genkeypair", "-alias", "bus", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=boxoffice-"
      + name, "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "secret-" + name,
      "-keypass", "secret-" + name);
    keytool("-exportcert", "-rfc", "-alias", "bus", "-keystore", store.toString(), "-storetype", "PKCS12",
      "-storepass", "secret-" + name, "-file", cert.toString());
    return new JsonObject().put("eventbus_tls_key", store.toString()).put("eventbus_tls_ca", cert.toString())
      .put("eventbus_tls_password", "secret-" + name);
  }

  /** The same key as PEM files: the PKCS#8 private key and its certificate. */
  private static JsonObject pem(JsonObject pkcs12) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    char[] password = pkcs12.getString("eventbus_tls_password").toCharArray();
    try (InputStream in = Files.newInputStream(Path.of(pkcs12.getString("eventbus_tls_key")))) {
      store.load(in, password);
    }
    Key key = store.getKey("bus", password);
    Path keyFile = dir.resolve("pem.key");
    Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n"
      + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n");
    String cert = pkcs12.getString("eventbus_tls_ca");
    return new JsonObject().put("eventbus_tls_key", keyFile.toString()).put("eventbus_tls_cert", cert)
      .put("eventbus_tls_ca", cert);
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool")
      .toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
    assertThat(p.exitValue()).as("keytool: " + out).isZero();
  }
}
