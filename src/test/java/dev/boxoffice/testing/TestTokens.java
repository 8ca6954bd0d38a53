package dev.boxoffice.testing;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import io.vertx.core.Vertx;

/** Bearer tokens signed with the dev secret (what test nodes verify), without going through POST /token. */
public final class TestTokens {
  private static final Vertx SHARED_VERTX = Vertx.vertx();

  private TestTokens() {
  }

  /** {@code admin}, role admin, valid for an hour. */
  public static String admin() {
    return Jwt.issue(Jwt.provider(SHARED_VERTX, AppConfig.DEV_JWT_SECRET), "admin", "admin", 3600);
  }

  /** {@code testuser}, role user, valid for an hour. */
  public static String user() {
    return Jwt.issue(Jwt.provider(SHARED_VERTX, AppConfig.DEV_JWT_SECRET), "testuser", "user", 3600);
  }
}
