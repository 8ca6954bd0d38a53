package dev.boxoffice.jobs;

import dev.boxoffice.platform.BatchSpan;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.Traces;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Hands jobs to their handlers on this node over the local bus ({@link Bus#jobRun}, {@link Bus#jobBatch}) and
 * passes each answer, or its absence within the type's timeout, to the {@link OutcomeWriter}.
 *
 * <p>Traced jobs ({@link JobSpans}): each attempt gets its span, and the message goes out under it, so the handler's
 * work is that span's child. A batch handler's message for several traced jobs goes out under a {@link BatchSpan}
 * linked to each attempt's span; each job the handler gets still carries its own attempt's span for what it does for
 * that job alone.
 */
final class Dispatcher {
  private final Vertx vertx;
  private final Slots slots;
  private final OutcomeWriter outcomes;
  private final JobSpans spans;

  Dispatcher(Vertx vertx, Slots slots, OutcomeWriter outcomes, JobSpans spans) {
    this.vertx = vertx;
    this.slots = slots;
    this.outcomes = outcomes;
    this.spans = spans;
  }

  /** Jobs of any types: each type's together, so a batch handler gets them in one message. */
  void dispatchByType(List<Job> jobs) {
    Map<String, List<Job>> batches = new HashMap<>();
    for (Job job : jobs) {
      batches.computeIfAbsent(job.type(), k -> new ArrayList<>()).add(job);
    }
    batches.values().forEach(this::dispatch);
  }

  /** Jobs of one type: to the batch handler in one message if there is one, else one message per job. */
  void dispatch(List<Job> jobs) {
    String typeName = jobs.get(0).type();
    JobType type = JobTypes.find(typeName).orElseGet(() -> JobType.of(typeName));
    DeliveryOptions delivery = new DeliveryOptions().setLocalOnly(true).setSendTimeout(type.timeout().toMillis());
    jobs.forEach(slots::start);
    if (!JobWorkers.isBatch(vertx, typeName)) {
      for (Job job : jobs) {
        Span attempt = spans.start(job);
        request(attempt, Bus.jobRun(typeName), JobSpans.handed(job, attempt).toJson(), delivery).onComplete(ar -> {
          if (ar.succeeded()) {
            succeeded(job, ar.result().body(), attempt);
          } else {
            errored(job, type, ar.cause(), attempt);
          }
          outcomes.flushSoon();
        });
      }
      return;
    }
    List<Span> attempts = spans.on() ? new ArrayList<>(jobs.size()) : null;
    JsonArray batch = new JsonArray();
    for (Job job : jobs) {
      Span attempt = spans.start(job);
      if (attempts != null) {
        attempts.add(attempt);
      }
      batch.add(JobSpans.handed(job, attempt).toJson());
    }
    JsonObject body = new JsonObject().put("jobs", batch);
    Future<Message<JsonObject>> sent = attempts == null
      ? vertx.eventBus().<JsonObject>request(Bus.jobBatch(typeName), body, delivery)
      : attempts.size() == 1
      ? request(attempts.get(0), Bus.jobBatch(typeName), body, delivery)
      : BatchSpan.run(vertx, "job batch " + typeName, attempts,
        () -> vertx.eventBus().<JsonObject>request(Bus.jobBatch(typeName), body, delivery));
    sent.onComplete(ar -> {
      JsonObject results = ar.succeeded() ? ar.result().body().getJsonObject("results") : null;
      JsonObject failures = ar.succeeded() ? ar.result().body().getJsonObject("failures") : null;
      for (int i = 0; i < jobs.size(); i++) {
        Job job = jobs.get(i);
        Span attempt = attempts == null ? null : attempts.get(i);
        String id = job.id().toString();
        if (ar.failed()) {
          errored(job, type, ar.cause(), attempt);
        } else if (failures.containsKey(id)) {
          JsonObject f = failures.getJsonObject(id);
          failed(job, type, f.getString("error"), f.getBoolean("permanent", false), attempt);
        } else {
          succeeded(job, results.getJsonObject(id), attempt);
        }
      }
      outcomes.flushSoon();
    });
  }

  /** One message to a handler, under {@code attempt}'s span when it has one (on a context of its own). */
  private Future<Message<JsonObject>> request(Span attempt, String address, JsonObject body, DeliveryOptions delivery) {
    if (!spans.on()) {
      return vertx.eventBus().<JsonObject>request(address, body, delivery);
    }
    // a context of its own even when untraced: the current one may be serving a traced handoff message
    return Traces.within(Traces.fresh(vertx), attempt == null ? null : Context.root().with(attempt),
      () -> vertx.eventBus().<JsonObject>request(address, body, delivery));
  }

  private void succeeded(Job job, JsonObject result, Span attempt) {
    slots.finish(job);
    outcomes.succeeded(job, result);
    JobSpans.succeeded(attempt);
  }

  private void errored(Job job, JobType type, Throwable err, Span attempt) {
    boolean permanent = err instanceof ReplyException re && re.failureCode() == JobFailure.PERMANENT;
    failed(job, type, Failures.text(err), permanent, attempt);
  }

  private void failed(Job job, JobType type, String error, boolean permanent, Span attempt) {
    slots.finish(job);
    outcomes.failed(job, type, error, permanent);
    JobSpans.failed(attempt, error, permanent || job.attempt() >= job.maxAttempts());
  }
}
