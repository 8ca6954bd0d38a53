package dev.boxoffice.booking;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.ClusterMembership;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.OneByOne;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Expires holds at their bookings' {@code expires_at}, which is the persisted due time: no job per booking. Each
 * worker node keeps one {@code vertx.setTimer} for the earliest hold it knows of, armed
 * <ul>
 *   <li>from the table ({@code bookings_holding_until}): at start, after every sweep, when a cluster member leaves,
 *   and on a slow poll that is only a safety net;</li>
 *   <li>from the bus: every node announces the earliest hold of each batch of bookings it commits
 *   ({@link Bus#HOLDS_DUE}), so each node's timer covers holds made anywhere, and a node that dies takes nothing
 *   with it.</li>
 * </ul>
 * A sweep takes the due holds {@code FOR UPDATE SKIP LOCKED}, so nodes whose timers fire together split them, and
 * applies {@link Transition#EXPIRE}, which is conditional on the status and on {@code expires_at <= now()}: it never
 * races a confirm or a cancel, and the quantity comes back exactly once. A verticle of its own, so that its timers
 * do not wait behind the booking API on a busy event loop.
 */
public final class HoldExpiry extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HoldExpiry.class);
  private static final int BATCH = 500;
  private static final long SKIP_MS = 60_000;
  private static final int MAX_SKIPPED = 10_000;
  /**
   * Under load, one node's sweeps are at least this far apart (5 ms measured p50 5.5 ms late instead of 2.2 ms,
   * for no gain in p99): holds that fall due together still go in one transaction.
   */
  private static final long MIN_GAP_MS = 1;

  // $2: bookings skipped after they failed on their own (see skip)
  private static final String DUE = """
    SELECT id FROM bookings
    WHERE status IN ('pending','payment_processed') AND expires_at <= now() AND id <> ALL($2)
    ORDER BY expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED""";

  // how long until the earliest hold runs out by the database's clock, which is the one the sweep goes by; null
  // when no hold is open (greatest() skips a null: without the CASE, no holds read as "due now", and a node without
  // holds swept, found nothing, read "now" again and swept again, 300-400 times a second, whenever it was idle)
  static final String NEXT = """
    SELECT CASE WHEN min(expires_at) IS NOT NULL
                THEN greatest(0, extract(epoch FROM min(expires_at) - now()) * 1000)::bigint END AS wait_ms
    FROM bookings WHERE status IN ('pending','payment_processed') AND id <> ALL($1)""";

  private final Pool pool;
  private final ClusterMembership membership;
  private final long pollMillis;
  private long timerId = -1;
  private long timerDue = Long.MAX_VALUE;
  private boolean sweeping;
  private boolean sweepAgain;
  private long lastSweepEnd;
  /**
   * Bookings that could not be expired even on their own (a row the database refuses to change), until when
   * (epoch ms) the sweeps leave them out: one bad row must neither fail every sweep nor keep the timer firing.
   */
  private final Map<Long, Long> skipped = new LinkedHashMap<>();

  public HoldExpiry(Platform platform) {
    this.pool = platform.pool();
    this.membership = platform.membership();
    this.pollMillis = platform.config().integer("jobs_poll_seconds") * 1000L;
  }

  /** Listens for announced holds, then arms from the table. */
  @Override
  public Future<?> start() {
    Context context = vertx.getOrCreateContext();
    membership.onMemberLeft(left -> context.runOnContext(v -> rearm()));
    vertx.setPeriodic(pollMillis, id -> rearm());
    return vertx.eventBus().<Long>consumer(Bus.HOLDS_DUE, m -> arm(m.body())).completion()
      .onSuccess(v -> rearm());
  }

  /** Keeps one timer, for the earliest known due time (epoch ms); later ones are armed from the table after it. */
  void arm(long dueMillis) {
    if (dueMillis >= timerDue) {
      return;
    }
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    long at = Math.max(dueMillis, lastSweepEnd + MIN_GAP_MS);
    timerDue = dueMillis;
    timerId = vertx.setTimer(Math.max(1, at - System.currentTimeMillis()), id -> {
      timerId = -1;
      timerDue = Long.MAX_VALUE;
      sweep();
    });
  }

  private void sweep() {
    if (sweeping) {
      sweepAgain = true;
      return;
    }
    sweeping = true;
    sweepAgain = false;
    Long[] skip = skipping();
    pool.withTransaction(tx -> due(tx, skip).compose(ids -> ids.isEmpty() ? Future.succeededFuture(0)
        : Transition.EXPIRE.applyAll(tx, ids, null).map(List::size)))
      .recover(err -> OneByOne.worthIsolating(err) ? oneByOne(skip, err) : Future.failedFuture(err))
      .onComplete(ar -> {
        sweeping = false;
        lastSweepEnd = System.currentTimeMillis();
        if (ar.failed()) {
          log.warn("hold expiry sweep failed, trying again in 1 s: {}", ar.cause().getMessage());
          arm(lastSweepEnd + 1000);
        } else if (ar.result() == BATCH || sweepAgain) {
          arm(lastSweepEnd);
        } else {
          rearm();
        }
      });
  }

  private static Future<List<Long>> due(SqlClient sql, Long[] skip) {
    return sql.preparedQuery(DUE).execute(Tuple.of(BATCH, (Object) skip)).map(rows -> {
      List<Long> ids = new ArrayList<>(rows.size());
      for (Row row : rows) {
        ids.add(row.getLong("id"));
      }
      return ids;
    });
  }

  /**
   * After a sweep's transaction failed: each due booking in a transaction of its own (the transition is conditional,
   * so no lock is needed beforehand); one that still fails is reported and skipped for a while, the rest expire.
   */
  private Future<Integer> oneByOne(Long[] skip, Throwable batchFailure) {
    log.warn("hold expiry sweep failed, expiring the due holds one by one: {}", Failures.text(batchFailure));
    return due(pool, skip).compose(ids -> OneByOne.run(ids,
      id -> pool.withTransaction(tx -> Transition.EXPIRE.apply(tx, id, null)),
      (id, err) -> {
        log.error("hold expiry: booking {} cannot be expired, skipping it for {} s: {}", id, SKIP_MS / 1000,
          Failures.text(err));
        if (skipped.size() >= MAX_SKIPPED) {
          skipped.remove(skipped.keySet().iterator().next());
        }
        skipped.put(id, System.currentTimeMillis() + SKIP_MS);
      }).map(ids.size()));
  }

  /** The bookings to leave out now; those whose time is up are tried again. */
  private Long[] skipping() {
    long now = System.currentTimeMillis();
    skipped.values().removeIf(until -> until <= now);
    return skipped.keySet().toArray(new Long[0]);
  }

  /**
   * Arms for the earliest hold in the table, after the wait the database gives: a node whose clock runs ahead of the
   * database's would otherwise find nothing due at each firing and sweep again at once until the clocks agree.
   */
  private void rearm() {
    pool.preparedQuery(NEXT).execute(Tuple.of((Object) skipping())).onComplete(ar -> {
      if (ar.failed()) {
        log.warn("cannot read the next hold expiry, polling again in {} ms: {}", pollMillis, ar.cause().getMessage());
        return;
      }
      Long wait = ar.result().iterator().next().getLong("wait_ms");
      if (wait != null) {
        arm(System.currentTimeMillis() + wait);
      }
    });
  }
}
