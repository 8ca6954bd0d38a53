package dev.boxoffice.jobs;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A job as stored: its state and history, as enqueue, get, cancel and retry return it. {@code status} is the
 * stored one (a due {@code scheduled} row stays {@code scheduled} until claimed); {@code result} is null until the
 * job succeeds.
 */
public record JobRow(UUID id, String type, String status, JsonObject payload, JsonObject result, int attempts,
                     int maxAttempts, String lastError, Instant runAt, Instant createdAt, Instant startedAt,
                     Instant finishedAt, String owner, String uniqueKey) {

  /** A row of {@code SELECT * FROM jobs} (or any statement returning its columns). */
  public static JobRow from(Row row) {
    return new JobRow(row.getUUID("id"), row.getString("type"), row.getString("status"),
      row.getValue("payload") instanceof JsonObject p ? p : null,
      row.getValue("result") instanceof JsonObject r ? r : null,
      row.getInteger("attempts"), row.getInteger("max_attempts"), row.getString("last_error"),
      instant(row.getOffsetDateTime("run_at")), instant(row.getOffsetDateTime("created_at")),
      instant(row.getOffsetDateTime("started_at")), instant(row.getOffsetDateTime("finished_at")),
      row.getString("owner"), row.getString("unique_key"));
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
