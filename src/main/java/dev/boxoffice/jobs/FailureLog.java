package dev.boxoffice.jobs;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;

/**
 * What the logs say of attempts that failed, once their outcome is committed. A job that dies is a WARN whatever
 * it is. A scheduled job (enqueued by cron, owner {@link #SCHEDULED_OWNER}) is a WARN at each failed attempt too:
 * nobody waits on it, so without the line a provider that has been failing for an hour shows only in
 * {@code /ops/jobs} until the job is finally dead. Other retries (saga steps, e-mail, users' tasks) are DEBUG: their
 * own logs and the job rows tell their story, and a database outage would otherwise log one line per job.
 */
public final class FailureLog {
  private static final Logger log = LoggerFactory.getLogger(FailureLog.class);
  /** The owner of the jobs cron enqueues. */
  public static final String SCHEDULED_OWNER = "system";

  private FailureLog() {
  }

  /**
   * Rows a failure or a lease rescue changed, as their statements return them ({@code id, type, status, owner,
   * last_error, attempts, max_attempts, run_at}).
   */
  static void committed(RowSet<Row> rows) {
    for (Row row : rows) {
      String type = row.getString("type");
      String error = row.getString("last_error");
      if ("dead".equals(row.getString("status"))) {
        log.warn("job {} ({}) is dead after {} attempt(s): {}", row.getUUID("id"), type, row.getInteger("attempts"),
          error);
      } else if (SCHEDULED_OWNER.equals(row.getString("owner"))) {
        OffsetDateTime next = row.getOffsetDateTime("run_at");
        log.warn("scheduled job {} ({}) failed attempt {} of {}, next attempt at {}: {}", row.getUUID("id"), type,
          row.getInteger("attempts"), row.getInteger("max_attempts"), next == null ? "?" : next.toInstant(), error);
      } else if (log.isDebugEnabled()) {
        log.debug("job {} ({}) failed attempt {} of {}: {}", row.getUUID("id"), type, row.getInteger("attempts"),
          row.getInteger("max_attempts"), error);
      }
    }
  }
}
