package dev.boxoffice.auth;

import dev.boxoffice.platform.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The logins' own hashing pool refuses work beyond its bound instead of queueing it. */
@ExtendWith(VertxExtension.class)
class HashingPoolTest {
  @Test
  void aFullPoolAnswers503WithRetryAfterAndServesAgainOnceItDrains(Vertx vertx) throws Exception {
    HashingPool pool = new HashingPool(vertx, 1, 1);
    CountDownLatch release = new CountDownLatch(1);
    Future<Boolean> running = pool.run(() -> release.await(30, TimeUnit.SECONDS));
    Future<Boolean> queued = pool.run(() -> true);

    Future<Boolean> refused = pool.run(() -> true);
    assertThat(refused.failed()).as("refused at once, not queued").isTrue();
    assertThat(refused.cause()).isInstanceOfSatisfying(Failure.class, f -> {
      assertThat(f.status()).isEqualTo(503);
      assertThat(f.body().getLong("retry_after")).isPositive();
    });

    release.countDown();
    assertThat(await(running)).isTrue();
    assertThat(await(queued)).isTrue();
    assertThat(await(pool.run(() -> Passwords.verifyNow(Passwords.hashNow("pw"), "pw")))).isTrue();
    await(pool.close());
  }
}
