package dev.boxoffice.ops;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import dev.boxoffice.jobs.JobHandoff;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operators' controls on one node: GET /ops/queues, pause and resume (claims, handoffs, running jobs), and one
 * job's detail, retry and cancel. The test queue {@code ctl} runs one job at a time; the slow poll is off (30 s), so
 * a job that starts soon after a resume was woken by the resume itself.
 */
class QueueControlsTest {
  private static final String QUEUE = "ctl";
  private static final String TYPE = "test.ctl";
  /** Longer than the 1 s within which every node obeys a pause: a job still queued after it was not claimed. */
  private static final long OBEYED_MS = 1_500;
  /** A resume wakes the engines at once; the poll (30 s here) would be far later. */
  private static final Duration WOKEN = Duration.ofSeconds(5);

  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons())
    .with("jobs_queues", "default:1024,tickets:128,users:2," + QUEUE + ":1").with("jobs_poll_seconds", 30);
  private static ApiClient admin;
  /** Jobs whose payload names a gate run until the test opens it. */
  private static final Map<String, Promise<JsonObject>> gates = new ConcurrentHashMap<>();

  @BeforeAll
  static void setUp() {
    admin = node.admin();
    JobTypes.register(JobType.of(TYPE).queue(QUEUE).maxAttempts(3));
    await(JobWorkers.handle(node.vertx(), TYPE, job -> {
      if (job.payload().getBoolean("fail", false)) {
        return Future.failedFuture(JobFailure.permanent("failing on purpose"));
      }
      String gate = job.payload().getString("gate");
      return gate == null ? Future.succeededFuture(new JsonObject().put("ran", true))
        : gates.computeIfAbsent(gate, g -> Promise.promise()).future();
    }));
  }

  @AfterEach
  void resumeAll() {
    for (String q : List.of(QUEUE, JobType.DEFAULT_QUEUE)) {
      assertThat(await(admin.post("/ops/queues/" + q + "/resume", null)).statusCode()).isEqualTo(200);
    }
    gates.values().forEach(p -> p.tryComplete(new JsonObject()));
  }

  @Test
  void queuesAreListedWithTheirConcurrencyAndCountsForAdminsOnly() {
    HttpResponse<Buffer> r = await(admin.get("/ops/queues"));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonArray queues = r.bodyAsJsonArray();
    assertThat(queues.stream().map(q -> ((JsonObject) q).getString("name")))
      .contains("default", "tickets", "users", QUEUE).isSorted();
    JsonObject ctl = queue(queues, QUEUE);
    assertThat(ctl.getBoolean("paused")).isFalse();
    assertThat(ctl.getInteger("concurrency")).isEqualTo(1);
    assertThat(queue(queues, "default").getInteger("concurrency")).isEqualTo(1024);
    assertThat(ctl.getJsonObject("counts").fieldNames()).containsExactlyInAnyOrder("scheduled", "queued", "running",
      "succeeded", "failed", "dead", "cancelled");

    assertThat(await(node.user().get("/ops/queues")).statusCode()).isEqualTo(403);
    assertThat(await(node.user().post("/ops/queues/" + QUEUE + "/pause", null)).statusCode()).isEqualTo(403);
    assertThat(await(admin.post("/ops/queues/nosuchqueue/pause", null)).statusCode()).isEqualTo(404);
    assertThat(await(admin.post("/ops/queues/nosuchqueue/resume", null)).statusCode()).isEqualTo(404);
    assertThat(await(admin.post("/ops/queues/bad!name/pause", null)).statusCode()).isEqualTo(422);
  }

  @Test
  void aPausedQueueClaimsNothingWhileItsRunningJobFinishesAndAResumeStartsItsJobs() throws Exception {
    UUID running = enqueue(new JsonObject().put("gate", "first"));
    eventually(() -> assertThat(status(running)).isEqualTo("running"));

    HttpResponse<Buffer> paused = await(admin.post("/ops/queues/" + QUEUE + "/pause", null));
    assertThat(paused.statusCode()).isEqualTo(200);
    assertThat(paused.bodyAsJsonObject().getBoolean("paused")).isTrue();
    assertThat(paused.bodyAsJsonObject().getString("changed_by")).isEqualTo("admin");
    assertThat(paused.bodyAsJsonObject().getJsonObject("counts").getLong("running")).isEqualTo(1);
    // pausing again changes nothing
    assertThat(await(admin.post("/ops/queues/" + QUEUE + "/pause", null)).bodyAsJsonObject().getBoolean("paused"))
      .isTrue();

    UUID waiting = enqueue(new JsonObject());
    gates.computeIfAbsent("first", g -> Promise.promise()).complete(new JsonObject().put("finished", true));
    eventually(() -> assertThat(status(running)).as("the running job finishes").isEqualTo("succeeded"));
    Thread.sleep(OBEYED_MS); // a slot is free: only the pause keeps the new job waiting
    assertThat(status(waiting)).isEqualTo("queued");
    JsonObject ctl = queue(await(admin.get("/ops/queues")).bodyAsJsonArray(), QUEUE);
    assertThat(ctl.getBoolean("paused")).isTrue();
    assertThat(ctl.getJsonObject("counts").getLong("queued")).isEqualTo(1);

    HttpResponse<Buffer> resumed = await(admin.post("/ops/queues/" + QUEUE + "/resume", null));
    assertThat(resumed.statusCode()).isEqualTo(200);
    assertThat(resumed.bodyAsJsonObject().getBoolean("paused")).isFalse();
    eventually(WOKEN, () -> assertThat(status(waiting)).isEqualTo("succeeded"));
  }

  @Test
  void whilePausedHandedOffJobsAreQueuedAndThoseWaitingForASlotGoBack() throws Exception {
    // one slot: the first handed-off job runs, the other two wait here for it, leased to this node
    JobHandoff here = JobHandoff.local(node.vertx(), TYPE).orElseThrow();
    List<NewJob> three = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      three.add(NewJob.of(TYPE, new JsonObject().put("gate", "handoff")));
    }
    List<Job> jobs = await(node.pool().withTransaction(tx -> here.enqueueAll(tx, three)));
    assertThat(jobs).hasSize(3);
    here.start(jobs);
    eventually(() -> assertThat(statuses(jobs)).containsExactly("running", "running", "running"));

    assertThat(await(admin.post("/ops/queues/" + QUEUE + "/pause", null)).statusCode()).isEqualTo(200);
    // the two that never started go back to the queue, as if never claimed; the running one keeps its lease
    eventually(() -> assertThat(statuses(jobs)).containsExactlyInAnyOrder("running", "queued", "queued"));

    // new handoffs while paused are inserted queued, not leased, and nothing is handed over
    List<Job> handed = await(node.pool().withTransaction(tx -> here.enqueueAll(tx,
      List.of(NewJob.of(TYPE, new JsonObject())))));
    assertThat(handed).isEmpty();
    Row late = await(node.pool().query(
      "SELECT status, attempts, locked_by FROM jobs WHERE type = '" + TYPE + "' ORDER BY created_at DESC LIMIT 1")
      .execute()).iterator().next();
    assertThat(late.getString("status")).isEqualTo("queued");
    assertThat(late.getInteger("attempts")).isZero();
    assertThat(late.getString("locked_by")).isNull();

    gates.computeIfAbsent("handoff", g -> Promise.promise()).complete(new JsonObject());
    Thread.sleep(OBEYED_MS);
    assertThat(statuses(jobs)).containsExactlyInAnyOrder("succeeded", "queued", "queued");

    await(admin.post("/ops/queues/" + QUEUE + "/resume", null));
    eventually(WOKEN, () -> assertThat(statuses(jobs)).containsExactly("succeeded", "succeeded", "succeeded"));
  }

  @Test
  void aBookingMadeWhileTheDefaultQueueIsPausedWaitsForTheResume() throws Exception {
    assertThat(await(admin.post("/ops/queues/default/pause", null)).statusCode()).isEqualTo(200);
    HttpResponse<Buffer> created = await(admin.post("/bookings", new JsonObject().put("name", "Ada Lovelace")
      .put("email", "ada@example.com").put("phone", "+44 20 7946 0958")));
    assertThat(created.statusCode()).isEqualTo(201);
    long booking = created.bodyAsJsonObject().getLong("booking_id");
    Thread.sleep(OBEYED_MS);
    assertThat(await(admin.get("/bookings/" + booking)).bodyAsJsonObject().getString("status")).isEqualTo("pending");
    Row step = await(node.pool().preparedQuery("SELECT id FROM jobs WHERE payload->>'booking_id' = $1")
      .execute(Tuple.of(String.valueOf(booking)))).iterator().next();
    JsonObject job = await(admin.get("/ops/jobs/" + step.getUUID("id"))).bodyAsJsonObject();
    assertThat(job.getString("status")).isEqualTo("queued");
    assertThat(job.getString("queue")).isEqualTo("default");
    assertThat(job.getString("type")).startsWith("booking.");
    assertThat(job.getValue("lease_owner")).isNull();
    assertThat(job.getInteger("attempts")).isZero();

    await(admin.post("/ops/queues/default/resume", null));
    eventually(WOKEN, () -> assertThat(await(admin.get("/bookings/" + booking)).bodyAsJsonObject()
      .getString("status")).isIn("confirmed", "finalized"));
  }

  @Test
  void jobRoutesShowRetryAndCancelAnyJob() throws Exception {
    String missing = "/ops/jobs/" + UUID.randomUUID();
    assertThat(await(admin.get(missing)).statusCode()).isEqualTo(404);
    assertThat(await(admin.post(missing + "/retry", null)).statusCode()).isEqualTo(404);
    assertThat(await(admin.post(missing + "/cancel", null)).statusCode()).isEqualTo(404);
    assertThat(await(admin.get("/ops/jobs/not-a-uuid")).statusCode()).isEqualTo(422);
    assertThat(await(admin.post("/ops/jobs/not-a-uuid/retry", null)).statusCode()).isEqualTo(422);
    assertThat(await(node.user().get(missing)).statusCode()).isEqualTo(403);

    // a dead job: detail with its error and lease owner, then retried with its attempts reset
    UUID dead = enqueue(new JsonObject().put("fail", true));
    eventually(() -> assertThat(status(dead)).isEqualTo("dead"));
    JsonObject shown = await(admin.get("/ops/jobs/" + dead)).bodyAsJsonObject();
    assertThat(shown.getString("type")).isEqualTo(TYPE);
    assertThat(shown.getString("queue")).isEqualTo(QUEUE);
    assertThat(shown.getInteger("attempts")).isEqualTo(1);
    assertThat(shown.getInteger("max_attempts")).isEqualTo(3);
    assertThat(shown.getString("last_error")).contains("failing on purpose");
    assertThat(shown.getString("lease_owner")).isEqualTo(node.platform().membership().nodeId());
    assertThat(shown.getValue("lease_until")).isNull();
    assertThat(shown.getJsonObject("payload")).isEqualTo(new JsonObject().put("fail", true));
    assertThat(shown.getString("finished_at")).isNotNull();
    assertThat(await(admin.post("/ops/jobs/" + dead + "/cancel", null)).statusCode()).isEqualTo(409);

    assertThat(await(admin.post("/ops/queues/" + QUEUE + "/pause", null)).statusCode()).isEqualTo(200);
    HttpResponse<Buffer> retried = await(admin.post("/ops/jobs/" + dead + "/retry", null));
    assertThat(retried.statusCode()).isEqualTo(200);
    assertThat(retried.bodyAsJsonObject().getString("status")).isEqualTo("queued");
    assertThat(retried.bodyAsJsonObject().getInteger("attempts")).isZero();
    assertThat(retried.bodyAsJsonObject().getValue("last_error")).isNull();
    HttpResponse<Buffer> again = await(admin.post("/ops/jobs/" + dead + "/retry", null));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.bodyAsJsonObject().getString("status")).isEqualTo("queued");

    // queued (the queue is paused) → cancelled → queued again → runs on resume
    HttpResponse<Buffer> cancelled = await(admin.post("/ops/jobs/" + dead + "/cancel", null));
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    HttpResponse<Buffer> twice = await(admin.post("/ops/jobs/" + dead + "/cancel", null));
    assertThat(twice.statusCode()).isEqualTo(409);
    assertThat(twice.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(await(admin.post("/ops/jobs/" + dead + "/retry", null)).bodyAsJsonObject().getString("status"))
      .isEqualTo("queued");
    await(admin.post("/ops/queues/" + QUEUE + "/resume", null));
    eventually(WOKEN, () -> assertThat(status(dead)).isEqualTo("dead"));
    assertThat(await(admin.get("/ops/jobs/" + dead)).bodyAsJsonObject().getInteger("attempts")).isEqualTo(1);
  }

  private static UUID enqueue(JsonObject payload) {
    return await(JobQueue.enqueue(node.pool(), NewJob.of(TYPE, payload))).id();
  }

  private static String status(UUID id) {
    return await(JobQueue.get(node.pool(), id)).orElseThrow().status();
  }

  private static List<String> statuses(List<Job> jobs) {
    return jobs.stream().map(j -> status(j.id())).toList();
  }

  private static JsonObject queue(JsonArray queues, String name) {
    return queues.stream().map(JsonObject.class::cast).filter(q -> name.equals(q.getString("name"))).findFirst()
      .orElseThrow(() -> new AssertionError("no queue " + name + " in " + queues.encode()));
  }
}
