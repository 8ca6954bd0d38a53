package dev.boxoffice.cluster;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pause and resume across a cluster: two clustered worker nodes stop claiming a paused queue, a third node that joins
 * after the pause obeys it too (it never heard the message: it reads the persisted state), and a resume gets every
 * node claiming again at once. The slow poll is off (30 s), so claims after the resume were woken by it.
 */
class QueuePauseClusterTest {
  private static final String QUEUE = "clu";
  private static final String TYPE = "test.cluster.paused";
  private static final long OBEYED_MS = 1_500;
  private static final Duration WOKEN = Duration.ofSeconds(5);

  private static final List<Boxoffice.Node> nodes = new ArrayList<>();
  private static JsonObject base;
  private static String cluster;
  private static int[] ports;
  private static ApiClient admin;

  @BeforeAll
  static void start() throws Exception {
    JobTypes.register(JobType.of(TYPE).queue(QUEUE));
    String db = TestStorage.get().newDatabase("QueuePauseClusterTest");
    cluster = "pause-" + UUID.randomUUID().toString().substring(0, 8);
    ports = new int[]{TestStorage.freePort(), TestStorage.freePort(), TestStorage.freePort()};
    base = TestNodes.settings(db, TestStorage.redisPrefix("QueuePauseClusterTest")).mergeIn(TestNodes.noUserCrons())
      .put("jobs_queues", "default:1024,tickets:128,users:2," + QUEUE + ":8").put("jobs_poll_seconds", 30);
    nodes.add(node(base.copy(), 0));
    nodes.add(node(base.copy().put("roles", "workers"), 1));
    admin = ApiClient.create(nodes.get(0).vertx(), nodes.get(0).platform().config().integer("http_port"))
      .withToken(TestTokens.admin());
  }

  @AfterAll
  static void stop() throws Exception {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      TestNodes.stop(nodes.get(i));
    }
  }

  /** A clustered node that runs the test type and records which node ran each job. */
  private static Boxoffice.Node node(JsonObject settings, int index) throws Exception {
    Boxoffice.Node n = TestNodes.start(TestNodes.clustered(settings, cluster, ports[index], ports), true);
    String id = n.platform().membership().nodeId();
    await(JobWorkers.handle(n.vertx(), TYPE, job -> Future.succeededFuture(new JsonObject().put("node", id))));
    return n;
  }

  @Test
  void everyNodeIncludingOneThatJoinsLaterObeysThePauseAndAllResume() throws Exception {
    assertThat(await(admin.post("/ops/queues/" + QUEUE + "/pause", null)).statusCode()).isEqualTo(200);
    List<UUID> jobs = enqueue(20);
    try {
      Thread.sleep(OBEYED_MS);
      assertThat(states(jobs)).as("nothing claimed by either node").containsOnlyKeys("queued");

      // joins after the pause: it never heard the message, and registering its handler wakes its engine at once
      nodes.add(node(base.copy().put("roles", "workers"), 2));
      Thread.sleep(OBEYED_MS);
      assertThat(states(jobs)).as("nothing claimed by the late node").containsOnlyKeys("queued");
    } catch (AssertionError | RuntimeException e) {
      await(admin.post("/ops/queues/" + QUEUE + "/resume", null));
      throw e;
    }

    assertThat(await(admin.post("/ops/queues/" + QUEUE + "/resume", null)).bodyAsJsonObject().getBoolean("paused"))
      .isFalse();
    eventually(WOKEN, () -> assertThat(states(jobs)).containsOnlyKeys("succeeded"));
  }

  @Test
  void aPauseStopsEveryNodeClaimingAJobMadeAfterIt() throws Exception {
    List<UUID> before = enqueue(10);
    eventually(() -> assertThat(states(before)).containsOnlyKeys("succeeded"));

    // the pause may be answered by either worker node; both obey it
    assertThat(await(admin.post("/ops/queues/" + QUEUE + "/pause", null)).statusCode()).isEqualTo(200);
    try {
      List<UUID> after = enqueue(10);
      Thread.sleep(OBEYED_MS);
      assertThat(states(after)).containsOnlyKeys("queued");
    } finally {
      await(admin.post("/ops/queues/" + QUEUE + "/resume", null));
    }
  }

  private static List<UUID> enqueue(int n) {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(await(JobQueue.enqueue(nodes.get(0).platform().pool(), NewJob.of(TYPE, new JsonObject().put("i", i))))
        .id());
    }
    return ids;
  }

  /** How many of {@code jobs} are in each status. */
  private static Map<String, Integer> states(List<UUID> jobs) {
    Map<String, Integer> counts = new HashMap<>();
    for (Row r : await(nodes.get(0).platform().pool()
      .preparedQuery("SELECT status, count(*) AS n FROM jobs WHERE id = ANY($1) GROUP BY status")
      .execute(io.vertx.sqlclient.Tuple.of((Object) jobs.toArray(new UUID[0]))))) {
      counts.put(r.getString("status"), r.getInteger("n"));
    }
    return counts;
  }
}
