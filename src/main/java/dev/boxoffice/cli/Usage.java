package dev.boxoffice.cli;

import dev.boxoffice.platform.AppConfig;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * The text of {@code --help}. The settings come from the packaged {@code conf/boxoffice.json} through
 * {@link AppConfig}, the same file a node reads its defaults from, so a setting added there is listed here without
 * another edit.
 */
final class Usage {
  private Usage() {
  }

  static String commands() {
    return """
      Usage: java -jar boxoffice.jar [COMMAND]

        (no command)                               start a node with the settings below
        --help, -h                                 print this help and exit
        --version                                  print the version and commit and exit
        accounts create USER [--role admin|user]   create an account (role user unless given)
        accounts reset-password USER               set a new password
        accounts disable USER                      disable an account: no login, its tokens stop working

      The accounts commands work on the configured database (BOXOFFICE_PG_URI; in the dev profile without it, the
      embedded one under BOXOFFICE_DATA_DIR) without starting the service; they apply migrations first when needed.
      They read the password from standard input (one line). Exit status: 0 done, 1 refused or failed, 2 bad usage.
      """;
  }

  static String full() {
    StringBuilder text = new StringBuilder(commands()).append("""

      Settings: the packaged defaults below, then ./conf/boxoffice.json (or the file BOXOFFICE_CONFIG names), then
      the environment variables. NAME_FILE=path reads a setting from a file (secrets). A blank value turns the
      *_CRON schedules off and means the default elsewhere. An unknown BOXOFFICE_* variable refuses the start.
      Logs: BOXOFFICE_LOG_FORMAT (json or text; unset: text when standard output is a terminal, else json),
      BOXOFFICE_LOG_LEVEL (trace, debug, info, warn, error, off).
      Outbound calls: BOXOFFICE_USERS_PROVIDER_URL unset means https://dummyjson.com in the dev profile and OFF in
      prod: a prod node runs no user sync or enrichment (nor their schedules) until a provider URL is set.
      Operators' port: BOXOFFICE_OPS_PORT moves /metrics, /docs, /openapi.yaml, /ui, /users/ui, /info and /ops/*
      off the HTTP port to a port of their own (unset: served on the HTTP port, unauthenticated except /ops/*).
      Tracing: OpenTelemetry's own OTEL_* variables (not settings). Off unless OTEL_TRACES_EXPORTER or
      OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; then e.g. OTEL_SERVICE_NAME,
      OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES apply as the OpenTelemetry SDK documents them.

      """);
    JsonObject defaults = AppConfig.defaults();
    int width = defaults.fieldNames().stream().mapToInt(k -> AppConfig.envName(k).length()).max().orElse(0);
    text.append(String.format("  %-" + width + "s  %s%n", "ENVIRONMENT VARIABLE", "DEFAULT"));
    for (Map.Entry<String, Object> setting : defaults) {
      Object value = setting.getValue();
      text.append(String.format("  %-" + width + "s  %s%n", AppConfig.envName(setting.getKey()),
        value == null ? "(unset)" : value));
    }
    return text.toString();
  }
}
