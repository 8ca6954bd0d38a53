package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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

/** Closing a node (SIGTERM runs the same close) lets the requests it has taken finish and then refuses new ones. */
@ExtendWith(VertxExtension.class)
class NodeShutdownTest {
  private static final int REQUESTS = 12;

  @Test
  void requestsInFlightWhenTheNodeClosesAreAnsweredAndNewOnesAreRefused(Vertx vertx) throws Exception {
    String db = TestStorage.get().newDatabase("Shutdown");
    Boxoffice.Node node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("Shutdown")), false);
    int port = node.platform().config().integer("http_port");
    // a connection per request, so that every request reaches the server before it closes
    WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
      .setDefaultPort(port), new PoolOptions().setHttp1MaxSize(REQUESTS));
    JsonObject login = new JsonObject().put("username", "admin").put("password", "admin");

    // each login hashes with PBKDF2 (210,000 rounds) on a worker thread: together they take a second or more
    AtomicLong lastAnswered = new AtomicLong();
    List<Future<HttpResponse<Buffer>>> logins = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      logins.add(client.post("/token").sendJsonObject(login)
        .onSuccess(r -> lastAnswered.accumulateAndGet(System.nanoTime(), Math::max)));
    }
    Thread.sleep(150);
    long closing = System.nanoTime();
    await(node.close());

    for (Future<HttpResponse<Buffer>> f : logins) {
      HttpResponse<Buffer> response = await(f);
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
      assertThat(response.bodyAsJsonObject().getString("access_token")).isNotBlank();
    }
    assertThat(lastAnswered.get()).as("some logins were still running when the node began to close")
      .isGreaterThan(closing);
    Throwable refused = catchThrowable(() -> await(client.get("/healthz").send()));
    assertThat(refused).as("a closed node takes no new requests").isNotNull();
    client.close();
  }
}
