package dev.boxoffice.inventory;

import dev.boxoffice.platform.RedisClients;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.RedisAPI;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The Redis lock of the booking hot path, against a real Redis (and an unreachable one). */
@ExtendWith(VertxExtension.class)
class ItemLockTest {
  private static final String PREFIX = TestStorage.redisPrefix("ItemLockTest");
  private static Vertx vertx;
  private static RedisAPI redis;

  @BeforeAll
  static void start(Vertx v) {
    vertx = v;
    redis = RedisClients.create(vertx, TestStorage.get().redisUri());
  }

  @Test
  void twentyConcurrentHoldersOfOneItemNeverOverlap() throws Exception {
    // a long wait budget, so every caller gets the lock instead of falling back to running unlocked
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, new ItemLock.Settings(5_000, 20_000, 1, 5));
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    AtomicInteger keyAlive = new AtomicInteger();

    List<Future<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      int n = i;
      calls.add(lock.withLock("event:1", () -> section(inside, maxInside, n)
        .compose(v -> redis.pttl(lock.key("event:1")))
        .map(ttl -> {
          if (ttl.toLong() > 0) {
            keyAlive.incrementAndGet();
          }
          return n;
        })));
    }
    await(Future.all(calls));

    assertThat(calls).extracting(Future::result).containsExactlyInAnyOrderElementsOf(range(20));
    assertThat(maxInside.get()).isEqualTo(1);
    assertThat(keyAlive.get()).isEqualTo(20);
    assertThat(lock.unlockedRuns()).isZero();
    assertThat(await(redis.get(lock.key("event:1")))).isNull();
  }

  @Test
  void theSameSectionsOverlapWithoutTheLock() throws Exception {
    // shows that the measurement above can see overlap at all
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    List<Future<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      calls.add(section(inside, maxInside, i));
    }
    await(Future.all(calls));

    assertThat(maxInside.get()).isGreaterThan(1);
  }

  @Test
  void aForeignTokenCannotReleaseTheLock() throws Exception {
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, ItemLock.Settings.DEFAULTS);
    String key = lock.key("event:2");
    await(redis.set(List.of(key, "owner-token", "NX", "PX", "10000")));

    assertThat(await(lock.release(key, "someone-else"))).isFalse();
    assertThat(await(redis.get(key)).toString()).isEqualTo("owner-token");

    assertThat(await(lock.release(key, "owner-token"))).isTrue();
    assertThat(await(redis.get(key))).isNull();
  }

  @Test
  void aLockHeldTooLongDoesNotStopTheWorkNorIsItReleasedByUs() throws Exception {
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, new ItemLock.Settings(5_000, 100, 2, 10));
    String key = lock.key("event:3");
    await(redis.set(List.of(key, "stuck-holder", "NX", "PX", "10000")));

    String result = await(lock.withLock("event:3", () -> Future.succeededFuture("booked")));

    assertThat(result).isEqualTo("booked");
    assertThat(lock.unlockedRuns()).isEqualTo(1);
    assertThat(await(redis.get(key)).toString()).isEqualTo("stuck-holder");
    await(redis.del(List.of(key)));
  }

  @Test
  void withRedisUnreachableTheWorkStillRuns() throws Exception {
    RedisAPI down = RedisClients.create(vertx, "redis://127.0.0.1:1");
    ItemLock lock = new ItemLock(vertx, down, PREFIX, ItemLock.Settings.DEFAULTS);

    assertThat(await(lock.withLock("event:4", () -> Future.succeededFuture(1)))).isEqualTo(1);
    assertThat(await(lock.withLock("event:4", () -> Future.succeededFuture(2)))).isEqualTo(2);
    assertThat(lock.unlockedRuns()).isEqualTo(2);
  }

  @Test
  void failedWorkFailsTheCallAndStillReleases() throws Exception {
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, ItemLock.Settings.DEFAULTS);

    Throwable failure = await(lock.<String>withLock("product:5",
        () -> Future.failedFuture(new IllegalStateException("no")))
      .map(v -> (Throwable) null).otherwise(Function.identity()));
    Throwable thrown = await(lock.<String>withLock("product:5", () -> {
      throw new IllegalStateException("thrown");
    }).map(v -> (Throwable) null).otherwise(Function.identity()));

    assertThat(failure).hasMessage("no");
    assertThat(thrown).hasMessage("thrown");
    assertThat(await(redis.get(lock.key("product:5")))).isNull();
    assertThat(lock.unlockedRuns()).isZero();
  }

  @Test
  void lockNamesFollowTheItemAndCarryThePrefix() {
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, ItemLock.Settings.DEFAULTS);

    assertThat(ItemLock.name(new Inventory.Item(7L, null))).isEqualTo("event:7");
    assertThat(ItemLock.name(new Inventory.Item(null, 8L))).isEqualTo("product:8");
    assertThat(ItemLock.name(new Inventory.Item(null, null))).isNull();
    assertThat(lock.key("event:7")).isEqualTo(PREFIX + "lock:event:7");
  }

  @Test
  void severalItemsAreHeldTogetherAndCallersWantingThemInOppositeOrderBothGetThrough() throws Exception {
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, new ItemLock.Settings(5_000, 20_000, 1, 5));
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    AtomicInteger bothKeysSet = new AtomicInteger();

    List<Future<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      int n = i;
      List<String> items = i % 2 == 0 ? List.of("event:7", "product:7") : List.of("product:7", "event:7");
      calls.add(lock.withLocks(items, () -> section(inside, maxInside, n)
        .compose(v -> redis.exists(List.of(lock.key("event:7"), lock.key("product:7"))))
        .map(count -> {
          if (count.toInteger() == 2) {
            bothKeysSet.incrementAndGet();
          }
          return n;
        })));
    }
    await(Future.all(calls));

    assertThat(calls).extracting(Future::result).containsExactlyInAnyOrderElementsOf(range(10));
    assertThat(maxInside.get()).isEqualTo(1);
    assertThat(bothKeysSet.get()).isEqualTo(10);
    assertThat(await(redis.exists(List.of(lock.key("event:7"), lock.key("product:7"))))
      .toInteger()).isZero();
  }

  @Test
  void severalItemsAreTakenAllOrNoneAndTheWorkRunsEitherWay() throws Exception {
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, new ItemLock.Settings(5_000, 100, 2, 10));
    await(redis.set(List.of(lock.key("event:8"), "someone-else", "PX", "10000")));

    String result = await(lock.withLocks(List.of("event:8", "event:9"),
      () -> redis.exists(List.of(lock.key("event:9")))
        .map(held -> held.toInteger() == 1 ? "ran holding event:9" : "ran without the locks")));

    // holding event:9 alone while waiting for event:8 is what lets two callers block each other
    assertThat(result).isEqualTo("ran without the locks");
    assertThat(lock.unlockedRuns()).isEqualTo(1);
    assertThat(await(redis.get(lock.key("event:8"))).toString()).isEqualTo("someone-else");
  }

  @Test
  void noItemMeansNoLock() throws Exception {
    ItemLock lock = new ItemLock(vertx, redis, PREFIX, ItemLock.Settings.DEFAULTS);

    assertThat(await(lock.withLock(null, () -> Future.succeededFuture("plain"))))
      .isEqualTo("plain");
  }

  /** A section that stays open for a few milliseconds and records how many are open at once. */
  private static Future<Integer> section(AtomicInteger inside, AtomicInteger maxInside, int n) {
    int now = inside.incrementAndGet();
    maxInside.accumulateAndGet(now, Math::max);
    Promise<Integer> done = Promise.promise();
    vertx.setTimer(5, id -> {
      inside.decrementAndGet();
      done.complete(n);
    });
    return done.future();
  }

  private static List<Integer> range(int n) {
    List<Integer> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(i);
    }
    return list;
  }
}
