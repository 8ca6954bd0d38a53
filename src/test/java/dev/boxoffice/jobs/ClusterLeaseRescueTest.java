package dev.boxoffice.jobs;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.Await;
import dev.boxoffice.testing.TestClock;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.core.internal.VertxInternal;
import io.vertx.junit5.VertxExtension;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clustered worker nodes in one JVM. A job claimed by a node that then vanishes without a goodbye (its
 * Hazelcast member is terminated, as with kill -9) is completed by the surviving node, without a restart. The lease
 * is a minute long, so finishing within seconds shows the survivor reacted to the member leaving.
 */
@ExtendWith(VertxExtension.class)
class ClusterLeaseRescueTest {
  /** Done sooner than this, the job was not waiting for the minute-long lease to run out. */
  private static final Duration WELL_WITHIN_THE_LEASE = Duration.ofSeconds(20);
  /** The doomed node's clock: its engine's drain runs on it. */
  private static final TestClock doomedClock = new TestClock();
  private static Boxoffice.Node doomed;
  private static Boxoffice.Node survivor;

  @BeforeAll
  static void start() throws Exception {
    JobTypes.register(JobType.of("test.cluster.slow").maxAttempts(3));
    String db = TestStorage.get().newDatabase("ClusterLeaseRescueTest");
    String cluster = "rescue-" + UUID.randomUUID().toString().substring(0, 8);
    int p1 = TestStorage.freePort();
    int p2 = TestStorage.freePort();
    JsonObject base = TestNodes.settings(db, TestStorage.redisPrefix("ClusterLeaseRescueTest"))
      .put("roles", "workers").put("jobs_lease_seconds", 60);
    doomed = TestNodes.start(TestNodes.clustered(base, cluster, p1, p1, p2), true, doomedClock);
    survivor = TestNodes.start(TestNodes.clustered(base.copy().put("http_port", TestStorage.freePort()), cluster, p2,
      p1, p2), true);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(survivor);
  }

  @Test
  void theSurvivorCompletesAJobWhoseNodeVanishedMidAttempt() throws Exception {
    assertThat(survivor.platform().membership().members()).hasSize(2);
    Promise<JsonObject> never = Promise.promise();
    await(JobWorkers.handle(doomed.vertx(), "test.cluster.slow", job -> never.future()));

    UUID id = await(JobQueue.enqueue(doomed.platform().pool(), NewJob.of("test.cluster.slow", new JsonObject())))
      .id();
    String doomedId = doomed.platform().membership().nodeId();
    awaitJob(id, "running", Await.TIMEOUT);
    assertThat(lockedBy(id)).isEqualTo(doomedId);

    await(JobWorkers.handle(survivor.vertx(), "test.cluster.slow",
      job -> Future.succeededFuture(new JsonObject().put("by", survivor.platform().membership().nodeId()))));
    // as with kill -9: the node's verticles stop (the engine's drain gives up on the never-ending attempt after
    // JobEngine.DRAIN_MS, here of the doomed node's clock, and leaves its lease: no goodbye write, no more
    // renewals) and its cluster member vanishes without leaving gracefully
    for (String deployment : doomed.vertx().deploymentIDs()) {
      Future<Void> undeployed = doomed.vertx().undeploy(deployment);
      eventually(() -> {
        doomedClock.advance(Duration.ofMillis(JobEngine.DRAIN_MS));
        assertThat(undeployed.isComplete()).isTrue();
      });
      await(undeployed);
    }
    ((HazelcastClusterManager) ((VertxInternal) doomed.vertx()).clusterManager()).getHazelcastInstance()
      .getLifecycleService().terminate();

    JobRow done = awaitJob(id, "succeeded", WELL_WITHIN_THE_LEASE);
    assertThat(done.attempts()).isEqualTo(2);
    assertThat(done.lastError()).contains(doomedId);
    assertThat(done.result().getString("by")).isEqualTo(survivor.platform().membership().nodeId());
  }

  private static String lockedBy(UUID id) {
    return await(survivor.platform().pool().preparedQuery("SELECT locked_by FROM jobs WHERE id = $1")
      .execute(Tuple.of(id))).iterator().next().getString("locked_by");
  }

  private static JobRow awaitJob(UUID id, String status, Duration within) {
    return eventually(within, () -> JobQueue.get(survivor.platform().pool(), id).map(Optional::orElseThrow),
      job -> status.equals(job.status()));
  }
}
