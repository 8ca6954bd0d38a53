package dev.boxoffice.tasks;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.ops.TaskLog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code text.process} jobs. Deployed as a worker verticle: hashing and scanning 100 kB of text is work for a
 * worker thread, not an event loop. Text starting with {@code fail:N} fails its first N attempts, so clients can
 * watch retries happen.
 */
public final class TextTaskVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TextTaskVerticle.class);
  private static final Pattern FAIL = Pattern.compile("^fail:(\\d{1,6})");

  @Override
  public Future<?> start() {
    return JobWorkers.handle(vertx, TaskTypes.TEXT_PROCESS, TextTaskVerticle::run);
  }

  static Future<JsonObject> run(Job job) {
    Object data = job.payload().getValue("data");
    if (!(data instanceof String text)) {
      return Future.failedFuture(JobFailure.permanent("payload.data must be a string"));
    }
    Matcher fail = FAIL.matcher(text);
    if (fail.find()) {
      int failures = Integer.parseInt(fail.group(1));
      if (job.attempt() <= failures) {
        // per attempt, so DEBUG: the failure is on the job (GET /tasks/{id}) and in boxoffice_jobs_completed_total
        TaskLog.debug(log, job, "text task {} attempt {}/{} fails on purpose (fail:{})", job.id(), job.attempt(),
          job.maxAttempts(), failures);
        return Future.failedFuture(JobFailure.retryable("simulated failure (fail:" + failures + ") on attempt "
          + job.attempt()));
      }
    }
    JsonObject result = TextAnalysis.analyze(text);
    TaskLog.debug(log, job, "text task {} attempt {} done ({} words)", job.id(), job.attempt(),
      result.getInteger("words"));
    return Future.succeededFuture(result);
  }
}
