package dev.boxoffice.http;

import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Failures;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorErrorType;
import io.vertx.openapi.validation.ValidatorException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns every failure into a {@link Failure}: the uniform JSON error body and its status; never a stack trace. */
public final class ApiErrors {
  private static final Pattern PARAMETER = Pattern.compile("(path|query|header|cookie) parameter (\\S+?)[ .]");
  private static final Pattern REQUIRED = Pattern.compile("required property \"?([^\"\\s]+)\"?");
  private static final Pattern DEPENDENT = Pattern.compile("has \"?([^\"\\s]+)\"? but does not match dependant schema");
  private static final Pattern GENERIC = Pattern.compile("does not match schema", Pattern.CASE_INSENSITIVE);

  private ApiErrors() {
  }

  public static Failure from(Throwable failure, int statusHint) {
    ValidatorException validation = find(failure, ValidatorException.class);
    if (validation != null) {
      return validation(validation);
    }
    if (failure instanceof Failure known) {
      return known;
    }
    if (failure instanceof ReplyException reply) {
      return reply(reply);
    }
    if (failure instanceof HttpException http) {
      return Failure.of(http.getStatusCode(), defaultMessage(http.getStatusCode()));
    }
    if (statusHint >= 400 && statusHint < 500) {
      return Failure.of(statusHint, defaultMessage(statusHint));
    }
    return Failure.internal();
  }

  static Failure reply(ReplyException reply) {
    if (Bus.notTaken(reply)) { // no member took it, after the edge's retries: nothing was done
      return Failure.unavailable("No worker node is serving this request right now; try again shortly")
        .with("retry_after", 1);
    }
    switch (reply.failureType()) {
      case NO_HANDLERS:
        return Failure.unavailable("No worker node is serving this request right now; try again shortly")
          .with("retry_after", 1);
      case TIMEOUT:
        return Failure.of(504, "The request timed out in the cluster; it may still complete");
      default:
        int code = reply.failureCode();
        if (code < 400 || code > 599) {
          return Failure.internal();
        }
        return Failure.fromReply(code, reply.getMessage(), defaultMessage(code));
    }
  }

  private static Failure validation(ValidatorException e) {
    String message = Failures.text(e);
    // a parameter that cannot be decoded (e.g. a NUL in a query string) is named below; only the body is JSON
    if (e.type() == ValidatorErrorType.ILLEGAL_VALUE && message.contains("can't be decoded")
      && !PARAMETER.matcher(message + " ").find()) {
      return Failure.of(400, "Malformed JSON in request body");
    }
    if (e.type() == ValidatorErrorType.UNSUPPORTED_VALUE_FORMAT && message.contains("body is not supported")) {
      return Failure.of(415, "Unsupported content type; send application/json");
    }
    if (e.type() == ValidatorErrorType.MISSING_REQUIRED_PARAMETER && message.contains("required body")) {
      return Failure.invalid("Request body is required", Map.of("body", "is required"));
    }
    Map<String, String> fields = new LinkedHashMap<>();
    Matcher param = PARAMETER.matcher(message + " ");
    if (param.find()) {
      fields.put(param.group(2), "is missing or invalid");
    }
    if (e instanceof SchemaValidationException schema && schema.getOutputUnit() != null && fields.isEmpty()) {
      collect(schema.getOutputUnit(), fields);
    }
    return fields.isEmpty() ? Failure.invalid("Request does not match the contract", fields) : Failure.invalid(fields);
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
    Matcher dependent = DEPENDENT.matcher(error);
    if (required.find()) {
      name = (name.isEmpty() ? "" : name + ".") + required.group(1);
      error = "is required";
    } else if (dependent.find()) { // e.g. event_id given with product_id: name the field, not the whole body
      name = (name.isEmpty() ? "" : name + ".") + dependent.group(1);
      error = "is not allowed together with another field of this request";
    }
    String key = name.isEmpty() ? "body" : name;
    // the validator reports both "does not match schema" and the specific reason; keep the specific one
    String known = fields.get(key);
    if (known == null || (GENERIC.matcher(known).find() && !GENERIC.matcher(error).find())) {
      fields.put(key, error);
    }
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
