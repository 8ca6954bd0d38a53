package dev.boxoffice.jobs;

import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.OneByOne;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Records how attempts ended. Completions ride together: one statement for everything that succeeded since the last
 * write, one transaction for everything that failed, and at most one write in flight; what ends meanwhile waits for
 * the next. Jobs that die get their type's compensation in the same transaction.
 */
final class OutcomeWriter {
  private static final Logger log = LoggerFactory.getLogger(OutcomeWriter.class);

  /** Outcomes waiting for the next flush. */
  private record Succeeded(UUID id, int attempt, String type, JsonObject result) {
    /** When a result that cannot be stored makes this attempt a failure: the type's usual backoff. */
    long retryDelayMs() {
      return JobTypes.find(type).map(t -> t.retryDelayMillis(attempt)).orElse(1_000L);
    }
  }

  private record Failed(UUID id, int attempt, String error, boolean permanent, long delayMs) {
  }

  private final Vertx vertx;
  private final JobsSql sql;
  private final Runnable roomMade;
  private final Runnable written;
  private List<Succeeded> succeeded = new ArrayList<>();
  private List<Failed> failed = new ArrayList<>();
  private boolean flushing;
  private boolean flushQueued;

  /**
   * {@code roomMade} runs when a write is done (the slots of what it recorded are free: handed-off jobs may start),
   * then {@code written}, after the next write was queued (a claim that waited for room may run).
   */
  OutcomeWriter(Vertx vertx, JobsSql sql, Runnable roomMade, Runnable written) {
    this.vertx = vertx;
    this.sql = sql;
    this.roomMade = roomMade;
    this.written = written;
  }

  void succeeded(Job job, JsonObject result) {
    succeeded.add(new Succeeded(job.id(), job.attempt(), job.type(), result));
  }

  /** Retried after the type's backoff for this attempt, or dead when permanent or out of tries. */
  void failed(Job job, JobType type, String error, boolean permanent) {
    failed.add(new Failed(job.id(), job.attempt(), storable(error), permanent, type.retryDelayMillis(job.attempt())));
  }

  /** Nothing waits to be written and no write is in flight. */
  boolean idle() {
    return !flushing && succeeded.isEmpty() && failed.isEmpty();
  }

  /** Writes what ended, now if no write is in flight, else right after it. */
  void flushSoon() {
    if (flushing) {
      flushQueued = true;
      return;
    }
    flushing = true;
    vertx.runOnContext(v -> flush());
  }

  private void flush() {
    List<Succeeded> ok = succeeded;
    List<Failed> ko = failed;
    succeeded = new ArrayList<>();
    failed = new ArrayList<>();
    List<Failed> unstorable = new ArrayList<>();
    Future<Void> done = ok.isEmpty() ? Future.succeededFuture() : complete(ok).recover(err -> {
      if (!OneByOne.worthIsolating(err)) {
        return Future.failedFuture(err);
      }
      log.warn("recording {} completions failed, recording them one by one: {}", ok.size(), Failures.text(err));
      // a result the database refuses (a NUL in it, a trigger) fails its own job, with that error, instead of
      // leaving every job of the batch running until its lease runs out and it runs again, forever
      return OneByOne.run(ok, one -> complete(List.of(one)), (one, e) -> {
        log.warn("job {} succeeded but its outcome cannot be recorded, failing it: {}", one.id(), Failures.text(e));
        unstorable.add(new Failed(one.id(), one.attempt(),
          storable("outcome could not be recorded: " + Failures.text(e)), false, one.retryDelayMs()));
      });
    });
    Future<Void> retried = ko.isEmpty() ? Future.succeededFuture() : fail(ko).recover(err -> {
      if (!OneByOne.worthIsolating(err)) {
        return Future.failedFuture(err);
      }
      log.warn("recording {} failed attempts failed, recording them one by one: {}", ko.size(), Failures.text(err));
      // one that still cannot be recorded stays running; the lease rescue ends it (and counts the attempt)
      return OneByOne.run(ko, one -> fail(List.of(one)),
        (one, e) -> log.error("job {}: its failed attempt cannot be recorded, left to the lease rescue: {}", one.id(),
          Failures.text(e)));
    });
    Future.join(done, retried).onComplete(ar -> {
      failed.addAll(unstorable);
      if (ar.failed()) {
        // rows stay 'running' and the lease brings them back; handlers are idempotent
        log.warn("recording job outcomes failed ({} ok, {} failed): {}", ok.size(), ko.size(),
          ar.cause().getMessage());
      }
      flushing = false;
      roomMade.run();
      if (flushQueued || !succeeded.isEmpty() || !failed.isEmpty()) {
        flushQueued = false;
        flushSoon();
      }
      written.run();
    });
  }

  private Future<Void> complete(List<Succeeded> ok) {
    return sql.complete(ok.stream().map(Succeeded::id).toArray(UUID[]::new),
      ok.stream().map(Succeeded::attempt).toArray(Integer[]::new),
      ok.stream().map(Succeeded::result).toArray(JsonObject[]::new)).mapEmpty();
  }

  /** Failed attempts and the compensations of those that died, in one transaction. */
  private Future<Void> fail(List<Failed> ko) {
    return sql.inTransaction(tx -> sql.fail(tx, ko.stream().map(Failed::id).toArray(UUID[]::new),
        ko.stream().map(Failed::attempt).toArray(Integer[]::new),
        ko.stream().map(Failed::error).toArray(String[]::new),
        ko.stream().map(Failed::permanent).toArray(Boolean[]::new),
        ko.stream().map(Failed::delayMs).toArray(Long[]::new))
      .compose(rows -> compensateDead(tx, rows).map(rows)))
      .onSuccess(FailureLog::committed)
      .mapEmpty();
  }

  /**
   * Rows a failure or a rescue just changed: dead jobs whose type names a compensation get it, enqueued in the
   * same transaction; retries need nothing here (their update notifies the engines). The caller logs the rows once
   * committed ({@link FailureLog}).
   */
  static Future<Void> compensateDead(SqlClient tx, RowSet<Row> rows) {
    List<Future<?>> compensations = new ArrayList<>();
    for (Row row : rows) {
      String type = row.getString("type");
      if ("dead".equals(row.getString("status"))) {
        JobTypes.find(type).map(JobType::onDead).ifPresent(onDead -> {
          JsonObject payload = ((JsonObject) row.getValue("payload")).copy()
            .put("failed_job", row.getUUID("id").toString()).put("failure", row.getString("last_error"));
          // in the dead job's trace, when it had one: the booking's trace shows its compensation too
          compensations.add(JobQueue.enqueue(tx, NewJob.of(onDead, payload).owner(row.getString("owner"))
            .uniqueKey(onDead + ":" + row.getUUID("id")).trace(row.getString("traceparent"))));
        });
      }
    }
    return Future.all(compensations).mapEmpty();
  }

  /**
   * An error message Postgres can keep: jsonb and text refuse NUL characters, and one message quoting binary data
   * (a driver echoing a bad parameter) made every outcome of its batch fail to record, so the jobs ran again.
   */
  static String storable(String error) {
    if (error == null) {
      return null;
    }
    String clean = error.indexOf('\u0000') < 0 ? error : error.replace('\u0000', '?');
    return clean.length() <= 2000 ? clean : clean.substring(0, 2000);
  }
}
