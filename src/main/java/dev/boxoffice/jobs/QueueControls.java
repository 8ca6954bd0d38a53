package dev.boxoffice.jobs;

import dev.boxoffice.platform.Bus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Pausing and resuming a queue, cluster-wide. The state lives in {@code job_queues} and is what decides: every claim
 * ({@link JobsSql}) takes nothing from a paused queue, and the handoff insert puts a paused queue's new jobs in
 * {@code queued} rather than leased to its node. So a node obeys the pause at its very next claim, even one that
 * missed the message below or started after the pause. After the commit the change is also published on the bus
 * ({@link Bus#JOBS_QUEUE_CONTROL}) and, for a resume, notified on the jobs channel: every engine of the queue wakes
 * and claims at once (without either, the slow poll would pick the queue up again). Jobs already running finish.
 */
public final class QueueControls {
  /** The state an operator set; no row means running. */
  public record State(String queue, boolean paused, Instant changedAt, String changedBy) {
  }

  private static final String SET = """
    INSERT INTO job_queues (name, paused, changed_at, changed_by) VALUES ($1, $2, now(), $3)
    ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, changed_at = now(), changed_by = excluded.changed_by
    WHERE job_queues.paused IS DISTINCT FROM excluded.paused""";

  // a notice without types wakes every engine of every node (DueListener): due now
  private static final String WAKE_ALL = """
    SELECT 1 FROM (SELECT pg_notify('%s', (floor(extract(epoch FROM now()) * 1000))::bigint::text)) n"""
    .formatted(DueListener.CHANNEL);

  private static final String ALL = "SELECT name, paused, changed_at, changed_by FROM job_queues";

  private QueueControls() {
  }

  /** Pauses ({@code paused}) or resumes {@code queue}, then tells every node; a repeat changes nothing. */
  public static Future<Void> set(Vertx vertx, Pool pool, String queue, boolean paused, String by) {
    return pool.withTransaction(tx -> tx.preparedQuery(SET).execute(Tuple.of(queue, paused, by))
        .compose(v -> paused ? Future.<Void>succeededFuture() : tx.query(WAKE_ALL).execute().<Void>mapEmpty()))
      .onSuccess(v -> vertx.eventBus().publish(Bus.JOBS_QUEUE_CONTROL,
        new JsonObject().put("queue", queue).put("paused", paused)))
      .mapEmpty();
  }

  /** Every queue an operator has paused or resumed, by name. */
  public static Future<Map<String, State>> all(SqlClient sql) {
    return sql.query(ALL).execute().map(rows -> {
      Map<String, State> states = new HashMap<>();
      for (Row r : rows) {
        states.put(r.getString("name"), new State(r.getString("name"), r.getBoolean("paused"),
          r.getOffsetDateTime("changed_at").toInstant(), r.getString("changed_by")));
      }
      return states;
    });
  }

  /**
   * Listens, for one engine, to pauses and resumes of its queue announced on the bus (a clustered consumer,
   * removed with the engine's verticle).
   */
  static void listen(Vertx vertx, String queue, Runnable onPause, Runnable onResume) {
    vertx.eventBus().<JsonObject>consumer(Bus.JOBS_QUEUE_CONTROL, m -> {
      JsonObject body = m.body();
      if (body != null && queue.equals(body.getString("queue"))) {
        (body.getBoolean("paused", false) ? onPause : onResume).run();
      }
    });
  }
}
