package dev.boxoffice.platform;

import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.PfxOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * TLS on the clustered event bus, from {@code BOXOFFICE_EVENTBUS_TLS_KEY}, {@code _CERT}, {@code _CA} (and
 * {@code _PASSWORD} for PKCS#12 files). Every node holds a key and certificate signed by (or equal to) the CA, and
 * both ends of every bus connection present theirs: a node without them can neither deliver a message to a member
 * nor receive one. All unset: the bus is plain TCP (a private network is then the only protection).
 *
 * <p>The key is a PEM private key with its PEM certificate chain in {@code _CERT}, or a PKCS#12 file ({@code .p12},
 * {@code .pfx}) holding both (then no {@code _CERT}). The CA is PEM certificates or a PKCS#12 trust store. Host names
 * are not checked (Vert.x's bus client never does): membership is by the CA, so one shared key pair for every node
 * is enough.
 */
public final class EventBusTls {
  private EventBusTls() {
  }

  /** True when TLS is configured (and {@link #validate} accepted it). */
  public static boolean enabled(AppConfig config) {
    return set(config, "eventbus_tls_key") || set(config, "eventbus_tls_cert") || set(config, "eventbus_tls_ca");
  }

  /** Refuses a partial or unreadable TLS setting, naming the variable; nothing set is fine (plain bus). */
  public static void validate(AppConfig config) {
    if (!enabled(config)) {
      return;
    }
    String key = require(config, "eventbus_tls_key");
    String ca = require(config, "eventbus_tls_ca");
    readable("eventbus_tls_key", key);
    readable("eventbus_tls_ca", ca);
    if (pkcs12(key)) {
      if (set(config, "eventbus_tls_cert")) {
        throw new IllegalArgumentException(AppConfig.envName("eventbus_tls_cert") + " goes with a PEM key; the PKCS#12 "
          + "file in " + AppConfig.envName("eventbus_tls_key") + " holds the certificate already");
      }
    } else {
      readable("eventbus_tls_cert", require(config, "eventbus_tls_cert"));
    }
  }

  /** Turns TLS with client authentication on in {@code options} when configured. */
  static EventBusOptions apply(AppConfig config, EventBusOptions options) {
    if (!enabled(config)) {
      return options;
    }
    String key = config.string("eventbus_tls_key").trim();
    String ca = config.string("eventbus_tls_ca").trim();
    String password = set(config, "eventbus_tls_password") ? config.string("eventbus_tls_password") : null;
    options.setSsl(true).setClientAuth(ClientAuth.REQUIRED);
    options.setKeyCertOptions(pkcs12(key) ? new PfxOptions().setPath(key).setPassword(password)
      : new PemKeyCertOptions().setKeyPath(key).setCertPath(config.string("eventbus_tls_cert").trim()));
    options.setTrustOptions(pkcs12(ca) ? new PfxOptions().setPath(ca).setPassword(password)
      : new PemTrustOptions().addCertPath(ca));
    return options;
  }

  private static boolean pkcs12(String path) {
    String lower = path.toLowerCase(Locale.ROOT);
    return lower.endsWith(".p12") || lower.endsWith(".pfx");
  }

  private static boolean set(AppConfig config, String key) {
    String v = config.string(key);
    return v != null && !v.isBlank();
  }

  private static String require(AppConfig config, String key) {
    if (!set(config, key)) {
      throw new IllegalArgumentException("event-bus TLS needs " + AppConfig.envName("eventbus_tls_key") + ", "
        + AppConfig.envName("eventbus_tls_ca") + " and, with a PEM key, " + AppConfig.envName("eventbus_tls_cert")
        + "; " + AppConfig.envName(key) + " is unset");
    }
    return config.string(key).trim();
  }

  private static void readable(String key, String path) {
    if (!Files.isReadable(Path.of(path))) {
      throw new IllegalArgumentException(AppConfig.envName(key) + " names " + path + ", which cannot be read");
    }
  }
}
