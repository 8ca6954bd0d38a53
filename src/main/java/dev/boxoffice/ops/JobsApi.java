package dev.boxoffice.ops;

import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.tasks.TaskView;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * GET /ops/jobs/{id}, POST /ops/jobs/{id}/retry and /cancel: the task API's read, retry and cancel for any job,
 * internal ones included (booking steps, finalization, sync), with what an operator needs besides: the queue and
 * the lease. Retry (from {@code dead} or {@code cancelled}) queues the job now with its attempts reset; cancel (from
 * {@code scheduled}, {@code queued} or {@code failed}) runs no compensation: a booking whose step is cancelled keeps
 * its status until it is reprocessed or expires.
 */
final class JobsApi {
  private static final Logger log = LoggerFactory.getLogger(JobsApi.class);
  private static final Pattern UUID_TEXT =
    Pattern.compile("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");

  private final Pool pool;

  JobsApi(Pool pool) {
    this.pool = pool;
  }

  Future<JsonObject> get(Bus.ApiRequest req) {
    return id(req).compose(id -> JobQueue.get(pool, id)).compose(job -> job
      .map(j -> Future.succeededFuture(Bus.ApiReply.ok(view(j))))
      .orElseGet(JobsApi::notFound));
  }

  Future<JsonObject> cancel(Bus.ApiRequest req) {
    return id(req).compose(id -> JobQueue.cancel(pool, id).compose(done -> answer(done, id, false, req.user())));
  }

  /** A dead or cancelled job whose unique key a live job holds stays as it is (409): it would run twice. */
  Future<JsonObject> retry(Bus.ApiRequest req) {
    return id(req).compose(id -> JobQueue.retry(pool, id).compose(done -> answer(done, id, true, req.user())));
  }

  /** 200 with the changed job; else 404 when it does not exist, 409 naming its status when that did not allow it. */
  private Future<JsonObject> answer(Optional<JobRow> changed, UUID id, boolean retry, String by) {
    if (changed.isPresent()) {
      // an operator's action: kept in the log (the job keeps no history of who touched it)
      log.info("job {} ({}) {} by {}", id, changed.get().type(), retry ? "queued again" : "cancelled", by);
      return Future.succeededFuture(Bus.ApiReply.ok(view(changed.get())));
    }
    return JobQueue.get(pool, id).compose(now -> {
      if (now.isEmpty()) {
        return notFound();
      }
      String status = TaskView.status(now.get());
      String refusal = !retry ? "Job cannot be cancelled"
        : "dead".equals(status) || "cancelled".equals(status)
        ? "Job cannot be retried while another live job holds its unique_key" : "Job cannot be retried";
      return Future.failedFuture(Failure.conflict(refusal).with("status", status));
    });
  }

  /** The Job shape (as the task views and recent failures give it) plus the queue and the lease. */
  static JsonObject view(JobRow job) {
    JsonObject view = TaskView.of(job);
    if (view.getString("owner") == null) {
      view.put("owner", "system");
    }
    return view.put("task_id", view.getString("id"))
      .put("queue", job.queue())
      .put("lease_owner", job.lockedBy())
      .put("lease_until", ts(job.leaseUntil()))
      .put("updated_at", ts(job.updatedAt()));
  }

  private static Future<UUID> id(Bus.ApiRequest req) {
    Object raw = req.params().getValue("id");
    if (!(raw instanceof String text) || !UUID_TEXT.matcher(text).matches()) {
      return Future.failedFuture(Failure.invalid("id", "must be a UUID"));
    }
    return Future.succeededFuture(UUID.fromString(text));
  }

  private static <T> Future<T> notFound() {
    return Future.failedFuture(Failure.notFound("Job not found"));
  }

  private static String ts(Instant t) {
    return t == null ? null : t.toString();
  }
}
