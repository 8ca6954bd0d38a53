package dev.boxoffice.tasks;

import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The text.process job type: a deterministic analysis, and the retry policy of the source task API (3 tries, 10 s
 * apart) made visible with {@code fail:N} text. The retry tests wait out the real 10 s spacing.
 */
class TextTaskTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());
  private static TaskClient user;

  @BeforeAll
  static void client() {
    user = TaskClient.of(node.user());
  }

  @Test
  void theAnalysisCountsWordsCaseInsensitivelyAndRanksTiesAlphabetically() {
    JsonObject r = TextAnalysis.analyze("Été, été! 42 apples; 42 pears\r\nand été\n");
    assertThat(r.getInteger("length")).isEqualTo(39);
    assertThat(r.getInteger("words")).isEqualTo(8);
    assertThat(r.getInteger("lines")).isEqualTo(2);
    assertThat(r.getInteger("unique_words")).isEqualTo(5);
    assertThat(r.getJsonArray("top_words")).isEqualTo(new JsonArray("""
      [["été",3],["42",2],["and",1],["apples",1],["pears",1]]"""));
    assertThat(r.getString("uppercase")).isEqualTo("ÉTÉ, ÉTÉ! 42 APPLES; 42 PEARS\r\nAND ÉTÉ\n");
    assertThat(r.getString("reversed")).isEqualTo("\nété dna\n\rsraep 24 ;selppa 24 !été ,étÉ");

    JsonObject hello = TextAnalysis.analyze("hello world");
    assertThat(hello.getString("sha256")).isEqualTo("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    assertThat(hello.getInteger("length")).isEqualTo(11);
    assertThat(TextAnalysis.analyze("...").getInteger("words")).isZero();
    assertThat(TextAnalysis.analyze("...").getJsonArray("top_words")).isEmpty();
    assertThat(TextAnalysis.analyze("a\n\nb").getInteger("lines")).isEqualTo(3);
    assertThat(TextAnalysis.analyze("😀 x").getInteger("length")).isEqualTo(3);
    assertThat(TextAnalysis.analyze("😀 x").getString("reversed")).isEqualTo("x 😀");
  }

  @Test
  void failTwoFailsVisiblyTwiceTenSecondsApartThenSucceeds() throws Exception {
    JsonObject task = user.create(new JsonObject().put("type", "text.process")
      .put("payload", new JsonObject().put("data", "fail:2 then fine")).put("max_attempts", 3));
    String id = task.getString("id");

    JsonObject first = user.awaitTask(id, t -> t.getInteger("attempts") == 1 && "failed".equals(t.getString("status")),
      Duration.ofSeconds(10));
    assertThat(first.getString("last_error")).isEqualTo("simulated failure (fail:2) on attempt 1");
    assertThat(first.getString("finished_at")).isNull();
    // 10 s spacing with the engine's ±20% jitter
    assertThat(Duration.between(Instant.now(), Instant.parse(first.getString("run_at"))))
      .isBetween(Duration.ofSeconds(7), Duration.ofSeconds(12));

    JsonObject second = user.awaitTask(id, t -> t.getInteger("attempts") == 2 && "failed".equals(t.getString("status")),
      Duration.ofSeconds(15));
    assertThat(second.getString("last_error")).isEqualTo("simulated failure (fail:2) on attempt 2");
    assertThat(Duration.between(Instant.parse(first.getString("run_at")), Instant.parse(second.getString("run_at"))))
      .isBetween(Duration.ofSeconds(7), Duration.ofSeconds(13));

    JsonObject done = user.awaitStatus(id, "succeeded", Duration.ofSeconds(15));
    assertThat(done.getInteger("attempts")).isEqualTo(3);
    assertThat(done.getJsonObject("result").getInteger("words")).isEqualTo(4);
    assertThat(done.getJsonObject("result").getJsonArray("top_words").getJsonArray(0).getString(0)).isEqualTo("2");

    HttpResponse<Buffer> status = user.get("/status/" + id);
    assertThat(status.bodyAsJsonObject().getString("status")).isEqualTo("succeeded");
    assertThat(status.bodyAsJsonObject().getJsonObject("result").getString("sha256")).hasSize(64);
  }

  @Test
  void failFiveWithTwoAttemptsDiesWithTheLastErrorAndCanBeRetried() throws Exception {
    JsonObject task = user.create(new JsonObject().put("type", "text.process")
      .put("payload", new JsonObject().put("data", "fail:5")).put("max_attempts", 2));
    String id = task.getString("id");

    JsonObject dead = user.awaitStatus(id, "dead", Duration.ofSeconds(20));
    assertThat(dead.getInteger("attempts")).isEqualTo(2);
    assertThat(dead.getString("last_error")).isEqualTo("simulated failure (fail:5) on attempt 2");
    assertThat(dead.getString("finished_at")).isNotNull();
    assertThat(dead.getValue("result")).isNull();

    HttpResponse<Buffer> retried = user.post("/tasks/" + id + "/retry", null);
    assertThat(retried.statusCode()).isEqualTo(200);
    assertThat(retried.bodyAsJsonObject().getString("status")).isEqualTo("queued");
    assertThat(retried.bodyAsJsonObject().getInteger("attempts")).isZero();
    assertThat(retried.bodyAsJsonObject().getString("last_error")).isNull();
    // it runs again from its first attempt (and fails again: fail:5 outlasts two tries)
    user.awaitTask(id, t -> t.getInteger("attempts") == 1 && "failed".equals(t.getString("status")),
      Duration.ofSeconds(10));
    assertThat(user.post("/tasks/" + id + "/cancel", null).statusCode()).isEqualTo(200);
  }
}
