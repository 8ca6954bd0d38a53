package dev.boxoffice.testing;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Polls until something holds, within {@link Await#TIMEOUT} (or a shorter bound the test names because the bound
 * itself is the behaviour under test). Failures name what was last seen, so a red test says how far it got. The pause
 * between tries grows from 25 ms to 100 ms: quick answers are seen at once, and a wait of seconds (a retry, a
 * metrics refresh) does not keep the two shared cores of CI busy asking.
 */
public final class Eventually {
  private static final long FIRST_PAUSE_MS = 25;
  private static final long LONGEST_PAUSE_MS = 100;

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
    long pause = FIRST_PAUSE_MS;
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
      pause = pause(pause);
    }
  }

  /** Asks {@code probe} again until its answer satisfies {@code done}, and returns that answer. */
  public static <T> T eventually(Supplier<Future<T>> probe, Predicate<? super T> done) {
    return eventually(Await.TIMEOUT, probe, done);
  }

  public static <T> T eventually(Duration within, Supplier<Future<T>> probe, Predicate<? super T> done) {
    long deadline = System.nanoTime() + within.toNanos();
    long pause = FIRST_PAUSE_MS;
    T last;
    while (true) {
      last = Await.await(probe.get());
      if (done.test(last)) {
        return last;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not met within " + within.toMillis() + " ms; last seen: " + last);
      }
      pause = pause(pause);
    }
  }

  /** Sleeps {@code ms} and returns the next pause. */
  private static long pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while polling", e);
    }
    return Math.min(LONGEST_PAUSE_MS, ms * 3 / 2);
  }
}
