package dev.boxoffice.tasks;

import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Paging;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Tasks are rows of the {@code jobs} table whose type is a public task type; these reads add what the API needs on
 * top of {@code JobQueue}: visibility (a user sees their own, an admin all), filters, pages and totals. {@code $1} is
 * the owner to restrict to (null for an admin).
 *
 * <p>Pages are keyset pages, newest first: {@code /tasks} by (created_at, id), {@code /history} by (finished_at, id),
 * each from the cursor's key down. The public types are written into the statements as literals, so the planner can
 * use the partial indexes that hold only tasks (jobs_tasks, jobs_history; jobs_owner and jobs_owner_history for one
 * owner's): internal jobs (saga steps, tickets), however many millions have finished, are never walked past.
 */
final class TaskStore {
  private static final String PUBLIC_TYPES = TaskTypes.PUBLIC.stream().map(t -> "'" + t + "'")
    .collect(Collectors.joining(", ", "type IN (", ")"));
  /*
   * Two texts rather than "($1 IS NULL OR owner = $1)", so a user's statements keep a plan that uses the
   * owner's index however the prepared statement gets planned.
   */
  private static final String ALL = PUBLIC_TYPES + " AND $1::text IS NULL";
  private static final String OWN = PUBLIC_TYPES + " AND owner = $1";

  /*
   * The public status of a row whose run_at has passed while it was 'scheduled' is 'queued' (see
   * TaskView.status); the filter says the same, so a listed task always shows the status that was asked for.
   */
  private static final String FILTERS = """

    AND ($2::text IS NULL OR type = $2)
    AND ($3::text IS NULL
         OR ($3 = 'queued' AND (status = 'queued' OR (status = 'scheduled' AND run_at <= now())))
         OR ($3 = 'scheduled' AND status = 'scheduled' AND run_at > now())
         OR ($3 NOT IN ('queued', 'scheduled') AND status = $3))""";
  private static final String FINISHED = " AND status IN ('succeeded', 'dead', 'cancelled')";
  /** Where a page starts when no cursor says: above every key. */
  private static final OffsetDateTime LATEST = OffsetDateTime.parse("9999-12-31T23:59:59Z");
  private static final UUID HIGHEST = UUID.fromString("ffffffff-ffff-ffff-ffff-ffffffffffff");

  private static final Statements LIST = new Statements(v -> "SELECT * FROM jobs WHERE " + v + FILTERS
    + " AND (created_at, id) < ($4, $5) ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7");
  private static final Statements COUNT = new Statements(v -> Paging.countUpTo("FROM jobs WHERE " + v + FILTERS));
  private static final Statements HISTORY = new Statements(v -> "SELECT * FROM jobs WHERE " + v + FINISHED
    + " AND (finished_at, id) < ($2, $3) ORDER BY finished_at DESC, id DESC LIMIT $4 OFFSET $5");
  private static final Statements HISTORY_COUNT = new Statements(
    v -> Paging.countUpTo("FROM jobs WHERE " + v + FINISHED));
  private static final Statements GET = new Statements(v -> "SELECT * FROM jobs WHERE id = $2 AND " + v);

  /** One statement in its admin and its user form. */
  private record Statements(String all, String own) {
    Statements(Function<String, String> text) {
      this(text.apply(ALL), text.apply(OWN));
    }

    String forOwner(String owner) {
      return owner == null ? all : own;
    }
  }

  private TaskStore() {
  }

  /** A page of /tasks, as the API answers it. */
  static Future<JsonObject> list(SqlClient sql, String owner, String type, String status, Bus.ApiRequest req) {
    Paging.Request paging = Paging.Request.of(req, "tasks", Paging.Key.TIME, Paging.Key.UUID);
    Tuple page = args(owner, type, status, paging.after(0, LATEST), paging.after(1, HIGHEST), paging.fetch(),
      paging.offset());
    return page(sql.preparedQuery(LIST.forOwner(owner)).execute(page)
        .map(rows -> paging.slice(rows, TaskStore::rowView, r -> new Object[]{
          r.getOffsetDateTime("created_at"), r.getUUID("id")})),
      sql.preparedQuery(COUNT.forOwner(owner)).execute(args(owner, type, status)));
  }

  /** A page of /history (finished tasks), as the API answers it. */
  static Future<JsonObject> history(SqlClient sql, String owner, Bus.ApiRequest req) {
    Paging.Request paging = Paging.Request.of(req, "history", Paging.Key.TIME, Paging.Key.UUID);
    Tuple page = args(owner, paging.after(0, LATEST), paging.after(1, HIGHEST), paging.fetch(), paging.offset());
    return page(sql.preparedQuery(HISTORY.forOwner(owner)).execute(page)
        .map(rows -> paging.slice(rows, TaskStore::rowView, r -> new Object[]{
          r.getOffsetDateTime("finished_at"), r.getUUID("id")})),
      sql.preparedQuery(HISTORY_COUNT.forOwner(owner)).execute(args(owner)));
  }

  /** The task if it exists and the caller may see it. */
  static Future<Optional<JsonObject>> get(SqlClient sql, String owner, UUID id) {
    return sql.preparedQuery(GET.forOwner(owner)).execute(args(owner, id)).map(rows ->
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

  private static Future<JsonObject> page(Future<Paging.Slice> items, Future<RowSet<Row>> count) {
    Future<Paging.Total> total = count.map(Paging.Total::counted);
    return Future.all(items, total).map(v -> Paging.reply(items.result(), total.result()));
  }

  private static JsonObject rowView(Row r) {
    return view(JobRow.from(r));
  }

  private static Tuple args(Object... values) {
    return Tuple.from(Arrays.asList(values));
  }
}
