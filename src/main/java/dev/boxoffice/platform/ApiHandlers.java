package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * Binds a contract operation to its handler on the clustered event bus: any node with the workers role may answer.
 * The handler returns an {@link Bus.ApiReply} JSON object, or fails with a {@link Failure} for an HTTP error; storage
 * being away becomes a 503 to retry, any other failure a 500 with a generic message (and a log line here, never a
 * stack trace to the client).
 */
public final class ApiHandlers {
  private static final Logger log = LoggerFactory.getLogger(ApiHandlers.class);
  static final long STORAGE_RETRY_AFTER_SECONDS = 2;

  private ApiHandlers() {
  }

  public static Future<Void> serve(Vertx vertx, String operationId,
                                   Function<Bus.ApiRequest, Future<JsonObject>> handler) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Bus.api(operationId), Replies.answering(
      body -> handler.apply(new Bus.ApiRequest(body)), reply -> reply, err -> refusal(operationId, err).toReply()));
    return consumer.completion();
  }

  /** The answer to a handler's failure. */
  static Failure refusal(String operationId, Throwable err) {
    if (err instanceof Failure f) {
      return f;
    }
    if (err instanceof ReplyException re && re.failureCode() >= 400) {
      return Failure.fromReply(re.failureCode(), re.getMessage(), null); // an HTTP answer relayed from the bus
    }
    if (Failures.storageUnavailable(err)) {
      // Postgres (or Redis) is away: nothing was accepted, and the client should simply retry
      log.warn("operation {} failed: storage unavailable ({})", operationId, err.toString());
      return Failure.unavailable("Storage is unavailable; retry shortly")
        .with("retry_after", STORAGE_RETRY_AFTER_SECONDS);
    }
    log.error("operation {} failed", operationId, err);
    return Failure.internal();
  }
}
