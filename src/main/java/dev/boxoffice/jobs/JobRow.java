package dev.boxoffice.jobs;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A job as stored: its state and history, as enqueue, get, cancel and retry return it. {@code status} is the
 * stored one (a due {@code scheduled} row stays {@code scheduled} until claimed); {@code result} is null until the
 * job succeeds. {@code lockedBy} and {@code leaseUntil}: the node whose engine holds (or last held) the lease, and
 * until when; the lease is cleared when the attempt ends, the node is not.
 */
public record JobRow(UUID id, String type, String status, JsonObject payload, JsonObject result, int attempts,
                     int maxAttempts, String lastError, Instant runAt, Instant createdAt, Instant startedAt,
                     Instant finishedAt, String owner, String uniqueKey, String queue, String lockedBy,
                     Instant leaseUntil, Instant updatedAt) {

  /** A row of {@code SELECT * FROM jobs} (or any statement returning its columns). */
  public static JobRow from(Row row) {
    return new JobRow(row.getUUID("id"), row.getString("type"), row.getString("status"),
      row.getValue("payload") instanceof JsonObject p ? p : null,
      row.getValue("result") instanceof JsonObject r ? r : null,
      row.getInteger("attempts"), row.getInteger("max_attempts"), row.getString("last_error"),
      instant(row.getOffsetDateTime("run_at")), instant(row.getOffsetDateTime("created_at")),
      instant(row.getOffsetDateTime("started_at")), instant(row.getOffsetDateTime("finished_at")),
      row.getString("owner"), row.getString("unique_key"), row.getString("queue"), row.getString("locked_by"),
      instant(row.getOffsetDateTime("lease_until")), instant(row.getOffsetDateTime("updated_at")));
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
