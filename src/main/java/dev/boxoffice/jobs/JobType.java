package dev.boxoffice.jobs;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A kind of job and its retry policy.
 *
 * @param maxAttempts   default for jobs of this type (a job may carry its own)
 * @param baseDelay     delay before the second attempt
 * @param factor        growth per further attempt (1 = fixed spacing)
 * @param maxDelay      cap on the delay
 * @param timeout       how long one attempt may run before it counts as failed
 * @param onDead        job type enqueued (same payload) when a job of this type goes dead, or null
 * @param queue         the queue whose engine runs it; each queue has its own concurrency per node, so slow work
 *                      (PDF rendering, provider calls) cannot crowd out the booking saga
 */
public record JobType(String name, int maxAttempts, Duration baseDelay, double factor, Duration maxDelay,
                      Duration timeout, String onDead, String queue) {
  public static final String DEFAULT_QUEUE = "default";

  public static JobType of(String name) {
    return new JobType(name, 5, Duration.ofMillis(200), 2.0, Duration.ofSeconds(60), Duration.ofSeconds(30), null,
      DEFAULT_QUEUE);
  }

  public JobType maxAttempts(int n) {
    return new JobType(name, n, baseDelay, factor, maxDelay, timeout, onDead, queue);
  }

  public JobType backoff(Duration base, double factor, Duration max) {
    return new JobType(name, maxAttempts, base, factor, max, timeout, onDead, queue);
  }

  public JobType timeout(Duration t) {
    return new JobType(name, maxAttempts, baseDelay, factor, maxDelay, t, onDead, queue);
  }

  public JobType onDead(String compensationType) {
    return new JobType(name, maxAttempts, baseDelay, factor, maxDelay, timeout, compensationType, queue);
  }

  public JobType queue(String queueName) {
    return new JobType(name, maxAttempts, baseDelay, factor, maxDelay, timeout, onDead, queueName);
  }

  /** Exponential backoff with ±20% jitter so retries of a burst do not land together. */
  public long retryDelayMillis(int attemptsSoFar) {
    double raw = baseDelay.toMillis() * Math.pow(factor, Math.max(0, attemptsSoFar - 1));
    double capped = Math.min(raw, maxDelay.toMillis());
    double jitter = 0.8 + ThreadLocalRandom.current().nextDouble() * 0.4;
    return Math.max(1, Math.round(capped * jitter));
  }
}
