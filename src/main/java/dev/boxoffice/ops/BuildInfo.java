package dev.boxoffice.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What this build is: the project version and the git commit it was built from, written into
 * {@code boxoffice/build.properties} by the build (Maven resource filtering). A build outside a git checkout leaves
 * the commit unfilled, which reads as {@code unknown}; so does a class path without the file (an IDE run).
 */
public final class BuildInfo {
  public static final String UNKNOWN = "unknown";
  private static final Properties PROPS = load();

  private BuildInfo() {
  }

  public static String version() {
    return value("version");
  }

  public static String commit() {
    return value("commit");
  }

  /** {@code boxoffice_build_info{version, commit} 1}: dashboards join on it to tell which build each node runs. */
  public static void register(MeterRegistry registry) {
    Gauge.builder("boxoffice.build.info", () -> 1)
      .description("The build this node runs (always 1; the labels carry it)")
      .tag("version", version())
      .tag("commit", commit())
      .strongReference(true)
      .register(registry);
  }

  private static String value(String key) {
    String v = PROPS.getProperty(key);
    // an unfilled placeholder ("${git.commit.id.abbrev}") means the build could not tell
    return v == null || v.isBlank() || v.startsWith("${") ? UNKNOWN : v.trim();
  }

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/boxoffice/build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // unreadable: every value reads as unknown
    }
    return p;
  }
}
