package dev.boxoffice.platform;

import io.vertx.core.Future;

import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * What a batch does when its one statement or transaction fails for a reason other than lost storage: one bad row
 * (a value the database refuses, a trigger, a rule) must not fail, or stall, every other row with it. So each item
 * goes again on its own, in order, each in its own statement or transaction; an item that still fails is handed to
 * {@code failed} (report it, fail only its request or job) and the rest carry on. When storage goes away meanwhile
 * the run stops with that failure, as the batch would have: nothing is blamed on an item for an outage.
 */
public final class OneByOne {
  private OneByOne() {
  }

  /**
   * True when a failed batch is worth retrying item by item: anything but a lost connection, a stopping server, a
   * statement out of time or our own refusal (a deadline passed): no row is to blame for those.
   */
  public static boolean worthIsolating(Throwable batchFailure) {
    return !Failures.storageUnavailable(batchFailure) && !Failures.timedOut(batchFailure)
      && !(batchFailure instanceof Failure);
  }

  /** Runs {@code each} for every item in order, the next after the previous one has finished. */
  public static <T> Future<Void> run(List<T> items, Function<T, Future<?>> each, BiConsumer<T, Throwable> failed) {
    Future<Void> chain = Future.succeededFuture();
    for (T item : items) {
      chain = chain.compose(v -> each.apply(item).<Void>mapEmpty().recover(err -> {
        if (Failures.storageUnavailable(err)) {
          return Future.failedFuture(err);
        }
        failed.accept(item, err);
        return Future.succeededFuture();
      }));
    }
    return chain;
  }
}
