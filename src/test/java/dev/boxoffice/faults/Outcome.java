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

  /** The counts every scenario reports come first, in this order; the scenario's own follow. */
  private static final List<String> LEADING = List.of("accepted", "final", "lost", "oversold", "duplicate_emails",
    "recovery_s");

  String line() {
    Map<String, Object> ordered = new LinkedHashMap<>();
    LEADING.stream().filter(counts::containsKey).forEach(k -> ordered.put(k, counts.get(k)));
    ordered.putAll(counts);
    return name + ": " + (passed() ? "PASS " : "FAIL ") + ordered.entrySet().stream()
      .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
  }
}
