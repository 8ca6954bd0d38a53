package dev.boxoffice.platform;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Settings: the packaged {@code conf/boxoffice.json}, then {@code ./conf/boxoffice.json} (or the file named by
 * {@code BOXOFFICE_CONFIG}), then one environment variable per key: {@code BOXOFFICE_} + the key in upper case.
 */
public final class AppConfig {
  /** A well-known secret (tests sign with it); refused in prod. Dev nodes make a random one ({@link DevSecrets}). */
  public static final String DEV_JWT_SECRET = "boxoffice-dev-secret-change-me-in-prod-0123456789";
  private static final Set<String> PROFILES = Set.of("dev", "prod");
  private static final String ENV_PREFIX = "BOXOFFICE_";

  private final JsonObject values;

  private AppConfig(JsonObject values) {
    this.values = Settings.normalized(values); // enumerations in lower case
  }

  public static AppConfig load() {
    return load(System.getenv(), Map.of());
  }

  /** Test seam: explicit environment plus overrides applied last. */
  public static AppConfig load(Map<String, String> env, Map<String, Object> overrides) {
    JsonObject merged = readDefaults();
    Set<String> known = Set.copyOf(merged.fieldNames());
    String named = env.get(ENV_PREFIX + "CONFIG");
    Path file = Path.of(named == null || named.isBlank() ? "conf/boxoffice.json" : named.trim());
    JsonObject fromFile = new JsonObject();
    if (Files.isRegularFile(file)) {
      try {
        fromFile = new JsonObject(Files.readString(file));
      } catch (IOException | RuntimeException e) {
        throw new IllegalStateException("cannot read the configuration file " + file + ": " + e.getMessage(), e);
      }
    } else if (named != null && !named.isBlank()) {
      throw new IllegalStateException("BOXOFFICE_CONFIG names " + file + ", which is not a readable file");
    }
    merged.mergeIn(fromFile);
    // blank values, NAME_FILE, unknown BOXOFFICE_* variables and log settings: see SettingsEnv
    SettingsEnv.apply(merged, fromFile.fieldNames(), env, known);
    overrides.forEach(merged::put);
    return new AppConfig(merged);
  }

  /** The packaged defaults ({@code conf/boxoffice.json}): every setting there is, in file order. */
  public static JsonObject defaults() {
    return readDefaults();
  }

  /** The environment variable that sets {@code key}. */
  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase();
  }

  public static AppConfig of(JsonObject values) {
    return new AppConfig(readDefaults().mergeIn(values));
  }

  private static JsonObject readDefaults() {
    try (InputStream in = AppConfig.class.getResourceAsStream("/conf/boxoffice.json")) {
      if (in == null) {
        throw new IllegalStateException("conf/boxoffice.json missing from the classpath");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public AppConfig with(String key, Object value) {
    return new AppConfig(values.copy().put(key, value));
  }

  public JsonObject json() {
    return values.copy();
  }

  public String string(String key) {
    Object v = values.getValue(key);
    return v == null ? null : String.valueOf(v);
  }

  public int integer(String key) {
    Object v = values.getValue(key);
    if (v instanceof Number n) {
      return n.intValue();
    }
    try {
      return Integer.parseInt(String.valueOf(v).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("setting " + key + " must be an integer, got " + v);
    }
  }

  public boolean isProd() {
    String profile = string("profile");
    return profile != null && "prod".equalsIgnoreCase(profile.trim());
  }

  public String profile() {
    return isProd() ? "prod" : "dev";
  }

  public Set<String> roles() {
    String raw = string("roles");
    if (raw == null || raw.isBlank() || raw.trim().equals("all")) {
      return Set.of("http", "workers", "scheduler");
    }
    Set<String> roles = Arrays.stream(raw.split(",")).map(String::trim).filter(s -> !s.isEmpty())
      .collect(Collectors.toUnmodifiableSet());
    for (String role : roles) {
      if (!Set.of("http", "workers", "scheduler").contains(role)) {
        throw new IllegalArgumentException("BOXOFFICE_ROLES has unknown role " + role + " (allowed: all, or a comma "
          + "list of http, workers, scheduler)");
      }
    }
    return roles;
  }

  public boolean hasRole(String role) {
    return roles().contains(role);
  }

  /** What the dev profile calls when {@code users_provider_url} is unset: the public DummyJSON service. */
  public static final String DEV_USERS_PROVIDER = "https://dummyjson.com";

  /**
   * The user directory's provider, or null when it is off. Calling an outside service is a choice in production: a
   * prod node without {@code users_provider_url} set runs no sync, no enrichment and none of their schedules; dev
   * calls {@link #DEV_USERS_PROVIDER} unless told otherwise.
   */
  public String usersProviderUrl() {
    String url = string("users_provider_url");
    if (url != null && !url.isBlank()) {
      return url.trim();
    }
    return isProd() ? null : DEV_USERS_PROVIDER;
  }

  /** The port of the operators' routes when they have one of their own ({@code ops_port}), else null. */
  public Integer opsPort() {
    String port = string("ops_port");
    return port == null || port.isBlank() ? null : integer("ops_port");
  }

  /** The HS256 secret; in dev without one, {@link #withDevSecrets} has put the data directory's in place. */
  public String jwtSecret() {
    String secret = string("jwt_secret");
    return secret == null || secret.isBlank() ? null : secret;
  }

  /**
   * The HTTP listener's address: {@code http_host} when set; else every interface in prod (behind a load balancer
   * or in a container) and loopback only in dev, whose accounts and secrets must not be reachable from the network
   * by accident.
   */
  public String httpHost() {
    String host = string("http_host");
    return host != null && !host.isBlank() ? host.trim() : isProd() ? "0.0.0.0" : "127.0.0.1";
  }

  /** Unset {@code shutdown_drain_ms}: in prod a load balancer is assumed in front, in dev nothing is. */
  public static final long PROD_SHUTDOWN_DRAIN_MS = 5_000;

  /**
   * On SIGTERM, how long an HTTP node keeps serving while its readiness already answers 503, so that a load balancer
   * polling readiness takes it out of rotation before it stops accepting connections: {@code shutdown_drain_ms};
   * unset, {@link #PROD_SHUTDOWN_DRAIN_MS} in prod and 0 in dev (a developer's Ctrl-C has no balancer to wait for).
   */
  public long shutdownDrainMs() {
    String drain = string("shutdown_drain_ms");
    if (drain == null || drain.isBlank()) {
      return isProd() ? PROD_SHUTDOWN_DRAIN_MS : 0;
    }
    return integer("shutdown_drain_ms");
  }

  /**
   * Dev profile: the JWT secret and the ticket key, when not configured, are the data directory's own
   * ({@link DevSecrets}).
   */
  public AppConfig withDevSecrets() throws java.io.IOException {
    AppConfig config = this;
    if (isProd()) {
      return config;
    }
    if (jwtSecret() == null) {
      config = config.with("jwt_secret", DevSecrets.get(Path.of(string("data_dir")), "jwt-secret"));
    }
    String ticketKey = string("ticket_key");
    if (ticketKey == null || ticketKey.isBlank()) {
      config = config.with("ticket_key", DevSecrets.get(Path.of(string("data_dir")), "ticket-key"));
    }
    return config;
  }

  /** Refuses settings that must never reach production, and a profile that is neither dev nor prod. */
  public void validate() {
    String profile = string("profile");
    if (profile == null || !PROFILES.contains(profile.trim().toLowerCase(java.util.Locale.ROOT))) {
      throw new IllegalStateException("BOXOFFICE_PROFILE must be dev or prod, got " + profile
        + " (refusing to start rather than guess)");
    }
    if (isProd()) {
      String secret = string("jwt_secret");
      if (secret == null || secret.isBlank() || secret.equals(DEV_JWT_SECRET)) {
        throw new IllegalStateException("prod profile needs BOXOFFICE_JWT_SECRET (the dev secret is refused)");
      }
      if (secret.length() < 32) {
        throw new IllegalStateException("BOXOFFICE_JWT_SECRET must be at least 32 characters in prod");
      }
      String ticketKey = string("ticket_key");
      if (ticketKey == null || ticketKey.length() < 32) {
        throw new IllegalStateException("prod profile needs BOXOFFICE_TICKET_KEY of at least 32 characters (it signs "
          + "the tickets' QR codes)");
      }
      if (string("pg_uri") == null || string("redis_uri") == null) {
        throw new IllegalStateException("prod profile needs BOXOFFICE_PG_URI and BOXOFFICE_REDIS_URI");
      }
    }
    roles();
    List<String> problems = Settings.problems(values);
    if (!problems.isEmpty()) {
      throw new IllegalStateException(String.join("; ", problems));
    }
    ClusterConfig.validate(this); // member lists, port windows, bus TLS files: after the plain ranges
  }

  /** The effective settings with every secret masked, for the start line. */
  public JsonObject masked() {
    return Settings.masked(values);
  }
}
