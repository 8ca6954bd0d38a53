package dev.boxoffice.jobs;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.util.UUID;

/**
 * One claimed attempt of a job, as handed to its handler. {@code attempt} and {@code node} (the engine's node id,
 * {@code jobs.locked_by}) name the attempt's lease: a handler passes the job to {@link LeaseFence} right before a
 * side effect leaves the process, so an attempt whose lease was taken over does nothing more.
 *
 * <p>{@code trace}: a W3C traceparent, null when untraced. As read from the row it names the enqueuer's span; as
 * handed to the handler, this attempt's own span ({@link JobSpans}), which what the attempt does for this job alone
 * continues (its next step's job, its e-mail), also when the handler serves a batch of jobs of many traces.
 */
public record Job(UUID id, String type, JsonObject payload, int attempt, int maxAttempts, String owner, String node,
                  String trace) {

  public Job(UUID id, String type, JsonObject payload, int attempt, int maxAttempts, String owner, String node) {
    this(id, type, payload, attempt, maxAttempts, owner, node, null);
  }

  static Job from(Row row) {
    Object payload = row.getValue("payload");
    return new Job(row.getUUID("id"), row.getString("type"),
      payload instanceof JsonObject o ? o : new JsonObject(),
      row.getInteger("attempts"), row.getInteger("max_attempts"), row.getString("owner"), row.getString("locked_by"),
      row.getString("traceparent"));
  }

  /** This attempt under another trace context (its own span's, as the handler gets it). */
  Job withTrace(String traceparent) {
    return new Job(id, type, payload, attempt, maxAttempts, owner, node, traceparent);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id.toString()).put("type", type).put("payload", payload)
      .put("attempt", attempt).put("max_attempts", maxAttempts).put("owner", owner).put("node", node);
    return trace == null ? json : json.put("trace", trace);
  }

  public static Job fromJson(JsonObject json) {
    return new Job(UUID.fromString(json.getString("id")), json.getString("type"), json.getJsonObject("payload"),
      json.getInteger("attempt"), json.getInteger("max_attempts"), json.getString("owner"), json.getString("node"),
      json.getString("trace"));
  }
}
