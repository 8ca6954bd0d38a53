package dev.boxoffice.jobs;

import dev.boxoffice.platform.Clock;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * What is due, and taking it: claims due rows of the types handled on this node ({@code FOR UPDATE SKIP LOCKED}), as
 * many as there are free slots up to the claim batch, each leased to this node. One claim in flight at a time; a
 * wake-up meanwhile runs another claim right after it. A job claimed ahead of its due time (the look-ahead) waits
 * in a timer of its own and starts on time.
 */
final class Claimer {
  private static final Logger log = LoggerFactory.getLogger(Claimer.class);
  /** How far ahead of its due time a job may be claimed (it still starts at its due time). */
  static final long LOOKAHEAD_MS = 50;

  private final Vertx vertx;
  private final JobsSql sql;
  private final Clock clock;
  private final Slots slots;
  private final Dispatcher dispatcher;
  private final JobEngine.Settings settings;
  private final String nodeId;
  private final DueListener due;

  private boolean stopping;
  private boolean claiming;
  private boolean wakeAgain;

  /** {@code due}: where the next due time goes once a claim took everything due. */
  Claimer(Vertx vertx, JobsSql sql, Clock clock, Slots slots, Dispatcher dispatcher, DueListener due,
          JobEngine.Settings settings, String nodeId) {
    this.vertx = vertx;
    this.sql = sql;
    this.clock = clock;
    this.slots = slots;
    this.dispatcher = dispatcher;
    this.due = due;
    this.settings = settings;
    this.nodeId = nodeId;
  }

  /** No more claims (the engine drains). */
  void stop() {
    stopping = true;
  }

  /** The job types handled on this node that belong to this engine's queue. */
  String[] types() {
    return JobWorkers.registeredTypes(vertx).stream()
      .filter(t -> JobTypes.find(t).map(JobType::queue).orElse(JobType.DEFAULT_QUEUE).equals(settings.queue()))
      .toArray(String[]::new);
  }

  /** A claim that found no room (or ran while another was in flight) runs now that outcomes freed slots. */
  void wakeIfAsked() {
    if (wakeAgain && !claiming) {
      wake();
    }
  }

  void wake() {
    if (stopping) {
      return;
    }
    if (claiming) {
      wakeAgain = true;
      return;
    }
    int room = slots.forClaims();
    String[] types = types();
    if (room <= 0 || types.length == 0) {
      // full: the completions will wake us; no types: a handler registration will
      wakeAgain = room <= 0;
      return;
    }
    int n = Math.min(settings.claimBatch(), room);
    claiming = true;
    wakeAgain = false;
    sql.claim(nodeId, settings.leaseMillis(), types, n, LOOKAHEAD_MS, settings.queue()).onComplete(ar -> {
      claiming = false;
      if (ar.failed()) {
        log.warn("claim failed: {}", ar.cause().getMessage());
        due.arm(clock.millis() + 1000);
        return;
      }
      long now = clock.millis();
      List<Job> ready = new ArrayList<>();
      for (Row row : ar.result()) {
        Job job = Job.from(row);
        long wait = row.getLong("due") - now;
        if (wait > 0) {
          slots.reserve(); // counted from the claim: the job holds a slot while it waits
          clock.setTimer(wait, t -> {
            slots.unreserve();
            dispatcher.dispatch(List.of(job));
          });
        } else {
          ready.add(job);
        }
      }
      dispatcher.dispatchByType(ready);
      if (ar.result().size() == n || wakeAgain) {
        vertx.runOnContext(v -> wake());
      } else {
        armNextDue(types);
      }
    });
  }

  /** Everything due was taken: the timer goes to the earliest job still waiting (per-type walk of the due index). */
  private void armNextDue(String[] types) {
    sql.nextDue(types, settings.queue()).onSuccess(next -> {
      if (next != null) {
        due.arm(next);
      }
    });
  }
}
