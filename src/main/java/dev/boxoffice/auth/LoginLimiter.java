package dev.boxoffice.auth;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Login attempts per username and client address (cap {@code maxFailures}) and per username alone (a higher cap,
 * {@code userMaxFailures}, against guessing from many addresses), in Redis windows that start at the first attempt.
 *
 * <p>The count is taken BEFORE the password is checked ({@link #acquire}): an attempt reserves a failure slot in
 * both counters in one Lua call, or is refused without counting when either is full. So N concurrent wrong guesses
 * never get more than the cap checked, and refused attempts cannot push the per-username counter (which would lock
 * the account out everywhere) beyond what the checked guesses did. A right password gives its slots back
 * ({@link #succeeded}).
 *
 * <p>Redis down or slow: the same counts are kept on this node ({@link LocalLoginCounters}) until it answers again.
 * Logins keep working and guessing stays bounded per node; neither failing open (unbounded guessing whenever Redis
 * is away) nor closed (nobody can log in) was acceptable.
 */
public final class LoginLimiter {
  private static final Logger log = LoggerFactory.getLogger(LoginLimiter.class);
  private static final long REDIS_TIMEOUT_MS = 1_000;

  // KEYS: the counters; ARGV[1]: window ms; ARGV[1 + i]: cap of KEYS[i]. Returns 0 (slot taken in every counter) or
  // the ms until the fullest blocking counter's window ends. PEXPIRE on the first count in the same call, so a
  // counter never lives without an expiry; the PTTL check repairs one that somehow did.
  private static final String ACQUIRE = """
    local wait = 0
    for i, key in ipairs(KEYS) do
      local n = tonumber(redis.call('GET', key) or '0')
      if n >= tonumber(ARGV[i + 1]) then
        local ttl = redis.call('PTTL', key)
        if ttl < 0 then
          redis.call('PEXPIRE', key, ARGV[1])
          ttl = tonumber(ARGV[1])
        end
        if ttl > wait then wait = ttl end
      end
    end
    if wait > 0 then return wait end
    for i, key in ipairs(KEYS) do
      if redis.call('INCR', key) == 1 or redis.call('PTTL', key) < 0 then
        redis.call('PEXPIRE', key, ARGV[1])
      end
    end
    return 0
    """;

  // The pair's counter starts afresh (that address knows the password); the username's only gets its slot back,
  // so a login by the owner does not reset what guesses from elsewhere have used.
  private static final String SUCCEEDED = """
    redis.call('DEL', KEYS[1])
    if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
    return 0
    """;

  private static final String RELEASE = """
    for i, key in ipairs(KEYS) do
      if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
    end
    return 0
    """;

  private final RedisAPI redis;
  private final String keyPrefix;
  private final int maxFailures;
  private final int userMaxFailures;
  private final long windowMs;
  private final LocalLoginCounters local;

  public LoginLimiter(RedisAPI redis, String keyPrefix, int maxFailures, int userMaxFailures, int windowSeconds) {
    this.redis = redis;
    this.keyPrefix = keyPrefix;
    this.maxFailures = maxFailures;
    this.userMaxFailures = userMaxFailures;
    this.windowMs = windowSeconds * 1000L;
    this.local = new LocalLoginCounters(windowMs);
  }

  /**
   * Takes a failure slot for this attempt before its password is checked: 0 when the attempt may go on, else the
   * seconds until it may try again (the attempt was not counted).
   */
  public Future<Long> acquire(String username, String clientIp) {
    return redis.eval(List.of(ACQUIRE, "2", pairKey(username, clientIp), userKey(username), String.valueOf(windowMs),
        String.valueOf(maxFailures), String.valueOf(userMaxFailures)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(waitMs -> seconds(waitMs.toLong()))
      .recover(err -> {
        log.warn("login limiter falls back to this node's counters (Redis: {})", err.toString());
        return Future.succeededFuture(seconds(local.acquire(List.of(pairKey(username, clientIp), userKey(username)),
          List.of(maxFailures, userMaxFailures))));
      });
  }

  /**
   * The attempt was never checked (the hashing pool was full): its slots are given back in both counters, so a
   * login burst that answers 503 does not also use up the user's attempts.
   */
  public Future<Void> unchecked(String username, String clientIp) {
    local.release(pairKey(username, clientIp), userKey(username));
    return redis.eval(List.of(RELEASE, "2", pairKey(username, clientIp), userKey(username)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .<Void>mapEmpty()
      .recover(err -> Future.succeededFuture());
  }

  /** The password was right: the slots taken by {@link #acquire} are given back. */
  public Future<Void> succeeded(String username, String clientIp) {
    local.succeeded(pairKey(username, clientIp), userKey(username));
    return redis.eval(List.of(SUCCEEDED, "2", pairKey(username, clientIp), userKey(username)))
      .timeout(REDIS_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .<Void>mapEmpty()
      .recover(err -> Future.succeededFuture());
  }

  private static long seconds(long ms) {
    return ms <= 0 ? 0 : (ms + 999) / 1000;
  }

  private String pairKey(String username, String clientIp) {
    return keyPrefix + "login-failures:" + clientIp + ":" + username;
  }

  private String userKey(String username) {
    return keyPrefix + "login-failures-user:" + username;
  }
}
