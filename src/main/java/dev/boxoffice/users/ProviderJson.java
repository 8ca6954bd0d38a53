package dev.boxoffice.users;

import dev.boxoffice.jobs.JobFailure;
import io.vertx.core.json.JsonObject;

/** Reading the provider's JSON defensively: wrong types are treated as missing, never as a crash. */
final class ProviderJson {
  private ProviderJson() {
  }

  /** The provider's user id: a positive whole number, else the body is unusable. */
  static long id(JsonObject json, String where) {
    Object id = json.getValue("id");
    if (id instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.longValue() > 0) {
      return n.longValue();
    }
    throw JobFailure.permanent("users provider: " + where + " has no valid \"id\"");
  }

  static String requiredText(JsonObject json, String field, String where) {
    String value = text(json, field);
    if (value == null) {
      throw JobFailure.permanent("users provider: " + where + " has no \"" + field + "\"");
    }
    return value;
  }

  /** A non-blank string or number as text; null for anything else. */
  static String text(JsonObject json, String field) {
    Object v = json == null ? null : json.getValue(field);
    if (v instanceof String s) {
      return s.isBlank() ? null : s.trim();
    }
    return v instanceof Number n ? n.toString() : null;
  }

  static Double number(JsonObject json, String field) {
    Object v = json == null ? null : json.getValue(field);
    return v instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
  }

  static JsonObject object(JsonObject json, String field) {
    Object v = json == null ? null : json.getValue(field);
    return v instanceof JsonObject o ? o : null;
  }
}
