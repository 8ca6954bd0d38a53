package dev.boxoffice.tasks;

import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobTypes;
import dev.boxoffice.jobs.NewJob;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The task API over HTTP: submit, read, list, cancel, retry, ownership, the compatibility routes. */
class TasksApiTest {
  private static final String TEXT = "The quick brown fox jumps over the lazy dog.\nThe dog sleeps.";
  // built-in schedules off: no cron-made users.* tasks in the admin's lists
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());
  private static TaskClient admin;
  private static TaskClient user;

  static {
    JobTypes.register(JobType.of("test.internal"));
  }

  @BeforeAll
  static void clients() {
    admin = TaskClient.of(node.admin());
    user = TaskClient.of(node.user());
  }

  @Test
  void submitRunsTextProcessAndStatusShowsTheDeterministicResult() throws Exception {
    HttpResponse<Buffer> submitted = user.post("/submit", new JsonObject().put("data", TEXT));
    assertThat(submitted.statusCode()).isEqualTo(202);
    String id = submitted.bodyAsJsonObject().getString("task_id");
    assertThat(submitted.bodyAsJsonObject().getString("status")).isIn("queued", "running", "succeeded");

    user.awaitStatus(id, "succeeded");
    HttpResponse<Buffer> status = user.get("/status/" + id);
    assertThat(status.statusCode()).isEqualTo(200);
    JsonObject body = status.bodyAsJsonObject();
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("task_id", "status", "result", "attempts",
      "max_attempts", "last_error", "run_at", "created_at", "finished_at");
    assertThat(body.getString("task_id")).isEqualTo(id);
    assertThat(body.getInteger("attempts")).isEqualTo(1);
    assertThat(body.getInteger("max_attempts")).isEqualTo(3);
    assertThat(body.getString("last_error")).isNull();
    assertThat(Instant.parse(body.getString("finished_at"))).isAfterOrEqualTo(Instant.parse(body.getString("created_at")));

    JsonObject result = body.getJsonObject("result");
    assertThat(result.getInteger("length")).isEqualTo(TEXT.length());
    assertThat(result.getInteger("words")).isEqualTo(12);
    assertThat(result.getInteger("lines")).isEqualTo(2);
    assertThat(result.getInteger("unique_words")).isEqualTo(9);
    assertThat(result.getJsonArray("top_words")).isEqualTo(new JsonArray("""
      [["the",3],["dog",2],["brown",1],["fox",1],["jumps",1]]"""));
    assertThat(result.getString("sha256")).isEqualTo(HexFormat.of().formatHex(
      MessageDigest.getInstance("SHA-256").digest(TEXT.getBytes(StandardCharsets.UTF_8))));
    assertThat(result.getString("uppercase")).isEqualTo(TEXT.toUpperCase());
    assertThat(result.getString("reversed")).isEqualTo(new StringBuilder(TEXT).reverse().toString());
  }

  @Test
  void postTasksAnswers202WithTheTaskViewOwnedByTheCaller() throws Exception {
    HttpResponse<Buffer> r = user.post("/tasks", new JsonObject().put("type", "text.process")
      .put("payload", new JsonObject().put("data", "hello world")));
    assertThat(r.statusCode()).isEqualTo(202);
    JsonObject task = r.bodyAsJsonObject();
    assertThat(task.getString("task_id")).isEqualTo(task.getString("id"));
    assertThat(task.getString("type")).isEqualTo("text.process");
    assertThat(task.getString("owner")).isEqualTo("testuser");
    assertThat(task.getInteger("max_attempts")).isEqualTo(3);
    assertThat(task.getJsonObject("payload")).isEqualTo(new JsonObject().put("data", "hello world"));
    assertThat(task.fieldNames()).contains("result", "attempts", "last_error", "run_at", "created_at",
      "started_at", "finished_at", "unique_key");

    JsonObject done = user.awaitStatus(task.getString("id"), "succeeded");
    assertThat(done.getJsonObject("result").getString("sha256"))
      .isEqualTo("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  }

  @Test
  void aUniqueKeyOfALiveTaskReturnsThatTaskWith200() throws Exception {
    JsonObject body = new JsonObject().put("type", "text.process").put("payload", new JsonObject().put("data", "x"))
      .put("run_at", Instant.now().plusSeconds(3600).toString()).put("unique_key", "report-2030");
    HttpResponse<Buffer> first = user.post("/tasks", body);
    HttpResponse<Buffer> second = user.post("/tasks", body);
    assertThat(first.statusCode()).isEqualTo(202);
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.bodyAsJsonObject().getString("id")).isEqualTo(first.bodyAsJsonObject().getString("id"));
    assertThat(second.bodyAsJsonObject().getString("unique_key")).isEqualTo("report-2030");
    assertThat(second.bodyAsJsonObject().getString("status")).isEqualTo("scheduled");

    // keys belong to their owner: another user's identical key is a task of their own
    HttpResponse<Buffer> others = admin.post("/tasks", body);
    assertThat(others.statusCode()).isEqualTo(202);
    assertThat(others.bodyAsJsonObject().getString("id")).isNotEqualTo(first.bodyAsJsonObject().getString("id"));
  }

  @Test
  void aCancelledTaskNeverRunsAndCanBeRetried() throws Exception {
    Instant runAt = Instant.now().plusSeconds(2);
    JsonObject task = user.create(new JsonObject().put("type", "text.process")
      .put("payload", new JsonObject().put("data", "later")).put("run_at", runAt.toString()));
    assertThat(task.getString("status")).isEqualTo("scheduled");

    HttpResponse<Buffer> cancelled = user.post("/tasks/" + task.getString("id") + "/cancel", null);
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(cancelled.bodyAsJsonObject().getString("finished_at")).isNotNull();

    HttpResponse<Buffer> again = user.post("/tasks/" + task.getString("id") + "/cancel", null);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    assertThat(again.bodyAsJsonObject().getString("error")).isEqualTo("Task cannot be cancelled");

    // past its due time it is still cancelled and was never attempted
    Thread.sleep(Math.max(0, runAt.toEpochMilli() - System.currentTimeMillis()) + 1000);
    JsonObject later = user.task(task.getString("id"));
    assertThat(later.getString("status")).isEqualTo("cancelled");
    assertThat(later.getInteger("attempts")).isZero();
    assertThat(later.getString("started_at")).isNull();

    HttpResponse<Buffer> retried = user.post("/tasks/" + task.getString("id") + "/retry", null);
    assertThat(retried.statusCode()).isEqualTo(200);
    assertThat(retried.bodyAsJsonObject().getString("status")).isEqualTo("queued");
    user.awaitStatus(task.getString("id"), "succeeded");
  }

  @Test
  void finishedTasksCannotBeCancelledAndLiveOnesCannotBeRetried() throws Exception {
    JsonObject done = user.create(textTask("done"));
    user.awaitStatus(done.getString("id"), "succeeded");
    HttpResponse<Buffer> cancel = user.post("/tasks/" + done.getString("id") + "/cancel", null);
    assertThat(cancel.statusCode()).isEqualTo(409);
    assertThat(cancel.bodyAsJsonObject().getString("status")).isEqualTo("succeeded");
    HttpResponse<Buffer> retry = user.post("/tasks/" + done.getString("id") + "/retry", null);
    assertThat(retry.statusCode()).isEqualTo(409);
    assertThat(retry.bodyAsJsonObject().getString("status")).isEqualTo("succeeded");

    JsonObject scheduled = user.create(textTask("later").put("run_at", Instant.now().plusSeconds(3600).toString()));
    HttpResponse<Buffer> notYet = user.post("/tasks/" + scheduled.getString("id") + "/retry", null);
    assertThat(notYet.statusCode()).isEqualTo(409);
    assertThat(notYet.bodyAsJsonObject().getString("status")).isEqualTo("scheduled");
  }

  @Test
  void aUserSeesOnlyTheirOwnTasksAndAnAdminSeesAll() throws Exception {
    JsonObject adminsTask = admin.create(textTask("admin's").put("run_at", Instant.now().plusSeconds(3600).toString()));
    String id = adminsTask.getString("id");
    for (HttpResponse<Buffer> r : List.of(user.get("/tasks/" + id), user.get("/status/" + id),
      user.post("/tasks/" + id + "/cancel", null), user.post("/tasks/" + id + "/retry", null))) {
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("Task not found");
    }
    assertThat(ids(user.get("/tasks?limit=100"))).doesNotContain(id);

    JsonObject usersTask = user.create(textTask("mine").put("run_at", Instant.now().plusSeconds(3600).toString()));
    assertThat(admin.get("/tasks/" + usersTask.getString("id")).statusCode()).isEqualTo(200);
    assertThat(ids(admin.get("/tasks?limit=100"))).contains(id, usersTask.getString("id"));
    assertThat(admin.post("/tasks/" + usersTask.getString("id") + "/cancel", null).statusCode()).isEqualTo(200);
  }

  @Test
  void usersTypesAreForAdminsAndUnknownTypesAreRefused() throws Exception {
    HttpResponse<Buffer> forbidden = user.post("/tasks", new JsonObject().put("type", "users.sync"));
    assertThat(forbidden.statusCode()).isEqualTo(403);

    HttpResponse<Buffer> unknown = user.post("/tasks", new JsonObject().put("type", "shell.exec"));
    assertThat(unknown.statusCode()).isEqualTo(422);
    assertThat(unknown.bodyAsJsonObject().getJsonArray("fields").getJsonObject(0).getString("field"))
      .isEqualTo("type");

    HttpResponse<Buffer> noData = user.post("/tasks", new JsonObject().put("type", "text.process")
      .put("payload", new JsonObject()));
    assertThat(noData.statusCode()).isEqualTo(422);

    // an admin may submit users.sync; until a node registers the type, the cluster says it cannot run it
    HttpResponse<Buffer> sync = admin.post("/tasks", new JsonObject().put("type", "users.sync")
      .put("run_at", Instant.now().plusSeconds(3600).toString()));
    if (JobTypes.find("users.sync").isPresent()) {
      assertThat(sync.statusCode()).isEqualTo(202);
      admin.post("/tasks/" + sync.bodyAsJsonObject().getString("id") + "/cancel", null);
    } else {
      assertThat(sync.statusCode()).isEqualTo(422);
      assertThat(sync.bodyAsJsonObject().getString("error")).isEqualTo("Task type not available on this cluster");
    }
  }

  @Test
  void internalJobsAreNeverTasks() throws Exception {
    var pool = node.platform().pool();
    String owned = await(JobQueue.enqueue(pool, NewJob.of("test.internal", new JsonObject()).owner("admin")
      .at(Instant.now().plusSeconds(3600)))).id().toString();
    String ownerless = await(JobQueue.enqueue(pool, NewJob.of("test.internal", new JsonObject())
      .at(Instant.now().plusSeconds(3600)))).id().toString();
    for (String id : List.of(owned, ownerless)) {
      assertThat(admin.get("/tasks/" + id).statusCode()).isEqualTo(404);
      assertThat(admin.get("/status/" + id).statusCode()).isEqualTo(404);
      assertThat(admin.post("/tasks/" + id + "/cancel", null).statusCode()).isEqualTo(404);
    }
    assertThat(ids(admin.get("/tasks?limit=100"))).doesNotContain(owned, ownerless);
    await(JobQueue.cancel(pool, java.util.UUID.fromString(owned)));
    assertThat(ids(admin.get("/history?limit=100"))).doesNotContain(owned);
  }

  @Test
  void listsFilterByStatusAndTypeNewestFirstWithATotal() throws Exception {
    TaskClient lister = TaskClient.of(node.api().withToken(TestTokens.issue("lister", "user")));
    String first = lister.create(textTask("one")).getString("id");
    lister.awaitStatus(first, "succeeded");
    String second = lister.create(textTask("two")).getString("id");
    lister.awaitStatus(second, "succeeded");
    String third = lister.create(textTask("three").put("run_at", Instant.now().plusSeconds(3600).toString()))
      .getString("id");

    HttpResponse<Buffer> all = lister.get("/tasks");
    assertThat(ids(all)).containsExactly(third, second, first);
    assertThat(all.getHeader("X-Total-Count")).isEqualTo("3");

    HttpResponse<Buffer> succeeded = lister.get("/tasks?status=succeeded");
    assertThat(ids(succeeded)).containsExactly(second, first);
    assertThat(succeeded.getHeader("X-Total-Count")).isEqualTo("2");

    assertThat(ids(lister.get("/tasks?status=scheduled"))).containsExactly(third);
    assertThat(ids(lister.get("/tasks?status=queued"))).isEmpty();
    assertThat(ids(lister.get("/tasks?type=text.process&limit=1&offset=1"))).containsExactly(second);
    assertThat(lister.get("/tasks?type=users.sync").getHeader("X-Total-Count")).isEqualTo("0");

    assertThat(lister.get("/tasks?status=sleeping").statusCode()).isEqualTo(422);
    assertThat(lister.get("/tasks?limit=0").statusCode()).isEqualTo(422);
    assertThat(lister.get("/tasks?limit=101").statusCode()).isEqualTo(422);
  }

  @Test
  void historyListsFinishedTasksNewestFinishedFirst() throws Exception {
    TaskClient historian = TaskClient.of(node.api().withToken(TestTokens.issue("historian", "user")));
    String live = historian.create(textTask("live").put("run_at", Instant.now().plusSeconds(3600).toString()))
      .getString("id");
    String cancelled = historian.create(textTask("cancel me").put("run_at", Instant.now().plusSeconds(3600)
      .toString())).getString("id");
    String succeeded = historian.create(textTask("done")).getString("id");
    historian.awaitStatus(succeeded, "succeeded");
    assertThat(historian.post("/tasks/" + cancelled + "/cancel", null).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> history = historian.get("/history");
    assertThat(history.statusCode()).isEqualTo(200);
    assertThat(ids(history)).containsExactly(cancelled, succeeded).doesNotContain(live);
    assertThat(history.getHeader("X-Total-Count")).isEqualTo("2");
    assertThat(ids(historian.get("/history?limit=1&offset=1"))).containsExactly(succeeded);
  }

  @Test
  void aTaskIdThatIsNotAUuidIsAContractViolation() throws Exception {
    for (HttpResponse<Buffer> r : List.of(user.get("/tasks/42"), user.get("/status/not-a-uuid"),
      user.post("/tasks/42/cancel", null), user.post("/tasks/42/retry", null))) {
      assertThat(r.statusCode()).isEqualTo(422);
      assertThat(r.bodyAsJsonObject().getJsonArray("fields").getJsonObject(0).getString("field"))
        .isIn("id", "task_id");
    }
    assertThat(user.get("/tasks/" + java.util.UUID.randomUUID()).statusCode()).isEqualTo(404);
  }

  @Test
  void requestsWithoutATokenAreRefused() throws Exception {
    TaskClient anonymous = TaskClient.of(node.api());
    assertThat(anonymous.get("/tasks").statusCode()).isEqualTo(401);
    assertThat(anonymous.post("/submit", new JsonObject().put("data", "x")).statusCode()).isEqualTo(401);
  }

  private static JsonObject textTask(String data) {
    return new JsonObject().put("type", "text.process").put("payload", new JsonObject().put("data", data));
  }

  private static List<String> ids(HttpResponse<Buffer> list) {
    assertThat(list.statusCode()).isEqualTo(200);
    return list.bodyAsJsonArray().stream().map(o -> ((JsonObject) o).getString("id")).toList();
  }
}
