package dev.boxoffice.users;

import dev.boxoffice.jobs.JobType;

import java.time.Duration;

/**
 * The job types of the user directory. Cron and the tasks API enqueue them by these names: {@code users.sync}
 * (payload ignored), {@code users.enrich_addresses} and {@code users.enrich_cards} (payload {@code {"batch_size": N}},
 * default {@code enrich_batch_size}).
 *
 * <p>Each attempt already retries its provider calls a few times ({@link UsersProvider}); what is left over (the
 * provider down for longer) is retried here, spaced out, before the job goes dead.
 */
public final class UsersJobs {
  public static final String SYNC = "users.sync";
  public static final String ENRICH_ADDRESSES = "users.enrich_addresses";
  public static final String ENRICH_CARDS = "users.enrich_cards";

  private static JobType type(String name) {
    return JobType.of(name).maxAttempts(5).backoff(Duration.ofSeconds(2), 3.0, Duration.ofMinutes(5))
      .timeout(Duration.ofMinutes(10)).queue("users");
  }

  public static final JobType[] TYPES = {type(SYNC), type(ENRICH_ADDRESSES), type(ENRICH_CARDS)};

  private UsersJobs() {
  }
}
