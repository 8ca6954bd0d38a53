package dev.boxoffice.jobs;

import dev.boxoffice.platform.BatchedDelete;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Deletes internal jobs that succeeded or were cancelled more than {@code jobs_retention_seconds} ago (0 = keep
 * them all). Every booking leaves four or five such rows behind (saga steps, expiry, finalization, e-mail) whose
 * outcome the bookings, tickets and outbox tables already hold; kept forever, they would make every count over the
 * table (the job gauges, the monitoring page) grow with history. Kept: the {@code keptTypes} (tasks, whose
 * history is part of the API) and dead jobs of every type, which wait for an operator.
 *
 * <p>In batches, each its own statement, so no transaction holds many row locks or runs long. Running on several
 * nodes at once is harmless: a row another node deletes first is skipped.
 */
public final class JobRetention extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(JobRetention.class);
  static final int BATCH = 5_000;
  private static final long MAX_PERIOD_MS = 300_000;
  /** One purge batch's bound, above the connections' default: a batch over a big backlog may outlast it. */
  private static final String STATEMENT_TIMEOUT = "2min";

  // finished_at range over the jobs_finished index; finished_at is set on every succeeded or cancelled job
  private static final String PURGE = """
    DELETE FROM jobs WHERE id IN (
      SELECT id FROM jobs
      WHERE finished_at < now() - make_interval(secs => $1) AND status IN ('succeeded', 'cancelled')
        AND type <> ALL($2)
      LIMIT $3)""";

  private final BatchedDelete purge;
  private final long retentionSeconds;
  private final String[] keptTypes;
  private long timer = -1;

  public JobRetention(Pool pool, long retentionSeconds, List<String> keptTypes) {
    this.purge = new BatchedDelete(pool, PURGE, BATCH, STATEMENT_TIMEOUT);
    this.retentionSeconds = retentionSeconds;
    this.keptTypes = keptTypes.toArray(new String[0]);
  }

  @Override
  public Future<?> start() {
    if (retentionSeconds > 0) {
      // often enough that the table holds little more than the retention, at most every five minutes
      long period = Math.max(1_000, Math.min(MAX_PERIOD_MS, retentionSeconds * 1000 / 4));
      timer = vertx.setPeriodic(period, id -> purge().onFailure(err ->
        log.warn("job retention: purge failed ({}); trying again in {} s", err.getMessage(), period / 1000)));
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  /** Deletes everything past the retention, batch by batch; how many rows went. */
  Future<Long> purge() {
    return purge.run(retentionSeconds, keptTypes).onSuccess(total -> {
      if (total > 0) {
        log.info("job retention: deleted {} finished job(s) older than {} s", total, retentionSeconds);
      }
    });
  }
}
