package dev.boxoffice.platform;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The environment's part of the settings: {@code BOXOFFICE_<KEY>} for each key, {@code BOXOFFICE_<KEY>_FILE} to
 * read the value from a file (secrets mounted by Docker or Kubernetes; one trailing line break is dropped).
 *
 * <ul>
 *   <li>A blank value turns off what can be turned off ({@link Settings#BLANK_DISABLES}: the built-in schedules);
 *   for any other setting it counts as unset, so the file's value or the default stays.</li>
 *   <li>A {@code BOXOFFICE_*} variable that is no setting refuses the start, naming the nearest known variable; the
 *   variables read elsewhere are known too ({@link #OTHER_VARIABLES}, and {@code BOXOFFICE_TEST_*} for tests).</li>
 *   <li>{@code BOXOFFICE_LOG_LEVEL} and {@code BOXOFFICE_LOG_FORMAT} (read by logback.xml through
 *   {@link LogSettings}) are checked here, so that a wrong one refuses the start instead of changing the logs.</li>
 * </ul>
 */
final class SettingsEnv {
  private static final String PREFIX = "BOXOFFICE_";
  private static final String FILE_SUFFIX = "_FILE";
  /** Variables that are not keys of conf/boxoffice.json but are read by this service. */
  static final Set<String> OTHER_VARIABLES = Set.of("BOXOFFICE_CONFIG", "BOXOFFICE_LOG_LEVEL", "BOXOFFICE_LOG_FORMAT");
  /** Variables of the test suite, read by the tests' own support. */
  private static final String TEST_PREFIX = "BOXOFFICE_TEST_";

  private SettingsEnv() {
  }

  /**
   * Puts the environment's values into {@code merged} (the defaults and the file); {@code fileKeys} are the keys the
   * configuration file set. Throws one {@link IllegalStateException} listing every problem.
   */
  static void apply(JsonObject merged, Set<String> fileKeys, Map<String, String> env, Set<String> known) {
    List<String> problems = new ArrayList<>();
    for (String key : fileKeys) {
      if (!known.contains(key)) {
        problems.add("unknown setting \"" + key + "\" in the configuration file" + hint(key, known));
      }
    }
    Set<String> names = new TreeSet<>(OTHER_VARIABLES);
    known.forEach(k -> {
      names.add(AppConfig.envName(k));
      names.add(AppConfig.envName(k) + FILE_SUFFIX);
    });
    for (String name : new TreeSet<>(env.keySet())) {
      if (name.startsWith(PREFIX) && !names.contains(name) && !name.startsWith(TEST_PREFIX)) {
        String nearest = nearest(name, names);
        problems.add("unknown variable " + name + (nearest != null ? " (did you mean " + nearest + "?)"
          : " (java -jar boxoffice.jar --help lists the settings)"));
      }
    }
    for (String key : known) {
      String name = AppConfig.envName(key);
      String value = env.get(name);
      String file = env.get(name + FILE_SUFFIX);
      if (file != null && !file.isBlank()) {
        if (value != null && !value.isBlank()) {
          problems.add("both " + name + " and " + name + FILE_SUFFIX + " are set; set one");
          continue;
        }
        try {
          value = Files.readString(Path.of(file.trim()), StandardCharsets.UTF_8).replaceFirst("\\r?\\n$", "");
        } catch (IOException | RuntimeException e) {
          problems.add(name + FILE_SUFFIX + ": cannot read " + file.trim() + " (" + e.getClass().getSimpleName() + ")");
          continue;
        }
      }
      if (value == null) {
        continue;
      }
      if (!value.isBlank()) {
        merged.put(key, value);
      } else if (Settings.BLANK_DISABLES.contains(key)) {
        merged.put(key, "off");
      }
    }
    problems.addAll(LogSettings.problems(env));
    if (!problems.isEmpty()) {
      throw new IllegalStateException(String.join("; ", problems));
    }
  }

  private static String hint(String key, Set<String> known) {
    String nearest = nearest(key, known);
    return nearest == null ? "" : " (did you mean \"" + nearest + "\"?)";
  }

  /** The known name closest to {@code name}, if it is close enough to be a misspelling. */
  static String nearest(String name, Set<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int d = distance(name.toUpperCase(Locale.ROOT), candidate.toUpperCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    String stem = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
    return bestDistance <= Math.max(2, stem.length() / 3) ? best : null;
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
