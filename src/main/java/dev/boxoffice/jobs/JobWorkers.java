package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
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
    MessageConsumer<JsonObject> consumer = vertx.eventBus().localConsumer(Bus.jobRun(type), msg -> {
      Future<JsonObject> outcome;
      try {
        outcome = handler.apply(Job.fromJson(msg.body()));
      } catch (RuntimeException e) {
        outcome = Future.failedFuture(e);
      }
      outcome.onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(ar.result());
        } else {
          Throwable err = ar.cause();
          boolean permanent = err instanceof JobFailure jf && jf.isPermanent();
          String text = err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
          msg.fail(permanent ? JobFailure.PERMANENT : JobFailure.RETRYABLE, text);
        }
      });
    });
    return registered(vertx, type, consumer, false);
  }

  /**
   * Handles jobs of {@code type} many at a time: the engine hands over every due job of the type it claimed in one
   * go, and the handler does them in one transaction. Each job still succeeds, retries or dies on its own.
   */
  public static Future<Void> handleBatch(Vertx vertx, String type, Function<List<Job>, Future<BatchResult>> handler) {
    JobTypes.get(type);
    MessageConsumer<JsonObject> consumer = vertx.eventBus().localConsumer(Bus.jobBatch(type), msg -> {
      List<Job> jobs = new ArrayList<>();
      msg.body().getJsonArray("jobs").forEach(j -> jobs.add(Job.fromJson((JsonObject) j)));
      Future<BatchResult> outcome;
      try {
        outcome = handler.apply(jobs);
      } catch (RuntimeException e) {
        outcome = Future.failedFuture(e);
      }
      outcome.onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(ar.result().toJson());
        } else {
          Throwable err = ar.cause();
          boolean permanent = err instanceof JobFailure jf && jf.isPermanent();
          msg.fail(permanent ? JobFailure.PERMANENT : JobFailure.RETRYABLE,
            err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage());
        }
      });
    });
    return registered(vertx, type, consumer, true);
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
