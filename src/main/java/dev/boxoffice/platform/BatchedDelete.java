package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

/**
 * Deletes what a statement selects, batch after batch, each batch its own short transaction (no long transaction,
 * no pile of row locks), until a batch comes back short. The statement deletes at most {@code batch} rows, taking
 * the bound as its last parameter. Running it on several nodes at once is harmless: a row another node deleted
 * first is skipped. Retention sweeps use it.
 */
public final class BatchedDelete {
  private final Pool pool;
  private final String sql;
  private final int batch;
  private final String statementTimeout;

  /**
   * @param statementTimeout one batch's bound (a batch over a big backlog may outlast the connections' default), or
   *                         null for the default
   */
  public BatchedDelete(Pool pool, String sql, int batch, String statementTimeout) {
    this.pool = pool;
    this.sql = sql;
    this.batch = batch;
    this.statementTimeout = statementTimeout;
  }

  /** Deletes every row the statement selects with {@code args} (the bound is added last); how many went. */
  public Future<Long> run(Object... args) {
    Tuple tuple = Tuple.tuple();
    for (Object arg : args) {
      tuple.addValue(arg);
    }
    return run(tuple.addInteger(batch), 0);
  }

  private Future<Long> run(Tuple args, long sofar) {
    Future<Integer> deleted = statementTimeout == null
      ? pool.preparedQuery(sql).execute(args).map(rows -> rows.rowCount())
      : pool.withTransaction(tx -> tx.query("SET LOCAL statement_timeout = '" + statementTimeout + "'").execute()
        .compose(v -> tx.preparedQuery(sql).execute(args)).map(rows -> rows.rowCount()));
    return deleted.compose(n -> n == batch ? run(args, sofar + n) : Future.succeededFuture(sofar + n));
  }
}
