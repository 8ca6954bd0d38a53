package dev.boxoffice.http;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorErrorType;
import io.vertx.openapi.validation.ValidatorException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns every failure into the uniform JSON error body and its HTTP status; never leaks a stack trace. */
public final class ApiErrors {
  private static final Pattern PARAMETER = Pattern.compile("(path|query|header|cookie) parameter (\\S+?)[ .]");
  private static final Pattern REQUIRED = Pattern.compile("required property \"?([^\"\\s]+)\"?");
  private static final Pattern GENERIC = Pattern.compile("does not match schema", Pattern.CASE_INSENSITIVE);

  private ApiErrors() {
  }

  /** A mapped error: status plus JSON body. */
  public record ApiError(int status, JsonObject body) {
  }

  public static ApiError of(int status, String message) {
    return new ApiError(status, new JsonObject().put("error", message));
  }

  public static ApiError from(Throwable failure, int statusHint) {
    ValidatorException validation = find(failure, ValidatorException.class);
    if (validation != null) {
      return validation(validation);
    }
    if (failure instanceof ReplyException reply) {
      return reply(reply);
    }
    if (failure instanceof HttpException http) {
      return of(http.getStatusCode(), defaultMessage(http.getStatusCode()));
    }
    if (statusHint >= 400 && statusHint < 500) {
      return of(statusHint, defaultMessage(statusHint));
    }
    return of(500, "Internal server error");
  }

  static ApiError reply(ReplyException reply) {
    switch (reply.failureType()) {
      case NO_HANDLERS:
        return of(503, "No worker node is serving this request right now; try again shortly");
      case TIMEOUT:
        return of(504, "The request timed out in the cluster; it may still complete");
      default:
        int code = reply.failureCode();
        String message = reply.getMessage();
        if (code < 400 || code > 599) {
          return of(500, "Internal server error");
        }
        if (message != null && message.startsWith("{")) {
          return new ApiError(code, new JsonObject(message));
        }
        return of(code, message == null ? defaultMessage(code) : message);
    }
  }

  private static ApiError validation(ValidatorException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (e.type() == ValidatorErrorType.ILLEGAL_VALUE && message.contains("can't be decoded")) {
      return of(400, "Malformed JSON in request body");
    }
    if (e.type() == ValidatorErrorType.UNSUPPORTED_VALUE_FORMAT && message.contains("body is not supported")) {
      return of(415, "Unsupported content type; send application/json");
    }
    if (e.type() == ValidatorErrorType.MISSING_REQUIRED_PARAMETER && message.contains("required body")) {
      return new ApiError(422, new JsonObject().put("error", "Request body is required")
        .put("fields", new JsonArray().add(field("body", "is required"))));
    }
    Map<String, String> fields = new LinkedHashMap<>();
    Matcher param = PARAMETER.matcher(message + " ");
    if (param.find()) {
      fields.put(param.group(2), "is missing or invalid");
    }
    if (e instanceof SchemaValidationException schema && schema.getOutputUnit() != null && fields.isEmpty()) {
      collect(schema.getOutputUnit(), fields);
    }
    JsonArray list = new JsonArray();
    fields.forEach((f, m) -> list.add(field(f, m)));
    String names = String.join(", ", fields.keySet());
    return new ApiError(422, new JsonObject()
      .put("error", fields.isEmpty() ? "Request does not match the contract" : "Invalid fields: " + names)
      .put("fields", list));
  }

  private static void collect(OutputUnit unit, Map<String, String> fields) {
    if (unit.getErrors() != null && !unit.getErrors().isEmpty()) {
      unit.getErrors().forEach(u -> collect(u, fields));
      return;
    }
    String error = unit.getError();
    if (error == null) {
      return;
    }
    String location = unit.getInstanceLocation() == null ? "" : unit.getInstanceLocation();
    String name = location.replaceFirst("^#?/?", "").replace('/', '.');
    Matcher required = REQUIRED.matcher(error);
    if (required.find()) {
      name = (name.isEmpty() ? "" : name + ".") + required.group(1);
      error = "is required";
    }
    String key = name.isEmpty() ? "body" : name;
    // the validator reports both "does not match schema" and the specific reason; keep the specific one
    String known = fields.get(key);
    if (known == null || (GENERIC.matcher(known).find() && !GENERIC.matcher(error).find())) {
      fields.put(key, error);
    }
  }

  private static JsonObject field(String name, String message) {
    return new JsonObject().put("field", name).put("message", message);
  }

  private static <T> T find(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }

  static String defaultMessage(int status) {
    return switch (status) {
      case 400 -> "Bad request";
      case 401 -> "Missing or invalid bearer token";
      case 403 -> "Forbidden for your role";
      case 404 -> "Not found";
      case 405 -> "Method not allowed";
      case 409 -> "Conflict with the current state";
      case 413 -> "Request body too large";
      case 415 -> "Unsupported content type; send application/json";
      case 422 -> "Request does not match the contract";
      case 429 -> "Too many requests";
      case 503 -> "Service unavailable";
      default -> "Request failed";
    };
  }
}
