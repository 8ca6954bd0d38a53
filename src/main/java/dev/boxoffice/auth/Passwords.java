package dev.boxoffice.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.auth.hashing.HashingStrategy;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

/**
 * Salted, slow password hashes: PBKDF2-HMAC-SHA512 from vertx-auth-common, stored in its
 * {@code $pbkdf2$it=N$salt$hash} form. Both directions are CPU-heavy on purpose, so they run on worker threads,
 * unordered so that concurrent logins do not queue behind each other: logins on their own {@link HashingPool}, the
 * few hashes of start-up (account bootstrap) on the shared worker pool.
 */
public final class Passwords {
  /** OWASP's 2023 figure for PBKDF2-HMAC-SHA512; stored hashes keep their own count, so raising it is safe. */
  static final int ITERATIONS = 210_000;
  private static final SecureRandom RANDOM = new SecureRandom();
  // The strategy wraps a SecretKeyFactory, which the JDK does not promise to be thread-safe: one per worker thread.
  private static final ThreadLocal<HashingStrategy> STRATEGY = ThreadLocal.withInitial(HashingStrategy::load);

  private Passwords() {
  }

  public static Future<String> hash(Vertx vertx, String password) {
    return vertx.executeBlocking(() -> hashNow(password), false);
  }

  /** Constant-time comparison inside the strategy; a null or unparsable hash never verifies. */
  public static Future<Boolean> verify(Vertx vertx, String hash, String password) {
    return vertx.executeBlocking(() -> verifyNow(hash, password), false);
  }

  /** A login's check, on the logins' own bounded pool (a 503 failure when it is full). */
  static Future<Boolean> verify(HashingPool pool, String hash, String password) {
    return pool.run(() -> verifyNow(hash, password));
  }

  static String hashNow(String password) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return STRATEGY.get().hash("pbkdf2", Map.of("it", String.valueOf(ITERATIONS)),
      Base64.getEncoder().withoutPadding().encodeToString(salt), password);
  }

  static boolean verifyNow(String hash, String password) {
    try {
      return hash != null && password != null && STRATEGY.get().verify(hash, password);
    } catch (RuntimeException e) {
      return false;
    }
  }
}
