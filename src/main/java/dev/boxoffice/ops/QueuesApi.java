package dev.boxoffice.ops;

import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.QueueControls;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * GET /ops/queues, POST /ops/queues/{queue}/pause and /resume. A queue is known when this node's configuration runs
 * an engine for it ({@code jobs_queues}), a job type belongs to it, or an operator has paused or resumed it; any
 * other name is a 404. Counts are read from the {@code jobs} table (see {@link JobCounts}: succeeded and cancelled are
 * estimated once the table is large), so every node reports the whole cluster;
 * {@code concurrency} is the per-node concurrency configured on the node that answers.
 */
final class QueuesApi {
  private static final Logger log = LoggerFactory.getLogger(QueuesApi.class);
  private final Platform platform;

  QueuesApi(Platform platform) {
    this.platform = platform;
  }

  Future<JsonObject> list(Bus.ApiRequest req) {
    return views().map(queues -> Bus.ApiReply.ok(new JsonArray(new java.util.ArrayList<>(queues.values()))));
  }

  /** Pause or resume: 200 with the queue as it is now; 404 for a queue nobody knows. */
  Future<JsonObject> set(Bus.ApiRequest req, boolean paused) {
    String queue = req.params().getString("queue");
    return known().compose(names -> {
      if (!names.contains(queue)) {
        return Future.failedFuture(Failure.notFound("Queue not found"));
      }
      return QueueControls.set(platform.vertx(), platform.pool(), queue, paused, req.user())
        .onSuccess(v -> log.info("queue {} {} by {}", queue, paused ? "paused" : "resumed", req.user()))
        .compose(v -> views())
        .map(queues -> Bus.ApiReply.ok(queues.get(queue)));
    });
  }

  private Future<TreeSet<String>> known() {
    return QueueControls.all(platform.pool()).map(states -> {
      TreeSet<String> names = new TreeSet<>(configured().keySet());
      names.addAll(JobTypes.queues());
      names.addAll(states.keySet());
      return names;
    });
  }

  /** Every known queue (and any queue that still has jobs), by name. */
  private Future<Map<String, JsonObject>> views() {
    Future<Map<String, QueueControls.State>> states = QueueControls.all(platform.pool());
    Future<JobCounts.Counts> counts = JobCounts.read(platform.pool());
    return Future.all(states, counts).map(v -> {
      Map<String, Integer> concurrency = configured();
      TreeSet<String> names = new TreeSet<>(concurrency.keySet());
      names.addAll(JobTypes.queues());
      names.addAll(states.result().keySet());
      counts.result().all().forEach(c -> names.add(c.queue()));
      Map<String, JsonObject> views = new TreeMap<>();
      for (String name : names) {
        QueueControls.State state = states.result().get(name);
        JsonObject byState = new JsonObject();
        JobStats.STATES.forEach(s -> byState.put(s, 0L));
        views.put(name, new JsonObject()
          .put("name", name)
          .put("paused", state != null && state.paused())
          .put("changed_at", state == null ? null : state.changedAt().toString())
          .put("changed_by", state == null ? null : state.changedBy())
          .put("concurrency", concurrency.get(name))
          .put("counts", byState)
          .put("estimated", new JsonArray(counts.result().estimatedStates())));
      }
      for (JobCounts.Count c : counts.result().all()) {
        JsonObject byState = views.get(c.queue()).getJsonObject("counts");
        byState.put(c.state(), byState.getLong(c.state()) + c.n()); // one row per type: summed over the queue's
      }
      return views;
    });
  }

  /**
   * The queues this node runs an engine for and their concurrency, as {@code jobs_queues} gives them
   * ({@code name:concurrency,...}; the default queue always runs).
   */
  private Map<String, Integer> configured() {
    Map<String, Integer> queues = new HashMap<>();
    queues.put(JobType.DEFAULT_QUEUE, 1024);
    String spec = platform.config().string("jobs_queues");
    for (String entry : spec == null ? new String[0] : spec.split(",")) {
      String[] parts = entry.trim().split(":");
      if (parts.length == 2) {
        try {
          queues.put(parts[0].trim(), Integer.parseInt(parts[1].trim()));
        } catch (NumberFormatException e) {
          // the engines refuse such a setting at start; nothing to report here
        }
      }
    }
    return queues;
  }
}
