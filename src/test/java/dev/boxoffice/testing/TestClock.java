package dev.boxoffice.testing;

import dev.boxoffice.platform.Clock;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock a test moves forward instead of sleeping. It runs with real time ({@link #millis} is the system time plus
 * how far the test advanced it), so a node on it behaves as on the system clock until the test calls
 * {@link #advance}: then every timer whose time has come fires at once, on the context that set it, and the others
 * are re-armed for what is left. Statements see the clock's time as now ({@link #sqlNow}), so due times, backoff
 * and leases in the database move with it. A node runs on it when started with {@code TestNodes.start(settings,
 * clustered, clock)}.
 */
public final class TestClock implements Clock {
  private final AtomicLong offset = new AtomicLong();
  private final Map<Long, Timer> timers = new HashMap<>();
  private long nextId = 1;

  /** A timer on the clock, backed by a real one for the clock time it has left. */
  private static final class Timer {
    final long id;
    final long period;
    final Context context;
    final Handler<Long> handler;
    long deadline;
    long realId = -1;
    int generation;

    Timer(long id, long deadline, long period, Context context, Handler<Long> handler) {
      this.id = id;
      this.deadline = deadline;
      this.period = period;
      this.context = context;
      this.handler = handler;
    }
  }

  @Override
  public long millis() {
    return System.currentTimeMillis() + offset.get();
  }

  @Override
  public OffsetDateTime sqlNow() {
    return Instant.ofEpochMilli(millis()).atOffset(ZoneOffset.UTC);
  }

  @Override
  public long setTimer(long delayMillis, Handler<Long> handler) {
    return add(delayMillis, 0, handler);
  }

  @Override
  public long setPeriodic(long periodMillis, Handler<Long> handler) {
    return add(periodMillis, periodMillis, handler);
  }

  @Override
  public synchronized boolean cancelTimer(long id) {
    Timer t = timers.remove(id);
    if (t == null) {
      return false;
    }
    t.context.owner().cancelTimer(t.realId);
    return true;
  }

  /** Moves the clock forward by {@code by}. */
  public void advance(Duration by) {
    List<Timer> moved;
    synchronized (this) {
      offset.addAndGet(by.toMillis());
      moved = new ArrayList<>(timers.values());
      moved.sort(Comparator.comparingLong(t -> t.deadline));
      for (Timer t : moved) {
        t.context.owner().cancelTimer(t.realId);
        t.generation++;
      }
    }
    for (Timer t : moved) {
      int generation = t.generation;
      try {
        t.context.runOnContext(v -> arm(t, generation));
      } catch (RejectedExecutionException closed) {
        // its Vert.x instance is closed: nothing left to fire
      }
    }
  }

  /** Moves the clock forward to {@code when} (not back, if it is past already). */
  public void advanceTo(Instant when) {
    advance(Duration.ofMillis(Math.max(0, when.toEpochMilli() - millis())));
  }

  /** When the timers set now will fire, earliest first (epoch ms). */
  public synchronized List<Long> deadlines() {
    return timers.values().stream().map(t -> t.deadline).sorted().toList();
  }

  private synchronized long add(long delayMillis, long period, Handler<Long> handler) {
    Context context = Vertx.currentContext();
    if (context == null) {
      throw new IllegalStateException("clock timers are set from a Vert.x context");
    }
    Timer t = new Timer(nextId++, millis() + delayMillis, period, context, handler);
    timers.put(t.id, t);
    int generation = t.generation;
    t.realId = context.owner().setTimer(Math.max(1, delayMillis), id -> arm(t, generation));
    return t.id;
  }

  /** On the timer's context: fires it if its time has come, else waits (really) for the clock time it has left. */
  private void arm(Timer t, int generation) {
    synchronized (this) {
      if (timers.get(t.id) != t || t.generation != generation) {
        return; // cancelled, or re-armed by an advance since
      }
      long left = t.deadline - millis();
      if (left > 0) {
        t.realId = t.context.owner().setTimer(left, id -> arm(t, generation));
        return;
      }
      if (t.period > 0) {
        t.deadline = millis() + t.period;
        int next = ++t.generation;
        t.realId = t.context.owner().setTimer(t.period, id -> arm(t, next));
      } else {
        timers.remove(t.id);
      }
    }
    t.handler.handle(t.id);
  }
}
