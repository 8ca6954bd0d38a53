package dev.boxoffice.platform;

import ch.qos.logback.core.PropertyDefinerBase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 *
 * <p>Without a format the logs are TEXT when standard output (where they go) is a terminal, for the person reading
 * it, and JSON lines everywhere else (a pipe, a file, a container's log, a service manager), for whatever collects
 * them. Only standard output decides: standard input redirected ({@code < /dev/null}, a password piped into the
 * {@code accounts} command) or standard error redirected leaves a terminal a terminal. {@link System#console()} is
 * not that test: on Java 17 it is null as soon as standard input is not a terminal either, and from Java 22 on it
 * is not null even when nothing is a terminal. So on Linux the test reads what file descriptor 1 is
 * ({@code /proc/self/fd/1} → {@code /dev/pts/N}, {@code /dev/ttyN}, {@code /dev/console}); elsewhere it falls back
 * to {@code System.console() != null}, which on Java 17 asks for standard input and output both to be terminals.
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
    return "level".equals(setting) ? level(System.getenv()) : format(System.getenv(), stdoutIsTerminal());
  }

  /** The appender's name: JSON or TEXT; without a (valid) format, TEXT only on a terminal. */
  static String format(Map<String, String> env, boolean terminal) {
    String v = value(env, "BOXOFFICE_LOG_FORMAT");
    if (v != null && FORMATS.contains(v)) {
      return v.toUpperCase(Locale.ROOT);
    }
    return terminal ? "TEXT" : "JSON";
  }

  /** Whether standard output is a terminal (see the class comment for why not {@link System#console()}). */
  static boolean stdoutIsTerminal() {
    Path fd = Path.of("/proc/self/fd/1");
    if (Files.isDirectory(Path.of("/proc/self/fd"))) {
      try {
        return isTerminalDevice(Files.readSymbolicLink(fd).toString());
      } catch (IOException | UnsupportedOperationException | SecurityException e) {
        return false; // standard output closed, or unreadable: nobody is watching it
      }
    }
    return System.console() != null;
  }

  /** What a terminal's file descriptor links to on Linux (pipes read {@code pipe:[n]}, files their path). */
  static boolean isTerminalDevice(String target) {
    return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
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
