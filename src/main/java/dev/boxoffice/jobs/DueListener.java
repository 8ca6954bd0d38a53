package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Clock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * When to claim. Postgres NOTIFY (from the jobs triggers: {@code "<due epoch ms>|type,type"}) and local enqueues
 * ({@link Bus#JOBS_WAKE}) wake the engine now, or arm its one timer for a due time still ahead; the slow poll is only
 * a safety net, for a lost notice or while the channel reconnects.
 */
final class DueListener {
  private static final Logger log = LoggerFactory.getLogger(DueListener.class);
  static final String CHANNEL = "boxoffice_jobs";

  private final Vertx vertx;
  private final Clock clock;
  private final PgConnectOptions listenOptions;
  private final long pollMillis;
  private final Supplier<String[]> types;
  private final Runnable wake;

  private PgSubscriber subscriber;
  private boolean stopping;
  private long pollTimer = -1;
  private long timerId = -1;
  private long timerDue = Long.MAX_VALUE;

  /** {@code types}: the job types this engine claims; {@code wake}: claim now. */
  DueListener(Vertx vertx, Clock clock, PgConnectOptions listenOptions, long pollMillis, Supplier<String[]> types,
              Runnable wake) {
    this.vertx = vertx;
    this.clock = clock;
    this.listenOptions = listenOptions;
    this.pollMillis = pollMillis;
    this.types = types;
    this.wake = wake;
  }

  /** Listens; a failed LISTEN is not fatal (the poll keeps work moving and the subscriber reconnects on its own). */
  Future<Void> start() {
    vertx.eventBus().localConsumer(Bus.JOBS_WAKE, m -> wake.run());
    pollTimer = clock.setPeriodic(pollMillis, id -> wake.run());
    subscriber = PgSubscriber.subscriber(vertx, listenOptions)
      .reconnectPolicy(retries -> 1000L);
    subscriber.channel(CHANNEL).handler(this::onDueNotice);
    subscriber.closeHandler(v -> {
      if (!stopping) {
        log.warn("job wake-up channel closed; relying on the poll until it reconnects");
      }
    });
    return subscriber.connect()
      .recover(err -> {
        log.warn("LISTEN {} failed: {}", CHANNEL, err.getMessage());
        return Future.succeededFuture();
      });
  }

  /** No more wake-ups: the poll and the timer stop (on the engine's context). */
  void stop() {
    stopping = true;
    clock.cancelTimer(pollTimer);
    if (timerId >= 0) {
      clock.cancelTimer(timerId);
      timerId = -1;
    }
  }

  /** Stops listening. */
  Future<Void> close() {
    stopping = true;
    return subscriber == null ? Future.succeededFuture() : subscriber.close();
  }

  /** Wake now or arm the timer, if any of the types is ours. */
  private void onDueNotice(String payload) {
    int bar = payload.indexOf('|');
    if (bar > 0 && !concernsMe(payload.substring(bar + 1))) {
      return;
    }
    try {
      long due = Long.parseLong((bar > 0 ? payload.substring(0, bar) : payload).trim());
      if (due <= clock.millis()) {
        wake.run();
      } else {
        arm(due);
      }
    } catch (NumberFormatException e) {
      wake.run();
    }
  }

  private boolean concernsMe(String notified) {
    String[] mine = types.get();
    for (String type : notified.split(",")) {
      for (String t : mine) {
        if (t.equals(type)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Keeps one timer, for the earliest known due time (less half the claim's look-ahead); later due times are armed
   * after it fires, by the claim that follows.
   */
  void arm(long dueMillis) {
    if (dueMillis >= timerDue) {
      return;
    }
    if (timerId >= 0) {
      clock.cancelTimer(timerId);
    }
    long delay = Math.max(1, dueMillis - Claimer.LOOKAHEAD_MS / 2 - clock.millis());
    if (delay > pollMillis * 12) {
      timerId = -1;
      timerDue = Long.MAX_VALUE;
      return; // far away: the poll will get closer first
    }
    timerDue = dueMillis;
    timerId = clock.setTimer(delay, id -> {
      timerId = -1;
      timerDue = Long.MAX_VALUE;
      wake.run();
    });
  }
}
