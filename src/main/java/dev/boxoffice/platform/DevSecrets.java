package dev.boxoffice.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Secrets of the dev profile: random per data directory, made on first start and kept there (owner-only, 0600) so
 * tokens and tickets survive restarts and every dev node on that directory agrees. A well-known secret in the source
 * would let anyone who can reach a dev node forge admin tokens.
 */
public final class DevSecrets {
  private static final SecureRandom RANDOM = new SecureRandom();

  private DevSecrets() {
  }

  /**
   * The secret stored in {@code dataDir/name}, created if missing. Safe when several processes start at once on the
   * same directory: the file appears complete or not at all (written aside, then hard-linked into place, which
   * fails rather than replaces), and a loser reads the winner's.
   */
  public static String get(Path dataDir, String name) throws IOException {
    Path file = dataDir.resolve(name);
    if (Files.isRegularFile(file)) {
      return read(file);
    }
    Files.createDirectories(dataDir);
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    Path aside = Files.createTempFile(dataDir, name, ".tmp",
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(aside, secret, StandardCharsets.US_ASCII);
      Files.createLink(file, aside);
      return secret;
    } catch (FileAlreadyExistsException e) {
      return read(file);
    } finally {
      Files.deleteIfExists(aside);
    }
  }

  private static String read(Path file) throws IOException {
    String secret = Files.readString(file, StandardCharsets.US_ASCII).trim();
    if (secret.length() < 32) {
      throw new IllegalStateException(file + " holds no usable secret; delete it to have a new one made");
    }
    return secret;
  }
}
