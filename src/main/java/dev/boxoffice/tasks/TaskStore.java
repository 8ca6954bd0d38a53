package dev.boxoffice.tasks;

import dev.boxoffice.jobs.JobRow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * Tasks are rows of the {@code jobs} table whose type is a public task type; these reads add what the API needs on
 * top of {@code JobQueue}: visibility (a user sees their own, an admin all), filters, pages and totals. {@code $1} is
 * the public types, {@code $2} the owner to restrict to (null for an admin).
 */
final class TaskStore {
  /*
   * Two texts rather than "($2 IS NULL OR owner = $2)", so a user's statements keep a plan that uses the
   * (owner, created_at) index however the prepared statement gets planned.
   */
  private static final String ALL = "type = ANY($1) AND $2::text IS NULL";
  private static final String OWN = "type = ANY($1) AND owner = $2";

  /*
   * The public status of a row whose run_at has passed while it was 'scheduled' is 'queued' (see
   * TaskView.status); the filter says the same, so a listed task always shows the status that was asked for.
   */
  private static final String FILTERS = """

    AND ($3::text IS NULL OR type = $3)
    AND ($4::text IS NULL
         OR ($4 = 'queued' AND (status = 'queued' OR (status = 'scheduled' AND run_at <= now())))
         OR ($4 = 'scheduled' AND status = 'scheduled' AND run_at > now())
         OR ($4 NOT IN ('queued', 'scheduled') AND status = $4))""";
  private static final String FINISHED = " AND status IN ('succeeded', 'dead', 'cancelled')";

  private static final Statements LIST = new Statements(
    v -> "SELECT * FROM jobs WHERE " + v + FILTERS + " ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6");
  private static final Statements COUNT = new Statements(v -> "SELECT count(*) AS n FROM jobs WHERE " + v + FILTERS);
  private static final Statements HISTORY = new Statements(
    v -> "SELECT * FROM jobs WHERE " + v + FINISHED + " ORDER BY finished_at DESC, id DESC LIMIT $3 OFFSET $4");
  private static final Statements HISTORY_COUNT = new Statements(
    v -> "SELECT count(*) AS n FROM jobs WHERE " + v + FINISHED);
  private static final Statements GET = new Statements(v -> "SELECT * FROM jobs WHERE id = $3 AND " + v);

  /** One statement in its admin and its user form. */
  private record Statements(String all, String own) {
    Statements(Function<String, String> text) {
      this(text.apply(ALL), text.apply(OWN));
    }

    String forOwner(String owner) {
      return owner == null ? all : own;
    }
  }

  /** A page of task views and the total matching the filters. */
  record Page(JsonArray items, long total) {
  }

  private TaskStore() {
  }

  static Future<Page> list(SqlClient sql, String owner, String type, String status, int limit, int offset) {
    Tuple filters = args(TaskTypes.publicArray(), owner, type, status);
    Tuple page = args(TaskTypes.publicArray(), owner, type, status, limit, offset);
    return page(sql.preparedQuery(LIST.forOwner(owner)).execute(page).map(TaskStore::views),
      sql.preparedQuery(COUNT.forOwner(owner)).execute(filters).map(rows -> rows.iterator().next().getLong("n")));
  }

  static Future<Page> history(SqlClient sql, String owner, int limit, int offset) {
    return page(sql.preparedQuery(HISTORY.forOwner(owner)).execute(args(TaskTypes.publicArray(), owner, limit, offset))
        .map(TaskStore::views),
      sql.preparedQuery(HISTORY_COUNT.forOwner(owner)).execute(args(TaskTypes.publicArray(), owner))
        .map(rows -> rows.iterator().next().getLong("n")));
  }

  /** The task if it exists and the caller may see it. */
  static Future<Optional<JsonObject>> get(SqlClient sql, String owner, UUID id) {
    return sql.preparedQuery(GET.forOwner(owner)).execute(args(TaskTypes.publicArray(), owner, id)).map(rows ->
      rows.size() == 0 ? Optional.empty() : Optional.of(view(JobRow.from(rows.iterator().next()))));
  }

  /** The API's Task shape: the job view plus {@code task_id}, with the caller's own unique key. */
  static JsonObject view(JobRow row) {
    JsonObject job = TaskView.of(row);
    String owner = job.getString("owner");
    if (owner == null) {
      job.put("owner", owner = "system");
    }
    String key = job.getString("unique_key");
    String ns = keyNamespace(owner);
    if (key != null && key.startsWith(ns)) {
      job.put("unique_key", key.substring(ns.length()));
    }
    return job.put("task_id", job.getString("id"));
  }

  /**
   * A submitted unique key is stored under its owner's namespace: two users may use the same key, and a
   * submission never hands back another user's task.
   */
  static String ownedKey(String owner, String key) {
    return key == null ? null : keyNamespace(owner) + key;
  }

  private static String keyNamespace(String owner) {
    return "task:" + owner + ":";
  }

  private static Future<Page> page(Future<JsonArray> items, Future<Long> total) {
    return Future.all(items, total).map(v -> new Page(items.result(), total.result()));
  }

  private static JsonArray views(io.vertx.sqlclient.RowSet<Row> rows) {
    JsonArray out = new JsonArray();
    rows.forEach(r -> out.add(view(JobRow.from(r))));
    return out;
  }

  private static Tuple args(Object... values) {
    return Tuple.from(Arrays.asList(values));
  }
}
