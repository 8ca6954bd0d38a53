package dev.boxoffice.auth;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Failed-login counter per username and client address, in Redis: the first failure starts a window, and once
 * {@code maxFailures} failures fall in it, every attempt for that pair (right password or not) is refused until the
 * window ends.
 *
 * <p>Fails open: when Redis is down or slow, logins still work without the limiter (a warning is logged). Redis
 * only ever holds these short-lived counters, and locking every user out because Redis is away would be worse
 * than a few minutes without brute-force throttling; the slow password hash still bounds the guessing rate.
 */
public final class LoginLimiter {
  private static final Logger log = LoggerFactory.getLogger(LoginLimiter.class);
  private static final long REDIS_TIMEOUT_MS = 1_000;

  // INCR, and PEXPIRE on the first failure, atomically: a crash between the two can never leave a counter without
  // an expiry (which would lock the pair out for good). The TTL check also repairs such a key if one ever exists.
  private static final String RECORD_FAILURE = """
    local n = redis.call('INCR', KEYS[1])
    if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
      redis.call('PEXPIRE', KEYS[1], ARGV[1])
    end
    return n
    """;

  private final RedisAPI redis;
  private final String keyPrefix;
  private final int maxFailures;
  private final long windowMs;

  public LoginLimiter(RedisAPI redis, String keyPrefix, int maxFailures, int windowSeconds) {
    this.redis = redis;
    this.keyPrefix = keyPrefix;
    this.maxFailures = maxFailures;
    this.windowMs = windowSeconds * 1000L;
  }

  /** Seconds until the pair may try again; 0 when it is not blocked (or when Redis cannot tell). */
  public Future<Long> retryAfter(String username, String clientIp) {
    String key = key(username, clientIp);
    return redis.get(key).timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS).compose(count -> {
      if (count == null || count.toLong() < maxFailures) {
        return Future.succeededFuture(0L);
      }
      return redis.pttl(key).timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .map(ttl -> ttl == null || ttl.toLong() <= 0 ? 0L : (ttl.toLong() + 999) / 1000);
    }).recover(err -> {
      log.warn("login limiter unavailable (Redis: {}); letting the attempt through", err.toString());
      return Future.succeededFuture(0L);
    });
  }

  public Future<Void> recordFailure(String username, String clientIp) {
    return redis.eval(List.of(RECORD_FAILURE, "1", key(username, clientIp), String.valueOf(windowMs)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .<Void>mapEmpty()
      .recover(err -> {
        log.warn("login limiter could not count a failure (Redis: {})", err.toString());
        return Future.succeededFuture();
      });
  }

  /** After a successful login the caller's own counter starts afresh; other pairs keep theirs. */
  public Future<Void> clear(String username, String clientIp) {
    return redis.del(List.of(key(username, clientIp))).timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .<Void>mapEmpty()
      .recover(err -> Future.succeededFuture());
  }

  private String key(String username, String clientIp) {
    return keyPrefix + "login-failures:" + clientIp + ":" + username;
  }
}
