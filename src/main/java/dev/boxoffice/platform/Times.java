package dev.boxoffice.platform;

import java.time.OffsetDateTime;

/** Timestamps in JSON: RFC 3339 in UTC, or null. */
public final class Times {
  private Times() {
  }

  public static String ts(OffsetDateTime t) {
    return t == null ? null : t.toInstant().toString();
  }
}
