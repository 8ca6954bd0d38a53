package dev.boxoffice.jobs;

import dev.boxoffice.platform.Failures;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * What a batch handler reports for the jobs it was given: a result for each that succeeded, a failure for each
 * that failed. A job the handler mentions in neither succeeded with no result.
 */
public final class BatchResult {
  private final JsonObject results = new JsonObject();
  private final JsonObject failures = new JsonObject();

  public BatchResult succeeded(UUID job, JsonObject result) {
    results.put(job.toString(), result);
    return this;
  }

  public BatchResult failed(UUID job, Throwable failure) {
    boolean permanent = failure instanceof JobFailure jf && jf.isPermanent();
    failures.put(job.toString(), new JsonObject().put("error", Failures.text(failure)).put("permanent", permanent));
    return this;
  }

  /** The bus reply: {@code {"results": {id: result}, "failures": {id: {"error", "permanent"}}}}. */
  JsonObject toJson() {
    return new JsonObject().put("results", results).put("failures", failures);
  }
}
