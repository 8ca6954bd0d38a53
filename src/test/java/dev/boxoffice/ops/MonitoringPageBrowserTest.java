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
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.assertj.core.api.Assertions.assertThat;

/** A real headless Chromium drives /ui (login, submit a task, watch it succeed) and /docs (Swagger UI renders). */
@ExtendWith(Browser.Required.class)
class MonitoringPageBrowserTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());
  private static ChromeDriver browser;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    base = "http://127.0.0.1:" + node.port();
    browser = Browser.start(1400, 1000);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
  }

  @Test
  void adminLogsInSubmitsATaskAndSeesItSucceed() {
    try {
      loginSubmitAndWatch();
    } catch (RuntimeException | AssertionError e) {
      throw new AssertionError("page state: " + pageState(), e);
    }
  }

  /** What the page showed, for a failure message: the banner, each panel's text and the browser's console. */
  private static String pageState() {
    StringBuilder out = new StringBuilder();
    for (String id : new String[]{"banner", "login-error", "nodes-table", "tasks-table", "submit-result"}) {
      browser.findElements(By.id(id)).forEach(e -> out.append("\n#").append(id).append(": ").append(e.getText()));
    }
    try {
      browser.manage().logs().get("browser").forEach(l -> out.append("\nconsole: ").append(l.getMessage()));
    } catch (RuntimeException e) {
      out.append("\n(no console log: ").append(e.getMessage()).append(')');
    }
    return out.toString();
  }

  private void loginSubmitAndWatch() {
    browser.get(base + "/ui");
    WebDriverWait wait = new WebDriverWait(browser, Await.TIMEOUT);
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
    assertThat(browser.findElement(By.id("dashboard")).isDisplayed()).isFalse();

    browser.findElement(By.id("username")).sendKeys("admin");
    browser.findElement(By.id("password")).sendKeys("wrong");
    browser.findElement(By.id("login-button")).click();
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("login-error"), "Wrong username or password"));

    browser.findElement(By.id("password")).clear();
    browser.findElement(By.id("password")).sendKeys("admin");
    browser.findElement(By.id("login-button")).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("dashboard")));
    // the panels fill from the API: this node is listed alive with its roles
    WebElement self = wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#nodes-table tr[data-alive='true']")));
    assertThat(self.getText()).contains("http", "workers", "scheduler");

    String text = "hello from the browser test, hello again";
    browser.findElement(By.id("submit-data")).sendKeys(text);
    browser.findElement(By.id("submit-button")).click();
    WebElement submitted = wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#submit-result[data-task-id]")));
    String taskId = submitted.getDomAttribute("data-task-id");
    assertThat(submitted.getText()).contains("Submitted task " + taskId.substring(0, 8));

    WebElement row = wait.until(ExpectedConditions.presenceOfElementLocated(
      By.cssSelector("#tasks-table tr[data-task-id='" + taskId + "'][data-status='succeeded']")));
    assertThat(row.getText()).contains("succeeded", "text.process", "7 words", "top: hello");
    // counts and the chart caught up too
    wait.until(d -> !d.findElement(By.cssSelector("#states [data-state='succeeded'] .n")).getText().equals("0"));
    wait.until(d -> !d.findElements(By.cssSelector("#throughput-chart rect")).isEmpty());
    assertThat(browser.findElement(By.id("banner")).isDisplayed()).isFalse();
  }

  @Test
  void docsRenderTheContractWithSwaggerUi() {
    browser.get(base + "/docs");
    WebDriverWait wait = new WebDriverWait(browser, Await.TIMEOUT);
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".opblock")));
    assertThat(browser.getTitle()).contains("boxoffice");
    assertThat(browser.findElement(By.cssSelector(".info .title")).getText()).contains("boxoffice");
    assertThat(browser.findElements(By.cssSelector(".opblock-summary-path")))
      .extracting(WebElement::getText)
      .contains("/ops/jobs", "/tasks/{id}/retry", "/submit");
  }
}
