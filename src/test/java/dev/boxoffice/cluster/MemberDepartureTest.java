package dev.boxoffice.cluster;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.ClusterMembership;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.PausableProxy;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clustered nodes in one JVM: an HTTP edge and a worker whose PostgreSQL stalls (a paused proxy), so a booking
 * forwarded to it hangs there. The worker then vanishes (its Hazelcast member terminated, as with kill -9). The
 * edge answers the waiting client within a second of the member's removal (502, "may have completed"), not at the
 * end of the request's 30 s budget.
 */
@ExtendWith(VertxExtension.class)
class MemberDepartureTest {
  /** The bound under test: the edge answers this soon after the member is gone. */
  private static final Duration FAIL_FAST = Duration.ofSeconds(1);
  private static PausableProxy proxy;
  private static Boxoffice.Node edge;
  private static Boxoffice.Node worker;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("MemberDepartureTest");
    proxy = await(PausableProxy.forUri(vertx, db));
    String cluster = "depart-" + UUID.randomUUID().toString().substring(0, 8);
    int pe = TestStorage.freePort();
    int pw = TestStorage.freePort();
    JsonObject base = TestNodes.settings(db, TestStorage.redisPrefix("MemberDepartureTest"))
      .mergeIn(TestNodes.noUserCrons()).put("payment_mode", "manual").put("request_timeout_ms", 30_000);
    worker = TestNodes.start(TestNodes.clustered(base.copy().put("roles", "workers").put("pg_uri", proxy.uri(db)),
      cluster, pw, pe, pw), true);
    edge = TestNodes.start(TestNodes.clustered(base.copy().put("roles", "http")
      .put("http_port", TestStorage.freePort()), cluster, pe, pe, pw), true);
  }

  @AfterAll
  static void stop() throws Exception {
    await(proxy.close());
    TestNodes.stop(edge);
    worker.vertx().close(); // its cluster member is gone already; best effort
  }

  @Test
  void aRequestOnANodeThatLeavesIsAnsweredAtOnce(Vertx vertx) throws Exception {
    long event = new BookingFixtures(edge.platform().pool()).event(100);
    assertThat(edge.platform().membership().members()).hasSize(2);
    CompletableFuture<Long> removedAt = new CompletableFuture<>();
    String workerId = worker.platform().membership().nodeId();
    new ClusterMembership(edge.vertx()).onMemberLeft(id -> {
      if (id.equals(workerId)) {
        removedAt.complete(System.nanoTime());
      }
    });

    await(proxy.pause());
    WebClient web = ApiClient.webClient(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(edge.platform().config().integer("http_port")));
    CompletableFuture<Long> answeredAt = new CompletableFuture<>();
    Future<HttpResponse<Buffer>> answer = web.post("/bookings").putHeader("Authorization", "Bearer " + TestTokens.user())
      .sendJsonObject(new JsonObject().put("name", "Ada Lovelace").put("email", "ada@example.com")
        .put("phone", "+44 20 7946 0958").put("event_id", event))
      .onComplete(ar -> answeredAt.complete(System.nanoTime()));
    // the booking reaches the worker and hangs there on the stalled database; a second is ample for it to arrive
    // and for the worker to acknowledge it (after 100 ms)
    Thread.sleep(1_000);
    assertThat(answer.isComplete()).as("answered while the worker was still there").isFalse();

    ((HazelcastClusterManager) ((VertxInternal) worker.vertx()).clusterManager()).getHazelcastInstance()
      .getLifecycleService().terminate();

    HttpResponse<Buffer> r = await(answer);
    long removed = removedAt.get(5, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(502);
    assertThat(r.bodyAsJsonObject().getString("error")).contains("left the cluster");
    assertThat(Duration.ofNanos(answeredAt.get() - removed)).isLessThanOrEqualTo(FAIL_FAST);
  }
}
