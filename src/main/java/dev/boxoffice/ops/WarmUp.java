package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.function.Function;

/**
 * A new node's first seconds, before it reports ready ({@code warmup_seconds}): it books through a private
 * {@link Rehearsal} node in the same JVM for that long, so that the JIT has compiled the whole life of a booking (HTTP
 * edge, token check, contract validation, event bus, group commit, Redis item lock, payment, confirmation, PDF ticket,
 * outbox, the access log's encoder) before a load balancer sends real traffic. The rehearsal's tables are a scratch
 * schema, dropped after; its access-log lines are encoded like any other but never written (they name requests
 * nobody made); one line says what the warm-up did. A warm-up that cannot run (no right to create a schema, say) is
 * skipped with a warning: the node starts cold.
 */
public final class WarmUp {
  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);
  private static final String REQUEST_ID_KEY = "boxoffice.warm-up.request-id";

  private WarmUp() {
  }

  /** The request-id prefix of warm-up requests on this Vert.x (their access-log lines are not written), or null. */
  public static String requestIdPrefix(Vertx vertx) {
    return vertx.sharedData().<String, String>getLocalMap(REQUEST_ID_KEY).get("prefix");
  }

  /**
   * Runs the warm-up when this node serves HTTP or workers and {@code warmup_seconds} is not 0; {@code start} starts
   * a node of the given settings (the rehearsal). Never fails.
   */
  public static Future<Void> run(Platform platform, Function<AppConfig, Future<Boxoffice.Node>> start) {
    AppConfig config = platform.config();
    int seconds = config.integer("warmup_seconds");
    if (seconds <= 0 || !(config.hasRole("http") || config.hasRole("workers"))) {
      return Future.succeededFuture();
    }
    long started = System.nanoTime();
    long end = started + seconds * 1_000_000_000L;
    String prefix = "warm-up-" + UUID.randomUUID();
    return Rehearsal.start(config, platform.pool(), start).compose(rehearsal -> {
      rehearsal.vertx().sharedData().<String, String>getLocalMap(REQUEST_ID_KEY).put("prefix", prefix);
      return rehearsal.book(config.string("jwt_secret"), prefix, end)
        .transform(booked -> rehearsal.stop().map(v -> {
          if (booked.succeeded()) {
            log.info("warm-up: {} bookings through a private node on a scratch schema ({} answered other than 201), "
              + "in {} ms", booked.result().bookings(), booked.result().unexpected(), millisSince(started));
          } else {
            log.warn("warm-up: booking through the private node failed after {} ms: {}", millisSince(started),
              booked.cause().toString());
          }
          return (Void) null;
        }));
    }).recover(err -> {
      log.warn("warm-up skipped, the node starts cold: {}", err.toString());
      return Future.succeededFuture();
    });
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
