package dev.boxoffice.testing;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Blocks a test thread on a future, with the one timeout every test waits with. CI runs the suite on a shared
 * two-core machine beside the fault harness, so it gets twice the room a developer's run does; a test that needs
 * more than this is waiting for the wrong thing.
 */
public final class Await {
  /** The longest any single wait in the tests may take: 30 s, 60 s when {@code CI} is set. */
  public static final Duration TIMEOUT = Duration.ofSeconds(System.getenv("CI") == null ? 30 : 60);

  private Await() {
  }

  /** The future's value; its failure is rethrown as it is (unwrapped), a time-out as an {@link AssertionError}. */
  public static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(cause);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within " + TIMEOUT.toSeconds() + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting", e);
    }
  }
}
