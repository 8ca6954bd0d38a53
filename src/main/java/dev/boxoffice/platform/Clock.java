package dev.boxoffice.platform;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;

import java.time.OffsetDateTime;

/**
 * The time a node reads and the timers it sets, so that tests can move time instead of sleeping through it. Timers
 * run on the Vert.x context that set them, as {@code vertx.setTimer} does; set them from a context.
 *
 * <p>Statements keep the database's {@code now()}, which every node shares, unless the clock names another time
 * ({@link #sqlNow}): they read {@code coalesce($n, now())}, which plans exactly as {@code now()} does.
 */
public interface Clock {
  /** The system clock and Vert.x timers; statements use the database's own {@code now()}. */
  Clock SYSTEM = new Clock() {
    @Override
    public long millis() {
      return System.currentTimeMillis();
    }

    @Override
    public long setTimer(long delayMillis, Handler<Long> handler) {
      return owner().setTimer(delayMillis, handler);
    }

    @Override
    public long setPeriodic(long periodMillis, Handler<Long> handler) {
      return owner().setPeriodic(periodMillis, handler);
    }

    @Override
    public boolean cancelTimer(long id) {
      return owner().cancelTimer(id);
    }

    private Vertx owner() {
      Context context = Vertx.currentContext();
      if (context == null) {
        throw new IllegalStateException("clock timers are set from a Vert.x context");
      }
      return context.owner();
    }
  };

  /** Epoch milliseconds. */
  long millis();

  /** What statements take as now; {@code null} (the system clock) means the database's {@code now()}. */
  default OffsetDateTime sqlNow() {
    return null;
  }

  long setTimer(long delayMillis, Handler<Long> handler);

  long setPeriodic(long periodMillis, Handler<Long> handler);

  boolean cancelTimer(long id);
}
