package dev.boxoffice.ops;

import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.tasks.TaskView;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The numbers behind GET /ops/jobs, read straight from the {@code jobs} table so every node reports the whole
 * cluster. A row that is {@code scheduled} but already due counts as {@code queued}, as the task views say.
 */
final class JobStats {
  static final List<String> STATES = List.of("scheduled", "queued", "running", "succeeded", "failed", "dead",
    "cancelled");
  private static final List<String> QUEUE_STATES = List.of("scheduled", "queued", "running", "failed", "dead");

  /*
   * One row per minute of the window, oldest first. succeeded/dead: jobs that finished in that minute. failed:
   * attempts that failed and were retried, counted at the minute the job finished, plus jobs still waiting for
   * their next try, at the minute of their latest failure (the table keeps no row per attempt).
   */
  private static final String THROUGHPUT = """
    WITH bounds AS (SELECT date_trunc('minute', now()) - ($1 - 1) * interval '1 minute' AS since),
    minutes AS (
      SELECT generate_series(since, date_trunc('minute', now()), interval '1 minute') AS minute FROM bounds),
    finished AS (
      SELECT date_trunc('minute', finished_at) AS minute,
             count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
             count(*) FILTER (WHERE status = 'dead') AS dead,
             coalesce(sum(attempts - 1) FILTER (WHERE status IN ('succeeded', 'dead') AND attempts > 1), 0) AS retried
      FROM jobs, bounds WHERE finished_at >= since GROUP BY 1),
    waiting AS (
      SELECT date_trunc('minute', updated_at) AS minute, count(*) AS failed
      FROM jobs, bounds WHERE status = 'failed' AND updated_at >= since GROUP BY 1)
    SELECT m.minute, coalesce(f.succeeded, 0) AS succeeded, coalesce(f.retried, 0) + coalesce(w.failed, 0) AS failed,
           coalesce(f.dead, 0) AS dead
    FROM minutes m LEFT JOIN finished f USING (minute) LEFT JOIN waiting w USING (minute)
    ORDER BY m.minute""";

  private static final String RECENT_FAILURES = """
    SELECT * FROM jobs WHERE status IN ('failed', 'dead') ORDER BY updated_at DESC, id DESC LIMIT 10""";

  private JobStats() {
  }

  static Future<JsonObject> read(SqlClient sql, int minutes) {
    Future<JsonObject> counts = JobCounts.read(sql).map(JobStats::countsView);
    Future<JsonArray> throughput = sql.preparedQuery(THROUGHPUT).execute(Tuple.of(minutes)).map(rows -> {
      JsonArray points = new JsonArray();
      for (Row r : rows) {
        points.add(new JsonObject()
          .put("minute", r.getOffsetDateTime("minute").toInstant().toString())
          .put("succeeded", r.getLong("succeeded"))
          .put("failed", r.getLong("failed"))
          .put("dead", r.getLong("dead")));
      }
      return points;
    });
    Future<JsonArray> failures = sql.query(RECENT_FAILURES).execute().map(rows -> {
      JsonArray out = new JsonArray();
      rows.forEach(r -> out.add(failureView(r)));
      return out;
    });
    return Future.all(counts, throughput, failures).map(v -> counts.result().copy()
      .put("throughput", throughput.result())
      .put("recent_failures", failures.result()));
  }

  /**
   * {@code queues} (per type, with its queue), {@code states} (all types) and {@code estimated} (the states whose
   * numbers come from statistics, see {@link JobCounts}).
   */
  private static JsonObject countsView(JobCounts.Counts counts) {
    Map<String, JsonObject> queues = new TreeMap<>();
    JsonObject states = new JsonObject();
    STATES.forEach(s -> states.put(s, 0L));
    for (JobCounts.Count c : counts.all()) {
      states.put(c.state(), states.getLong(c.state(), 0L) + c.n());
      JsonObject q = queues.computeIfAbsent(c.type(), t -> {
        JsonObject fresh = new JsonObject().put("type", t)
          .put("queue", JobTypes.find(t).map(JobType::queue).orElse(null));
        QUEUE_STATES.forEach(s -> fresh.put(s, 0L));
        return fresh;
      });
      if (QUEUE_STATES.contains(c.state())) {
        q.put(c.state(), q.getLong(c.state()) + c.n()); // a type's jobs may sit in more than one queue
      }
    }
    return new JsonObject().put("queues", new JsonArray(List.copyOf(queues.values()))).put("states", states)
      .put("estimated", new JsonArray(counts.estimatedStates()));
  }

  /**
   * The Task shape for any job, internal ones included (their type is not a task type, so the task routes answer
   * 404 for them).
   */
  static JsonObject failureView(Row row) {
    JsonObject view = TaskView.of(JobRow.from(row));
    if (view.getString("owner") == null) {
      view.put("owner", "system");
    }
    return view.put("task_id", view.getString("id"));
  }
}
