package dev.boxoffice.http;

import dev.boxoffice.platform.ConsoleLines;
import dev.boxoffice.platform.Traces;
import io.opentelemetry.api.trace.Span;
import dev.boxoffice.ops.WarmUp;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.auth.User;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One line per request on the logger {@code boxoffice.access} (INFO; {@code BOXOFFICE_ACCESS_LOG=off}, or that
 * logger's level, turns it off): method, route (the contract's path template, {@code /bookings/{id}}, never the raw
 * path with its ids), status, duration in ms, the account ({@code -} without a token) and the request id. The
 * request id is the client's {@code X-Request-Id} when it is a sane one (1 to 128 of {@code [A-Za-z0-9._:-]}), else a
 * new one, and is echoed in the response's {@code X-Request-Id}. In JSON logs each field is a field of its own.
 *
 * <p>Also: {@code HEAD} is answered wherever {@code GET} is (the GET route runs; the server sends no body).
 */
public final class AccessLog {
  public static final String HEADER = "X-Request-Id";
  private static final String REQUEST_ID = "access.request_id";
  private static final String METHOD = "access.method";
  private static final String ROUTE = "access.route";
  private static final Logger log = LoggerFactory.getLogger("boxoffice.access");
  private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private AccessLog() {
  }

  /** A request of this node's own warm-up ({@link WarmUp}): its line is encoded, not written. */
  private static boolean warmUp(RoutingContext rc, String requestId) {
    if (requestId == null || !requestId.startsWith("warm-up-")) {
      return false;
    }
    String prefix = WarmUp.requestIdPrefix(rc.vertx());
    return prefix != null && requestId.startsWith(prefix);
  }

  /**
   * The first handler of the root router. {@code templateOf} gives the contract's template of a path (null when
   * the contract has none), for requests that never reached their operation's handlers (refused by validation).
   */
  static Handler<RoutingContext> handler(boolean enabled, UnaryOperator<String> templateOf) {
    return rc -> {
      if (rc.get(REQUEST_ID) != null) { // a HEAD rerouted as GET passes here again
        rc.response().putHeader(HEADER, rc.<String>get(REQUEST_ID)); // the reroute cleared the response's headers
        rc.next();
        return;
      }
      long start = System.nanoTime();
      String incoming = rc.request().getHeader(HEADER);
      String id = incoming != null && SANE_ID.matcher(incoming).matches() ? incoming : UUID.randomUUID().toString();
      rc.put(REQUEST_ID, id);
      rc.put(METHOD, rc.request().method().name());
      rc.response().putHeader(HEADER, id);
      if (enabled && log.isInfoEnabled()) {
        // the warm-up's lines are encoded (so that the encoder is compiled before readiness), never written
        Marker marker = warmUp(rc, incoming) ? ConsoleLines.REHEARSAL : null;
        // the request's span has ended (and left its context) when the end handler runs: the line is written in it
        // again, so that it carries the request's trace id like every other line of the request
        io.opentelemetry.context.Context trace = Traces.currentContext();
        rc.addEndHandler(ended -> {
          if (trace == null) {
            line(rc, templateOf, ended.succeeded(), start, id, marker);
          } else {
            Traces.inSpan(trace, () -> line(rc, templateOf, ended.succeeded(), start, id, marker));
          }
        });
      }
      if (rc.request().method() == HttpMethod.HEAD) {
        rc.reroute(HttpMethod.GET, rc.request().uri());
        return;
      }
      rc.next();
    };
  }

  private static void line(RoutingContext rc, UnaryOperator<String> templateOf, boolean ended, long start, String id,
                           Marker marker) {
    log.info(marker, "{} {} {} {} {} {}", kv("method", rc.get(METHOD)), kv("route", route(rc, templateOf)),
      kv("status", ended ? rc.response().getStatusCode() : 499),
      kv("duration_ms", (System.nanoTime() - start) / 1_000_000), kv("account", account(rc)), kv("request_id", id));
  }

  /**
   * Marks the request as served by the contract's {@code template}: the route the access line names, and (traced)
   * the name of the request's span, {@code POST /bookings}, as OpenTelemetry's HTTP conventions name a server span.
   */
  static Handler<RoutingContext> route(String template) {
    return rc -> {
      rc.put(ROUTE, template);
      Span span = Traces.currentSpan();
      if (span != null) {
        span.updateName(method(rc) + " " + template).setAttribute("http.route", template);
      }
      rc.next();
    };
  }

  /** The request's id (null before the access handler ran). */
  public static String requestId(RoutingContext rc) {
    return rc.get(REQUEST_ID);
  }

  /** The request's method as the client sent it (a HEAD is rerouted as GET). */
  static String method(RoutingContext rc) {
    String method = rc.get(METHOD);
    return method != null ? method : rc.request().method().name();
  }

  /** How warnings name a request: {@code GET /bookings/{id} (request 4f1c...)}. */
  static String describe(RoutingContext rc) {
    String route = rc.get(ROUTE);
    return method(rc) + " " + (route != null ? route : rc.request().path()) + " (request " + requestId(rc) + ")";
  }

  private static String route(RoutingContext rc, UnaryOperator<String> templateOf) {
    String route = rc.get(ROUTE);
    if (route != null) {
      return route;
    }
    String template = templateOf.apply(rc.normalizedPath());
    if (template != null) {
      return template;
    }
    Route current = rc.currentRoute(); // routes outside the contract: /metrics, /openapi.yaml, /docs
    return current != null && current.getPath() != null ? current.getPath() : "-";
  }

  private static String account(RoutingContext rc) {
    User user = rc.user();
    String sub = user == null ? null : user.principal().getString("sub");
    return sub == null ? "-" : sub;
  }
}
