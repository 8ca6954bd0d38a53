package dev.boxoffice.cron;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;

/**
 * One schedule: a cron expression (evaluated in UTC) and the job it enqueues at each tick. Expressions are UNIX
 * cron (5 fields: minute hour day-of-month month day-of-week); with {@code seconds} they have a leading seconds
 * field (6 fields, Spring syntax), which only tests and demos need.
 */
public record CronSchedule(String name, String expression, boolean seconds, String type, JsonObject payload,
                           ExecutionTime times) {
  private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser WITH_SECONDS =
    new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));

  /** @throws IllegalArgumentException when the expression does not parse */
  public static CronSchedule of(String name, String expression, boolean seconds, String type, JsonObject payload) {
    ExecutionTime times = ExecutionTime.forCron((seconds ? WITH_SECONDS : UNIX).parse(expression.trim()).validate());
    return new CronSchedule(name, expression.trim(), seconds, type, payload == null ? new JsonObject() : payload,
      times);
  }

  /** The first tick strictly after {@code after}. */
  public Instant next(Instant after) {
    // cron-utils carries the sub-second part of its input into the result; ticks are whole seconds
    return times.nextExecution(utc(after).truncatedTo(ChronoUnit.SECONDS))
      .map(t -> t.truncatedTo(ChronoUnit.SECONDS).toInstant())
      .orElseThrow(() -> new IllegalStateException("schedule " + name + " has no tick after " + after));
  }

  /** The most recent tick at or before {@code now}, or null when there is none. */
  public Instant latestDue(Instant now) {
    ZonedDateTime t = utc(now).truncatedTo(seconds ? ChronoUnit.SECONDS : ChronoUnit.MINUTES);
    if (times.isMatch(t)) {
      return t.toInstant();
    }
    return times.lastExecution(t).map(x -> x.truncatedTo(ChronoUnit.SECONDS).toInstant()).orElse(null);
  }

  /** The job's unique key for one tick: one job per schedule and tick, whichever node enqueues it. */
  public String uniqueKey(Instant tick) {
    return "cron:" + name + ":" + tick;
  }

  private static ZonedDateTime utc(Instant t) {
    return t.atZone(ZoneOffset.UTC);
  }
}
