package dev.boxoffice.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * A small HTTP client for tests: talks to one node's API, optionally with a bearer token. Every response is checked
 * against openapi.yaml (status, content type, body schema); a mismatch fails the request.
 */
public final class ApiClient {
  private final WebClient client;
  private final int port;
  private final String token;

  private ApiClient(WebClient client, int port, String token) {
    this.client = client;
    this.port = port;
    this.token = token;
  }

  /** Every response this client receives is checked against openapi.yaml ({@link ContractCheck}). */
  public static ApiClient create(Vertx vertx, int port) {
    return new ApiClient(webClient(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)),
      port, null);
  }

  /** A web client for tests that need their own options: its responses are checked against openapi.yaml too. */
  public static WebClient webClient(Vertx vertx, WebClientOptions options) {
    return ContractCheck.install(vertx, WebClient.create(vertx, options));
  }

  public static WebClient webClient(Vertx vertx, WebClientOptions options, PoolOptions pool) {
    return ContractCheck.install(vertx, WebClient.create(vertx, options, pool));
  }

  public ApiClient withToken(String bearer) {
    return new ApiClient(client, port, bearer);
  }

  /** Logs in through POST /token and returns a client carrying the token. */
  public Future<ApiClient> login(String username, String password) {
    return post("/token", new JsonObject().put("username", username).put("password", password))
      .compose(r -> r.statusCode() == 200
        ? Future.succeededFuture(withToken(r.bodyAsJsonObject().getString("access_token")))
        : Future.failedFuture("login as " + username + " failed: " + r.statusCode() + " " + r.bodyAsString()));
  }

  public Future<HttpResponse<Buffer>> get(String path) {
    return request(HttpMethod.GET, path).send();
  }

  public Future<HttpResponse<Buffer>> delete(String path) {
    return request(HttpMethod.DELETE, path).send();
  }

  public Future<HttpResponse<Buffer>> post(String path, JsonObject body) {
    return body == null ? request(HttpMethod.POST, path).send() : request(HttpMethod.POST, path).sendJsonObject(body);
  }

  public Future<HttpResponse<Buffer>> put(String path, JsonObject body) {
    return request(HttpMethod.PUT, path).sendJsonObject(body);
  }

  public Future<HttpResponse<Buffer>> patch(String path, JsonObject body) {
    return request(HttpMethod.PATCH, path).sendJsonObject(body);
  }

  /** Sends raw bytes with a JSON content type (for malformed-body cases). */
  public Future<HttpResponse<Buffer>> postRaw(String path, String raw) {
    return request(HttpMethod.POST, path).putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(raw));
  }

  public HttpRequest<Buffer> request(HttpMethod method, String path) {
    HttpRequest<Buffer> req = client.request(method, port, "127.0.0.1", path);
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    return req;
  }

  public int port() {
    return port;
  }
}
