package dev.boxoffice.testing;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The shared clients' response check can fail: a server that answers off the contract is caught, whatever the
 * test asked for. (A stand-in server, not a node: the node answers by the contract.)
 */
class ContractCheckTest {
  private static Vertx vertx;
  private static HttpServer server;
  private static ApiClient api;
  private static int mismatchesBefore;

  @BeforeAll
  static void start() {
    mismatchesBefore = ContractCheck.MISMATCHES.size();
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router.get("/healthz").handler(json(200, "{\"status\":\"ok\"}"));
    router.get("/").handler(json(200, "{\"greeting\":\"Hello World\"}")); // Message needs `message`
    router.get("/info").handler(json(418, "{\"error\":\"I'm a teapot\"}")); // a status /info does not declare
    router.get("/report").handler(rc -> rc.response().putHeader("Content-Type", "text/plain").end("totals"));
    router.get("/users/ui").handler(rc -> rc.response().putHeader("Content-Type", "text/html").end("<html></html>"));
    router.get("/ui").handler(json(200, "{}")); // an HTML page answered as JSON
    router.get("/nowhere").handler(json(200, "{}")); // a route the contract does not have, answering 200
    server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    api = ApiClient.create(vertx, server.actualPort());
  }

  @AfterAll
  static void stop() {
    // the mismatches made on purpose here are not the run's (test classes run one at a time)
    List<String> ours = List.copyOf(ContractCheck.MISMATCHES.subList(mismatchesBefore,
      ContractCheck.MISMATCHES.size()));
    ContractCheck.MISMATCHES.removeAll(ours);
    await(vertx.close());
  }

  @Test
  void aResponseByTheContractPasses() {
    long before = ContractCheck.VALIDATED.get();
    assertThat(await(api.get("/healthz")).statusCode()).isEqualTo(200);
    assertThat(ContractCheck.VALIDATED.get()).isGreaterThan(before);
    assertThat(await(api.get("/users/ui")).statusCode()).isEqualTo(200);
  }

  @Test
  void aBodyOffItsSchemaFails() {
    assertThat(mismatch("/")).contains("getRoot 200").contains("message");
  }

  @Test
  void anUndeclaredStatusFails() {
    assertThat(mismatch("/info")).contains("status 418 is not declared for getInfo");
  }

  @Test
  void anUndeclaredContentTypeFails() {
    assertThat(mismatch("/report")).contains("content type text/plain");
    assertThat(mismatch("/ui")).contains("content type application/json").contains("text/html");
  }

  @Test
  void aRouteOutsideTheContractFails() {
    assertThat(mismatch("/nowhere")).contains("no operation of openapi.yaml serves GET /nowhere");
  }

  /** The failure's message. */
  private static String mismatch(String path) {
    Throwable failure = catchThrowable(() -> await(api.get(path)));
    assertThat(failure).as(path).isNotNull().hasMessageContaining("does not match openapi.yaml");
    return failure.getMessage();
  }

  private static Handler<RoutingContext> json(int status, String body) {
    return rc -> rc.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
  }
}
