package dev.boxoffice.testing;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import io.vertx.core.Vertx;
import io.vertx.ext.auth.jwt.JWTAuth;

/** Bearer tokens signed with the dev secret, for tests that need a role without going through POST /token. */
public final class TestTokens {
  private static JWTAuth provider;

  private TestTokens() {
  }

  public static String admin() {
    return Jwt.issue(provider(), "admin", "admin", 3600);
  }

  public static String user() {
    return Jwt.issue(provider(), "testuser", "user", 3600);
  }

  private static synchronized JWTAuth provider() {
    if (provider == null) {
      provider = Jwt.provider(Vertx.vertx(), AppConfig.DEV_JWT_SECRET);
    }
    return provider;
  }
}
