package dev.boxoffice.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.QueueControls;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * Job metrics read from the {@code jobs} table every {@link #PERIOD_MS}, without touching the engine:
 * <ul>
 *   <li>{@code boxoffice_jobs{type,state}}: gauges of the current number of jobs per type and state (a due
 *       {@code scheduled} job counts as {@code queued}, as in the API; {@link JobCounts}: live and dead exact, from
 *       their partial indexes, succeeded and cancelled estimated from statistics once the table is large, so a
 *       refresh costs the same with ten million finished jobs kept as with none);</li>
 *   <li>{@code boxoffice_jobs_completed_total{type,outcome}}: {@code succeeded} and {@code dead} jobs, and
 *       {@code failed} attempts that were retried (counted when their job finishes);</li>
 *   <li>{@code boxoffice_job_duration_seconds{type}}: the final attempt of each finished job;</li>
 *   <li>{@code boxoffice_job_queue_oldest_due_seconds{queue}}: how long the queue's oldest due job has been waiting
 *       to be claimed (0 when none is due): the queue's lag, which grows while no node keeps up with it, or while
 *       the queue is paused;</li>
 *   <li>{@code boxoffice_job_queue_paused{queue}} (1 paused, 0 running) and
 *       {@code boxoffice_job_queue_paused_seconds{queue}} (how long it has been paused, 0 while running), for every
 *       queue of a registered job type or that an operator has touched.</li>
 * </ul>
 * The table is the cluster's, so every node that serves /metrics reports the same cluster-wide numbers: aggregate
 * across nodes with {@code max}, not {@code sum}. Counters start at zero when the node starts and take the jobs
 * that finished since, through a watermark that trails the database clock by a couple of seconds so that a job
 * whose transaction commits late is still seen.
 */
public final class JobMetrics extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(JobMetrics.class);
  static final long PERIOD_MS = 5_000;

  private static final String HORIZON = "SELECT now() - interval '2 seconds' AS hi";
  private static final String FINISHED = """
    SELECT type, status, count(*) AS n, coalesce(sum(attempts - 1), 0) AS retried,
           coalesce(sum(extract(epoch FROM finished_at - started_at)), 0)::float8 AS seconds
    FROM jobs
    WHERE finished_at > $1 AND finished_at <= $2 AND status IN ('succeeded', 'dead') AND started_at IS NOT NULL
    GROUP BY type, status""";

  /*
   * Per queue and type, the earliest run_at of the jobs waiting for a claim: one probe of jobs_due each (the
   * planner's min() over the index), however many jobs wait. A future run_at means nothing is due yet.
   */
  private static final String OLDEST_DUE = """
    SELECT q.queue, coalesce(max(greatest(0, extract(epoch FROM now() - d.run_at))), 0)::float8 AS seconds
    FROM unnest($1::text[], $2::text[]) AS q(queue, type)
    CROSS JOIN LATERAL (
      SELECT min(j.run_at) AS run_at FROM jobs j
      WHERE j.queue = q.queue AND j.type = q.type AND j.status IN ('scheduled', 'queued', 'failed')) d
    GROUP BY q.queue""";

  private final Pool pool;
  private final MeterRegistry registry;
  private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();
  private final Map<String, Durations> durations = new ConcurrentHashMap<>();
  /** Queue gauges by meter name and queue, in milliseconds (or 0/1 for paused). */
  private final Map<String, AtomicLong> queueGauges = new ConcurrentHashMap<>();
  private OffsetDateTime watermark;
  private long timer = -1;
  private boolean busy;

  /** Count and total seconds of finished attempts of one type (a FunctionTimer reads them). */
  private static final class Durations {
    final AtomicLong count = new AtomicLong();
    final DoubleAdder seconds = new DoubleAdder();
  }

  public JobMetrics(Pool pool, MeterRegistry registry) {
    this.pool = pool;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    return pool.query(HORIZON).execute().map(rows -> watermark = rows.iterator().next().getOffsetDateTime("hi"))
      .compose(v -> refresh())
      .onSuccess(v -> timer = vertx.setPeriodic(PERIOD_MS, id -> refresh()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private Future<Void> refresh() {
    if (busy) {
      return Future.succeededFuture();
    }
    busy = true;
    return Future.join(gauges(), completions(), queues())
      .onFailure(err -> log.debug("job metrics refresh failed: {}", err.getMessage()))
      .onComplete(ar -> busy = false)
      .<Void>mapEmpty()
      .otherwiseEmpty();
  }

  private Future<Void> gauges() {
    return JobCounts.read(pool).map(counts -> {
      Map<String, Long> now = new HashMap<>();
      for (JobCounts.Count c : counts.all()) {
        for (String state : JobStats.STATES) {
          gauge(c.type(), state); // every state of a known type is reported, zeros included
        }
        now.merge(key(c.type(), c.state()), c.n(), Long::sum); // a type's jobs may sit in more than one queue
      }
      // one pass of plain sets: a scrape meanwhile never sees a gauge reset to zero
      gauges.forEach((key, value) -> value.set(now.getOrDefault(key, 0L)));
      return null;
    });
  }

  private AtomicLong gauge(String type, String state) {
    return gauges.computeIfAbsent(key(type, state), k -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder("boxoffice.jobs", value, AtomicLong::get).strongReference(true)
        .description("Jobs in the cluster by type and state, now")
        .tags("type", type, "state", state).register(registry);
      return value;
    });
  }

  private static String key(String type, String state) {
    return type + '\u0000' + state;
  }

  private Future<Void> queues() {
    List<JobType> types = JobTypes.all();
    String[] queueOfType = types.stream().map(JobType::queue).toArray(String[]::new);
    String[] type = types.stream().map(JobType::name).toArray(String[]::new);
    Future<Map<String, Double>> lags = pool.preparedQuery(OLDEST_DUE)
      .execute(Tuple.tuple().addArrayOfString(queueOfType).addArrayOfString(type))
      .map(rows -> {
        Map<String, Double> byQueue = new HashMap<>();
        rows.forEach(r -> byQueue.put(r.getString("queue"), r.getDouble("seconds")));
        return byQueue;
      });
    return Future.all(lags, QueueControls.all(pool)).map(both -> {
      Map<String, QueueControls.State> states = both.resultAt(1);
      Set<String> queues = new TreeSet<>(JobTypes.queues());
      queues.addAll(states.keySet());
      Instant now = Instant.now();
      for (String queue : queues) {
        QueueControls.State state = states.get(queue);
        boolean paused = state != null && state.paused();
        double lag = lags.result().getOrDefault(queue, 0.0);
        queueGauge("boxoffice.job.queue.oldest.due.seconds", queue,
          "How long the queue's oldest due job has waited for a claim (0: none is due)").set(Math.round(lag * 1000));
        queueGauge("boxoffice.job.queue.paused", queue, "1 while an operator has the queue paused, else 0")
          .set(paused ? 1 : 0);
        queueGauge("boxoffice.job.queue.paused.seconds", queue, "How long the queue has been paused (0 while running)")
          .set(paused ? Math.max(0, Duration.between(state.changedAt(), now).toMillis()) : 0);
      }
      return null;
    });
  }

  private AtomicLong queueGauge(String name, String queue, String description) {
    return queueGauges.computeIfAbsent(name + '\u0000' + queue, k -> {
      AtomicLong value = new AtomicLong();
      // durations are kept in milliseconds and read in seconds; the paused flag as it is
      boolean seconds = name.endsWith(".seconds");
      Gauge.builder(name, value, v -> seconds ? v.get() / 1000.0 : v.get())
        .strongReference(true).description(description).tags("queue", queue).register(registry);
      return value;
    });
  }

  private Future<Void> completions() {
    return pool.query(HORIZON).execute().compose(h -> {
      OffsetDateTime hi = h.iterator().next().getOffsetDateTime("hi");
      if (!hi.isAfter(watermark)) {
        return Future.succeededFuture();
      }
      return pool.preparedQuery(FINISHED).execute(Tuple.of(watermark, hi)).map(rows -> {
        for (Row r : rows) {
          String type = r.getString("type");
          String outcome = r.getString("status");
          completed(type, outcome).increment(r.getLong("n"));
          long retried = r.getLong("retried");
          if (retried > 0) {
            completed(type, "failed").increment(retried);
          }
          Durations d = durations(type);
          d.count.addAndGet(r.getLong("n"));
          d.seconds.add(r.getDouble("seconds"));
        }
        watermark = hi;
        return null;
      });
    });
  }

  private Counter completed(String type, String outcome) {
    return Counter.builder("boxoffice.jobs.completed")
      .description("Finished jobs (succeeded, dead) and retried attempts (failed), by type")
      .tags("type", type, "outcome", outcome).register(registry);
  }

  private Durations durations(String type) {
    return durations.computeIfAbsent(type, t -> {
      Durations d = new Durations();
      FunctionTimer.builder("boxoffice.job.duration", d, x -> x.count.get(), x -> x.seconds.sum(), TimeUnit.SECONDS)
        .description("Run time of the final attempt of finished jobs, by type")
        .tags("type", t).register(registry);
      return d;
    });
  }
}
