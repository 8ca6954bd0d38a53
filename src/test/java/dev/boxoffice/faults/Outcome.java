package dev.boxoffice.faults;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** One scenario's counts and violations, printed as one line ({@code name: PASS|FAIL key=value ...}). */
final class Outcome {
  final String name;
  private final Map<String, Object> counts = new LinkedHashMap<>();
  final List<String> violations = new ArrayList<>();

  Outcome(String name) {
    this.name = name;
  }

  Outcome put(String key, Object value) {
    counts.put(key, value instanceof Double d ? String.format(Locale.ROOT, "%.1f", d) : value);
    return this;
  }

  Object get(String key) {
    return counts.get(key);
  }

  /** Records a violation when {@code ok} is false. */
  void require(boolean ok, String what, Object... args) {
    if (!ok) {
      violations.add(String.format(Locale.ROOT, what, args));
    }
  }

  boolean passed() {
    return violations.isEmpty();
  }

  String line() {
    return name + ": " + (passed() ? "PASS " : "FAIL ") + counts.entrySet().stream()
      .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
  }
}
