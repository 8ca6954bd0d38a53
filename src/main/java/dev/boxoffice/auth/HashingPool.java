package dev.boxoffice.auth;

import dev.boxoffice.platform.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads password hashes run on, apart from the shared worker pool: a login burst must not delay ticket PDFs
 * (which render there), and PDFs must not delay logins. Bounded: beyond {@code threads + maxQueued} hashes in
 * flight on this node a login is refused at once (503 with Retry-After) instead of queueing into a backlog whose
 * answers would come too late to matter.
 */
final class HashingPool {
  static final String BUSY = "Too many logins in progress; try again shortly";
  private static final long RETRY_AFTER_SECONDS = 1;

  private final WorkerExecutor executor;
  private final int capacity;
  private final AtomicInteger inFlight = new AtomicInteger();

  HashingPool(Vertx vertx, int threads, int maxQueued) {
    if (threads < 1 || maxQueued < 0) {
      throw new IllegalArgumentException("login_hash_threads must be >= 1 and login_hash_queue >= 0");
    }
    this.executor = vertx.createSharedWorkerExecutor("boxoffice-passwords", threads);
    this.capacity = threads + maxQueued;
  }

  /** Runs {@code work} on the pool, or fails with a 503 at once when the pool's queue is full. */
  <T> Future<T> run(Callable<T> work) {
    if (inFlight.incrementAndGet() > capacity) {
      inFlight.decrementAndGet();
      return Future.failedFuture(Failure.unavailable(BUSY).with("retry_after", RETRY_AFTER_SECONDS));
    }
    // unordered: concurrent logins do not wait for each other beyond the pool's size
    return executor.executeBlocking(work, false).onComplete(ar -> inFlight.decrementAndGet());
  }

  Future<Void> close() {
    return executor.close();
  }
}
