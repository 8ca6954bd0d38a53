package dev.boxoffice.auth;

import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.jwt.JWTAuth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/** {@code POST /token} (operationId createToken): checks a password and issues a JWT the HTTP edge accepts. */
public final class TokenVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TokenVerticle.class);
  static final String INVALID = "Invalid username or password";
  static final String TOO_MANY = "Too many failed logins; try again later";

  private final Platform platform;
  private Accounts accounts;
  private LoginLimiter limiter;
  private HashingPool hashing;
  private JWTAuth jwt;
  private int ttlSeconds;
  /** Unknown users are checked against this, so they cost the same time as a wrong password. */
  private String dummyHash;

  public TokenVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    AppConfig config = platform.config();
    accounts = new Accounts(platform.pool());
    try {
      limiter = new LoginLimiter(platform.redis(), config.string("redis_key_prefix"),
        config.integer("login_max_failures"), config.integer("login_user_max_failures"),
        config.integer("login_window_seconds"));
      hashing = new HashingPool(vertx, config.integer("login_hash_threads"), config.integer("login_hash_queue"));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    jwt = Jwt.provider(vertx, config.jwtSecret());
    ttlSeconds = config.integer("jwt_ttl_seconds");
    return Passwords.hash(vertx, UUID.randomUUID().toString())
      .compose(hash -> {
        dummyHash = hash;
        return ApiHandlers.serve(vertx, "createToken", this::createToken);
      });
  }

  private Future<JsonObject> createToken(Bus.ApiRequest req) {
    String username = req.body().getString("username");
    String password = req.body().getString("password");
    if (username == null || username.isEmpty()) {
      return Future.failedFuture(missing("username"));
    }
    if (password == null || password.isEmpty()) {
      return Future.failedFuture(missing("password"));
    }
    String clientIp = req.json().getString("client_ip", "unknown");
    // Counted before the password is checked (a slot a right password gives back), so a blocked pair learns
    // nothing from further guesses and concurrent guesses cannot all be checked.
    return limiter.acquire(username, clientIp).compose(retryAfter -> {
      if (retryAfter > 0) {
        log.warn("login for {} from {} refused: too many failures", username, clientIp);
        return Future.failedFuture(Failure.tooManyRequests(TOO_MANY, retryAfter));
      }
      return accounts.find(username).compose(account ->
        Passwords.verify(hashing, account == null ? dummyHash : account.passwordHash(), password)
          .compose(ok -> ok && account != null
            ? limiter.succeeded(username, clientIp).map(v -> issue(account))
            : Future.failedFuture(Failure.unauthorized(INVALID)))
          .recover(err -> err instanceof Failure f && f.status() == 503
            ? limiter.unchecked(username, clientIp).compose(v -> Future.failedFuture(err))
            : Future.failedFuture(err)));
    });
  }

  @Override
  public Future<?> stop() {
    return hashing == null ? Future.succeededFuture() : hashing.close();
  }

  /** The edge validates the contract first; this only guards direct bus callers, in the same error shape. */
  private static Throwable missing(String field) {
    return Failure.invalid(field, "is required");
  }

  private JsonObject issue(Accounts.Account account) {
    String token = Jwt.issue(jwt, account.username(), account.role(), account.tokenVersion(), ttlSeconds);
    // RFC 6749 §5.1: token responses must not be cached.
    return Bus.ApiReply.ok(new JsonObject().put("access_token", token).put("token_type", "bearer")
        .put("expires_in", ttlSeconds))
      .put("headers", new JsonObject().put("Cache-Control", "no-store").put("Pragma", "no-cache"));
  }
}
