package dev.boxoffice.testing;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import io.vertx.core.Vertx;

/** Bearer tokens signed with the dev secret, for API calls in tests that do not exercise the login itself. */
public final class TestTokens {
  private static final Vertx SHARED_VERTX = Vertx.vertx();

  private TestTokens() {
  }

  public static String admin() {
    return Jwt.issue(Jwt.provider(SHARED_VERTX, AppConfig.DEV_JWT_SECRET), "admin", "admin", 3600);
  }

  public static String user() {
    return Jwt.issue(Jwt.provider(SHARED_VERTX, AppConfig.DEV_JWT_SECRET), "testuser", "user", 3600);
  }
}
