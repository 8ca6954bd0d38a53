package dev.boxoffice.tasks;

import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.StorableText;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The task API: /tasks and the compatibility routes /submit, /status/{task_id}, /history. A task is a job with an
 * owner; a user sees and acts on their own tasks only (another user's task answers 404, as if it did not exist).
 */
public final class TasksVerticle extends VerticleBase {
  private static final Pattern UUID_TEXT =
    Pattern.compile("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  private static final int MAX_ATTEMPTS_LIMIT = 25;

  private final Pool pool;
  private final IdempotencyKeys keys;

  public TasksVerticle(Pool pool, IdempotencyKeys keys) {
    this.pool = pool;
    this.keys = keys;
  }

  @Override
  public Future<?> start() {
    return Future.all(java.util.List.of(
      ApiHandlers.serve(vertx, "createTask", req -> keys.run(req, "createTask", sql -> create(sql, req))),
      ApiHandlers.serve(vertx, "listTasks", this::list),
      ApiHandlers.serve(vertx, "getTask", req -> visible(req, "id").map(Bus.ApiReply::ok)),
      ApiHandlers.serve(vertx, "cancelTask", this::cancel),
      ApiHandlers.serve(vertx, "retryTask", this::retry),
      ApiHandlers.serve(vertx, "submitText", req -> keys.run(req, "submitText", sql -> submit(sql, req))),
      ApiHandlers.serve(vertx, "getTaskStatus", req -> visible(req, "task_id").map(t -> Bus.ApiReply.ok(status(t)))),
      ApiHandlers.serve(vertx, "listHistory", this::history)));
  }

  private Future<JsonObject> create(SqlClient sql, Bus.ApiRequest req) {
    JsonObject body = req.body();
    Object rawType = body.getValue("type");
    if (!(rawType instanceof String type) || !TaskTypes.PUBLIC.contains(type)) {
      return invalid("Unknown task type", "type", "must be one of " + String.join(", ", TaskTypes.PUBLIC));
    }
    if (TaskTypes.adminOnly(type) && !req.isAdmin()) {
      return Future.failedFuture(Failure.forbidden("Tasks of type " + type + " need the admin role"));
    }
    if (JobTypes.find(type).isEmpty()) {
      return invalid("Task type not available on this cluster", "type", "is not enabled on this cluster");
    }
    Object payload = body.getValue("payload");
    if (payload != null && !(payload instanceof JsonObject)) {
      return invalid("Invalid fields: payload", "payload", "must be an object");
    }
    JsonObject input = payload == null ? new JsonObject() : (JsonObject) payload;
    if (TaskTypes.TEXT_PROCESS.equals(type) && !(input.getValue("data") instanceof String s && !s.isEmpty())) {
      return invalid("Invalid fields: payload.data", "payload.data", "is required (a non-empty string)");
    }
    String unstorable = StorableText.firstBad(input, "payload", false); // jsonb refuses NUL and lone surrogates
    if (unstorable != null) {
      return invalid("Invalid fields: " + unstorable, unstorable, StorableText.FREE_TEXT_MESSAGE);
    }
    NewJob job = NewJob.of(type, input).owner(req.user());
    Object runAt = body.getValue("run_at");
    if (runAt != null) {
      Instant when = runAt instanceof String s ? instant(s) : null;
      if (when == null) {
        return invalid("Invalid fields: run_at", "run_at", "must be an RFC 3339 date-time");
      }
      job = job.at(when);
    }
    Object maxAttempts = body.getValue("max_attempts");
    if (maxAttempts != null) {
      if (!(maxAttempts instanceof Integer n) || n < 1 || n > MAX_ATTEMPTS_LIMIT) {
        return invalid("Invalid fields: max_attempts", "max_attempts", "must be an integer 1.." + MAX_ATTEMPTS_LIMIT);
      }
      job = job.maxAttempts(n);
    }
    Object key = body.getValue("unique_key");
    if (key != null) {
      if (!(key instanceof String k) || k.isEmpty() || k.length() > 200 || !StorableText.isField(k)) {
        return invalid("Invalid fields: unique_key", "unique_key",
          "must be a string of 1..200 characters without control characters");
      }
      job = job.uniqueKey(TaskStore.ownedKey(req.user(), k));
    }
    return JobQueue.enqueue(sql, job)
      .map(e -> Bus.ApiReply.of(e.created() ? 202 : 200, TaskStore.view(e.job())));
  }

  private Future<JsonObject> submit(SqlClient sql, Bus.ApiRequest req) {
    Object data = req.body().getValue("data");
    if (!(data instanceof String text) || text.isEmpty()) {
      return invalid("Invalid fields: data", "data", "is required (a non-empty string)");
    }
    if (!StorableText.isFreeText(text)) {
      return invalid("Invalid fields: data", "data", StorableText.FREE_TEXT_MESSAGE);
    }
    NewJob job = NewJob.of(TaskTypes.TEXT_PROCESS, new JsonObject().put("data", text)).owner(req.user());
    return JobQueue.enqueue(sql, job).map(e -> Bus.ApiReply.of(202, new JsonObject()
      .put("task_id", e.id().toString()).put("status", TaskView.status(e.job()))));
  }

  private Future<JsonObject> list(Bus.ApiRequest req) {
    JsonObject p = req.params();
    return TaskStore.list(pool, ownerFilter(req), p.getString("type"), p.getString("status"), req);
  }

  private Future<JsonObject> history(Bus.ApiRequest req) {
    return TaskStore.history(pool, ownerFilter(req), req);
  }

  /** Cancels a task that has not started (or waits for its next try); a running or finished one is a 409. */
  private Future<JsonObject> cancel(Bus.ApiRequest req) {
    return visible(req, "id").compose(task -> {
      UUID id = UUID.fromString(task.getString("id"));
      return JobQueue.cancel(pool, id).compose(done -> answer(done, id, "Task cannot be cancelled"));
    });
  }

  /** Runs a dead or cancelled task again from its first attempt; anything else is a 409. */
  private Future<JsonObject> retry(Bus.ApiRequest req) {
    return visible(req, "id").compose(task -> {
      UUID id = UUID.fromString(task.getString("id"));
      return JobQueue.retry(pool, id).compose(done -> {
        if (done.isEmpty() && isRetryable(task.getString("status"))) {
          // dead or cancelled, but a live task with the same unique_key exists: retrying would run it twice
          return JobQueue.get(pool, id).compose(now -> now.isPresent() && isRetryable(now.get().status())
            ? Future.failedFuture(Failure.conflict(
              "Task cannot be retried while another live task holds its unique_key")
              .with("status", TaskView.status(now.get())))
            : answer(Optional.empty(), id, "Task cannot be retried"));
        }
        return answer(done, id, "Task cannot be retried");
      });
    });
  }

  private static boolean isRetryable(String status) {
    return "dead".equals(status) || "cancelled".equals(status);
  }

  /** 200 with the changed task, or 409 naming the status that did not allow the change. */
  private Future<JsonObject> answer(Optional<JobRow> changed, UUID id, String refusal) {
    if (changed.isPresent()) {
      return Future.succeededFuture(Bus.ApiReply.ok(TaskStore.view(changed.get())));
    }
    return JobQueue.get(pool, id).compose(now -> Future.failedFuture(Failure.conflict(refusal)
      .with("status", now.map(TaskView::status).orElse("unknown"))));
  }

  /** The task named by the path parameter, if the caller may see it; else 404 (422 for a malformed id). */
  private Future<JsonObject> visible(Bus.ApiRequest req, String param) {
    Object raw = req.params().getValue(param);
    if (!(raw instanceof String text) || !UUID_TEXT.matcher(text).matches()) {
      return invalid("Invalid fields: " + param, param, "must be a UUID");
    }
    return TaskStore.get(pool, ownerFilter(req), UUID.fromString(text)).compose(task -> task
      .map(Future::succeededFuture)
      .orElseGet(() -> Future.failedFuture(Failure.notFound("Task not found"))));
  }

  /** The compatibility shape of GET /status/{task_id}. */
  private static JsonObject status(JsonObject task) {
    JsonObject out = new JsonObject().put("task_id", task.getString("id"));
    for (String f : new String[]{"status", "result", "attempts", "max_attempts", "last_error", "run_at",
      "created_at", "finished_at"}) {
      out.put(f, task.getValue(f));
    }
    return out;
  }

  private static String ownerFilter(Bus.ApiRequest req) {
    return req.isAdmin() ? null : req.user();
  }

  private static Instant instant(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static <T> Future<T> invalid(String error, String field, String message) {
    return Future.failedFuture(Failure.invalid(error, Map.of(field, message)));
  }
}
