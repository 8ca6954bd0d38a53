package dev.boxoffice.platform;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * Which text PostgreSQL can keep. It refuses NUL in {@code text} and {@code jsonb} (and {@code \u0000} escapes in
 * jsonb), and a lone UTF-16 surrogate has no UTF-8 form (the driver turns it into '?' or the server refuses it). One
 * such value in a group commit used to fail the whole transaction, so it is refused up front, per field:
 * <ul>
 *   <li>a <b>field</b> (name, e-mail, title, query parameter...) takes no C0 control character except tab, and no
 *   lone surrogate: the product never needs them there, and they are how poisoned input usually arrives;</li>
 *   <li><b>free text</b> (a task's {@code payload}, the {@code data} of {@code /submit}) is the user's own document:
 *   line breaks and other controls are kept; only what jsonb cannot store is refused (NUL, lone surrogates).</li>
 * </ul>
 */
public final class StorableText {
  /** The 422 message for a field that breaks {@link #fieldProblem}. */
  public static final String FIELD_MESSAGE =
    "contains characters that cannot be stored (NUL, control characters other than tab, or unpaired surrogates)";
  /** The 422 message for free text that breaks {@link #freeTextProblem}. */
  public static final String FREE_TEXT_MESSAGE = "contains characters that cannot be stored (NUL or unpaired surrogates)";

  private StorableText() {
  }

  /** True when {@code s} is fine as a field: no C0 control except tab, no lone surrogate. */
  public static boolean isField(String s) {
    return firstBad(s, true) < 0;
  }

  /** True when {@code s} is fine as free text: no NUL, no lone surrogate. */
  public static boolean isFreeText(String s) {
    return firstBad(s, false) < 0;
  }

  /**
   * The path of the first string in {@code value} (any JSON value; object keys included) that cannot be stored, or
   * null. {@code path} names {@code value} itself; members are {@code path.key}, elements {@code path.index}.
   */
  public static String firstBad(Object value, String path, boolean field) {
    if (value instanceof String s) {
      return firstBad(s, field) < 0 ? null : path;
    }
    if (value instanceof JsonObject o) {
      value = o.getMap();
    } else if (value instanceof JsonArray a) {
      value = a.getList();
    }
    if (value instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String key = String.valueOf(e.getKey());
        if (firstBad(key, field) >= 0) {
          return path; // the key itself is bad: name the object that holds it, never echo the key
        }
        String bad = firstBad(e.getValue(), path.isEmpty() ? key : path + "." + key, field);
        if (bad != null) {
          return bad;
        }
      }
    } else if (value instanceof Iterable<?> list) {
      int i = 0;
      for (Object item : list) {
        String bad = firstBad(item, path + "." + i++, field);
        if (bad != null) {
          return bad;
        }
      }
    }
    return null;
  }

  /** The index of the first character that cannot be stored, or -1. */
  private static int firstBad(String s, boolean field) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == 0 || (field && c < 0x20 && c != '\t')) {
        return i;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++; // a pair: one supplementary character, fine
          continue;
        }
        return i;
      }
      if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }
}
