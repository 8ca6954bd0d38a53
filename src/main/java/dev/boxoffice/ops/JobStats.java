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

  /** Jobs per type and public state (also the source of the {@code boxoffice_jobs} gauges). */
  static final String COUNTS = """
    SELECT type,
           CASE WHEN status = 'scheduled' AND run_at <= now() THEN 'queued' ELSE status END AS state,
           count(*) AS n
    FROM jobs GROUP BY 1, 2""";

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
    Future<JsonObject> counts = sql.query(COUNTS).execute().map(JobStats::countsView);
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

  /** {@code queues} (per type, with its queue) and {@code states} (all types) from one GROUP BY. */
  private static JsonObject countsView(io.vertx.sqlclient.RowSet<Row> rows) {
    Map<String, JsonObject> queues = new TreeMap<>();
    JsonObject states = new JsonObject();
    STATES.forEach(s -> states.put(s, 0L));
    for (Row r : rows) {
      String type = r.getString("type");
      String state = r.getString("state");
      long n = r.getLong("n");
      states.put(state, states.getLong(state, 0L) + n);
      JsonObject q = queues.computeIfAbsent(type, t -> {
        JsonObject fresh = new JsonObject().put("type", t)
          .put("queue", JobTypes.find(t).map(JobType::queue).orElse(null));
        QUEUE_STATES.forEach(s -> fresh.put(s, 0L));
        return fresh;
      });
      if (QUEUE_STATES.contains(state)) {
        q.put(state, n);
      }
    }
    return new JsonObject().put("queues", new JsonArray(List.copyOf(queues.values()))).put("states", states);
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
