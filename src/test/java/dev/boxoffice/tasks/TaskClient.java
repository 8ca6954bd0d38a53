package dev.boxoffice.tasks;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

import java.time.Duration;
import java.util.function.Predicate;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;

/** Blocking helpers over {@link ApiClient} for the task API tests. */
final class TaskClient {
  private final ApiClient api;

  private TaskClient(ApiClient api) {
    this.api = api;
  }

  static TaskClient of(ApiClient api) {
    return new TaskClient(api);
  }

  HttpResponse<Buffer> get(String path) {
    return await(api.get(path));
  }

  HttpResponse<Buffer> post(String path, JsonObject body) {
    return await(api.post(path, body));
  }

  /** POST /tasks expecting 202; returns the task. */
  JsonObject create(JsonObject body) {
    HttpResponse<Buffer> r = post("/tasks", body);
    if (r.statusCode() != 202) {
      throw new AssertionError("POST /tasks " + body.encode() + " → " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject();
  }

  JsonObject task(String id) {
    return await(read(id));
  }

  /** Polls GET /tasks/{id} until the task matches, for at most {@code within}. */
  JsonObject awaitTask(String id, Predicate<JsonObject> condition, Duration within) {
    return eventually(within, () -> read(id), condition);
  }

  JsonObject awaitStatus(String id, String status) {
    return awaitStatus(id, status, Await.TIMEOUT);
  }

  JsonObject awaitStatus(String id, String status, Duration within) {
    return awaitTask(id, t -> status.equals(t.getString("status")), within);
  }

  private Future<JsonObject> read(String id) {
    return api.get("/tasks/" + id).map(r -> {
      if (r.statusCode() != 200) {
        throw new AssertionError("GET /tasks/" + id + " → " + r.statusCode() + " " + r.bodyAsString());
      }
      return r.bodyAsJsonObject();
    });
  }
}
