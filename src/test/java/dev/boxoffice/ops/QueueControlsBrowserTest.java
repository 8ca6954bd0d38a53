package dev.boxoffice.ops;

import dev.boxoffice.testing.Await;
import dev.boxoffice.testing.Browser;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The queue controls on /ui in a real headless Chromium: pause the default queue on the page, submit a task and see
 * it wait (its detail says queued, unleased), resume and see it finish. The page with the paused queue is saved as a
 * screenshot: to {@code -Dboxoffice.queues.screenshot=docs/queues-paused.png} when given, else under target/.
 */
@ExtendWith(Browser.Required.class)
class QueueControlsBrowserTest {
  /** Longer than the 1 s within which every node obeys a pause. */
  private static final long OBEYED_MS = 1_500;

  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());
  private static ChromeDriver browser;

  @BeforeAll
  static void start() throws Exception {
    browser = Browser.start(1400, 1300);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void aTaskSubmittedWhileItsQueueIsPausedWaitsAndFinishesAfterTheResume() throws Exception {
    try {
      pauseSubmitResume();
    } catch (RuntimeException | AssertionError e) {
      StringBuilder state = new StringBuilder();
      for (String id : new String[]{"banner", "queue-message", "queue-controls", "tasks-table", "job-message",
        "job-view", "submit-result"}) {
        browser.findElements(By.id(id)).forEach(el -> state.append("\n#").append(id).append(": ").append(el.getText()));
      }
      throw new AssertionError("page state: " + state, e);
    }
  }

  private void pauseSubmitResume() throws Exception {
    browser.get("http://127.0.0.1:" + node.port() + "/ui");
    WebDriverWait wait = new WebDriverWait(browser, Await.TIMEOUT);
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
    browser.findElement(By.id("username")).sendKeys("admin");
    browser.findElement(By.id("password")).sendKeys("admin");
    browser.findElement(By.id("login-button")).click();

    click(wait, By.cssSelector("#queue-controls tr[data-queue='default'][data-paused='false'] button.pause"));
    WebElement paused = wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#queue-controls tr[data-queue='default'][data-paused='true']")));
    assertThat(paused.getText()).contains("paused", "Resume");
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("queue-message"), "is paused"));

    browser.findElement(By.id("submit-data")).sendKeys("waiting for the resume");
    browser.findElement(By.id("submit-button")).click();
    String taskId = wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#submit-result[data-task-id]"))).getDomAttribute("data-task-id");
    wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#tasks-table tr[data-task-id='" + taskId + "'][data-status='queued']")));
    Thread.sleep(OBEYED_MS);
    // still waiting after the page refreshed: the queue is paused
    wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#tasks-table tr[data-task-id='" + taskId + "'][data-status='queued']")));

    // its detail, opened from the task list
    click(wait, By.cssSelector("#tasks-table tr[data-task-id='" + taskId + "'] .job-link"));
    WebElement detail = wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#job-view[data-job-id='" + taskId + "'][data-status='queued']")));
    assertThat(detail.getText()).contains("text.process", "default", "0 of 3", "waiting for the resume");
    assertThat(browser.findElement(By.id("job-cancel")).isEnabled()).isTrue();
    assertThat(browser.findElement(By.id("job-retry")).isEnabled()).isFalse();
    wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#queue-controls tr[data-queue='default'][data-paused='true']")));
    screenshot();

    click(wait, By.cssSelector("#queue-controls tr[data-queue='default'] button.resume"));
    wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#queue-controls tr[data-queue='default'][data-paused='false']")));
    wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#tasks-table tr[data-task-id='" + taskId + "'][data-status='succeeded']")));
    wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#job-view[data-job-id='" + taskId + "'][data-status='succeeded']")));
    assertThat(browser.findElement(By.id("job-cancel")).isEnabled()).isFalse();
  }

  /** Clicks what {@code by} finds; the page redraws its tables every 2 s, so a row found may be gone: find again. */
  private static void click(WebDriverWait wait, By by) {
    wait.until(d -> {
      try {
        d.findElement(by).click();
        return true;
      } catch (NoSuchElementException | StaleElementReferenceException e) {
        return false;
      }
    });
  }

  /** The whole page (the window grown to its height), with the paused queue and the waiting task's detail. */
  private static void screenshot() throws Exception {
    long lacking = (Long) browser.executeScript("return document.documentElement.scrollHeight - window.innerHeight");
    if (lacking > 0) {
      browser.manage().window().setSize(new Dimension(1400, (int) Math.min(4000, 1300 + lacking)));
      Thread.sleep(300); // the resize's layout
    }
    Path out = Path.of(System.getProperty("boxoffice.queues.screenshot", "target/queues-paused.png"));
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.write(out, browser.getScreenshotAs(OutputType.BYTES));
  }
}
