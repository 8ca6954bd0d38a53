package dev.boxoffice.jobs;

import dev.boxoffice.platform.Clock;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.UUID;
import java.util.function.Function;

/**
 * Every statement the engine runs on the {@code jobs} table: what is due, claims, lease renewal and rescue,
 * outcomes, and the handoff's insert (a claim made while inserting), so that the rules for leases and attempts read
 * in one place. The table's other two doors keep their statements beside them: {@link JobQueue} (enqueue, and the
 * changes people ask for) and {@link JobRetention} (the purge).
 *
 * <p>Times that decide what is due or whose lease ran out read {@code coalesce($n, now())}: the database's clock,
 * shared by every node, unless the engine's {@link Clock} names another time ({@link Clock#sqlNow}, tests only).
 * The planner folds the {@code coalesce} away for a null, so the plans are those of plain {@code now()}.
 */
final class JobsSql {
  /*
   * Claims what is due now or within the look-ahead window; a job claimed early waits for its due time in a local
   * timer, so delayed work starts within a millisecond or two of run_at instead of a query round-trip later.
   */
  private static final String CLAIM = """
    WITH next AS (
      SELECT id FROM jobs
      WHERE queue = $6 AND status IN ('scheduled','queued','failed')
        AND run_at <= coalesce($7::timestamptz, now()) + $5 * interval '1 millisecond' AND type = ANY($3)
        AND NOT EXISTS (SELECT 1 FROM job_queues WHERE name = $6 AND paused)
      ORDER BY run_at
      LIMIT $4
      FOR UPDATE SKIP LOCKED)
    UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, locked_by = $1,
                      lease_until = greatest(coalesce($7::timestamptz, now()), j.run_at)
                                    + $2 * interval '1 millisecond',
                      started_at = greatest(now(), j.run_at), updated_at = now()
    FROM next WHERE j.id = next.id
    RETURNING j.id, j.type, j.payload, j.attempts, j.max_attempts, j.owner, j.locked_by, j.traceparent,
              (extract(epoch FROM j.run_at) * 1000)::bigint AS due""";

  /*
   * The earliest of each type's first due row: one short ordered walk of the due index per type. Nothing while the
   * queue is paused (else the engine would arm a timer for a due time it may not claim, again and again).
   */
  private static final String NEXT_DUE = """
    SELECT min(n.due) AS due FROM unnest($1::text[]) AS t(type), LATERAL (
      SELECT (extract(epoch FROM run_at) * 1000)::bigint AS due FROM jobs
      WHERE queue = $2 AND type = t.type AND status IN ('scheduled','queued','failed')
      ORDER BY run_at LIMIT 1) n
    WHERE NOT EXISTS (SELECT 1 FROM job_queues WHERE name = $2 AND paused)""";

  /*
   * Outcomes arrive as parallel arrays: unnest() tells the planner how many rows there are, so it looks each job up
   * by its key. jsonb_to_recordset() counted as 100 rows and got a hash join over every 'running' row, reading
   * thousands of dead index entries per write under load.
   */
  private static final String COMPLETE = """
    UPDATE jobs j SET status = 'succeeded', result = d.result, finished_at = now(), updated_at = now(),
                      lease_until = NULL
    FROM unnest($1::uuid[], $2::int[], $3::jsonb[]) AS d(id, attempt, result)
    WHERE j.id = d.id AND j.attempts = d.attempt AND j.status = 'running'""";

  // the retry's due time is the backoff after now; out of tries (or permanent) is dead
  private static final String FAIL = """
    UPDATE jobs j SET
      status      = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
      run_at      = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN j.run_at
                         ELSE coalesce($6::timestamptz, now()) + d.delay_ms * interval '1 millisecond' END,
      finished_at = CASE WHEN d.permanent OR j.attempts >= j.max_attempts THEN now() END,
      last_error  = d.error, lease_until = NULL, updated_at = now()
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bool[], $5::int8[]) AS d(id, attempt, error, permanent, delay_ms)
    WHERE j.id = d.id AND j.attempts = d.attempt AND j.status = 'running'
    RETURNING j.id, j.type, j.status, j.payload, j.owner, j.last_error, j.attempts, j.max_attempts, j.run_at, j.traceparent""";

  /*
   * Renews the attempts this node holds, each by id and attempt number; returns those it renewed. A row missing from
   * the answer is no longer this attempt's: rescued while this node was paused or cut off (its lease ran out, or the
   * cluster saw it leave), perhaps running elsewhere already.
   */
  private static final String RENEW = """
    UPDATE jobs j SET lease_until = coalesce($4::timestamptz, now()) + $2 * interval '1 millisecond'
    FROM unnest($3::uuid[], $5::int[]) AS h(id, attempt)
    WHERE j.id = h.id AND j.attempts = h.attempt AND j.status = 'running' AND j.locked_by = $1
    RETURNING j.id""";

  private static final String RESCUE = """
    WITH lost AS (
      SELECT id FROM jobs
      WHERE status = 'running' AND (lease_until < coalesce($2::timestamptz, now()) OR locked_by = ANY($1))
      FOR UPDATE SKIP LOCKED)
    UPDATE jobs j SET
      status      = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
      finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
      run_at = now(), lease_until = NULL, updated_at = now(),
      last_error  = 'lease lost: node ' || coalesce(j.locked_by, '?') || ' stopped during attempt ' || j.attempts
    FROM lost WHERE j.id = lost.id
    RETURNING j.id, j.type, j.status, j.payload, j.owner, j.last_error, j.attempts, j.max_attempts, j.run_at, j.traceparent""";

  // handed-off jobs that never reached a handler: back to the queue as if never claimed (the attempt was not made)
  private static final String RELEASE = """
    UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, lease_until = NULL,
                    started_at = NULL, run_at = now(), updated_at = now()
    WHERE id = ANY($1) AND status = 'running' AND locked_by = $2 AND attempts > 0""";

  /*
   * Due now, attempt 1 started now under this node's lease; duplicates of live unique keys are skipped (and so not
   * returned, so not run). While the queue is paused the rows go in plainly 'queued' instead (in the same statement:
   * no extra round trip on the booking path), and wait for the resume like everything else in the queue.
   */
  private static final String INSERT_RUNNING = """
    INSERT INTO jobs (id, type, payload, status, attempts, max_attempts, run_at, started_at, lease_until, locked_by,
                      unique_key, owner, queue, traceparent)
    SELECT gen_random_uuid(), t, p, CASE WHEN q.paused THEN 'queued' ELSE 'running' END,
           CASE WHEN q.paused THEN 0 ELSE 1 END, m, now(), CASE WHEN q.paused THEN NULL ELSE now() END,
           CASE WHEN q.paused THEN NULL ELSE coalesce($9::timestamptz, now()) + $6 * interval '1 millisecond' END,
           CASE WHEN q.paused THEN NULL ELSE $7 END, k, o, $8, tp
    FROM unnest($1::text[], $2::jsonb[], $3::int[], $4::text[], $5::text[], $10::text[]) AS x(t, p, m, k, o, tp),
         (SELECT EXISTS (SELECT 1 FROM job_queues WHERE name = $8 AND paused) AS paused) q
    ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN %s DO NOTHING
    RETURNING id, type, payload, attempts, max_attempts, owner, status, locked_by, traceparent
    """.formatted(JobQueue.LIVE);

  private final Pool pool;
  private final Clock clock;

  JobsSql(Pool pool, Clock clock) {
    this.pool = pool;
    this.clock = clock;
  }

  <T> Future<T> inTransaction(Function<SqlClient, Future<T>> work) {
    return pool.withTransaction(work::apply);
  }

  /** Up to {@code n} due jobs of {@code types}, leased to {@code node}; each row carries its {@code due} time. */
  Future<RowSet<Row>> claim(String node, long leaseMillis, String[] types, int n, long lookAheadMillis, String queue) {
    return pool.preparedQuery(CLAIM).execute(Tuple.of(node, leaseMillis, types, n, lookAheadMillis, queue)
      .addOffsetDateTime(clock.sqlNow()));
  }

  /** The earliest due time (epoch ms) of a waiting job of {@code types}, or null when none waits. */
  Future<Long> nextDue(String[] types, String queue) {
    return pool.preparedQuery(NEXT_DUE).execute(Tuple.of(types, queue))
      .map(rows -> rows.iterator().next().getLong("due"));
  }

  Future<RowSet<Row>> complete(UUID[] ids, Integer[] attempts, JsonObject[] results) {
    return pool.preparedQuery(COMPLETE).execute(Tuple.of(ids, attempts, results));
  }

  /** Failed attempts: retried after their delay or dead; returns the changed rows (for compensations). */
  Future<RowSet<Row>> fail(SqlClient tx, UUID[] ids, Integer[] attempts, String[] errors, Boolean[] permanent,
                           Long[] delayMillis) {
    return tx.preparedQuery(FAIL).execute(Tuple.of(ids, attempts, errors, permanent, delayMillis)
      .addOffsetDateTime(clock.sqlNow()));
  }

  /** Renews the leases of these attempts (parallel arrays); returns the ids renewed. */
  Future<RowSet<Row>> renew(String node, long leaseMillis, UUID[] ids, Integer[] attempts) {
    return pool.preparedQuery(RENEW).execute(Tuple.of(node, leaseMillis, ids).addOffsetDateTime(clock.sqlNow())
      .addArrayOfInteger(attempts));
  }

  /** Expired leases, and every lease of the {@code departed} nodes: retried at once, or dead when out of tries. */
  Future<RowSet<Row>> rescue(SqlClient tx, String[] departed) {
    return tx.preparedQuery(RESCUE).execute(Tuple.of((Object) departed).addOffsetDateTime(clock.sqlNow()));
  }

  Future<RowSet<Row>> release(UUID[] ids, String node) {
    return pool.preparedQuery(RELEASE).execute(Tuple.of(ids, node));
  }

  /**
   * New jobs inserted already claimed by {@code node} (attempt 1), in the caller's transaction: see JobHandoff. Rows
   * whose {@code status} is {@code queued} were not claimed (the queue is paused).
   */
  static Future<RowSet<Row>> insertRunning(SqlClient tx, JobQueue.Columns c, long leaseMillis, String node,
                                           String queue, OffsetDateTime now) {
    return tx.preparedQuery(INSERT_RUNNING)
      .execute(Tuple.of(c.types(), c.payloads(), c.maxAttempts(), c.keys(), c.owners(), leaseMillis, node)
        .addString(queue).addOffsetDateTime(now).addArrayOfString(c.traces()));
  }
}
