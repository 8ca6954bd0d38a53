package dev.boxoffice.inventory;

import dev.boxoffice.platform.Platform;
import dev.boxoffice.platform.RedisOutage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A Redis lock around the booking hot path for one item ({@code <prefix>lock:event:<id>}): {@code SET key token NX
 * PX ttl} to take it, a token-checked Lua delete to give it back, so a holder whose lock expired can never release
 * the next holder's lock. Several items are taken all or none by one Lua script ({@link #withLocks}).
 *
 * <p>The lock only reduces contention: bookings of one item queue here instead of piling onto the same Postgres row.
 * Correctness never depends on it. If Redis is down, slow, or the lock cannot be had within a short bounded wait,
 * the work runs anyway: while Redis is down the API keeps taking bookings; Postgres alone prevents oversell (the
 * conditional UPDATE in {@link Inventory#holdAll} and the CHECK constraints). After a Redis error the lock is skipped
 * for a moment, so an outage costs no latency per booking.
 *
 * <p>The TTL bounds how long a crashed holder blocks others; the work it guards (one short transaction) must be
 * much shorter than the TTL.
 */
public final class ItemLock {
  private static final Logger log = LoggerFactory.getLogger(ItemLock.class);
  private static final String RELEASE =
    "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";
  // all or nothing: set every key (NX semantics for the set as a whole) or none
  private static final String ACQUIRE_ALL = """
    for _, k in ipairs(KEYS) do if redis.call('exists', k) == 1 then return 0 end end
    for _, k in ipairs(KEYS) do redis.call('set', k, ARGV[1], 'PX', ARGV[2]) end
    return 1""";
  private static final String RELEASE_ALL = """
    local n = 0
    for _, k in ipairs(KEYS) do if redis.call('get', k) == ARGV[1] then n = n + redis.call('del', k) end end
    return n""";

  /** ttl: lock lifetime; maxWait: how long to try before running unlocked; retry waits are jittered. */
  public record Settings(long ttlMs, long maxWaitMs, long retryMinMs, long retryMaxMs) {
    public static final Settings DEFAULTS = new Settings(5_000, 200, 2, 12);
  }

  private enum Outcome { HELD, MAYBE_HELD, NOT_HELD }

  private final Vertx vertx;
  private final RedisAPI redis;
  private final String keyPrefix;
  private final Settings settings;
  private final RedisOutage redisOutage = new RedisOutage();
  private final AtomicLong unlockedRuns = new AtomicLong();

  public ItemLock(Vertx vertx, RedisAPI redis, String keyPrefix, Settings settings) {
    this.vertx = vertx;
    this.redis = redis;
    this.keyPrefix = keyPrefix;
    this.settings = settings;
  }

  public static ItemLock of(Platform p) {
    return new ItemLock(p.vertx(), p.redis(), p.config().string("redis_key_prefix"), Settings.DEFAULTS);
  }

  /** Lock name of a booking's item ({@code event:<id>} / {@code product:<id>}), or null when it holds nothing. */
  public static String name(Inventory.Item item) {
    if (item == null || item.none()) {
      return null;
    }
    return item.eventId() != null ? "event:" + item.eventId() : "product:" + item.productId();
  }

  public String key(String item) {
    return keyPrefix + "lock:" + item;
  }

  /** How many runs went ahead without the lock (Redis down or lock busy too long); for metrics and tests. */
  public long unlockedRuns() {
    return unlockedRuns.get();
  }

  /**
   * Runs {@code work} holding the lock on {@code item} when it can be had in time, otherwise without it; always
   * releases a lock it may hold. A null item runs the work directly.
   */
  public <T> Future<T> withLock(String item, Supplier<Future<T>> work) {
    return withLocks(item == null ? List.of() : List.of(item), work);
  }

  /**
   * {@link #withLock} for several items at once (a batch of bookings of several items): all of them or none, taken
   * in one atomic script, so two callers wanting overlapping sets can never each hold a part and wait for the other.
   * If they cannot all be had in time the work runs without any, as for one item. Single Redis (or one hash slot):
   * the script touches several keys.
   */
  public <T> Future<T> withLocks(List<String> items, Supplier<Future<T>> work) {
    if (items.isEmpty()) {
      return run(work);
    }
    List<String> keys = items.stream().map(this::key).toList();
    String token = UUID.randomUUID().toString();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.maxWaitMs());
    return acquire(keys, token, deadline).compose(outcome -> {
      if (outcome != Outcome.HELD) {
        unlockedRuns.incrementAndGet();
      }
      if (outcome == Outcome.NOT_HELD) {
        return run(work);
      }
      return run(work).eventually(() -> keys.size() == 1 ? release(keys.get(0), token) : releaseAll(keys, token));
    });
  }

  /** Token-checked delete: true when this token held the lock and it is now gone. */
  public Future<Boolean> release(String key, String token) {
    return bounded(redis.eval(List.of(RELEASE, "1", key, token)), settings.maxWaitMs())
      .map(r -> r != null && r.toLong() == 1L)
      .otherwise(err -> {
        log.debug("lock {}: release failed ({}); it expires after its TTL", key, err.toString());
        return false;
      });
  }

  private Future<Boolean> releaseAll(List<String> keys, String token) {
    List<String> args = new ArrayList<>();
    args.add(RELEASE_ALL);
    args.add(String.valueOf(keys.size()));
    args.addAll(keys);
    args.add(token);
    return bounded(redis.eval(args), settings.maxWaitMs())
      .map(r -> r != null && r.toLong() == keys.size())
      .otherwise(err -> {
        log.debug("locks {}: release failed ({}); they expire after their TTL", keys, err.toString());
        return false;
      });
  }

  /** SET NX PX for one key; the all-or-nothing script for several (null answer / 0: someone holds one). */
  private Future<Response> take(List<String> keys, String token, long timeoutMs) {
    String ttl = String.valueOf(settings.ttlMs());
    if (keys.size() == 1) {
      return bounded(redis.set(List.of(keys.get(0), token, "NX", "PX", ttl)), timeoutMs);
    }
    List<String> args = new ArrayList<>();
    args.add(ACQUIRE_ALL);
    args.add(String.valueOf(keys.size()));
    args.addAll(keys);
    args.add(token);
    args.add(ttl);
    return bounded(redis.eval(args), timeoutMs).map(r -> r != null && r.toLong() == 1L ? r : null);
  }

  private Future<Outcome> acquire(List<String> keys, String token, long deadline) {
    if (redisOutage.skipping()) {
      return Future.succeededFuture(Outcome.NOT_HELD);
    }
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    String key = keys.size() == 1 ? keys.get(0) : keys.toString();
    return take(keys, token, Math.max(1, remainingMs)).transform(ar -> {
      if (ar.failed()) {
        if (ar.cause() instanceof LockTimeout) {
          // the SET may still land: release with our token afterwards so it does not linger for a whole TTL
          log.debug("lock {}: Redis too slow, running without the lock", key);
          return Future.succeededFuture(Outcome.MAYBE_HELD);
        }
        redisOutage.failed();
        log.debug("lock {}: Redis unavailable ({}), running without the lock", key, ar.cause().toString());
        return Future.succeededFuture(Outcome.NOT_HELD);
      }
      if (ar.result() != null) {
        return Future.succeededFuture(Outcome.HELD);
      }
      long wait = ThreadLocalRandom.current().nextLong(settings.retryMinMs(), settings.retryMaxMs() + 1);
      if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait) >= deadline) {
        log.debug("lock {}: busy for {} ms, running without the lock", key, settings.maxWaitMs());
        return Future.succeededFuture(Outcome.NOT_HELD);
      }
      Promise<Void> waited = Promise.promise();
      vertx.setTimer(wait, id -> waited.complete());
      return waited.future().compose(v -> acquire(keys, token, deadline));
    });
  }

  private <R> Future<R> bounded(Future<R> call, long timeoutMs) {
    Promise<R> result = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, id -> result.tryFail(new LockTimeout()));
    call.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  private static <T> Future<T> run(Supplier<Future<T>> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static final class LockTimeout extends RuntimeException {
    LockTimeout() {
      super("Redis did not answer in time", null, false, false);
    }
  }
}
