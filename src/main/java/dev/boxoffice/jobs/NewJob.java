package dev.boxoffice.jobs;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * What to enqueue. {@code runAt} null means now; {@code maxAttempts} null means the type's default.
 * {@code traceparent}: the trace the job continues; null means the enqueuer's current one ({@link JobQueue} reads it
 * when tracing is on), so only code that enqueues for many traces at once (a batch) names it.
 */
public record NewJob(String type, JsonObject payload, Instant runAt, Integer maxAttempts, String uniqueKey,
                     String owner, String traceparent) {

  public NewJob(String type, JsonObject payload, Instant runAt, Integer maxAttempts, String uniqueKey, String owner) {
    this(type, payload, runAt, maxAttempts, uniqueKey, owner, null);
  }

  public static NewJob of(String type, JsonObject payload) {
    return new NewJob(type, payload, null, null, null, null, null);
  }

  public NewJob at(Instant when) {
    return new NewJob(type, payload, when, maxAttempts, uniqueKey, owner, traceparent);
  }

  public NewJob uniqueKey(String key) {
    return new NewJob(type, payload, runAt, maxAttempts, key, owner, traceparent);
  }

  public NewJob maxAttempts(Integer n) {
    return new NewJob(type, payload, runAt, n, uniqueKey, owner, traceparent);
  }

  public NewJob owner(String who) {
    return new NewJob(type, payload, runAt, maxAttempts, uniqueKey, who, traceparent);
  }

  /** The trace this job continues (a W3C traceparent; null: the enqueuer's current one). */
  public NewJob trace(String parent) {
    return parent == null ? this : new NewJob(type, payload, runAt, maxAttempts, uniqueKey, owner, parent);
  }
}
