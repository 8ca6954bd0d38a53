package dev.boxoffice.platform;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The settings every node of a cluster must share, compared when a node joins ({@link DeploymentCheck}). Each one
 * changes what the cluster answers depending on which node serves a request or runs a job:
 * <ul>
 *   <li>{@code profile}: a dev node's accounts and secrets in a prod cluster;</li>
 *   <li>{@code hold_seconds}: bookings held for different times depending on the node that took them;</li>
 *   <li>{@code payment_mode}, {@code payment_decline_emails}: a booking approved or declined by the node that runs
 *   its payment step;</li>
 *   <li>{@code redis_key_prefix}: item locks and login limits the other nodes cannot see;</li>
 *   <li>{@code jwt_secret}: tokens one node issues refused by another (401 one request in N);</li>
 *   <li>{@code ticket_key}: tickets one node signs refused at the gate by another.</li>
 * </ul>
 * Secrets are compared, and named in a refusal, by a fingerprint: the first 12 hex digits of a SHA-256 of the
 * secret (48 bits: enough to tell two secrets apart, nothing to recover a 32-character one from).
 */
public final class SharedSettings {
  static final List<String> KEYS = List.of("profile", "hold_seconds", "payment_mode", "payment_decline_emails",
    "redis_key_prefix", "jwt_secret", "ticket_key");

  private SharedSettings() {
  }

  /** This node's values as it publishes them: plain values, or fingerprints of the secrets. */
  static JsonObject of(AppConfig config) {
    JsonObject out = new JsonObject();
    for (String key : KEYS) {
      String value = key.equals("profile") ? config.profile() : config.string(key);
      if (value == null || value.isBlank()) {
        out.put(key, "(unset)");
      } else if (Settings.SECRETS.contains(key)) {
        out.put(key, fingerprint(value));
      } else {
        out.put(key, value.trim());
      }
    }
    return out;
  }

  /**
   * Each setting whose value differs, as {@code BOXOFFICE_HOLD_SECONDS is 30 on this node, 60 on the cluster}. A key
   * the other side did not publish (a node of an older build) is not compared.
   */
  static List<String> differences(JsonObject mine, JsonObject theirs) {
    List<String> out = new ArrayList<>();
    for (String key : KEYS) {
      Object other = theirs.getValue(key);
      if (other != null && !other.equals(mine.getValue(key))) {
        out.add(AppConfig.envName(key) + " is " + mine.getValue(key) + " on this node, " + other
          + " on the cluster" + (Settings.SECRETS.contains(key) ? " (fingerprints; the secret is not shown)" : ""));
      }
    }
    return out;
  }

  /** {@code sha256:} and the first 12 hex digits of the secret's SHA-256. */
  public static String fingerprint(String secret) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(hash, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
