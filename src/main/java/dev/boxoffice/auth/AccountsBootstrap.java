package dev.boxoffice.auth;

import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Start-up duties for accounts. Dev profile: make sure the dev accounts exist. Prod profile: refuse to start while
 * any account still opens with a dev password, and optionally create the first admin from {@code admin_password}.
 * Runs on every worker node; every step is idempotent, so nodes starting together are safe.
 */
public final class AccountsBootstrap {
  private static final Logger log = LoggerFactory.getLogger(AccountsBootstrap.class);

  /** Dev accounts: username → {password, role}. */
  static final Map<String, String[]> DEV_ACCOUNTS = devAccounts();
  static final int MIN_ADMIN_PASSWORD_LENGTH = 8;

  private AccountsBootstrap() {
  }

  private static Map<String, String[]> devAccounts() {
    Map<String, String[]> m = new LinkedHashMap<>();
    m.put("admin", new String[] {"admin", "admin"});
    m.put("testuser", new String[] {"testpass", "user"});
    return m;
  }

  /** Fails (and so fails the node's start) in prod when dev credentials would work. */
  public static Future<Void> run(Platform p) {
    Accounts accounts = new Accounts(p.pool());
    return p.config().isProd() ? prod(p.vertx(), p.config(), accounts) : dev(p.vertx(), accounts);
  }

  private static Future<Void> dev(Vertx vertx, Accounts accounts) {
    // Hash only what is missing: hashing is slow on purpose and restarts are frequent in dev.
    return accounts.findAll(new ArrayList<>(DEV_ACCOUNTS.keySet())).compose(existing -> {
      List<String> present = existing.stream().map(Accounts.Account::username).toList();
      List<Future<Boolean>> inserts = new ArrayList<>();
      DEV_ACCOUNTS.forEach((username, spec) -> {
        if (!present.contains(username)) {
          inserts.add(Passwords.hash(vertx, spec[0])
            .compose(hash -> accounts.insertIfAbsent(username, hash, spec[1]))
            .onSuccess(created -> {
              if (created) {
                log.info("dev profile: created account {} (role {})", username, spec[1]);
              }
            }));
        }
      });
      return Future.all(inserts).mapEmpty();
    });
  }

  private static Future<Void> prod(Vertx vertx, AppConfig config, Accounts accounts) {
    String adminPassword = config.string("admin_password");
    boolean bootstrap = adminPassword != null && !adminPassword.isEmpty();
    if (bootstrap && DEV_ACCOUNTS.values().stream().anyMatch(spec -> spec[0].equals(adminPassword))) {
      return Future.failedFuture(new IllegalStateException(
        "prod profile refuses BOXOFFICE_ADMIN_PASSWORD equal to a dev password"));
    }
    if (bootstrap && adminPassword.length() < MIN_ADMIN_PASSWORD_LENGTH) {
      return Future.failedFuture(new IllegalStateException(
        "BOXOFFICE_ADMIN_PASSWORD must be at least " + MIN_ADMIN_PASSWORD_LENGTH + " characters in prod"));
    }
    return refuseDevCredentials(vertx, accounts)
      .compose(v -> bootstrap ? bootstrapAdmin(vertx, accounts, adminPassword) : Future.succeededFuture());
  }

  private static Future<Void> refuseDevCredentials(Vertx vertx, Accounts accounts) {
    return accounts.findAll(new ArrayList<>(DEV_ACCOUNTS.keySet())).compose(existing -> {
      List<Future<String>> checks = existing.stream()
        .filter(a -> !a.disabled()) // cannot log in, whatever its password
        .map(a -> Passwords.verify(vertx, a.passwordHash(), DEV_ACCOUNTS.get(a.username())[0])
          .map(opens -> opens ? a.username() : null))
        .toList();
      return Future.all(checks).compose(all -> {
        String open = checks.stream().map(Future::result).filter(u -> u != null)
          .collect(Collectors.joining(", "));
        if (!open.isEmpty()) {
          return Future.failedFuture(new IllegalStateException("prod profile refuses to start: account(s) " + open
            + " still accept the dev password; give them another (java -jar boxoffice.jar accounts reset-password NAME)"
          + " or disable them (accounts disable NAME) first"));
        }
        return Future.succeededFuture();
      });
    });
  }

  private static Future<Void> bootstrapAdmin(Vertx vertx, Accounts accounts, String password) {
    return accounts.adminExists().compose(exists -> exists
      ? Future.<Void>succeededFuture()
      : Passwords.hash(vertx, password).compose(hash -> accounts.insertAdminIfNone("admin", hash))
        .onSuccess(created -> log.info(created
          ? "prod profile: created account admin from BOXOFFICE_ADMIN_PASSWORD"
          : "prod profile: admin_password set but an admin (or an account named admin) already exists; unchanged"))
        .mapEmpty());
  }
}
