package dev.boxoffice.ops;

import dev.boxoffice.jobs.Job;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * Log lines about one job carry {@code job_id}, {@code task_id} (the same id: a task is a job with an owner) and
 * {@code job_type} in the MDC, which the JSON encoder writes as fields. Set around each line, as event-loop code
 * hops threads. Never pass payloads: they may hold personal data.
 */
public final class TaskLog {
  private TaskLog() {
  }

  public static void info(Logger log, Job job, String format, Object... args) {
    try (MDC.MDCCloseable a = MDC.putCloseable("job_id", job.id().toString());
         MDC.MDCCloseable b = MDC.putCloseable("task_id", job.id().toString());
         MDC.MDCCloseable c = MDC.putCloseable("job_type", job.type())) {
      log.info(format, args);
    }
  }

  public static void debug(Logger log, Job job, String format, Object... args) {
    if (!log.isDebugEnabled()) {
      return;
    }
    try (MDC.MDCCloseable a = MDC.putCloseable("job_id", job.id().toString());
         MDC.MDCCloseable b = MDC.putCloseable("task_id", job.id().toString());
         MDC.MDCCloseable c = MDC.putCloseable("job_type", job.type())) {
      log.debug(format, args);
    }
  }
}
