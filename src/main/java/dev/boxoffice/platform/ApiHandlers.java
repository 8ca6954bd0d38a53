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
 * The handler returns an {@link Bus.ApiReply} JSON object, or fails with {@link Bus#fail} for an HTTP error; any
 * other failure becomes a 500 with a generic message (and a log line here, never a stack trace to the client).
 */
public final class ApiHandlers {
  private static final Logger log = LoggerFactory.getLogger(ApiHandlers.class);

  private ApiHandlers() {
  }

  /** Connection-level failures: the database or Redis is down or restarting, not a bug in the request. */
  static boolean storageUnavailable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.net.ConnectException || c instanceof io.vertx.sqlclient.ClosedConnectionException
        || c instanceof java.nio.channels.ClosedChannelException
        || (c instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null
          && pg.getSqlState().startsWith("57P")) // shutting down / starting up / crash recovery
        || (c.getMessage() != null && c.getMessage().contains("Connection refused"))) {
        return true;
      }
    }
    return false;
  }

  public static Future<Void> serve(Vertx vertx, String operationId,
                                   Function<Bus.ApiRequest, Future<JsonObject>> handler) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Bus.api(operationId), msg -> {
      Future<JsonObject> reply;
      try {
        reply = handler.apply(new Bus.ApiRequest(msg.body()));
      } catch (RuntimeException e) {
        reply = Future.failedFuture(e);
      }
      reply.onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(ar.result());
        } else if (ar.cause() instanceof ReplyException re && re.failureCode() >= 400) {
          msg.fail(re.failureCode(), re.getMessage());
        } else if (storageUnavailable(ar.cause())) {
          // Postgres (or Redis) is away: nothing was accepted, and the client should simply retry
          log.warn("operation {} failed: storage unavailable ({})", operationId, ar.cause().toString());
          msg.fail(503, new JsonObject().put("error", "Storage is unavailable; retry shortly")
            .put("retry_after", 2).encode());
        } else {
          log.error("operation {} failed", operationId, ar.cause());
          msg.fail(500, "Internal server error");
        }
      });
    });
    return consumer.completion();
  }
}
