package dev.boxoffice.cron;

import dev.boxoffice.jobs.FailureLog;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Enqueues each schedule's job at its ticks. Every scheduler node runs one and arms a timer for each schedule's
 * next tick; at the tick all of them race to insert the (schedule, tick) row into {@code cron_ticks}, and only the
 * node whose insert wins enqueues the job, in the same transaction. So a tick runs once across the cluster, and
 * still runs when any one scheduler node is up.
 *
 * <p>Ticks missed while no scheduler ran: at start, when the latest due tick is after the schedule's
 * {@code cron_state.last_tick}, that one tick runs (once, not once per missed tick: a sync or an enrichment pass
 * catches up on its own). A schedule seen for the first time has missed nothing.
 */
public final class CronScheduler extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(CronScheduler.class);
  /** Timers are re-checked at least this often, so a wall-clock change delays a tick by at most this much. */
  private static final long MAX_TIMER_MS = 60_000;
  private static final String OWNER = FailureLog.SCHEDULED_OWNER; // their failed attempts are WARNs

  private static final String CLAIM_TICK = """
    INSERT INTO cron_ticks (schedule, tick, fired_by) VALUES ($1, $2, $3)
    ON CONFLICT (schedule, tick) DO NOTHING RETURNING tick""";
  private static final String RECORD = """
    WITH job AS (UPDATE cron_ticks SET job_id = $3 WHERE schedule = $1 AND tick = $2),
         pruned AS (DELETE FROM cron_ticks WHERE schedule = $1 AND tick < $2 - interval '7 days')
    INSERT INTO cron_state (schedule, last_tick) VALUES ($1, $2)
    ON CONFLICT (schedule) DO UPDATE SET last_tick = greatest(cron_state.last_tick, excluded.last_tick),
                                         updated_at = now()""";
  private static final String LAST_TICK = "SELECT last_tick FROM cron_state WHERE schedule = $1";
  private static final String FIRST_SEEN = """
    INSERT INTO cron_state (schedule, last_tick) VALUES ($1, $2) ON CONFLICT (schedule) DO NOTHING""";

  private final Platform platform;
  private final Pool pool;
  private final Map<String, Long> timers = new HashMap<>();
  private List<CronSchedule> schedules = List.of();
  private boolean stopped;

  public CronScheduler(Platform platform) {
    this.platform = platform;
    this.pool = platform.pool();
  }

  @Override
  public Future<?> start() {
    List<CronSchedule> active = new ArrayList<>();
    try {
      for (CronSchedule s : CronSchedules.fromConfig(platform.config())) {
        if (JobTypes.find(s.type()).isPresent()) {
          active.add(s);
        } else {
          log.info("cron schedule {} skipped: job type {} is not registered on this cluster", s.name(), s.type());
        }
      }
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    schedules = List.copyOf(active);
    List<Future<?>> catchUps = new ArrayList<>();
    Instant now = Instant.now();
    for (CronSchedule s : schedules) {
      // the catch-up covers ticks up to now; the timer takes every tick after it, even one due during the check
      catchUps.add(catchUp(s, now).recover(err -> {
        log.warn("cron schedule {}: missed-tick check failed: {}", s.name(), err.getMessage());
        return Future.succeededFuture();
      }).onComplete(v -> arm(s, s.next(now))));
    }
    return Future.join(catchUps).onSuccess(v -> log.info("cron scheduler started with {} schedule(s): {}",
      schedules.size(), schedules.stream().map(s -> s.name() + " '" + s.expression() + "' → " + s.type()).toList()));
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    timers.values().forEach(vertx::cancelTimer);
    timers.clear();
    return Future.succeededFuture();
  }

  /** Runs the latest due tick once when it came after the last recorded one. */
  private Future<Void> catchUp(CronSchedule s, Instant now) {
    Instant due = s.latestDue(now);
    if (due == null) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery(LAST_TICK).execute(Tuple.of(s.name())).compose(rows -> {
      if (rows.size() == 0) {
        return pool.preparedQuery(FIRST_SEEN).execute(Tuple.of(s.name(), utc(due))).mapEmpty();
      }
      OffsetDateTime last = rows.iterator().next().getOffsetDateTime("last_tick");
      if (!due.isAfter(last.toInstant())) {
        return Future.succeededFuture();
      }
      log.info("cron schedule {}: tick {} was missed (last ran {}); running it once now", s.name(), due,
        last.toInstant());
      return fire(s, due).mapEmpty();
    });
  }

  private void arm(CronSchedule s, Instant tick) {
    if (stopped) {
      return;
    }
    long delay = Math.max(1, Math.min(MAX_TIMER_MS, tick.toEpochMilli() - System.currentTimeMillis()));
    timers.put(s.name(), vertx.setTimer(delay, id -> {
      Instant now = Instant.now();
      if (now.isBefore(tick)) {
        arm(s, tick); // a capped timer, or the clock moved: not yet
        return;
      }
      fire(s, tick).onComplete(ar -> {
        // after a stall past several ticks, run only the latest of them next, at once
        Instant latest = s.latestDue(Instant.now());
        Instant next = s.next(tick);
        arm(s, latest != null && latest.isAfter(next) ? latest : next);
      });
    }));
  }

  /** One transaction: claim the tick; only the claimer enqueues the job and records it. True when this node won. */
  Future<Boolean> fire(CronSchedule s, Instant tick) {
    OffsetDateTime at = utc(tick);
    return pool.withTransaction(tx -> tx.preparedQuery(CLAIM_TICK)
        .execute(Tuple.of(s.name(), at, platform.membership().nodeId()))
        .compose(won -> won.size() == 0 ? Future.succeededFuture(false) : enqueue(tx, s, tick)))
      .onSuccess(won -> {
        if (won) {
          // a schedule may tick every second (cron_extra): per tick is DEBUG, the jobs' outcomes are metrics
          log.debug("cron schedule {}: tick {} → {} job enqueued", s.name(), tick, s.type());
        }
      })
      .onFailure(err -> log.warn("cron schedule {}: tick {} failed: {}", s.name(), tick, err.getMessage()));
  }

  private static Future<Boolean> enqueue(SqlClient tx, CronSchedule s, Instant tick) {
    NewJob job = NewJob.of(s.type(), s.payload().copy()).uniqueKey(s.uniqueKey(tick)).owner(OWNER);
    return JobQueue.enqueue(tx, job).compose(e -> tx.preparedQuery(RECORD)
      .execute(Tuple.of(s.name(), utc(tick), e.id())).map(true));
  }

  private static OffsetDateTime utc(Instant t) {
    return t.atOffset(ZoneOffset.UTC);
  }
}
