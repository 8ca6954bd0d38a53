package dev.boxoffice.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Headless Debian Chromium through its own chromedriver, both named explicitly so that Selenium Manager never
 * looks for (or downloads) anything: the machine may be offline.
 */
public final class Browser {
  static final Path CHROMIUM = Path.of(System.getProperty("boxoffice.chromium", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER = Path.of(System.getProperty("boxoffice.chromedriver", "/usr/bin/chromedriver"));

  private Browser() {
  }

  public static boolean installed() {
    return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
  }

  /** Why a browser test is skipped here, for {@code assumeTrue(Browser.installed(), Browser::missing)}. */
  public static String missing() {
    return "Chromium and chromedriver are needed at " + CHROMIUM + " and " + CHROMEDRIVER
      + " (Debian: apt-get install chromium chromium-driver; .ci/run installs them)";
  }

  /**
   * {@code @ExtendWith(Browser.Required.class)}: a class is skipped where no browser is installed, before anything
   * (a node, a fake provider) starts for it.
   */
  public static final class Required implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return installed() ? ConditionEvaluationResult.enabled("a browser is installed")
        : ConditionEvaluationResult.disabled(missing());
    }
  }

  public static ChromeDriver start(int width, int height) throws IOException {
    Path profile = Files.createTempDirectory("boxoffice-chromium");
    profile.toFile().deleteOnExit();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--hide-scrollbars", "--window-size=" + width + "," + height,
      "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder()
      .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
      .usingAnyFreePort()
      .build();
    return new ChromeDriver(service, options);
  }
}
