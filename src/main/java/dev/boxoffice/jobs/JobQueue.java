package dev.boxoffice.jobs;

import dev.boxoffice.platform.Traces;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Enqueueing and the state changes people ask for (cancel, retry). Every method takes the {@link SqlClient} to run
 * on, so a caller can enqueue inside its own transaction: the job exists exactly when the fact that needs it does.
 */
public final class JobQueue {
  static final String LIVE = "('scheduled','queued','running','failed')";

  private static final String INSERT = """
    INSERT INTO jobs (id, type, payload, status, max_attempts, run_at, unique_key, owner, queue, traceparent)
    VALUES ($1, $2, $3, CASE WHEN $5::timestamptz > now() THEN 'scheduled' ELSE 'queued' END, $4,
            coalesce($5::timestamptz, now()), $6, $7, $8, $9)
    ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN %s DO NOTHING
    RETURNING *, true AS created""".formatted(LIVE);

  private static final String FIND_LIVE_BY_KEY =
    "SELECT *, false AS created FROM jobs WHERE unique_key = $1 AND status IN " + LIVE;

  // many jobs, any types, one statement (and one wake-up notification); duplicates of live unique keys are skipped.
  // $8, the traceparents, is NULL when none is traced (tracing off): unnest pads it with NULLs
  private static final String INSERT_MANY = """
    INSERT INTO jobs (id, type, payload, status, max_attempts, run_at, unique_key, owner, queue, traceparent)
    SELECT gen_random_uuid(), t, p, CASE WHEN r > now() THEN 'scheduled' ELSE 'queued' END, m, coalesce(r, now()),
           k, o, q, tp
    FROM unnest($1::text[], $2::jsonb[], $3::int[], $4::timestamptz[], $5::text[], $6::text[], $7::text[],
                $8::text[])
      AS x(t, p, m, r, k, o, q, tp)
    ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN %s DO NOTHING""".formatted(LIVE);

  private static final String GET = "SELECT * FROM jobs WHERE id = $1";

  private static final String CANCEL = """
    UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now(), lease_until = NULL
    WHERE id = $1 AND status IN ('scheduled','queued','failed') RETURNING *""";

  private static final String RETRY = """
    UPDATE jobs SET status = 'queued', run_at = now(), attempts = 0, finished_at = NULL, last_error = NULL,
                    result = NULL, updated_at = now()
    WHERE id = $1 AND status IN ('dead','cancelled')
      AND (unique_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM jobs o WHERE o.unique_key = jobs.unique_key AND o.id <> jobs.id AND o.status IN %s))
    RETURNING *""".formatted(LIVE);

  private JobQueue() {
  }

  /** Result of an enqueue: the job row and whether it was created or is an existing live one. */
  public record Enqueued(JobRow job, boolean created) {
    public UUID id() {
      return job.id();
    }
  }

  public static Future<Enqueued> enqueue(SqlClient sql, NewJob job) {
    JobType type = JobTypes.get(job.type());
    int maxAttempts = job.maxAttempts() != null ? job.maxAttempts() : type.maxAttempts();
    OffsetDateTime runAt = job.runAt() == null ? null : job.runAt().atOffset(ZoneOffset.UTC);
    Tuple args = Tuple.of(UUID.randomUUID(), job.type(), job.payload() == null ? new JsonObject() : job.payload(),
      maxAttempts, runAt, job.uniqueKey(), job.owner()).addString(type.queue())
      .addString(job.traceparent() != null ? job.traceparent() : Traces.current());
    return sql.preparedQuery(INSERT).execute(args).compose(rows -> {
      if (rows.size() == 1) {
        return Future.succeededFuture(enqueued(rows.iterator().next()));
      }
      // a live job holds the key: hand that one back (it may finish between the two statements; then insert again)
      return sql.preparedQuery(FIND_LIVE_BY_KEY).execute(Tuple.of(job.uniqueKey())).compose(existing ->
        existing.size() == 1 ? Future.succeededFuture(enqueued(existing.iterator().next())) : enqueue(sql, job));
    });
  }

  /** Many jobs of one type in one statement (one wake-up notification for the whole batch). */
  public static Future<Integer> enqueueBatch(SqlClient sql, String type, List<JsonObject> payloads) {
    return enqueueAll(sql, payloads.stream().map(p -> NewJob.of(type, p)).toList());
  }

  /**
   * Many jobs in one statement; a job whose unique key is held by a live job is skipped (as with {@link #enqueue},
   * minus handing back the existing one). Returns how many were inserted.
   */
  public static Future<Integer> enqueueAll(SqlClient sql, List<NewJob> jobs) {
    if (jobs.isEmpty()) {
      return Future.succeededFuture(0);
    }
    Columns c = Columns.of(jobs);
    return sql.preparedQuery(INSERT_MANY)
      .execute(Tuple.of(c.types(), c.payloads(), c.maxAttempts(), c.runAt(), c.keys(), c.owners())
        .addArrayOfString(c.queues()).addArrayOfString(c.traces()))
      .map(RowSet::rowCount);
  }

  /**
   * Many new jobs as the parallel arrays that the unnest() inserts take, with their types' defaults applied.
   * {@code traces} (each job's traceparent: its own, else the enqueuer's current one) is null when none is traced.
   */
  record Columns(String[] types, JsonObject[] payloads, Integer[] maxAttempts, OffsetDateTime[] runAt, String[] keys,
                 String[] owners, String[] queues, String[] traces) {
    static Columns of(List<NewJob> jobs) {
      int n = jobs.size();
      Columns c = new Columns(new String[n], new JsonObject[n], new Integer[n], new OffsetDateTime[n], new String[n],
        new String[n], new String[n], traces(jobs));
      for (int i = 0; i < n; i++) {
        NewJob job = jobs.get(i);
        JobType type = JobTypes.get(job.type());
        c.types[i] = job.type();
        c.payloads[i] = job.payload() == null ? new JsonObject() : job.payload();
        c.maxAttempts[i] = job.maxAttempts() != null ? job.maxAttempts() : type.maxAttempts();
        c.runAt[i] = job.runAt() == null ? null : job.runAt().atOffset(ZoneOffset.UTC);
        c.keys[i] = job.uniqueKey();
        c.owners[i] = job.owner();
        c.queues[i] = type.queue();
      }
      return c;
    }

    /** Null (no array at all) unless tracing is on and some job is traced. */
    private static String[] traces(List<NewJob> jobs) {
      if (!Traces.on()) {
        return null;
      }
      String current = Traces.current();
      String[] traces = new String[jobs.size()];
      boolean any = false;
      for (int i = 0; i < traces.length; i++) {
        String own = jobs.get(i).traceparent();
        traces[i] = own != null ? own : current;
        any |= traces[i] != null;
      }
      return any ? traces : null;
    }
  }

  public static Future<Optional<JobRow>> get(SqlClient sql, UUID id) {
    return sql.preparedQuery(GET).execute(Tuple.of(id)).map(JobQueue::first);
  }

  /** Cancels a job that has not started; empty when it is running or finished. */
  public static Future<Optional<JobRow>> cancel(SqlClient sql, UUID id) {
    return sql.preparedQuery(CANCEL).execute(Tuple.of(id)).map(JobQueue::first);
  }

  /** Runs a dead or cancelled job again from its first attempt; empty when it is not in such a state. */
  public static Future<Optional<JobRow>> retry(SqlClient sql, UUID id) {
    return sql.preparedQuery(RETRY).execute(Tuple.of(id)).map(JobQueue::first);
  }

  private static Enqueued enqueued(Row row) {
    return new Enqueued(JobRow.from(row), row.getBoolean("created"));
  }

  private static Optional<JobRow> first(RowSet<Row> rows) {
    return rows.size() == 0 ? Optional.empty() : Optional.of(JobRow.from(rows.iterator().next()));
  }
}
