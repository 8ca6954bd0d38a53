package dev.boxoffice.platform;

import ch.qos.logback.core.PropertyDefinerBase;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code BOXOFFICE_LOG_FORMAT} ({@code json} or {@code text}) and {@code BOXOFFICE_LOG_LEVEL} (TRACE, DEBUG, INFO,
 * WARN, ERROR or OFF), both case-insensitive. logback.xml reads them through this class
 * ({@code <define ... class="dev.boxoffice.platform.LogSettings"><setting>format</setting></define>}) so that
 * {@code text} names the TEXT appender: naming an appender that does not exist printed nothing at all, not even the
 * error that stopped the node. A value that is neither logs with the default, and {@link #problems} refuses the
 * start.
 */
public final class LogSettings extends PropertyDefinerBase {
  static final List<String> FORMATS = List.of("json", "text");
  static final List<String> LEVELS = List.of("trace", "debug", "info", "warn", "error", "off");
  private String setting = "format";

  /** Which value to give logback.xml: {@code format} or {@code level}. */
  public void setSetting(String setting) {
    this.setting = setting;
  }

  @Override
  public String getPropertyValue() {
    return "level".equals(setting) ? level(System.getenv()) : format(System.getenv());
  }

  /** The appender's name: JSON or TEXT. */
  static String format(Map<String, String> env) {
    String v = value(env, "BOXOFFICE_LOG_FORMAT");
    return v != null && FORMATS.contains(v) ? v.toUpperCase(Locale.ROOT) : "JSON";
  }

  static String level(Map<String, String> env) {
    String v = value(env, "BOXOFFICE_LOG_LEVEL");
    return v != null && LEVELS.contains(v) ? v.toUpperCase(Locale.ROOT) : "INFO";
  }

  /** What is wrong with the two variables, for the start's refusal. */
  static List<String> problems(Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    String format = value(env, "BOXOFFICE_LOG_FORMAT");
    if (format != null && !FORMATS.contains(format)) {
      problems.add("BOXOFFICE_LOG_FORMAT must be one of json, text (got " + env.get("BOXOFFICE_LOG_FORMAT").trim()
        + ")");
    }
    String level = value(env, "BOXOFFICE_LOG_LEVEL");
    if (level != null && !LEVELS.contains(level)) {
      problems.add("BOXOFFICE_LOG_LEVEL must be one of " + String.join(", ", LEVELS) + " (got "
        + env.get("BOXOFFICE_LOG_LEVEL").trim() + ")");
    }
    return problems;
  }

  /** Lower case, trimmed; null when unset or blank (the default). */
  private static String value(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v.trim().toLowerCase(Locale.ROOT);
  }
}
