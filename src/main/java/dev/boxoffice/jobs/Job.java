package dev.boxoffice.jobs;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.util.UUID;

/**
 * One claimed attempt of a job, as handed to its handler. {@code attempt} and {@code node} (the engine's node id,
 * {@code jobs.locked_by}) name the attempt's lease: a handler passes the job to {@link LeaseFence} right before a
 * side effect leaves the process, so an attempt whose lease was taken over does nothing more.
 */
public record Job(UUID id, String type, JsonObject payload, int attempt, int maxAttempts, String owner, String node) {

  static Job from(Row row) {
    Object payload = row.getValue("payload");
    return new Job(row.getUUID("id"), row.getString("type"),
      payload instanceof JsonObject o ? o : new JsonObject(),
      row.getInteger("attempts"), row.getInteger("max_attempts"), row.getString("owner"), row.getString("locked_by"));
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id.toString()).put("type", type).put("payload", payload)
      .put("attempt", attempt).put("max_attempts", maxAttempts).put("owner", owner).put("node", node);
  }

  public static Job fromJson(JsonObject json) {
    return new Job(UUID.fromString(json.getString("id")), json.getString("type"), json.getJsonObject("payload"),
      json.getInteger("attempt"), json.getInteger("max_attempts"), json.getString("owner"), json.getString("node"));
  }
}
