package dev.boxoffice.cron;

import dev.boxoffice.platform.AppConfig;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The schedules a node's configuration asks for.
 *
 * <ul>
 *   <li>Built in: {@code users_sync_cron} → {@code users.sync}, {@code enrich_addresses_cron} →
 *   {@code users.enrich_addresses} and {@code enrich_cards_cron} → {@code users.enrich_cards} (both with payload
 *   {@code {"batch_size": enrich_batch_size}}). An empty value, {@code off} or {@code -} disables one.</li>
 *   <li>{@code cron_extra}: more schedules, as a JSON object (or its text, e.g. from an environment variable):
 *   {@code {"name": {"cron": "0 3 * * *", "type": "text.process", "payload": {...}, "seconds": false}}}.
 *   {@code "seconds": true} reads the expression with a leading seconds field ("* * * * * *" = every second).</li>
 * </ul>
 */
public final class CronSchedules {
  private CronSchedules() {
  }

  /** @throws IllegalArgumentException naming the setting when an expression or the extra block is invalid */
  public static List<CronSchedule> fromConfig(AppConfig config) {
    List<CronSchedule> out = new ArrayList<>();
    JsonObject batch = new JsonObject().put("batch_size", config.integer("enrich_batch_size"));
    List<CronSchedule> users = new ArrayList<>();
    builtIn(users, config, "users_sync", "users.sync", new JsonObject());
    builtIn(users, config, "enrich_addresses", "users.enrich_addresses", batch.copy());
    builtIn(users, config, "enrich_cards", "users.enrich_cards", batch.copy());
    if (config.usersProviderUrl() != null) { // parsed either way: a wrong expression is refused all the same
      out.addAll(users);
    }
    JsonObject extra = extra(config.json().getValue("cron_extra"));
    for (String name : extra.fieldNames()) {
      if (!(extra.getValue(name) instanceof JsonObject s) || !(s.getValue("cron") instanceof String cron)
        || !(s.getValue("type") instanceof String type)) {
        throw new IllegalArgumentException("setting cron_extra." + name + " needs \"cron\" and \"type\" strings");
      }
      out.add(parse("cron_extra." + name, name, cron, s.getBoolean("seconds", false), type,
        s.getJsonObject("payload", new JsonObject())));
    }
    return out;
  }

  private static void builtIn(List<CronSchedule> out, AppConfig config, String name, String type,
                              JsonObject payload) {
    String cron = config.string(name + "_cron");
    if (cron == null || cron.isBlank() || cron.trim().equals("off") || cron.trim().equals("-")) {
      return;
    }
    out.add(parse(name + "_cron", name, cron, false, type, payload));
  }

  private static CronSchedule parse(String setting, String name, String cron, boolean seconds, String type,
                                    JsonObject payload) {
    try {
      return CronSchedule.of(name, cron, seconds, type, payload);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("setting " + setting + ": invalid cron expression '" + cron + "' ("
        + e.getMessage() + ")", e);
    }
  }

  private static JsonObject extra(Object raw) {
    if (raw == null || (raw instanceof String s && s.isBlank())) {
      return new JsonObject();
    }
    if (raw instanceof JsonObject o) {
      return o;
    }
    try {
      return new JsonObject(String.valueOf(raw));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("setting cron_extra must be a JSON object: " + e.getMessage(), e);
    }
  }
}
