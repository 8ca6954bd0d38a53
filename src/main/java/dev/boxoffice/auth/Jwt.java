package dev.boxoffice.auth;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

/**
 * HS256 tokens: {@code sub} is the username, {@code role} is admin or user, {@code ver} the account's token version
 * (see {@link TokenGate}).
 */
public final class Jwt {
  public static final String ISSUER = "boxoffice";

  private Jwt() {
  }

  public static JWTAuth provider(Vertx vertx, String secret) {
    return JWTAuth.create(vertx, new JWTAuthOptions()
      .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret))
      .setJWTOptions(new JWTOptions().setIssuer(ISSUER).setLeeway(5)));
  }

  public static String issue(JWTAuth jwt, String username, String role, int ttlSeconds) {
    return issue(jwt, username, role, 0, ttlSeconds);
  }

  public static String issue(JWTAuth jwt, String username, String role, int tokenVersion, int ttlSeconds) {
    return jwt.generateToken(new JsonObject().put("sub", username).put("role", role).put("ver", tokenVersion),
      new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER).setExpiresInSeconds(ttlSeconds));
  }
}
