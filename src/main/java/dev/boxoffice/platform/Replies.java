package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;

import java.util.function.Function;

/** The one way a bus consumer calls its handler and answers: every message gets a reply or a failure. */
public final class Replies {
  private Replies() {
  }

  /**
   * A consumer that calls {@code handler} with each message's body (a synchronous throw counts as a failed
   * future), then replies with {@code reply} of the result, or fails with the code and text {@code refusal} gives.
   */
  public static <B, T> Handler<Message<B>> answering(Function<B, Future<T>> handler, Function<T, ?> reply,
                                                     Function<Throwable, ReplyException> refusal) {
    return msg -> {
      Future<T> outcome;
      try {
        outcome = handler.apply(msg.body());
      } catch (RuntimeException e) {
        outcome = Future.failedFuture(e);
      }
      outcome.onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(reply.apply(ar.result()));
        } else {
          ReplyException r = refusal.apply(ar.cause());
          msg.fail(r.failureCode(), r.getMessage());
        }
      });
    };
  }
}
