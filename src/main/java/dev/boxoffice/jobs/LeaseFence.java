package dev.boxoffice.jobs;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Fencing of side effects: right before a side effect leaves the process (an SMTP send, a payment call), a job
 * attempt confirms in PostgreSQL that it still holds its lease: its job is {@code running}, at this attempt
 * number, locked by this node. A node paused (GC, a stalled VM, SIGSTOP) or cut off past its lease has had its jobs
 * rescued and perhaps retried elsewhere; when it wakes, its attempts fail this check and do nothing more. The
 * attempt number changes at every claim, so a job rescued and claimed again by the same node fences its old
 * attempt too.
 *
 * <p>The check is as good as the time between it and the side effect is short next to the lease: callers check
 * per batch, just before sending, and check again when their batch has been going on for a while.
 */
public final class LeaseFence {
  /**
   * The condition that the jobs row {@code j} is still held by the attempt named by {@code f.job}, {@code f.attempt}
   * and {@code f.node}: for a join inside a statement that also claims what the attempt is about to act on, so the
   * check and the claim are one statement.
   */
  public static final String HELD = "j.id = f.job AND j.attempts = f.attempt AND j.status = 'running' "
    + "AND j.locked_by = f.node";

  private static final String HOLDING = """
    SELECT j.id FROM jobs j JOIN unnest($1::uuid[], $2::int[], $3::text[]) AS f(job, attempt, node) ON\s""" + HELD;

  /** How old a confirmation may be when the side effect starts: far inside any lease and heartbeat timeout. */
  public static final long FRESH_MS = 1_000;
  private static final int TRIES = 3;

  private LeaseFence() {
  }

  /**
   * The jobs among {@code jobs} whose attempts still hold their leases (one statement for the batch). An answer
   * that took longer than {@link #FRESH_MS} to come back (the database stalled, or this node was frozen while it
   * waited) is asked again, at most {@link #TRIES} times; past that no attempt counts as holding (they retry later).
   */
  public static Future<Set<UUID>> holding(SqlClient client, List<Job> jobs) {
    if (jobs.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    return holding(client, Tuple.of(jobs.stream().map(Job::id).toArray(UUID[]::new),
      jobs.stream().map(Job::attempt).toArray(Integer[]::new), jobs.stream().map(Job::node).toArray(String[]::new)),
      TRIES);
  }

  private static Future<Set<UUID>> holding(SqlClient client, Tuple attempts, int triesLeft) {
    long sentAt = System.nanoTime();
    return client.preparedQuery(HOLDING).execute(attempts).compose(rows -> {
      if (System.nanoTime() - sentAt > FRESH_MS * 1_000_000) {
        return triesLeft > 1 ? holding(client, attempts, triesLeft - 1) : Future.succeededFuture(Set.of());
      }
      Set<UUID> held = new HashSet<>();
      rows.forEach(r -> held.add(r.getUUID("id")));
      return Future.succeededFuture(held);
    });
  }

  /**
   * What an attempt that lost its lease reports instead of acting: a retryable failure, which the engine's outcome
   * write ignores (the row is no longer this attempt's), kept in this node's log.
   */
  public static JobFailure lost(Job job, String instead) {
    return JobFailure.retryable("lease lost: attempt " + job.attempt() + " of job " + job.id() + " on node "
      + job.node() + " no longer holds its lease; " + instead);
  }
}
