package dev.boxoffice.cluster;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.NodeLifecycle;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An HTTP edge (with workers of its own) and a second member that serves the same operations: the edge sends each
 * request to either. When the second member closes, as on SIGTERM, no request the edge forwards fails: the closing
 * member hands back what it is sent (it runs nothing of it), the edge sends that to the other member, and the member
 * leaves the cluster only after the others have stopped routing to it and its last replies have gone.
 */
@ExtendWith(VertxExtension.class)
class ClosingMemberTest {
  private static final int LOOPS = 8;
  private static String cluster;
  private static JsonObject base;
  private static int edgePort;
  private static int edgeClusterPort;
  private static Boxoffice.Node edge;

  @BeforeAll
  static void start() throws Exception {
    String db = TestStorage.get().newDatabase("ClosingMemberTest");
    cluster = "closing-" + UUID.randomUUID().toString().substring(0, 8);
    edgeClusterPort = TestStorage.freePort();
    // a short budget: a request lost on the way would be answered 502/504 within seconds, not after 12 s
    base = TestNodes.settings(db, TestStorage.redisPrefix("ClosingMemberTest")).mergeIn(TestNodes.noUserCrons())
      .put("request_timeout_ms", 4_000).put("request_grace_ms", 1_000);
    edgePort = TestStorage.freePort();
    edge = TestNodes.start(TestNodes.clustered(base.copy().put("roles", "http,workers").put("http_port", edgePort),
      cluster, edgeClusterPort, edgeClusterPort), true);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(edge);
  }

  /** A workers-only member of the edge's cluster; returns once the edge counts it. */
  private static Boxoffice.Node member() throws Exception {
    int port = TestStorage.freePort();
    Boxoffice.Node member = TestNodes.start(TestNodes.clustered(base.copy().put("roles", "workers"), cluster, port,
      edgeClusterPort, port), true);
    eventually(() -> assertThat(edge.platform().membership().members()).hasSize(2));
    return member;
  }

  @Test
  void aClosingMemberHandsBackWhatItIsSentAndTheEdgeSendsItToAnotherMember(Vertx vertx) throws Exception {
    Boxoffice.Node member = member();
    try {
      NodeLifecycle.of(member.vertx()).close(); // as after its HTTP server stopped: its handlers take nothing new
      ApiClient api = ApiClient.create(vertx, edgePort).withToken(TestTokens.user());
      for (int i = 0; i < 30; i++) {
        HttpResponse<Buffer> r = await(api.get("/events"));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      }
      assertThat(NodeLifecycle.of(member.vertx()).refused()).as("requests the closing member was sent and handed back")
        .isPositive();
    } finally {
      TestNodes.stop(member);
    }
  }

  @Test
  void aMemberThatClosesWhileRequestsFlowFailsNoneOfThem(Vertx vertx) throws Exception {
    Boxoffice.Node member = member();
    WebClient web = ApiClient.webClient(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(edgePort), new PoolOptions().setHttp1MaxSize(LOOPS));
    String token = TestTokens.user();
    Map<String, Integer> answers = new ConcurrentHashMap<>();
    AtomicBoolean flowing = new AtomicBoolean(true);
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < LOOPS; i++) {
      Promise<Void> done = Promise.promise();
      loop(web, token, flowing, answers, done);
      loops.add(done.future());
    }
    eventually(() -> assertThat(answers.values().stream().mapToInt(Integer::intValue).sum()).isGreaterThan(50));

    TestNodes.stop(member); // the whole close: handlers hand back, withdraw, linger, leave

    flowing.set(false);
    await(Future.all(loops));
    web.close();
    assertThat(new TreeMap<>(answers)).as("answers by status while the member closed").containsOnlyKeys("200");
  }

  @Test
  void aRequestNoMemberTakesIsAnswered503WithRetryAfter(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("ClosingMemberAlone");
    Boxoffice.Node alone = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("ClosingMemberAlone"))
      .mergeIn(TestNodes.noUserCrons()), false);
    try {
      NodeLifecycle.of(alone.vertx()).close(); // its handlers take nothing, and there is no other member
      HttpResponse<Buffer> r = await(ApiClient.create(vertx, alone.platform().config().integer("http_port"))
        .withToken(TestTokens.user()).post("/bookings", new JsonObject().put("name", "Ada Lovelace")
          .put("email", "ada@example.com").put("phone", "+44 20 7946 0000")));

      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
      assertThat(r.getHeader("Retry-After")).isEqualTo("1");
      assertThat(NodeLifecycle.of(alone.vertx()).refused()).as("tried more than once").isGreaterThan(1);
    } finally {
      TestNodes.stop(alone);
    }
  }

  /** GET /events, again and again while {@code flowing}; each answer counted by status ("none" when unanswered). */
  private static void loop(WebClient web, String token, AtomicBoolean flowing, Map<String, Integer> answers,
                           Promise<Void> done) {
    if (!flowing.get()) {
      done.complete();
      return;
    }
    web.get("/events").putHeader("Authorization", "Bearer " + token).timeout(10_000).send().onComplete(ar -> {
      String status = ar.succeeded() ? String.valueOf(ar.result().statusCode()) : "none: " + ar.cause();
      if (ar.succeeded() && ar.result().statusCode() != 200) {
        status += " " + ar.result().bodyAsString();
      }
      answers.merge(status, 1, Integer::sum);
      loop(web, token, flowing, answers, done);
    });
  }
}
