package dev.boxoffice.platform;

import dev.boxoffice.ConfigCheck;
import dev.boxoffice.cron.CronSchedule;
import dev.boxoffice.cron.CronSchedules;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The configuration as the start checks it (the same code Main runs before anything starts; the refusals' exit
 * status is {@code cli/StartRefusalTest}'s): types and ranges, enumerations, unknown variables, blank values,
 * {@code NAME_FILE} and masking.
 */
class SettingsTest {
  private static final String SECRET = "a-production-secret-of-more-than-32-characters";

  private static AppConfig load(Map<String, String> env) {
    return AppConfig.load(env, Map.of());
  }

  private static void check(Map<String, String> env) {
    ConfigCheck.check(load(env));
  }

  @Test
  void aMisspeltVariableRefusesTheStartNamingTheNearestKnownOne() {
    assertThatThrownBy(() -> load(Map.of("BOXOFFICE_HTTP_PROT", "8081")))
      .hasMessageContaining("unknown variable BOXOFFICE_HTTP_PROT (did you mean BOXOFFICE_HTTP_PORT?)");
    assertThatThrownBy(() -> load(Map.of("BOXOFFICE_JWT_SECRET_FIEL", "/run/secrets/jwt")))
      .hasMessageContaining("did you mean BOXOFFICE_JWT_SECRET_FILE?");
    assertThatThrownBy(() -> load(Map.of("BOXOFFICE_SOMETHING_ELSE_ENTIRELY", "1")))
      .hasMessageContaining("unknown variable BOXOFFICE_SOMETHING_ELSE_ENTIRELY").hasMessageContaining("--help");
    // variables that are not settings but are read elsewhere, and other programs' variables
    check(Map.of("BOXOFFICE_TEST_PG_URI", "postgresql://x@h/db", "BOXOFFICE_LOG_LEVEL", "debug",
      "BOXOFFICE_LOG_FORMAT", "text", "HOME", "/root", "BOXOFFICE_HTTP_PORT", "8081"));
  }

  @Test
  void anUnknownKeyInTheConfigurationFileIsRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("boxoffice.json");
    Files.writeString(file, "{\"hold_secs\": 30}");
    assertThatThrownBy(() -> load(Map.of("BOXOFFICE_CONFIG", file.toString())))
      .hasMessageContaining("unknown setting \"hold_secs\"").hasMessageContaining("did you mean \"hold_seconds\"?");
    assertThatThrownBy(() -> load(Map.of("BOXOFFICE_CONFIG", dir.resolve("missing.json").toString())))
      .hasMessageContaining("not a readable file");
  }

  @Test
  void numbersPortsAndDurationsAreCheckedWithTheirRange() {
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_HTTP_PORT", "70000")))
      .hasMessageContaining("BOXOFFICE_HTTP_PORT must be a port (1..65535), got 70000");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_HTTP_PORT", "eighty")))
      .hasMessageContaining("BOXOFFICE_HTTP_PORT must be a port");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_HOLD_SECONDS", "0")))
      .hasMessageContaining("BOXOFFICE_HOLD_SECONDS must be a positive whole number, got 0");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_REQUEST_TIMEOUT_MS", "-5")))
      .hasMessageContaining("BOXOFFICE_REQUEST_TIMEOUT_MS must be a positive");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_JOBS_QUEUES", "default:many")))
      .hasMessageContaining("BOXOFFICE_JOBS_QUEUES entries look like name:concurrency");
    // two problems, one message naming both
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_CLUSTER_PORT", "0", "BOXOFFICE_SMTP_PORT", "99999")))
      .hasMessageContaining("BOXOFFICE_CLUSTER_PORT").hasMessageContaining("BOXOFFICE_SMTP_PORT");
    // 0 turns these off
    check(Map.of("BOXOFFICE_PG_STATEMENT_TIMEOUT_MS", "0", "BOXOFFICE_JOBS_RETENTION_SECONDS", "0",
      "BOXOFFICE_DB_MAINTENANCE_SECONDS", "0"));
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_NODES_RETENTION_SECONDS", "0")))
      .hasMessageContaining("BOXOFFICE_NODES_RETENTION_SECONDS must be a positive whole number, got 0");
    assertThat(load(Map.of()).integer("nodes_retention_seconds")).as("a day").isEqualTo(86_400);
  }

  @Test
  void theOperatorsPortIsOptionalAndAnotherPortThanTheHttpOne() {
    assertThat(load(Map.of()).opsPort()).as("unset: the operators' routes on the HTTP port").isNull();
    assertThat(load(Map.of("BOXOFFICE_OPS_PORT", "9090")).opsPort()).isEqualTo(9090);
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_OPS_PORT", "70000")))
      .hasMessageContaining("BOXOFFICE_OPS_PORT must be a port (1..65535), got 70000");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_OPS_PORT", "8080", "BOXOFFICE_HTTP_PORT", "8080")))
      .hasMessageContaining("BOXOFFICE_OPS_PORT must differ from BOXOFFICE_HTTP_PORT");
  }

  @Test
  void theUserProviderIsOffInProdUntilAUrlIsSetAndDevCallsDummyJsonByDefault() {
    Map<String, String> prod = Map.of("BOXOFFICE_PROFILE", "prod");
    AppConfig off = load(prod);
    assertThat(off.usersProviderUrl()).isNull();
    assertThat(CronSchedules.fromConfig(off)).as("no user schedules without a provider").isEmpty();

    Map<String, String> configured = new HashMap<>(prod);
    configured.put("BOXOFFICE_USERS_PROVIDER_URL", "https://users.internal.example");
    AppConfig on = load(configured);
    assertThat(on.usersProviderUrl()).isEqualTo("https://users.internal.example");
    assertThat(CronSchedules.fromConfig(on)).extracting(CronSchedule::name)
      .containsExactly("users_sync", "enrich_addresses", "enrich_cards");

    assertThat(load(Map.of()).usersProviderUrl()).as("dev").isEqualTo("https://dummyjson.com");
    // a wrong schedule is refused even while the provider is off
    Map<String, String> wrong = new HashMap<>(prod);
    wrong.put("BOXOFFICE_USERS_SYNC_CRON", "every minute");
    assertThatThrownBy(() -> CronSchedules.fromConfig(load(wrong))).hasMessageContaining("users_sync_cron");
  }

  @Test
  void enumerationsAreCaseInsensitiveOrRefusedWithTheAllowedValues() {
    AppConfig config = load(Map.of("BOXOFFICE_PAYMENT_MODE", "MANUAL", "BOXOFFICE_ROLES", "HTTP, Workers",
      "BOXOFFICE_ACCESS_LOG", "Off", "BOXOFFICE_PG_PLAN_CACHE_MODE", "Force_Custom_Plan"));
    ConfigCheck.check(config);
    assertThat(config.string("payment_mode")).isEqualTo("manual");
    assertThat(config.string("access_log")).isEqualTo("off");
    assertThat(config.string("pg_plan_cache_mode")).isEqualTo("force_custom_plan");
    assertThat(config.roles()).containsExactlyInAnyOrder("http", "workers");

    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_PAYMENT_MODE", "sometimes")))
      .hasMessageContaining("BOXOFFICE_PAYMENT_MODE must be one of auto, manual (got sometimes)");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_ROLES", "http,web")))
      .hasMessageContaining("BOXOFFICE_ROLES has unknown role web");
    assertThatThrownBy(() -> load(Map.of("BOXOFFICE_LOG_LEVEL", "verbose")))
      .hasMessageContaining("BOXOFFICE_LOG_LEVEL must be one of trace, debug, info, warn, error, off (got verbose)");
    assertThatThrownBy(() -> load(Map.of("BOXOFFICE_LOG_FORMAT", "xml")))
      .hasMessageContaining("BOXOFFICE_LOG_FORMAT must be one of json, text (got xml)");
    assertThat(LogSettings.format(Map.of("BOXOFFICE_LOG_FORMAT", "text"), false)).isEqualTo("TEXT");
    assertThat(LogSettings.format(Map.of("BOXOFFICE_LOG_FORMAT", "Json"), true)).isEqualTo("JSON");
    // unset or blank: the terminal decides (LogFormatTest runs the processes)
    assertThat(LogSettings.format(Map.of(), true)).isEqualTo("TEXT");
    assertThat(LogSettings.format(Map.of("BOXOFFICE_LOG_FORMAT", " "), false)).isEqualTo("JSON");
    assertThat(LogSettings.isTerminalDevice("/dev/pts/3")).isTrue();
    assertThat(LogSettings.isTerminalDevice("pipe:[81234]")).isFalse();
    assertThat(LogSettings.isTerminalDevice("/var/log/boxoffice.log")).isFalse();
    assertThat(LogSettings.level(Map.of("BOXOFFICE_LOG_LEVEL", "Warn"))).isEqualTo("WARN");
  }

  @Test
  void urisMustParseAndTheirPasswordsAreNeverQuoted() {
    String bad = "postgresql://boxoffice:Sup3r#Secret@db.internal:5432x/boxoffice";
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_PG_URI", bad)))
      .hasMessageContaining("BOXOFFICE_PG_URI").hasMessageNotContaining("Sup3r");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_PG_URI", "mysql://u:Sup3rSecret@h/db")))
      .hasMessageContaining("must be a postgresql:// URI").hasMessageNotContaining("Sup3rSecret");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_REDIS_URI", "localhost:6379")))
      .hasMessageContaining("BOXOFFICE_REDIS_URI must be a redis:// URI");
    assertThatThrownBy(() -> check(Map.of("BOXOFFICE_USERS_PROVIDER_URL", "dummyjson.com")))
      .hasMessageContaining("BOXOFFICE_USERS_PROVIDER_URL must be an http:// or https:// URL");
  }

  @Test
  void aBlankScheduleTurnsItOffAndAnyOtherBlankValueMeansTheDefault() {
    AppConfig config = load(Map.of("BOXOFFICE_USERS_SYNC_CRON", "", "BOXOFFICE_ENRICH_CARDS_CRON", "  ",
      "BOXOFFICE_HOLD_SECONDS", "", "BOXOFFICE_PAYMENT_MODE", " "));
    ConfigCheck.check(config);
    assertThat(CronSchedules.fromConfig(config)).extracting(CronSchedule::name)
      .containsExactly("enrich_addresses");
    assertThat(config.integer("hold_seconds")).isEqualTo(AppConfig.defaults().getInteger("hold_seconds"));
    assertThat(config.string("payment_mode")).isEqualTo("auto");
    assertThat(CronSchedules.fromConfig(load(Map.of()))).extracting(CronSchedule::name)
      .contains("users_sync", "enrich_cards");
  }

  @Test
  void nameFileReadsASecretFromAFile(@TempDir Path dir) throws Exception {
    Path jwt = Files.writeString(dir.resolve("jwt"), SECRET + "\n");
    Path pg = Files.writeString(dir.resolve("pg"), "postgresql://bo:pw-from-file@db/bo\n");
    Map<String, String> env = new HashMap<>(Map.of("BOXOFFICE_PROFILE", "prod",
      "BOXOFFICE_JWT_SECRET_FILE", jwt.toString(), "BOXOFFICE_TICKET_KEY", SECRET + "-t",
      "BOXOFFICE_PG_URI_FILE", pg.toString(), "BOXOFFICE_REDIS_URI", "redis://h"));
    AppConfig config = load(env);
    ConfigCheck.check(config);
    assertThat(config.jwtSecret()).isEqualTo(SECRET);
    assertThat(config.string("pg_uri")).isEqualTo("postgresql://bo:pw-from-file@db/bo");

    env.put("BOXOFFICE_JWT_SECRET", SECRET);
    assertThatThrownBy(() -> load(env))
      .hasMessageContaining("both BOXOFFICE_JWT_SECRET and BOXOFFICE_JWT_SECRET_FILE are set");
    env.remove("BOXOFFICE_JWT_SECRET");
    env.put("BOXOFFICE_JWT_SECRET_FILE", dir.resolve("absent").toString());
    assertThatThrownBy(() -> load(env))
      .hasMessageContaining("BOXOFFICE_JWT_SECRET_FILE: cannot read " + dir.resolve("absent"));
  }

  @Test
  void theMaskedConfigurationHidesSecretsAndPasswordsInsideUris() {
    AppConfig config = AppConfig.of(new JsonObject().put("jwt_secret", SECRET).put("ticket_key", SECRET + "-t")
      .put("admin_password", "Adm1nPassw0rd!").put("pg_uri", "postgresql://bo:pg-Pa55@db:5432/bo")
      .put("redis_uri", "redis://:redis-Pa55@cache:6379/0")
      .put("users_provider_url", "https://api.example/users?password=q-Pa55"));
    String masked = config.masked().encode();
    assertThat(masked).doesNotContain(SECRET, "Adm1nPassw0rd!", "pg-Pa55", "redis-Pa55", "q-Pa55")
      .contains("postgresql://bo:***@db:5432/bo", "redis://:***@cache:6379/0", "\"jwt_secret\":\"***\"")
      .contains("\"hold_seconds\":60");
    // a message quoting an unparseable URI, or a secret itself
    assertThat(Secrets.scrub("cannot connect to postgresql://bo:p@ss/w0rd@db/bo: refused; key " + SECRET,
      config.json())).doesNotContain("p@ss/w0rd", SECRET);
  }
}
