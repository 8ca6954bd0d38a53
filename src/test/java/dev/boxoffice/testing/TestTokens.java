package dev.boxoffice.testing;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import io.vertx.core.Vertx;

/** Bearer tokens signed with the dev secret (what test nodes use), without going through POST /token. */
public final class TestTokens {
  private TestTokens() {
  }

  public static String admin(Vertx vertx) {
    return issue(vertx, "admin", "admin");
  }

  public static String user(Vertx vertx, String username) {
    return issue(vertx, username, "user");
  }

  public static String issue(Vertx vertx, String username, String role) {
    return Jwt.issue(Jwt.provider(vertx, AppConfig.DEV_JWT_SECRET), username, role, 3600);
  }
}
