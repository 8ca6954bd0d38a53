package dev.boxoffice.users;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.testing.Await;
import dev.boxoffice.testing.Browser;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.users.UsersTesting.run;
import static dev.boxoffice.users.UsersTesting.succeeded;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /users/ui} in a real headless Chromium: sign in through the form, page through the directory, filter, see
 * the masked cards and enrichment badges. Skipped where no Chromium and chromedriver are installed.
 */
@ExtendWith(Browser.Required.class)
class UsersPageBrowserTest {
  private static Vertx fakeVertx;
  private static Boxoffice.Node node;
  private static WebDriver browser;
  private static String page;

  @BeforeAll
  static void start() throws Exception {
    fakeVertx = Vertx.vertx();
    FakeProvider fake = FakeProvider.start(fakeVertx, 250);
    String db = UsersTesting.newDatabase("UsersPageBrowserTest");
    node = TestNodes.start(UsersTesting.settings(db, TestStorage.redisPrefix("UsersPageBrowserTest"), fake), false);
    Pool pool = node.platform().pool();
    succeeded(run(pool, UsersJobs.SYNC, new JsonObject()));
    succeeded(run(pool, UsersJobs.ENRICH_ADDRESSES, new JsonObject().put("batch_size", 1000)));
    succeeded(run(pool, UsersJobs.ENRICH_CARDS, new JsonObject().put("batch_size", 30)));
    page = "http://127.0.0.1:" + node.platform().config().integer("http_port") + "/users/ui";
    browser = Browser.start(1280, 900);
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    TestNodes.stop(node);
    if (fakeVertx != null) {
      await(fakeVertx.close());
    }
  }

  @Test
  void signInPageFilterAndSeeMaskedCards() throws Exception {
    browser.get(page);
    WebDriverWait wait = new WebDriverWait(browser, Await.TIMEOUT);
    wait.until(d -> d.findElement(By.id("login-view")).isDisplayed());

    signIn("testuser", "wrong");
    wait.until(d -> d.findElement(By.id("login-error")).getText().contains("Wrong username or password"));
    assertThat(browser.findElement(By.id("users-view")).isDisplayed()).isFalse();

    signIn("testuser", "testpass");
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 1–20 of 250"));
    assertThat(rows()).hasSize(20);
    assertThat(browser.findElement(By.id("who")).getText()).isEqualTo("Signed in as testuser");
    WebElement first = rows().get(0);
    assertThat(first.getText()).contains("First1 Last1", "user1@example.test", "City 1",
      "**** **** **** " + FakeProvider.cardDigits(1).substring(12), "address: enriched", "card: enriched");
    assertThat(browser.getPageSource()).doesNotContain(FakeProvider.cardDigits(1));
    screenshot("users-ui.png");

    browser.findElement(By.id("next")).click();
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 21–40 of 250 · page 2 of 13"));
    assertThat(rows().get(0).getText()).contains("First21 Last21");
    // the next page is the one the Link header named: a cursor, no offset
    Object fetched = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("return performance"
      + ".getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/users?')).pop()");
    assertThat(String.valueOf(fetched)).contains("cursor=").doesNotContain("offset=");
    browser.findElement(By.id("prev")).click();
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 1–20 of 250"));

    new Select(browser.findElement(By.id("f-size"))).selectByVisibleText("100");
    new Select(browser.findElement(By.id("f-card"))).selectByValue("false");
    // 250 users less the 27 cards of the first 30 (every 8th has none)
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 1–100 of 223"));
    assertThat(rows()).hasSize(100).allMatch(r -> r.getText().contains("card: pending")
      || r.getText().contains("card: unavailable"));
    assertThat(rows()).noneMatch(r -> r.getText().contains("****"));
    browser.findElement(By.id("next")).click();
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 101–200 of 223 · page 2 of 3"));
    browser.findElement(By.id("next")).click();
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 201–223 of 223 · page 3 of 3"));
    assertThat(browser.findElement(By.id("next")).isEnabled()).isFalse(); // the last page has no Link
    browser.findElement(By.id("prev")).click();
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 101–200 of 223 · page 2 of 3"));

    new Select(browser.findElement(By.id("f-address"))).selectByValue("false");
    // every 10th user has no address; three of those (10, 20, 30) have a card
    wait.until(d -> d.findElement(By.id("range")).getText().startsWith("Showing 1–22 of 22"));
    assertThat(rows()).hasSize(22).allMatch(r -> r.getText().contains("address: unavailable"));

    browser.findElement(By.id("logout")).click();
    wait.until(d -> d.findElement(By.id("login-view")).isDisplayed());
  }

  private static void signIn(String username, String password) {
    WebElement user = browser.findElement(By.id("username"));
    WebElement pass = browser.findElement(By.id("password"));
    user.clear();
    user.sendKeys(username);
    pass.clear();
    pass.sendKeys(password);
    browser.findElement(By.id("login-submit")).click();
  }

  /** Kept under target/ for a human look at the page. */
  private static void screenshot(String name) throws java.io.IOException {
    byte[] png = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(org.openqa.selenium.OutputType.BYTES);
    java.nio.file.Files.write(java.nio.file.Path.of("target", name), png);
  }

  private static List<WebElement> rows() {
    return browser.findElements(By.cssSelector("#rows tr"));
  }
}
