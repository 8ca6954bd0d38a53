package dev.boxoffice.jobs;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** What to enqueue. {@code runAt} null means now; {@code maxAttempts} null means the type's default. */
public record NewJob(String type, JsonObject payload, Instant runAt, Integer maxAttempts, String uniqueKey,
                     String owner) {

  public static NewJob of(String type, JsonObject payload) {
    return new NewJob(type, payload, null, null, null, null);
  }

  public NewJob at(Instant when) {
    return new NewJob(type, payload, when, maxAttempts, uniqueKey, owner);
  }

  public NewJob uniqueKey(String key) {
    return new NewJob(type, payload, runAt, maxAttempts, key, owner);
  }

  public NewJob maxAttempts(Integer n) {
    return new NewJob(type, payload, runAt, n, uniqueKey, owner);
  }

  public NewJob owner(String who) {
    return new NewJob(type, payload, runAt, maxAttempts, uniqueKey, who);
  }
}
