package dev.boxoffice.ops;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Platform;
import dev.boxoffice.tickets.TicketCodes;
import dev.boxoffice.tickets.TicketPdf;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A new node's first seconds, before it reports ready ({@code warmup_seconds}): it sends itself bookings that take
 * the whole way a booking takes up to its transaction (HTTP edge, token check, contract validation, event bus,
 * group commit, Redis item lock, PostgreSQL) and renders tickets, so that the JIT has compiled those paths before a
 * load balancer sends real traffic. Nothing is written: the bookings name an event that cannot exist, so their
 * transaction only locks nothing and answers 404; the tickets stay in memory. Their access-log lines are left out
 * (they carry a request id only this node knows); one line says what the warm-up did.
 */
public final class WarmUp {
  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);
  /** No event has this id (ids come from an identity starting at 1); the largest id JSON carries exactly. */
  static final long NO_EVENT = 9_007_199_254_740_991L;
  private static final int IN_FLIGHT = 32;
  /** Enough for the renderer's code to be compiled; more would only take a core from the API's warm-up. */
  private static final int MAX_TICKETS = 3_000;
  private static final String REQUEST_ID_KEY = "boxoffice.warm-up.request-id";

  private WarmUp() {
  }

  /** The request-id prefix of this node's warm-up requests (their access-log lines are skipped), or null. */
  public static String requestIdPrefix(Vertx vertx) {
    return vertx.sharedData().<String, String>getLocalMap(REQUEST_ID_KEY).get("prefix");
  }

  /** Runs the warm-up when this node serves HTTP and bookings and {@code warmup_seconds} is not 0. */
  public static Future<Void> run(Platform platform) {
    AppConfig config = platform.config();
    int seconds = config.integer("warmup_seconds");
    if (seconds <= 0 || !config.hasRole("http") || !config.hasRole("workers")) {
      return Future.succeededFuture();
    }
    Vertx vertx = platform.vertx();
    String prefix = "warm-up-" + UUID.randomUUID();
    vertx.sharedData().<String, String>getLocalMap(REQUEST_ID_KEY).put("prefix", prefix);
    String host = config.httpHost();
    if (host == null || host.equals("0.0.0.0") || host.equals("::")) {
      host = "127.0.0.1";
    }
    String token = Jwt.issue(Jwt.provider(vertx, config.string("jwt_secret")), "boxoffice-warm-up", "user",
      seconds + 60);
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host)
      .setDefaultPort(config.integer("http_port")).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(IN_FLIGHT));
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicLong requests = new AtomicLong();
    AtomicLong unexpected = new AtomicLong();
    long started = System.nanoTime();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < IN_FLIGHT; i++) {
      Promise<Void> done = Promise.promise();
      loops.add(done.future());
      loop(http, token, prefix, end, requests, unexpected, done);
    }
    Future<Integer> tickets = vertx.executeBlocking(() -> renderTickets(config.string("ticket_key"), end), false);
    return Future.join(Future.all(loops), tickets).transform(ar -> {
      http.close();
      vertx.sharedData().<String, String>getLocalMap(REQUEST_ID_KEY).remove("prefix");
      log.info("warm-up: {} bookings of no event through the API ({} answered other than 404), {} tickets rendered, "
          + "in {} ms", requests.get(), unexpected.get(), tickets.succeeded() ? tickets.result() : 0,
        (System.nanoTime() - started) / 1_000_000);
      return Future.succeededFuture();
    });
  }

  private static void loop(HttpClient http, String token, String prefix, long end, AtomicLong requests,
                           AtomicLong unexpected, Promise<Void> done) {
    if (System.nanoTime() >= end) {
      done.complete();
      return;
    }
    long n = requests.incrementAndGet();
    Buffer body = new JsonObject().put("name", "Warm Up " + n).put("email", "warm-up" + n + "@example.com")
      .put("phone", "+1 555 0100").put("event_id", NO_EVENT).put("quantity", 1).toBuffer();
    http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/bookings")
        .putHeader("Authorization", "Bearer " + token).putHeader("Content-Type", "application/json")
        .putHeader("X-Request-Id", prefix + "-" + n))
      .compose(req -> req.send(body))
      .compose(resp -> resp.body().map(b -> resp.statusCode()))
      .onComplete(ar -> {
        if (ar.failed() || ar.result() != 404) {
          unexpected.incrementAndGet();
        }
        if (ar.failed() && unexpected.get() > 100) {
          done.complete(); // the API does not answer: readiness goes on without the rest
        } else {
          loop(http, token, prefix, end, requests, unexpected, done);
        }
      });
  }

  /** Tickets of bookings that do not exist, on a worker thread as finalization renders them; how many. */
  private static int renderTickets(String ticketKey, long end) {
    TicketCodes codes = new TicketCodes(ticketKey);
    int n = 0;
    while (System.nanoTime() < end && n < MAX_TICKETS) {
      n++;
      TicketPdf.render(new TicketPdf.Data(n, "Warm Up " + n, "warm-up" + n + "@example.com", "Event",
        "Warm-up event", 1, "2026-12-31T20:00:00Z", codes.code(n)));
    }
    return n;
  }
}
