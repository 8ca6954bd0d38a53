package dev.boxoffice.platform;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * A refusal the API answers with: an HTTP status and the uniform error body {@code {"error": text, ...details}}.
 * A 422 names its fields as {@code "fields": [{"field", "message"}]}. Handlers fail (or throw) with one;
 * {@link ApiHandlers} carries it over the bus and the HTTP edge writes it back unchanged.
 */
public final class Failure extends RuntimeException {
  private final int status;
  private final JsonObject details = new JsonObject();

  private Failure(int status, String error) {
    super(error, null, false, false); // an expected answer, not a bug: no stack trace
    this.status = status;
  }

  /** Any status, for the edge's own answers outside the vocabulary below (400, 405, 413, 415, 504). */
  public static Failure of(int status, String error) {
    return new Failure(status, error);
  }

  /** 422 for one field: {@code "Invalid fields: <field>"}. */
  public static Failure invalid(String field, String message) {
    return invalid("Invalid fields: " + field, Map.of(field, message));
  }

  /** 422 for several fields (in the map's order): {@code "Invalid fields: a, b"}. */
  public static Failure invalid(Map<String, String> fields) {
    return invalid("Invalid fields: " + String.join(", ", fields.keySet()), fields);
  }

  /** 422 with an error text of its own; every 422 body is built here. */
  public static Failure invalid(String error, Map<String, String> fields) {
    JsonArray list = new JsonArray();
    fields.forEach((f, m) -> list.add(new JsonObject().put("field", f).put("message", m)));
    return new Failure(422, error).with("fields", list);
  }

  public static Failure unauthorized(String error) {
    return new Failure(401, error);
  }

  public static Failure forbidden(String error) {
    return new Failure(403, error);
  }

  public static Failure notFound(String error) {
    return new Failure(404, error);
  }

  public static Failure conflict(String error) {
    return new Failure(409, error);
  }

  public static Failure tooManyRequests(String error, long retryAfterSeconds) {
    return new Failure(429, error).with("retry_after", retryAfterSeconds);
  }

  public static Failure unavailable(String error) {
    return new Failure(503, error);
  }

  /** The answer to a bug: the client learns nothing of it (the handler's side logs it). */
  public static Failure internal() {
    return new Failure(500, "Internal server error");
  }

  /** Adds a member to the body beside {@code "error"} (e.g. the {@code "status"} a 409 refused). */
  public Failure with(String key, Object value) {
    details.put(key, value);
    return this;
  }

  /** Adds every member of {@code extra} to the body. */
  public Failure with(JsonObject extra) {
    extra.forEach(e -> details.put(e.getKey(), e.getValue()));
    return this;
  }

  public int status() {
    return status;
  }

  /** The error text ({@code "error"} of the body). */
  public String error() {
    return getMessage();
  }

  /** The HTTP body: {@code "error"} first, then the details. */
  public JsonObject body() {
    return new JsonObject().put("error", getMessage()).mergeIn(details.copy());
  }

  /** As a bus failure: the status as code; the error text, or the whole body as JSON when it has details. */
  public ReplyException toReply() {
    String text = details.isEmpty() ? getMessage() : body().encode();
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, status, text);
  }

  /** Reads a bus failure written by {@link #toReply()}; {@code fallback} when it carries no text. */
  public static Failure fromReply(int code, String text, String fallback) {
    if (text != null && text.startsWith("{")) {
      try {
        JsonObject body = new JsonObject(text);
        Object error = body.remove("error");
        return new Failure(code, error == null ? fallback : error.toString()).with(body);
      } catch (DecodeException e) {
        // plain text that happens to start with a brace
      }
    }
    return new Failure(code, text == null ? fallback : text);
  }

  @Override
  public String toString() {
    return "Failure " + status + ": " + body().encode();
  }
}
