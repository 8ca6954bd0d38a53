package dev.boxoffice.testing;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import io.vertx.core.Vertx;
import io.vertx.ext.auth.jwt.JWTAuth;

/** Bearer tokens signed with the dev secret (what test nodes use), for tests that need a role without POST /token. */
public final class TestTokens {
  private static JWTAuth provider;

  private TestTokens() {
  }

  public static String admin() {
    return issue("admin", "admin");
  }

  public static String user() {
    return issue("testuser", "user");
  }

  /** A token of {@code username}, role user. */
  public static String user(String username) {
    return issue(username, "user");
  }

  public static String issue(String username, String role) {
    return Jwt.issue(provider(), username, role, 3600);
  }

  private static synchronized JWTAuth provider() {
    if (provider == null) {
      provider = Jwt.provider(Vertx.vertx(), AppConfig.DEV_JWT_SECRET);
    }
    return provider;
  }
}
