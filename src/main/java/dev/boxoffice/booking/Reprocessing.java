package dev.boxoffice.booking;

import dev.boxoffice.jobs.JobQueue;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Re-enqueues the next saga step of every booking the saga has not finished with (the reprocess operations). Live
 * jobs keep their unique keys, so this only fills gaps (a lost or dead step) and is safe to repeat.
 */
final class Reprocessing {
  private static final Logger log = LoggerFactory.getLogger(Reprocessing.class);
  private static final int BATCH = 200;

  private final Pool pool;
  private final boolean autoPayment;

  Reprocessing(Pool pool, boolean autoPayment) {
    this.pool = pool;
    this.autoPayment = autoPayment;
  }

  /** How many bookings got a new job. */
  Future<Integer> restartAll() {
    // one line per run (each booking's own line is DEBUG): an operator's action that changed something
    return restartFrom(0, 0).onSuccess(n -> {
      if (n > 0) {
        log.info("reprocessing: {} booking(s) got their next saga step again", n);
      }
    });
  }

  private Future<Integer> restartFrom(long afterId, int restarted) {
    return BookingStore.open(pool, afterId, BATCH).compose(rows -> {
      if (rows.isEmpty()) {
        return Future.succeededFuture(restarted);
      }
      List<Future<Boolean>> batch = new ArrayList<>();
      rows.forEach(r -> batch.add(restart(r)));
      long last = rows.get(rows.size() - 1).getLong("id");
      return Future.all(batch).compose(all -> {
        int n = restarted + (int) batch.stream().filter(Future::result).count();
        return rows.size() < BATCH ? Future.succeededFuture(n) : restartFrom(last, n);
      });
    });
  }

  private Future<Boolean> restart(Row booking) {
    long id = booking.getLong("id");
    String next = switch (booking.getString("status")) {
      case BookingStatus.PENDING -> autoPayment ? BookingJobs.PAYMENT : null;
      case BookingStatus.PAYMENT_PROCESSED -> BookingJobs.CONFIRM;
      case BookingStatus.PAYMENT_FAILED -> BookingJobs.COMPENSATE;
      case BookingStatus.CONFIRMED -> BookingJobs.FINALIZE;
      default -> null; // finished meanwhile
    };
    if (next == null) {
      return Future.succeededFuture(false);
    }
    return JobQueue.enqueue(pool, BookingJobs.step(next, id)).map(enqueued -> {
      if (enqueued.created()) {
        BookingLog.debug(id, "booking {} restarted from {}", id, booking.getString("status"));
      }
      return enqueued.created();
    });
  }
}
