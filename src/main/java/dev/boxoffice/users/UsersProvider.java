package dev.boxoffice.users;

import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.platform.Failures;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Client of a DummyJSON-compatible user directory: {@code GET /users?limit&skip} and {@code GET /users/{id}}.
 *
 * <p>Failures are sorted for the job engine. Network errors, timeouts, 5xx and 429 are tried again here a few times
 * with exponential backoff and jitter, then fail the attempt as retryable (the engine retries later). Any other 4xx
 * and a body that is not the expected JSON shape fail permanently: asking again would get the same answer.
 *
 * <p>Error texts name the request and the status, never a response body: a detail body carries the full card
 * number, and a parser's message may quote the body.
 */
public final class UsersProvider {
  /** The list call asks only for directory fields (DummyJSON honours {@code select}; others may ignore it). */
  static final String DIRECTORY_FIELDS = "id,firstName,lastName,email,phone,username";

  private final Vertx vertx;
  private final WebClient client;
  private final String base;
  private final long timeoutMs;
  private final int tries;
  private final long backoffMs;

  /**
   * @param timeoutMs per request (connect, idle and overall)
   * @param tries     calls per request before the attempt fails (at least 1)
   * @param backoffMs delay before the second call; doubles for each further one, with jitter
   */
  public UsersProvider(Vertx vertx, String baseUrl, long timeoutMs, int tries, long backoffMs) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx, new WebClientOptions()
      .setUserAgent("boxoffice-users-sync")
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs))
      .setFollowRedirects(true));
    this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.timeoutMs = timeoutMs;
    this.tries = Math.max(1, tries);
    this.backoffMs = backoffMs;
  }

  /** One page of the directory. */
  public record Page(List<DirectoryUser> users, long total) {
  }

  public Future<Page> page(int skip, int limit) {
    String uri = "/users?limit=" + limit + "&skip=" + skip + "&select=" + DIRECTORY_FIELDS;
    return getJson(uri, false).map(body -> parsePage(body.orElseThrow(), "GET " + base + uri));
  }

  /** The user's detail reduced to what we keep; empty when the provider does not know the user (404). */
  public Future<Optional<ProviderUser>> user(long externalId) {
    String uri = "/users/" + externalId;
    return getJson(uri, true).map(body -> body.map(json -> ProviderUser.from(json, externalId, "GET " + base + uri)));
  }

  public void close() {
    client.close();
  }

  static Page parsePage(JsonObject body, String where) {
    Object users = body.getValue("users");
    if (!(users instanceof JsonArray list)) {
      throw JobFailure.permanent("users provider: " + where + " answered without a \"users\" array");
    }
    List<DirectoryUser> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      out.add(DirectoryUser.from(list.getValue(i), where + " (user #" + (i + 1) + " of the page)"));
    }
    Object total = body.getValue("total");
    if (!(total instanceof Number n) || n.longValue() < 0) {
      throw JobFailure.permanent("users provider: " + where + " answered without a valid \"total\"");
    }
    return new Page(out, n.longValue());
  }

  /** GET with retries; the body as a JSON object, or empty for a 404 when {@code notFoundIsEmpty}. */
  private Future<Optional<JsonObject>> getJson(String uri, boolean notFoundIsEmpty) {
    String what = "GET " + base + uri;
    return attempt(what, uri, 1).compose(response -> {
      int status = response.statusCode();
      if (status == 404 && notFoundIsEmpty) {
        return Future.succeededFuture(Optional.empty());
      }
      if (status < 200 || status > 299) {
        return Future.failedFuture(JobFailure.permanent("users provider: " + what + " answered HTTP " + status
          + " (not retried: the request itself is refused)"));
      }
      JsonObject json;
      try {
        Buffer body = response.body();
        Object parsed = body == null ? null : body.toJsonValue();
        if (!(parsed instanceof JsonObject o)) {
          return Future.failedFuture(JobFailure.permanent("users provider: " + what
            + " answered a body that is not a JSON object"));
        }
        json = o;
      } catch (RuntimeException notJson) {
        // the parser's message may quote the body (card numbers): say only what was wrong
        return Future.failedFuture(JobFailure.permanent("users provider: " + what
          + " answered a malformed body (not JSON)"));
      }
      return Future.succeededFuture(Optional.of(json));
    });
  }

  /** One call, then more on transient failures; resolves with a response that is final (success or not). */
  private Future<HttpResponse<Buffer>> attempt(String what, String uri, int n) {
    Future<HttpResponse<Buffer>> call = client.getAbs(base + uri)
      .putHeader("Accept", "application/json")
      .idleTimeout(timeoutMs)
      .send()
      .timeout(timeoutMs, TimeUnit.MILLISECONDS);
    Promise<HttpResponse<Buffer>> outcome = Promise.promise();
    call.onComplete(ar -> {
      String transientProblem;
      long retryAfterMs = -1;
      if (ar.failed()) {
        transientProblem = describe(ar.cause());
      } else if (ar.result().statusCode() >= 500 || ar.result().statusCode() == 429) {
        transientProblem = "HTTP " + ar.result().statusCode();
        retryAfterMs = retryAfterMillis(ar.result().getHeader("Retry-After"));
      } else {
        outcome.complete(ar.result());
        return;
      }
      if (n >= tries) {
        outcome.fail(JobFailure.retryable("users provider: " + what + " failed after " + n
          + (n == 1 ? " try" : " tries") + ": " + transientProblem));
        return;
      }
      long delay = retryAfterMs >= 0 ? retryAfterMs : backoff(n);
      vertx.setTimer(Math.max(1, delay), t -> attempt(what, uri, n + 1).onComplete(outcome));
    });
    return outcome.future();
  }

  /** Exponential with "equal jitter": half the step fixed, half random, so a burst of retries spreads out. */
  private long backoff(int triesSoFar) {
    long step = backoffMs * (1L << Math.min(10, triesSoFar - 1));
    return step / 2 + ThreadLocalRandom.current().nextLong(step / 2 + 1);
  }

  /** A Retry-After in seconds, capped so one attempt never sleeps long; -1 when absent or not a number. */
  private long retryAfterMillis(String header) {
    if (header == null) {
      return -1;
    }
    try {
      return Math.min(Long.parseLong(header.trim()) * 1000, Math.max(backoffMs * 8, 5_000));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private String describe(Throwable err) {
    if (err instanceof java.util.concurrent.TimeoutException
      || err instanceof io.netty.handler.timeout.TimeoutException
      || (err.getMessage() != null && err.getMessage().toLowerCase().contains("timeout"))) {
      return "no answer within " + timeoutMs + " ms";
    }
    return Failures.text(err);
  }
}
