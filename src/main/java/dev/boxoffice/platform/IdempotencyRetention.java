package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes idempotency keys past their {@code expires_at} ({@link IdempotencyKeys#RETENTION_SECONDS} after they
 * were used), every few minutes, in batches that are each a statement of their own (no long transaction, no pile of
 * row locks). Running on several nodes at once is harmless. Until the sweep comes, an expired key is already free:
 * a new claim takes its row over.
 */
public final class IdempotencyRetention extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(IdempotencyRetention.class);
  static final int BATCH = 5_000;
  private static final long PERIOD_MS = 300_000;

  private static final String PURGE = """
    DELETE FROM idempotency_keys WHERE (account, key) IN (
      SELECT account, key FROM idempotency_keys WHERE expires_at < now() LIMIT $1)""";

  private final BatchedDelete purge;
  private long timer = -1;

  public IdempotencyRetention(Pool pool) {
    this.purge = new BatchedDelete(pool, PURGE, BATCH, null);
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(PERIOD_MS, id -> purge().onFailure(err ->
      log.warn("idempotency keys: purge failed ({}); trying again in {} s", err.getMessage(), PERIOD_MS / 1000)));
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  /** Deletes every expired key, batch by batch; how many went. */
  Future<Long> purge() {
    return purge.run().onSuccess(total -> {
      if (total > 0) {
        log.info("idempotency keys: deleted {} expired key(s)", total);
      }
    });
  }
}
