package dev.boxoffice.tasks;

import dev.boxoffice.jobs.JobType;

import java.time.Duration;
import java.util.List;

/**
 * The job types people may submit as tasks. Every other job type (saga steps, outbox, ...) is internal: it can
 * neither be submitted through /tasks nor seen in /tasks or /history. The list is repeated in the predicates of the
 * partial indexes jobs_tasks and jobs_history (V1__baseline.sql), which the task lists read; ListPagesTest checks
 * that the two agree.
 */
public final class TaskTypes {
  public static final String TEXT_PROCESS = "text.process";
  public static final List<String> PUBLIC = List.of(TEXT_PROCESS, "users.sync", "users.enrich_addresses",
    "users.enrich_cards");
  /** As the source task API promised: 3 tries, 10 s apart (the engine adds its jitter). */
  public static final JobType TEXT = JobType.of(TEXT_PROCESS).maxAttempts(3)
    .backoff(Duration.ofSeconds(10), 1.0, Duration.ofSeconds(10));

  private TaskTypes() {
  }

  public static boolean adminOnly(String type) {
    return type.startsWith("users.");
  }
}
