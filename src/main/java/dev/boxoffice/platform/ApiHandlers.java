package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
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
  /** Less budget than this left on arrival and a request is refused unread (503): it could not finish in time. */
  static final long MIN_BUDGET_MS = 50;

  private ApiHandlers() {
  }

  public static Future<Void> serve(Vertx vertx, String operationId,
                                   Function<Bus.ApiRequest, Future<JsonObject>> handler) {
    ApiReceipts receipts = new ApiReceipts(vertx);
    NodeLifecycle lifecycle = NodeLifecycle.of(vertx);
    String address = Bus.api(operationId);
    Handler<Message<JsonObject>> answering = Replies.answering(body -> within(body, handler, receipts, lifecycle),
      reply -> reply, err -> refusal(operationId, err).toReply());
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(address, msg -> {
      // a closing node takes nothing new: the edge sends the request to another member (nothing of it ran here)
      if (!lifecycle.admit()) {
        msg.fail(Bus.NOT_TAKEN, "This node is closing; the request was not taken");
        return;
      }
      answering.handle(msg);
    });
    lifecycle.served(address);
    return consumer.completion();
  }

  /**
   * Refuses a request whose budget is (nearly) gone: its client is answered, or about to be, whatever happens here.
   * Otherwise runs the handler, acknowledging receipt to a remote edge if it takes a while. The request was admitted
   * ({@link NodeLifecycle#admit}); it counts as running until its outcome, whatever that is.
   */
  private static Future<JsonObject> within(JsonObject body, Function<Bus.ApiRequest, Future<JsonObject>> handler,
                                           ApiReceipts receipts, NodeLifecycle lifecycle) {
    Future<JsonObject> outcome;
    ApiReceipts.Receipt receipt = null;
    try {
      Bus.ApiRequest req = Bus.ApiRequest.received(body);
      if (req.deadline().within(MIN_BUDGET_MS)) {
        outcome = Future.failedFuture(Deadline.exhausted());
      } else {
        receipt = receipts.track(req.json());
        outcome = handler.apply(req);
      }
    } catch (RuntimeException e) {
      outcome = Future.failedFuture(e);
    }
    ApiReceipts.Receipt tracked = receipt;
    return outcome.onComplete(ar -> {
      receipts.done(tracked);
      lifecycle.finished();
    });
  }

  /** The answer to a handler's failure. */
  static Failure refusal(String operationId, Throwable err) {
    if (err instanceof Failure f) {
      return f;
    }
    if (err instanceof ReplyException re && re.failureCode() >= 400) {
      return Failure.fromReply(re.failureCode(), re.getMessage(), null); // an HTTP answer relayed from the bus
    }
    if (Failures.timedOut(err)) {
      // statement_timeout or idle_in_transaction_session_timeout: the work was rolled back
      log.warn("operation {} failed: the database took too long ({})", operationId, err.toString());
      return Failure.unavailable("The database took too long; nothing was done, retry shortly")
        .with("retry_after", STORAGE_RETRY_AFTER_SECONDS);
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
