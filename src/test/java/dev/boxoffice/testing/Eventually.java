package dev.boxoffice.testing;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Polls until something holds, within {@link Await#TIMEOUT} (or a shorter bound the test names because the bound
 * itself is the behaviour under test). Failures name what was last seen, so a red test says how far it got.
 */
public final class Eventually {
  private static final long PAUSE_MS = 25;

  private Eventually() {
  }

  /** A check that may throw; an {@link AssertionError} or exception means "not yet". */
  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  /** Repeats {@code check} until it passes; the last failure is the test's failure. */
  public static void eventually(Check check) {
    eventually(Await.TIMEOUT, check);
  }

  public static void eventually(Duration within, Check check) {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (Exception | AssertionError e) {
        if (System.nanoTime() > deadline) {
          AssertionError failure = new AssertionError("not met within " + within.toMillis() + " ms: " + e.getMessage());
          failure.initCause(e);
          throw failure;
        }
      }
      pause();
    }
  }

  /** Asks {@code probe} again until its answer satisfies {@code done}, and returns that answer. */
  public static <T> T eventually(Supplier<Future<T>> probe, Predicate<? super T> done) {
    return eventually(Await.TIMEOUT, probe, done);
  }

  public static <T> T eventually(Duration within, Supplier<Future<T>> probe, Predicate<? super T> done) {
    long deadline = System.nanoTime() + within.toNanos();
    T last = null;
    while (true) {
      last = Await.await(probe.get());
      if (done.test(last)) {
        return last;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not met within " + within.toMillis() + " ms; last seen: " + last);
      }
      pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(PAUSE_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while polling", e);
    }
  }
}
