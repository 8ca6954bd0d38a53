package dev.boxoffice.booking;

import dev.boxoffice.inventory.Inventory;
import dev.boxoffice.platform.AfterCommit;
import dev.boxoffice.platform.Deadline;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.Failures.Violation;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.OneByOne;
import dev.boxoffice.platform.Traces;
import io.vertx.pgclient.PgException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction of one batch of {@link BookingBatcher}'s group commit: what fits is held, inserted with its first
 * saga jobs and committed; what does not fit is refused; a batch the database refuses goes again booking by booking.
 * Confined to the verticle's event loop, as the batcher is.
 */
final class BatchCommit {
  // its lines are the group commit's: logged under the batcher's name
  private static final Logger log = LoggerFactory.getLogger(BookingBatcher.class);

  private final Pool pool;
  private final BookingSaga saga;
  private final int holdSeconds;
  private final LongConsumer holdsDue;
  private final BookingBounds bounds;

  /** {@code holdsDue} hears the earliest {@code expires_at} (epoch ms) of each committed batch. */
  BatchCommit(Pool pool, BookingSaga saga, int holdSeconds, LongConsumer holdsDue, BookingBounds bounds) {
    this.pool = pool;
    this.saga = saga;
    this.holdSeconds = holdSeconds;
    this.holdsDue = holdsDue;
    this.bounds = bounds;
  }

  /**
   * Bookings whose time ran out meanwhile (waiting for the item locks) are answered 503; the rest go in one
   * transaction bounded by their earliest deadline ({@link BookingBounds.Guard}).
   */
  Future<Void> commit(List<PendingBooking> all) {
    List<PendingBooking> batch = new ArrayList<>(all.size());
    Deadline earliest = Deadline.NONE;
    for (PendingBooking p : all) {
      if (p.deadline().within(BookingBounds.MIN_START_MS)) {
        p.promise().tryFail(bounds.tooLate());
      } else {
        batch.add(p);
        earliest = earliest.min(p.deadline());
      }
    }
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    BookingBounds.Guard guard = bounds.guard(earliest, batch.stream()
      .map(p -> (Runnable) () -> p.promise().tryFail(bounds.tooLate())).toList());
    return commitOrIsolate(batch, guard).onComplete(ar -> guard.done());
  }

  /**
   * The batch in one transaction; if that fails for any reason but a lost connection or its time running out (one
   * booking the database refuses, e.g. a trigger or a rule the edge did not know of), each booking again in a
   * transaction of its own (and under its own deadline), in arrival order, so that only the offending one fails. Not
   * after a commit (then the failure came later, and a retry would book twice).
   */
  private Future<Void> commitOrIsolate(List<PendingBooking> batch, BookingBounds.Guard guard) {
    boolean[] committed = {false};
    return commit(batch, guard, committed).recover(err -> {
      if (committed[0] || !OneByOne.worthIsolating(err)) {
        return Future.failedFuture(err);
      }
      if (batch.size() == 1) {
        return Future.failedFuture(refusedByDatabase(err));
      }
      log.warn("a group commit of {} bookings failed, committing them one by one: {}", batch.size(),
        Failures.text(err));
      return OneByOne.run(batch, p -> commit(List.of(p)), (p, e) -> p.promise().tryFail(refusedByDatabase(e)));
    });
  }

  /** A booking the database refused on its own: its data (class 22, 23) is the client's, anything else ours. */
  private static Throwable refusedByDatabase(Throwable err) {
    if (err instanceof PgException pg && pg.getSqlState() != null
      && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23"))
      && !Violation.FOREIGN_KEY.of(err)) { // an unknown item: BookingApi answers 404
      log.warn("booking refused by the database: {} ({})", pg.getErrorMessage(), pg.getSqlState());
      return Failure.invalid("body", "was refused by the database: " + pg.getErrorMessage());
    }
    return err;
  }

  /**
   * One transaction for the batch; completes each booking's promise once it has committed. {@code committed[0]} is
   * set once the commit is done, before anything that runs after it.
   */
  private Future<Void> commit(List<PendingBooking> batch, BookingBounds.Guard guard, boolean[] committed) {
    List<PendingBooking> accepted = new ArrayList<>(batch.size());
    List<PendingBooking> refused = new ArrayList<>();
    Set<Inventory.Item> unknown = new HashSet<>();
    Map<IdempotencyKeys.Key, Throwable> answered = new HashMap<>(); // keys of committed requests: book nothing
    List<IdempotencyKeys.Key> keys = batch.stream().map(PendingBooking::key).filter(Objects::nonNull).toList();
    // the payments are handed to this node's engine once the transaction has committed. The deadline bound, the
    // keys' claim and the items' locks are pipelined (the server runs them in order): one round trip for the three
    return AfterCommit.transaction(pool, (tx, after) -> {
      after.add(() -> committed[0] = true);
      Future<Void> bound = guard.bound(tx);
      return Future.all(bound, allocate(tx, batch, IdempotencyKeys.claimAll(tx, keys), answered, accepted, refused,
          unknown))
        .map(both -> both.<Map<Inventory.Item, Integer>>resultAt(1))
        .compose(totals -> accepted.isEmpty() ? keysAnswered(tx, accepted, List.of(), refused).map(List.<Row>of())
          : Inventory.holdAll(tx, totals)
            .compose(v -> BookingStore.insertAll(tx, accepted.stream().map(PendingBooking::booking).toList(),
              holdSeconds))
            .compose(rows -> Future.all(saga.startedAll(tx, after, rows, traces(accepted)),
              keysAnswered(tx, accepted, rows, refused))
              .map(rows)))
        .compose(rows -> guard.beforeCommit().map(rows));
    }).map(rows -> {
      long earliest = Long.MAX_VALUE;
      for (int i = 0; i < rows.size(); i++) {
        accepted.get(i).created(rows.get(i));
        earliest = Math.min(earliest, rows.get(i).getOffsetDateTime("expires_at").toInstant().toEpochMilli());
      }
      if (!rows.isEmpty()) {
        holdsDue.accept(earliest);
        BookingMeters.created(rows.size());
      }
      refused.forEach(p -> p.promise().tryFail(refusal(p.item(), unknown.contains(p.item()))));
      batch.stream().filter(p -> p.key() != null && answered.containsKey(p.key()))
        .forEach(p -> p.promise().tryFail(answered.get(p.key())));
      return null;
    });
  }

  /** The trace each accepted booking's first job continues (its request's); null while tracing is off. */
  private static List<String> traces(List<PendingBooking> accepted) {
    return Traces.on() ? accepted.stream().map(PendingBooking::traceparent).toList() : null;
  }

  /** One statement: the created bookings' answers are kept under their keys; refused requests' claims go. */
  private static Future<Void> keysAnswered(SqlClient tx, List<PendingBooking> accepted, List<Row> rows,
                                           List<PendingBooking> refused) {
    List<IdempotencyKeys.Key> keys = new ArrayList<>();
    List<JsonObject> replies = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      if (accepted.get(i).key() != null) {
        keys.add(accepted.get(i).key());
        replies.add(BookingApi.created(rows.get(i)));
      }
    }
    refused.stream().filter(p -> p.key() != null).forEach(p -> {
      keys.add(p.key());
      replies.add(null);
    });
    return IdempotencyKeys.completeAll(tx, keys, replies);
  }

  private static Throwable refusal(Inventory.Item item, boolean unknown) {
    boolean event = item.eventId() != null;
    if (unknown) {
      return Failure.notFound(event ? "Event not found" : "Product not found");
    }
    return Failure.conflict(event ? "Event is sold out" : "Not enough product in stock");
  }

  /**
   * Splits the batch into what fits and what does not (refused, and {@code unknown} when the item does not exist;
   * failed after the commit); returns the quantity to hold per item. Bookings whose key is {@code answered} by its
   * {@code claimed} outcome (a committed request holds it) are neither.
   */
  private static Future<Map<Inventory.Item, Integer>> allocate(SqlClient tx, List<PendingBooking> batch,
                                                               Future<Map<IdempotencyKeys.Key, Throwable>> claimed,
                                                               Map<IdempotencyKeys.Key, Throwable> answered,
                                                               List<PendingBooking> accepted,
                                                               List<PendingBooking> refused,
                                                               Set<Inventory.Item> unknown) {
    Set<Inventory.Item> items = new HashSet<>();
    batch.forEach(p -> items.add(p.item()));
    Future<Map<Inventory.Item, Integer>> locked = Inventory.lockLeft(tx, items);
    return Future.all(claimed, locked).map(v -> {
      answered.putAll(claimed.result());
      Map<Inventory.Item, Integer> left = locked.result();
      Map<Inventory.Item, Integer> totals = new LinkedHashMap<>();
      for (PendingBooking p : batch) {
        if (p.key() != null && answered.containsKey(p.key())) {
          continue;
        }
        Inventory.Item item = p.item();
        int q = p.booking().quantity();
        if (item.none()) {
          accepted.add(p);
          continue;
        }
        Integer available = left.get(item);
        if (available == null) {
          unknown.add(item);
        }
        int taken = totals.getOrDefault(item, 0);
        if (available != null && taken + q <= available) {
          totals.put(item, taken + q);
          accepted.add(p);
        } else {
          refused.add(p);
        }
      }
      return totals;
    });
  }
}
