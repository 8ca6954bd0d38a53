package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.Await;
import dev.boxoffice.testing.Browser;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Makes docs/monitoring.png: a three-node cluster under a few minutes of mixed load (tasks that succeed, retry and
 * die, plus bookings), then /ui as an admin sees it. Not part of the suite; run it on purpose:
 * {@code mvn -o -q test -Dtest=MonitoringScreenshot -Dboxoffice.screenshot=docs/monitoring.png}.
 */
@EnabledIfSystemProperty(named = "boxoffice.screenshot", matches = ".+")
class MonitoringScreenshot {
  private static final String[] TEXTS = {
    "The quick brown fox jumps over the lazy dog",
    "To be, or not to be, that is the question",
    "It was the best of times, it was the worst of times",
    "Call me Ishmael. Some years ago, never mind how long precisely",
    "All happy families are alike; each unhappy family is unhappy in its own way",
    "In the beginning the Universe was created. This has made a lot of people very angry"};

  @Test
  void capture() throws Exception {
    assumeTrue(Browser.installed(), Browser::missing);
    Path out = Path.of(System.getProperty("boxoffice.screenshot"));
    int rounds = Integer.getInteger("boxoffice.screenshot.rounds", 6);
    String db = TestStorage.get().newDatabase("MonitoringScreenshot");
    String cluster = "shot-" + UUID.randomUUID().toString().substring(0, 8);
    int[] ports = {TestStorage.freePort(), TestStorage.freePort(), TestStorage.freePort()};
    JsonObject base = TestNodes.settings(db, TestStorage.redisPrefix("MonitoringScreenshot"))
      .mergeIn(TestNodes.noUserCrons());
    List<Boxoffice.Node> nodes = new ArrayList<>();
    ChromeDriver browser = null;
    try {
      nodes.add(TestNodes.start(TestNodes.clustered(base.copy(), cluster, ports[0], ports), true));
      nodes.add(TestNodes.start(TestNodes.clustered(base.copy().put("roles", "workers"), cluster, ports[1], ports),
        true));
      nodes.add(TestNodes.start(TestNodes.clustered(base.copy().put("roles", "http,scheduler")
        .put("http_port", TestStorage.freePort()), cluster, ports[2], ports), true));
      int port = nodes.get(0).platform().config().integer("http_port");
      ApiClient admin = ApiClient.create(nodes.get(0).vertx(), port).withToken(TestTokens.admin());
      ApiClient user = admin.withToken(TestTokens.user());

      for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < 6; i++) {
          submit(round % 2 == 0 ? admin : user, text(TEXTS[(round + i) % TEXTS.length]));
        }
        submit(user, text("fail:1 " + TEXTS[round % TEXTS.length]));
        submit(admin, text("fail:5 " + TEXTS[round % TEXTS.length]).put("max_attempts", 2));
        for (int i = 0; i < 3; i++) {
          post(user, "/bookings", new JsonObject().put("name", "Guest " + round + "-" + i)
            .put("email", "guest" + round + i + "@example.com").put("phone", "+44 20 7946 0958"));
        }
        if (round < rounds - 1) {
          Thread.sleep(30_000);
        }
      }
      submit(admin, text("nightly report").put("run_at", Instant.now().plusSeconds(3600).toString()));
      submit(user, text("fail:2 a task that is retrying right now"));

      browser = Browser.start(1440, 1000);
      browser.get("http://127.0.0.1:" + port + "/ui");
      WebDriverWait wait = new WebDriverWait(browser, Await.TIMEOUT);
      wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
      browser.findElement(By.id("username")).sendKeys("admin");
      browser.findElement(By.id("password")).sendKeys("admin");
      browser.findElement(By.id("login-button")).click();
      wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#tasks-table tr[data-task-id]")));
      browser.findElement(By.id("submit-data")).sendKeys("fail:1 Submitted from the page");
      Thread.sleep(4_000);
      // the whole page in one shot: grow the window by what its viewport lacks
      long lacking = (Long) browser.executeScript(
        "return document.documentElement.scrollHeight - window.innerHeight");
      if (lacking > 0) {
        browser.manage().window().setSize(new Dimension(1440, (int) Math.min(4000, 1000 + lacking)));
      }
      Thread.sleep(2_500);
      Files.createDirectories(out.toAbsolutePath().getParent());
      Files.write(out, browser.getScreenshotAs(OutputType.BYTES));
    } finally {
      if (browser != null) {
        browser.quit();
      }
      for (int i = nodes.size() - 1; i >= 0; i--) {
        TestNodes.stop(nodes.get(i));
      }
    }
  }

  private static JsonObject text(String data) {
    return new JsonObject().put("type", "text.process").put("payload", new JsonObject().put("data", data));
  }

  private static void submit(ApiClient api, JsonObject task) throws Exception {
    post(api, "/tasks", task);
  }

  private static void post(ApiClient api, String path, JsonObject body) throws Exception {
    HttpResponse<Buffer> r = await(api.post(path, body));
    if (r.statusCode() >= 300) {
      throw new AssertionError("POST " + path + " → " + r.statusCode() + " " + r.bodyAsString());
    }
  }
}
