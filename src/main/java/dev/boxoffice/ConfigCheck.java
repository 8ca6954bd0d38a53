package dev.boxoffice;

import dev.boxoffice.booking.SimulatedPayments;
import dev.boxoffice.cron.CronSchedules;
import dev.boxoffice.http.ClientAddress;
import dev.boxoffice.platform.AppConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Every setting checked before a node touches its storage or the cluster: {@link AppConfig#validate} (profile, prod
 * refusals, types, ranges, URIs, enumerations), then the settings a feature parses itself, with the feature's own
 * parser so that the check and the use cannot disagree.
 */
public final class ConfigCheck {
  private ConfigCheck() {
  }

  /** @throws IllegalStateException with one message naming every invalid setting */
  public static void check(AppConfig config) {
    config.validate();
    List<String> problems = new ArrayList<>();
    attempt(problems, () -> CronSchedules.fromConfig(config));
    attempt(problems, () -> ClientAddress.fromSetting(config.string("trusted_proxies")));
    attempt(problems, () -> SimulatedPayments.fromSetting(config.string("payment_decline_emails")));
    attempt(problems, () -> jobQueues(config.string("jobs_queues")));
    attempt(problems, () -> opsPort(config));
    if (!problems.isEmpty()) {
      throw new IllegalStateException(String.join("; ", problems));
    }
  }

  /** {@code name:concurrency,...}, each concurrency a positive number (what the job engines are deployed from). */
  private static void jobQueues(String setting) {
    if (setting == null || setting.isBlank()) {
      return;
    }
    for (String entry : setting.split(",")) {
      String[] parts = entry.trim().split(":");
      boolean valid = parts.length == 2 && !parts[0].isBlank() && parts[1].trim().matches("[0-9]{1,9}")
        && Integer.parseInt(parts[1].trim()) > 0;
      if (!valid) {
        throw new IllegalArgumentException("BOXOFFICE_JOBS_QUEUES entries look like name:concurrency (a positive "
          + "number), got " + entry.trim());
      }
    }
  }

  /** The operators' port is another port than the HTTP one (the same one would serve them to everyone). */
  private static void opsPort(AppConfig config) {
    Integer ops = config.opsPort();
    if (ops != null && ops == config.integer("http_port")) {
      throw new IllegalArgumentException("BOXOFFICE_OPS_PORT must differ from BOXOFFICE_HTTP_PORT (both " + ops
        + "); leave it unset to serve the operators' routes on the HTTP port");
    }
  }

  private static void attempt(List<String> problems, Runnable check) {
    try {
      check.run();
    } catch (RuntimeException e) {
      problems.add(e.getMessage());
    }
  }
}
