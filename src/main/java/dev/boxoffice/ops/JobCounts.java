package dev.boxoffice.ops;

import dev.boxoffice.platform.Paging;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Jobs per type, queue and public state, for GET /ops/jobs, GET /ops/queues and the {@code boxoffice_jobs} gauges
 * (a due {@code scheduled} row counts as {@code queued}, as the task views say). The cost does not grow with the
 * finished jobs the table keeps:
 * <ul>
 *   <li>live states (scheduled, queued, running, failed) and dead are counted exactly, each from the partial index
 *       that holds only its rows (jobs_due, jobs_leases, jobs_dead: index-only scans, their columns included), so
 *       a count reads the jobs in flight and the dead, never the millions that succeeded;</li>
 *   <li>succeeded and cancelled are counted while the table is small (up to {@link Paging#ESTIMATE_ABOVE} rows, as
 *       the list totals do) and estimated above that: the share of each (type, status, queue) in the statistics of
 *       the last ANALYZE (jobs_kinds, a multi-column MCV list) times the rows the table holds now (the planner's
 *       own arithmetic: reltuples per page of the last ANALYZE times the pages it has now).</li>
 * </ul>
 * Why an estimate and not a counter table written with each outcome: the outcome writer completes thousands of
 * jobs a second in batches on every node, and retention deletes them by the thousand; a counter row per (type,
 * status) would be one more write in each of those transactions and a row every node's writer updates at once (a
 * lock queue on the hot path, or sharded rows and their upkeep), all to be exact about numbers nobody reads to the
 * unit. The statistics are already kept by autovacuum (and by TableMaintenance for a table that outgrows them), cost
 * nothing on the write path, and a read of them is a catalog lookup. A type too rare to be in the MCV list is
 * estimated as 0.
 */
final class JobCounts {
  /** One count; {@code estimated} when it comes from statistics. */
  record Count(String type, String queue, String state, long n, boolean estimated) {
  }

  /**
   * The counts, and whether succeeded and cancelled are estimated: then they are for every type and queue, a type
   * absent from the statistics (0) included.
   */
  record Counts(List<Count> all, boolean finishedEstimated) {
    /** The states whose numbers are estimates, as the API lists them. */
    List<String> estimatedStates() {
      return finishedEstimated ? List.of("cancelled", "succeeded") : List.of();
    }
  }

  private static final Set<String> FINISHED_STATES = Set.of("succeeded", "cancelled");

  /** Live states and dead, exact, each from its partial index (index-only scans). */
  static final String LIVE = """
    SELECT type, queue, CASE WHEN status = 'scheduled' AND run_at <= now() THEN 'queued' ELSE status END AS state,
           count(*) AS n
    FROM jobs WHERE status IN ('scheduled', 'queued', 'failed') GROUP BY 1, 2, 3
    UNION ALL
    SELECT type, queue, 'running', count(*) FROM jobs WHERE status = 'running' GROUP BY 1, 2
    UNION ALL
    SELECT type, queue, 'dead', count(*) FROM jobs WHERE status = 'dead' GROUP BY 1, 2""";

  /*
   * Every (type, status, queue) of the statistics with its estimated rows, or no row at all while the table is small
   * or not yet analyzed. The MCV columns come in the table's column order (type, status, queue), whatever order
   * CREATE STATISTICS names them. The exact count of finished jobs is a statement of its own, run only when this one
   * has nothing: in one statement (behind a one-time filter that never let it run) the cost of its scan of a large
   * table still had the JIT compile the whole query, 200 ms of every read. pg_stats_ext shows a table's statistics
   * only to roles that own it: the node's own role, which made the schema (Database.migrate); a node connecting as
   * a role that does not own the table would count, and scan.
   */
  static final String ESTIMATE = """
    WITH size AS (
      SELECT CASE WHEN c.relpages > 0
                  THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::float8)
                  ELSE c.reltuples END AS rows
      FROM pg_class c WHERE c.oid = 'jobs'::regclass)
    SELECT s.most_common_vals[i][1] AS type, s.most_common_vals[i][3] AS queue, s.most_common_vals[i][2] AS state,
           round(s.most_common_freqs[i] * size.rows)::bigint AS n
    FROM size, pg_stats_ext s, generate_subscripts(s.most_common_vals, 1) i
    WHERE s.schemaname = current_schema() AND s.tablename = 'jobs' AND s.statistics_name = 'jobs_kinds'
      AND size.rows > %d""".formatted(Paging.ESTIMATE_ABOVE);

  /** Succeeded and cancelled, counted: only while {@link #ESTIMATE} has nothing (a small table). */
  static final String FINISHED = """
    SELECT type, queue, status AS state, count(*) AS n FROM jobs
    WHERE status IN ('succeeded', 'cancelled') GROUP BY 1, 2, 3""";

  private JobCounts() {
  }

  static Future<Counts> read(SqlClient sql) {
    Future<RowSet<Row>> live = sql.query(LIVE).execute();
    Future<RowSet<Row>> estimate = sql.query(ESTIMATE).execute();
    return Future.all(live, estimate).compose(v -> {
      List<Count> out = new ArrayList<>();
      live.result().forEach(r -> out.add(count(r, false)));
      if (estimate.result().size() > 0) {
        for (Row r : estimate.result()) {
          if (FINISHED_STATES.contains(r.getString("state"))) {
            out.add(count(r, true));
          }
        }
        return Future.succeededFuture(new Counts(out, true));
      }
      return sql.query(FINISHED).execute().map(rows -> {
        rows.forEach(r -> out.add(count(r, false)));
        return new Counts(out, false);
      });
    });
  }

  private static Count count(Row r, boolean estimated) {
    return new Count(r.getString("type"), r.getString("queue"), r.getString("state"), r.getLong("n"), estimated);
  }
}
