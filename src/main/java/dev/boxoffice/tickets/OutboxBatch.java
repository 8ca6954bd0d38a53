package dev.boxoffice.tickets;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.LeaseFence;
import dev.boxoffice.tickets.OutboxSender.Delivery;
import dev.boxoffice.tickets.OutboxSender.Mail;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * One batch of {@link OutboxSender}'s messages on its way out, on the caller's context: claimed, then sent
 * {@link #PARALLEL} at a time; when its claim is older than {@link #CLAIM_FRESH_MS} (a slow server, or this node was
 * frozen meanwhile) what is left is claimed again before anything more is sent.
 */
final class OutboxBatch {
  // its lines are the sender's: logged under that name
  private static final Logger log = LoggerFactory.getLogger(OutboxSender.class);

  /*
   * The fence and the claim in one statement, for a whole batch: per row, whether its attempt still holds the lease
   * and whether the row was claimed (still pending, written by that job). The attempt is counted on the row once per
   * claiming attempt (a batch claiming its rest again does not count twice).
   */
  private static final String CLAIM = """
    WITH f AS (SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::int[], $4::text[]) AS f(id, job, attempt, node)),
    held AS (SELECT f.* FROM f JOIN jobs j ON %s),
    claimed AS (
      UPDATE outbox o SET claimed_by_job = held.job, claimed_attempt = held.attempt,
        attempts = o.attempts + CASE WHEN o.claimed_by_job = held.job AND o.claimed_attempt = held.attempt
                                     THEN 0 ELSE 1 END
      FROM held
      WHERE o.id = held.id AND o.status = 'pending' AND (o.job_id IS NULL OR o.job_id = held.job)
      RETURNING o.id)
    SELECT f.id, held.id IS NOT NULL AS held, claimed.id IS NOT NULL AS claimed
    FROM f LEFT JOIN held ON held.id = f.id LEFT JOIN claimed ON claimed.id = f.id""".formatted(LeaseFence.HELD);

  /** How long a claim covers sending: past it, the rest of the batch is claimed again (fenced) before it goes. */
  static final long CLAIM_FRESH_MS = LeaseFence.FRESH_MS;
  /** Claims in a row that may come back older than {@link #CLAIM_FRESH_MS} before a batch gives up (retried later). */
  private static final int MAX_SLOW_CLAIMS = 3;
  /** Messages of a batch in flight at once: the mail client's connection pool (10 by default). */
  private static final int PARALLEL = 10;

  private final Pool pool;
  /** One claimed message to SMTP, its outcome recorded. */
  private final BiFunction<Job, Mail, Future<JsonObject>> deliver;
  private final Map<Long, Promise<JsonObject>> outcomes;
  private final ArrayDeque<Delivery> todo = new ArrayDeque<>();
  private long claimedAt;
  private boolean claiming;
  private int inFlight;

  private OutboxBatch(Pool pool, BiFunction<Job, Mail, Future<JsonObject>> deliver,
                      Map<Long, Promise<JsonObject>> outcomes) {
    this.pool = pool;
    this.deliver = deliver;
    this.outcomes = outcomes;
  }

  /** Claims (fences) and sends a batch; the outcome per outbox id. */
  static Map<Long, Future<JsonObject>> send(Pool pool, List<Delivery> deliveries,
                                            BiFunction<Job, Mail, Future<JsonObject>> deliver) {
    Map<Long, Promise<JsonObject>> promises = new HashMap<>();
    Map<Long, Future<JsonObject>> out = new HashMap<>();
    for (Delivery d : deliveries) {
      Promise<JsonObject> p = Promise.promise();
      promises.put(d.mail().outboxId(), p);
      out.put(d.mail().outboxId(), p.future());
    }
    if (!deliveries.isEmpty()) {
      new OutboxBatch(pool, deliver, promises).claim(deliveries, 0);
    }
    return out;
  }

  /** {@code slow}: how many claims in a row took longer than a claim covers (the database stalled, or we did). */
  private void claim(List<Delivery> ds, int slow) {
    claiming = true;
    // from when the statement left: an answer that took long (a node frozen meanwhile) is already old
    long sentAt = System.nanoTime();
    pool.preparedQuery(CLAIM).execute(Tuple.of(ds.stream().map(d -> d.mail().outboxId()).toArray(Long[]::new),
        ds.stream().map(d -> d.job().id()).toArray(UUID[]::new),
        ds.stream().map(d -> d.job().attempt()).toArray(Integer[]::new),
        ds.stream().map(d -> d.job().node()).toArray(String[]::new)))
      .onComplete(ar -> {
        claiming = false;
        claimedAt = sentAt;
        if (ar.failed()) {
          ds.forEach(d -> outcomes.get(d.mail().outboxId()).tryFail(ar.cause()));
          pump();
          return;
        }
        Map<Long, Delivery> byId = new HashMap<>();
        ds.forEach(d -> byId.put(d.mail().outboxId(), d));
        List<String> fenced = new ArrayList<>();
        for (Row r : ar.result()) {
          Delivery d = byId.get(r.getLong("id"));
          if (!r.getBoolean("held")) {
            fenced.add(d.job().id() + "#" + d.job().attempt());
            outcomes.get(d.mail().outboxId()).tryFail(LeaseFence.lost(d.job(), "its e-mail was not sent"));
          } else if (!r.getBoolean("claimed")) {
            // sent, given up or (a NULL job_id aside) another job's since it was read: nothing for us to send
            outcomes.get(d.mail().outboxId()).tryComplete(d.mail().result().put("skipped", "not pending"));
          } else {
            todo.add(d);
          }
        }
        if (!fenced.isEmpty()) {
          log.warn("{} e-mail(s) not sent: their job attempts no longer hold their leases (this node was paused or "
            + "cut off and the jobs were taken back): {}", fenced.size(), fenced.stream().limit(5).toList());
        }
        if (stale() && !todo.isEmpty()) {
          List<Delivery> rest = new ArrayList<>(todo);
          todo.clear();
          if (slow + 1 >= MAX_SLOW_CLAIMS) {
            // bounded: the job's retry delivers them, once the database answers in time again
            rest.forEach(d -> outcomes.get(d.mail().outboxId()).tryFail(JobFailure.retryable("outbox " + d.mail()
              .outboxId() + ": the lease could not be confirmed within " + CLAIM_FRESH_MS + " ms; not sent")));
            return;
          }
          claim(rest, slow + 1);
          return;
        }
        pump();
      });
  }

  private boolean stale() {
    return System.nanoTime() - claimedAt > CLAIM_FRESH_MS * 1_000_000;
  }

  private void pump() {
    while (!claiming && inFlight < PARALLEL && !todo.isEmpty()) {
      if (stale()) {
        List<Delivery> rest = new ArrayList<>(todo);
        todo.clear();
        claim(rest, 0);
        return;
      }
      Delivery d = todo.poll();
      inFlight++;
      deliver.apply(d.job(), d.mail()).onComplete(ar -> {
        inFlight--;
        outcomes.get(d.mail().outboxId()).handle(ar);
        pump();
      });
    }
  }
}
