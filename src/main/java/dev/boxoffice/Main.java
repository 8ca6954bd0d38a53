package dev.boxoffice;

import dev.boxoffice.platform.AppConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar target/boxoffice.jar}: one clustered node with the roles from BOXOFFICE_ROLES. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) {
    AppConfig config;
    try {
      config = AppConfig.load();
    } catch (RuntimeException e) {
      log.error("invalid configuration: {}", e.getMessage());
      System.exit(2);
      return;
    }
    Boxoffice.start(config, true).onFailure(err -> {
      log.error("boxoffice failed to start: {}", err.getMessage(), err);
      System.exit(1);
    });
  }
}
