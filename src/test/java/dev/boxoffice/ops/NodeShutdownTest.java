package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Closing a node (SIGTERM runs the same close): it first turns unready while it still serves (so that a load balancer
 * takes it out of rotation before it stops accepting), then lets the requests it has taken finish and refuses new
 * ones.
 */
@ExtendWith(VertxExtension.class)
class NodeShutdownTest {
  // each a PBKDF2 hash: enough to be in flight together, few enough to finish within the close grace on a busy machine
  private static final int REQUESTS = 6;

  @Test
  void requestsInFlightWhenTheNodeClosesAreAnsweredAndNewOnesAreRefused(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("Shutdown");
    // every login in flight holds a slot of the login limiter until its password is checked, and a thread of the
    // hashing pool: room for all of them at once, so they are all running when the node closes
    Boxoffice.Node node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("Shutdown"))
      .put("login_max_failures", REQUESTS).put("login_user_max_failures", REQUESTS)
      .put("login_hash_threads", REQUESTS), false);
    int port = node.platform().config().integer("http_port");
    // a connection per request, each open and its request written before the node closes: a request still
    // connecting when the listener closes would be refused, which is not what this test is about
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(port), new PoolOptions().setHttp1MaxSize(REQUESTS));
    Buffer login = new JsonObject().put("username", "admin").put("password", "admin").toBuffer();

    // each login hashes with PBKDF2 (210,000 rounds) on a worker thread: together they take half a second or more
    AtomicLong lastAnswered = new AtomicLong();
    List<Future<Answer>> answers = new ArrayList<>();
    List<Future<Void>> written = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      HttpClientRequest request = await(client.request(HttpMethod.POST, "/token"));
      request.putHeader("Content-Type", "application/json");
      written.add(request.end(login));
      answers.add(request.response().compose(r -> r.body().map(body -> new Answer(r.statusCode(), body)))
        .onSuccess(a -> lastAnswered.accumulateAndGet(System.nanoTime(), Math::max)));
    }
    await(Future.all(written));
    long closing = System.nanoTime();
    await(node.close());

    for (Future<Answer> f : answers) {
      Answer answer = await(f);
      assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
      assertThat(answer.body().toJsonObject().getString("access_token")).isNotBlank();
    }
    assertThat(lastAnswered.get()).as("some logins were still running when the node began to close")
      .isGreaterThan(closing);
    Throwable refused = catchThrowable(() -> await(client.request(HttpMethod.GET, "/healthz")
      .compose(HttpClientRequest::send)));
    assertThat(refused).as("a closed node takes no new requests").isNotNull();
    client.close();
  }

  @Test
  void aClosingNodeAnswersUnreadyWhileItStillServesForTheDrainDelayThenStopsAccepting(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("ShutdownDrain");
    // a delay the steps below fit in with room to spare on a loaded machine; each step opens a new connection
    Boxoffice.Node node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("ShutdownDrain"))
      .put("shutdown_drain_ms", 4_000), false);
    WebClient web = ApiClient.webClient(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(node.platform().config().integer("http_port")).setKeepAlive(false));
    assertThat(await(web.get("/health/ready").send()).statusCode()).isEqualTo(200);

    Future<Void> closed = node.close();

    HttpResponse<Buffer> ready = await(web.get("/health/ready").send());
    assertThat(ready.statusCode()).as("readiness once the node is closing").isEqualTo(503);
    JsonObject startup = check(ready.bodyAsJsonObject(), "startup");
    assertThat(startup.getString("status")).isEqualTo("DOWN");
    assertThat(startup.getJsonObject("data").getString("state")).isEqualTo("draining");
    HttpResponse<Buffer> served = await(web.get("/healthz").send());
    assertThat(served.statusCode()).as("a new connection during the drain is still served").isEqualTo(200);
    assertThat(served.getHeader("Connection")).as("and not kept open").isEqualToIgnoringCase("close");
    assertThat(closed.isComplete()).as("closed before the drain delay ran out").isFalse();

    await(closed);
    Throwable refused = catchThrowable(() -> await(web.get("/healthz").send()));
    assertThat(refused).as("a closed node takes no new connection").isNotNull();
    web.close();
  }

  private static JsonObject check(JsonObject readiness, String id) {
    return readiness.getJsonArray("checks").stream().map(JsonObject.class::cast)
      .filter(c -> id.equals(c.getString("id"))).findFirst().orElseThrow();
  }

  private record Answer(int status, Buffer body) {
  }
}
