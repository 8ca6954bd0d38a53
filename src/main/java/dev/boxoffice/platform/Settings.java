package dev.boxoffice.platform;

import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What each setting may hold, checked before a node touches storage or the cluster: ports, positive numbers,
 * URIs that parse, enumerations (case-insensitive, refused with the allowed values otherwise). A setting not listed
 * here (added to {@code conf/boxoffice.json} without an entry) is free text. Checks that need a feature's own parser
 * (cron expressions, trusted proxies, the decline regex, the job queues) are added by the composition root.
 *
 * <p>No value of a {@link #SECRETS secret} and no password inside a URI ever appears in a message or in
 * {@link #masked}: the effective configuration a node logs when it starts.
 */
public final class Settings {
  /** Kinds of values; {@code ENUM} and {@code ROLES} carry their allowed values in {@link #ENUMS}. */
  enum Kind {
    PORT, OPTIONAL_PORT, POSITIVE, NON_NEGATIVE, OPTIONAL_NON_NEGATIVE, TEXT, REQUIRED, SECRET, PG_URI, REDIS_URI,
    HTTP_URL, ENUM, ROLES
  }

  /** The values whose text is never shown. */
  public static final Set<String> SECRETS = Set.of("jwt_secret", "ticket_key", "admin_password");
  /** A blank value turns these off (the README says so); any other blank value means the default. */
  public static final Set<String> BLANK_DISABLES = Set.of("users_sync_cron", "enrich_addresses_cron",
    "enrich_cards_cron");
  public static final List<String> ROLES = List.of("http", "workers", "scheduler");

  private static final Map<String, Kind> KINDS = new LinkedHashMap<>();
  private static final Map<String, List<String>> ENUMS = Map.of(
    "profile", List.of("dev", "prod"),
    "pg_plan_cache_mode", List.of("auto", "force_custom_plan", "force_generic_plan"),
    "payment_mode", List.of("auto", "manual"),
    "access_log", List.of("on", "off"));

  static {
    kind(Kind.ENUM, "profile", "pg_plan_cache_mode", "payment_mode", "access_log");
    kind(Kind.PORT, "http_port", "embedded_pg_port", "embedded_redis_port", "cluster_port", "smtp_port");
    kind(Kind.OPTIONAL_PORT, "ops_port"); // unset: the operators' routes are served on the HTTP port
    kind(Kind.POSITIVE, "pg_pool_size", "request_timeout_ms", "request_grace_ms", "booking_queue_limit",
      "jwt_ttl_seconds", "login_max_failures", "login_window_seconds", "login_user_max_failures",
      "login_hash_threads", "login_hash_queue", "hold_seconds", "users_provider_timeout_ms", "users_provider_tries",
      "enrich_batch_size", "jobs_lease_seconds", "jobs_claim_batch", "jobs_poll_seconds",
      "nodes_retention_seconds");
    // 0 turns the bound off (Database.Timeouts), retries at once, keeps every job, never runs maintenance, no warm-up
    kind(Kind.NON_NEGATIVE, "pg_statement_timeout_ms", "pg_idle_in_transaction_timeout_ms",
      "pg_tcp_keepalive_seconds", "users_provider_backoff_ms", "jobs_retention_seconds", "db_maintenance_seconds",
      "warmup_seconds");
    // unset: a default that depends on the profile (AppConfig says which)
    kind(Kind.OPTIONAL_NON_NEGATIVE, "shutdown_drain_ms");
    kind(Kind.REQUIRED, "data_dir", "cluster_name", "cluster_host", "cluster_members", "mail_from");
    kind(Kind.SECRET, SECRETS.toArray(new String[0]));
    kind(Kind.PG_URI, "pg_uri");
    kind(Kind.REDIS_URI, "redis_uri");
    kind(Kind.HTTP_URL, "users_provider_url");
    kind(Kind.ROLES, "roles");
  }

  private Settings() {
  }

  private static void kind(Kind kind, String... keys) {
    for (String key : keys) {
      KINDS.put(key, kind);
    }
  }

  /**
   * Enumerations in lower case, so that every reader may compare exactly; other values as given. The profile stays
   * as given, for its refusal to quote it ({@link AppConfig#profile()} is the normalized one).
   */
  static JsonObject normalized(JsonObject values) {
    for (String key : values.fieldNames()) {
      Kind kind = KINDS.get(key);
      boolean enumeration = kind == Kind.ENUM || kind == Kind.ROLES;
      if (enumeration && !key.equals("profile") && values.getValue(key) instanceof String s) {
        values.put(key, s.trim().toLowerCase(Locale.ROOT));
      }
    }
    return values;
  }

  /** Every problem with {@code values}, each naming its variable; empty when all settings are valid. */
  public static List<String> problems(JsonObject values) {
    List<String> problems = new ArrayList<>();
    for (String key : values.fieldNames()) {
      String problem = problem(key, values.getValue(key));
      if (problem != null) {
        problems.add(AppConfig.envName(key) + " " + problem);
      }
    }
    return problems;
  }

  private static String problem(String key, Object value) {
    Kind kind = KINDS.getOrDefault(key, Kind.TEXT);
    String text = value == null ? null : String.valueOf(value).trim();
    if (text == null || text.isEmpty()) {
      return switch (kind) {
        case PORT, POSITIVE, NON_NEGATIVE, REQUIRED, ENUM -> "must be set";
        default -> null; // unset: off (URIs: embedded storage in dev; prod checks its own)
      };
    }
    return switch (kind) {
      case PORT, OPTIONAL_PORT -> number(text, 1, 65_535, "a port (1..65535)");
      case POSITIVE -> number(text, 1, Integer.MAX_VALUE, "a positive whole number");
      case NON_NEGATIVE, OPTIONAL_NON_NEGATIVE -> number(text, 0, Integer.MAX_VALUE, "a whole number, 0 or more");
      case ENUM -> ENUMS.get(key).contains(text.toLowerCase(Locale.ROOT)) ? null
        : "must be one of " + String.join(", ", ENUMS.get(key)) + " (got " + shown(key, text) + ")";
      case ROLES -> roles(text);
      case PG_URI -> pgUri(text);
      case REDIS_URI -> uri(text, Set.of("redis", "rediss", "unix"), "a redis:// URI");
      case HTTP_URL -> uri(text, Set.of("http", "https"), "an http:// or https:// URL");
      default -> null;
    };
  }

  private static String number(String text, long min, long max, String what) {
    try {
      long n = Long.parseLong(text);
      return n >= min && n <= max ? null : "must be " + what + ", got " + text;
    } catch (NumberFormatException e) {
      return "must be " + what + ", got " + text;
    }
  }

  private static String roles(String text) {
    if (text.equalsIgnoreCase("all")) {
      return null;
    }
    List<String> unknown = Arrays.stream(text.split(",")).map(r -> r.trim().toLowerCase(Locale.ROOT))
      .filter(r -> !r.isEmpty() && !ROLES.contains(r)).toList();
    if (!unknown.isEmpty()) {
      return "has unknown role " + String.join(", ", unknown) + " (allowed: all, or a comma list of "
        + String.join(", ", ROLES) + ")";
    }
    return Arrays.stream(text.split(",")).allMatch(String::isBlank) ? "names no role" : null;
  }

  private static String pgUri(String text) {
    String scheme = scheme(text);
    if (!"postgresql".equals(scheme) && !"postgres".equals(scheme)) {
      return "must be a postgresql:// URI, got " + Secrets.maskUri(text);
    }
    try {
      PgConnectOptions.fromUri(text);
      return null;
    } catch (RuntimeException e) {
      // the parser's message repeats the URI: say what is wrong without it
      return "is not a valid postgresql:// URI: " + Secrets.maskUri(text);
    }
  }

  private static String uri(String text, Set<String> schemes, String what) {
    try {
      URI uri = new URI(text);
      if (uri.getScheme() == null || !schemes.contains(uri.getScheme().toLowerCase(Locale.ROOT))
        || (!"unix".equalsIgnoreCase(uri.getScheme()) && (uri.getHost() == null || uri.getHost().isEmpty()))) {
        return "must be " + what + " with a host, got " + Secrets.maskUri(text);
      }
      return null;
    } catch (URISyntaxException e) {
      return "must be " + what + ", got one that does not parse: " + Secrets.maskUri(text);
    }
  }

  private static String scheme(String text) {
    int colon = text.indexOf(':');
    return colon < 0 ? "" : text.substring(0, colon).toLowerCase(Locale.ROOT);
  }

  private static String shown(String key, String text) {
    return SECRETS.contains(key) ? Secrets.MASK : Secrets.maskUri(text);
  }

  /** The settings as a node logs them: secrets replaced, passwords inside URIs replaced. */
  public static JsonObject masked(JsonObject values) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, Object> e : values) {
      Object v = e.getValue();
      if (v == null) {
        out.putNull(e.getKey());
      } else if (SECRETS.contains(e.getKey())) {
        out.put(e.getKey(), String.valueOf(v).isBlank() ? "" : Secrets.MASK);
      } else if (v instanceof String s) {
        out.put(e.getKey(), Secrets.maskUri(s));
      } else {
        out.put(e.getKey(), v);
      }
    }
    return out;
  }
}
