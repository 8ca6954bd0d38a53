package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failures;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
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
 */
final class Dispatcher {
  private final Vertx vertx;
  private final Slots slots;
  private final OutcomeWriter outcomes;

  Dispatcher(Vertx vertx, Slots slots, OutcomeWriter outcomes) {
    this.vertx = vertx;
    this.slots = slots;
    this.outcomes = outcomes;
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
        vertx.eventBus().<JsonObject>request(Bus.jobRun(typeName), job.toJson(), delivery).onComplete(ar -> {
          if (ar.succeeded()) {
            succeeded(job, ar.result().body());
          } else {
            errored(job, type, ar.cause());
          }
          outcomes.flushSoon();
        });
      }
      return;
    }
    JsonArray batch = new JsonArray();
    jobs.forEach(job -> batch.add(job.toJson()));
    vertx.eventBus().<JsonObject>request(Bus.jobBatch(typeName), new JsonObject().put("jobs", batch), delivery)
      .onComplete(ar -> {
        JsonObject results = ar.succeeded() ? ar.result().body().getJsonObject("results") : null;
        JsonObject failures = ar.succeeded() ? ar.result().body().getJsonObject("failures") : null;
        for (Job job : jobs) {
          String id = job.id().toString();
          if (ar.failed()) {
            errored(job, type, ar.cause());
          } else if (failures.containsKey(id)) {
            JsonObject f = failures.getJsonObject(id);
            failed(job, type, f.getString("error"), f.getBoolean("permanent", false));
          } else {
            succeeded(job, results.getJsonObject(id));
          }
        }
        outcomes.flushSoon();
      });
  }

  private void succeeded(Job job, JsonObject result) {
    slots.finish(job);
    outcomes.succeeded(job, result);
  }

  private void errored(Job job, JobType type, Throwable err) {
    boolean permanent = err instanceof ReplyException re && re.failureCode() == JobFailure.PERMANENT;
    failed(job, type, Failures.text(err), permanent);
  }

  private void failed(Job job, JobType type, String error, boolean permanent) {
    slots.finish(job);
    outcomes.failed(job, type, error, permanent);
  }
}
