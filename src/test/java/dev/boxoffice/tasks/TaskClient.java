package dev.boxoffice.tasks;

import dev.boxoffice.auth.Jwt;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.testing.ApiClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Blocking helpers over {@link ApiClient} for the task API tests. */
final class TaskClient {
  private final ApiClient api;

  private TaskClient(ApiClient api) {
    this.api = api;
  }

  static TaskClient of(Vertx vertx, int port, String token) {
    return new TaskClient(ApiClient.create(vertx, port).withToken(token));
  }

  /** A role-user token for a username of the test's own, so its lists hold only its own tasks. */
  static String userToken(Vertx vertx, String username) {
    return Jwt.issue(Jwt.provider(vertx, AppConfig.DEV_JWT_SECRET), username, "user", 3600);
  }

  HttpResponse<Buffer> get(String path) throws Exception {
    return await(api.get(path));
  }

  HttpResponse<Buffer> post(String path, JsonObject body) throws Exception {
    return await(api.post(path, body));
  }

  /** POST /tasks expecting 202; returns the task. */
  JsonObject create(JsonObject body) throws Exception {
    HttpResponse<Buffer> r = post("/tasks", body);
    if (r.statusCode() != 202) {
      throw new AssertionError("POST /tasks " + body.encode() + " → " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject();
  }

  JsonObject task(String id) throws Exception {
    HttpResponse<Buffer> r = get("/tasks/" + id);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET /tasks/" + id + " → " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject();
  }

  /** Polls GET /tasks/{id} until the task matches, for at most {@code seconds}. */
  JsonObject awaitTask(String id, Predicate<JsonObject> condition, int seconds, String what) throws Exception {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    JsonObject task = null;
    while (System.currentTimeMillis() < deadline) {
      task = task(id);
      if (condition.test(task)) {
        return task;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("task " + id + " never became " + what + "; last seen " + task);
  }

  JsonObject awaitStatus(String id, String status, int seconds) throws Exception {
    return awaitTask(id, t -> status.equals(t.getString("status")), seconds, status);
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}
