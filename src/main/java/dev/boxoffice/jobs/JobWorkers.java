package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failures;
import dev.boxoffice.platform.Replies;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/** Registers job handlers on this node; the node's engine claims only the types registered here. */
public final class JobWorkers {
  private static final String LOCAL_TYPES = "boxoffice.jobs.local-types";

  private JobWorkers() {
  }

  /**
   * Handles jobs of {@code type} on the calling verticle's context. The handler's future result is stored as the
   * job's result; a failure with {@link JobFailure#permanent} goes straight to {@code dead}, any other is retried.
   */
  public static Future<Void> handle(Vertx vertx, String type, Function<Job, Future<JsonObject>> handler) {
    JobTypes.get(type);
    MessageConsumer<JsonObject> consumer = vertx.eventBus().localConsumer(Bus.jobRun(type),
      Replies.answering(body -> handler.apply(Job.fromJson(body)), result -> result, JobWorkers::refusal));
    return registered(vertx, type, consumer, false);
  }

  /**
   * Handles jobs of {@code type} many at a time: the engine hands over every due job of the type it claimed in one
   * go, and the handler does them in one transaction. Each job still succeeds, retries or dies on its own.
   */
  public static Future<Void> handleBatch(Vertx vertx, String type, Function<List<Job>, Future<BatchResult>> handler) {
    JobTypes.get(type);
    MessageConsumer<JsonObject> consumer = vertx.eventBus().localConsumer(Bus.jobBatch(type), Replies.answering(
      body -> {
        List<Job> jobs = new ArrayList<>();
        body.getJsonArray("jobs").forEach(j -> jobs.add(Job.fromJson((JsonObject) j)));
        return handler.apply(jobs);
      }, BatchResult::toJson, JobWorkers::refusal));
    return registered(vertx, type, consumer, true);
  }

  /** A failed handler: {@link JobFailure#permanent} goes straight to dead, anything else is retried. */
  private static ReplyException refusal(Throwable err) {
    boolean permanent = err instanceof JobFailure jf && jf.isPermanent();
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, permanent ? JobFailure.PERMANENT : JobFailure.RETRYABLE,
      Failures.text(err));
  }

  private static Future<Void> registered(Vertx vertx, String type, MessageConsumer<JsonObject> consumer,
                                         boolean batch) {
    return consumer.completion().onSuccess(v -> {
      localTypes(vertx).put(type, batch);
      vertx.eventBus().publish(Bus.JOBS_WAKE, null); // every queue engine of this node
    });
  }

  static Set<String> registeredTypes(Vertx vertx) {
    return localTypes(vertx).keySet();
  }

  static boolean isBatch(Vertx vertx, String type) {
    return Boolean.TRUE.equals(localTypes(vertx).get(type));
  }

  private static LocalMap<String, Boolean> localTypes(Vertx vertx) {
    return vertx.sharedData().getLocalMap(LOCAL_TYPES);
  }
}
