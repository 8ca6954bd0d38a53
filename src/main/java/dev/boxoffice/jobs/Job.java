package dev.boxoffice.jobs;

import dev.boxoffice.platform.Times;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.OffsetDateTime;
import java.util.UUID;

/** One claimed attempt of a job, as handed to its handler. */
public record Job(UUID id, String type, JsonObject payload, int attempt, int maxAttempts, String owner) {

  static Job from(Row row) {
    Object payload = row.getValue("payload");
    return new Job(row.getUUID("id"), row.getString("type"),
      payload instanceof JsonObject o ? o : new JsonObject(),
      row.getInteger("attempts"), row.getInteger("max_attempts"), row.getString("owner"));
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id.toString()).put("type", type).put("payload", payload)
      .put("attempt", attempt).put("max_attempts", maxAttempts).put("owner", owner);
  }

  public static Job fromJson(JsonObject json) {
    return new Job(UUID.fromString(json.getString("id")), json.getString("type"), json.getJsonObject("payload"),
      json.getInteger("attempt"), json.getInteger("max_attempts"), json.getString("owner"));
  }

  /** Public view of a job row (the Task shape of the API). */
  public static JsonObject view(Row row) {
    String status = row.getString("status");
    OffsetDateTime runAt = row.getOffsetDateTime("run_at");
    if ("scheduled".equals(status) && runAt != null && !runAt.isAfter(OffsetDateTime.now())) {
      status = "queued";
    }
    return new JsonObject()
      .put("id", row.getUUID("id").toString())
      .put("type", row.getString("type"))
      .put("status", status)
      .put("payload", row.getValue("payload"))
      .put("result", row.getValue("result"))
      .put("attempts", row.getInteger("attempts"))
      .put("max_attempts", row.getInteger("max_attempts"))
      .put("last_error", row.getString("last_error"))
      .put("run_at", Times.ts(runAt))
      .put("created_at", Times.ts(row.getOffsetDateTime("created_at")))
      .put("started_at", Times.ts(row.getOffsetDateTime("started_at")))
      .put("finished_at", Times.ts(row.getOffsetDateTime("finished_at")))
      .put("owner", row.getString("owner"))
      .put("unique_key", row.getString("unique_key"));
  }
}
