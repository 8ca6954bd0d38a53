package dev.boxoffice.tasks;

import dev.boxoffice.jobs.JobRow;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** A job row in the API's Task shape (the fields every task view shares; see TaskStore for the caller's own). */
public final class TaskView {
  private TaskView() {
  }

  public static JsonObject of(JobRow job) {
    return new JsonObject()
      .put("id", job.id().toString())
      .put("type", job.type())
      .put("status", status(job))
      .put("payload", job.payload())
      .put("result", job.result())
      .put("attempts", job.attempts())
      .put("max_attempts", job.maxAttempts())
      .put("last_error", job.lastError())
      .put("run_at", ts(job.runAt()))
      .put("created_at", ts(job.createdAt()))
      .put("started_at", ts(job.startedAt()))
      .put("finished_at", ts(job.finishedAt()))
      .put("owner", job.owner())
      .put("unique_key", job.uniqueKey());
  }

  /** The public status: a row still {@code scheduled} whose run_at has passed is {@code queued}. */
  public static String status(JobRow job) {
    boolean due = job.runAt() != null && !job.runAt().isAfter(Instant.now());
    return "scheduled".equals(job.status()) && due ? "queued" : job.status();
  }

  private static String ts(Instant t) {
    return t == null ? null : t.toString();
  }
}
