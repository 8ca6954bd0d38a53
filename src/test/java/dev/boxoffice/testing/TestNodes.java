package dev.boxoffice.testing;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Clock;
import dev.boxoffice.platform.EmbeddedServices;
import io.vertx.core.json.JsonObject;

/** Starts boxoffice nodes inside the test JVM, each with its own Vert.x instance, exactly as Main does. */
public final class TestNodes {
  /** The key test nodes sign ticket codes with. */
  public static final String TEST_TICKET_KEY = "test-ticket-key-of-at-least-32-characters";

  private TestNodes() {
  }

  /** Settings for a node on the given test database; callers add roles, cluster ports, payment mode... */
  public static JsonObject settings(String pgUri, String redisPrefix) {
    return new JsonObject()
      .put("profile", "dev")
      .put("pg_uri", pgUri)
      .put("pg_pool_size", 8)
      .put("redis_uri", TestStorage.get().redisUri())
      .put("redis_key_prefix", redisPrefix)
      .put("http_port", TestStorage.freePort())
      .put("http_host", "127.0.0.1")
      .put("jwt_secret", AppConfig.DEV_JWT_SECRET) // what TestTokens signs with
      .put("ticket_key", TEST_TICKET_KEY)
      .put("jobs_poll_seconds", 5)
      .put("users_provider_url", "http://127.0.0.1:9")
      .put("smtp_host", null);
  }

  /** Settings that turn off the user sync/enrichment schedules, for tests that count jobs or must stay quiet. */
  public static JsonObject noUserCrons() {
    return new JsonObject().put("users_sync_cron", "off").put("enrich_addresses_cron", "off")
      .put("enrich_cards_cron", "off");
  }

  /**
   * Settings under which bookings stay where the API puts them: no payment step runs, and holds (10 minutes) outlast
   * any test.
   */
  public static JsonObject manualPayment() {
    return new JsonObject().put("payment_mode", "manual").put("hold_seconds", 600);
  }

  /** A clustered pair shares a cluster name and member list; give each node settings from this. */
  public static JsonObject clustered(JsonObject base, String clusterName, int port, int... memberPorts) {
    StringBuilder members = new StringBuilder();
    for (int p : memberPorts) {
      members.append(members.length() == 0 ? "" : ",").append("127.0.0.1:").append(p);
    }
    return base.copy().put("cluster_name", clusterName).put("cluster_host", "127.0.0.1")
      .put("cluster_port", port).put("cluster_members", members.toString());
  }

  /** Starts a node; a start that fails throws its own failure (the message says why). */
  public static Boxoffice.Node start(JsonObject settings, boolean clustered) throws Exception {
    return Await.await(Boxoffice.start(AppConfig.of(settings), clustered));
  }

  /** A node whose job engines run on {@code clock} (a {@link TestClock} lets the test move their time). */
  public static Boxoffice.Node start(JsonObject settings, boolean clustered, Clock clock) throws Exception {
    return Await.await(Boxoffice.start(AppConfig.of(settings), clustered, new EmbeddedServices(), clock));
  }

  public static void stop(Boxoffice.Node node) throws Exception {
    if (node != null) {
      Await.await(node.close());
    }
  }
}
