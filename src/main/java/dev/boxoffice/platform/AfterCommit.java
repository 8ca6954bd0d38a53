package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * What a transaction leaves to do once it has committed, and never if it rolls back: start the jobs it handed to
 * this node's engine, send the e-mails it wrote, answer the requests it served. The transaction's code adds the
 * actions as it goes; {@link #transaction} runs them in the order added, after the commit and before the
 * transaction's future completes, so its callers see their effects.
 */
public final class AfterCommit {
  private final List<Runnable> actions = new ArrayList<>(2);

  private AfterCommit() {
  }

  /** Runs {@code work} in a transaction on {@code pool}, then, once it has committed, the actions it added. */
  public static <T> Future<T> transaction(Pool pool, BiFunction<SqlClient, AfterCommit, Future<T>> work) {
    AfterCommit after = new AfterCommit();
    return pool.withTransaction(tx -> work.apply(tx, after)).map(result -> {
      after.actions.forEach(Runnable::run);
      return result;
    });
  }

  /** To run once the transaction has committed. */
  public void add(Runnable action) {
    actions.add(action);
  }
}
