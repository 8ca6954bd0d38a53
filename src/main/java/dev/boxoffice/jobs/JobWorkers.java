package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;

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
    return consumer.completion().onSuccess(v -> {
      localTypes(vertx).put(type, Boolean.TRUE);
      vertx.eventBus().send(Bus.JOBS_WAKE, null);
    });
  }

  static Set<String> registeredTypes(Vertx vertx) {
    return localTypes(vertx).keySet();
  }

  private static LocalMap<String, Boolean> localTypes(Vertx vertx) {
    return vertx.sharedData().getLocalMap(LOCAL_TYPES);
  }
}
