package dev.boxoffice.http;

import dev.boxoffice.platform.Failure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Requests broken below the contract's level, answered with the status their fault deserves rather than the
 * framework's: a query string whose percent-escapes do not decode (the validator threw on it, a 500) and an
 * {@code Authorization: Bearer} header without a token (the auth handler's 400).
 */
final class MalformedRequests {
  private MalformedRequests() {
  }

  /** First handler of every request: a query string that cannot be decoded is a 400, before any route sees it. */
  static void refuseBadQuery(RoutingContext rc) {
    String query = rc.request().query();
    if (query != null && query.indexOf('%') >= 0) {
      try {
        URLDecoder.decode(query, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        ApiVerticle.respondError(rc, Failure.of(400, "Malformed query string: bad percent-escape"));
        return;
      }
    }
    rc.next();
  }

  /**
   * The auth handler answers 400 to {@code "Bearer"} or {@code "Bearer "} (no token after the scheme): for the
   * client that is a missing credential, so 401 with {@code WWW-Authenticate}; any other failure unchanged.
   */
  static Failure bearerWithoutToken(RoutingContext rc, Failure error) {
    String authorization = rc.request().getHeader(HttpHeaders.AUTHORIZATION);
    boolean noToken = authorization != null && authorization.trim().equalsIgnoreCase("bearer");
    return noToken && error.status() == 400
      && (rc.failure() == null || rc.failure() instanceof HttpException)
      ? Failure.unauthorized("Missing or invalid bearer token") : error;
  }
}
