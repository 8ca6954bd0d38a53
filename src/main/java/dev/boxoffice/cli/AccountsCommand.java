package dev.boxoffice.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import dev.boxoffice.auth.AccountRules;
import dev.boxoffice.auth.Accounts;
import dev.boxoffice.auth.Passwords;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Database;
import dev.boxoffice.platform.EmbeddedServices;
import dev.boxoffice.platform.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * {@code accounts create USER [--role admin|user]}, {@code accounts reset-password USER}, {@code accounts disable
 * USER}: the rules and statements of the accounts API ({@link Accounts}, {@link AccountRules}), run against the
 * configured database without a node: no cluster, no HTTP, no Redis. In the dev profile without
 * {@code BOXOFFICE_PG_URI} that is the embedded PostgreSQL under the data dir (started for the command if no node
 * runs it). Migrations run first, as a node's start would run them.
 */
final class AccountsCommand {
  private static final long TIMEOUT_S = 60;

  private final InputStream in;
  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  AccountsCommand(InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
    this.in = in;
    this.out = out;
    this.err = err;
    this.env = env;
  }

  /** {@code args[0]} is {@code accounts}. */
  int run(String[] args) {
    if (args.length < 3) {
      return Cli.usage(err, "accounts needs a command and a USER");
    }
    String action = args[1];
    String username = args[2];
    String role = "user";
    for (int i = 3; i < args.length; i++) {
      if (action.equals("create") && args[i].equals("--role") && i + 1 < args.length) {
        role = AccountRules.normalRole(args[++i]);
      } else {
        return Cli.usage(err, "unexpected argument for accounts " + action + ": " + args[i]);
      }
    }
    if (!action.equals("create") && !action.equals("reset-password") && !action.equals("disable")) {
      return Cli.usage(err, "unknown accounts command: " + action);
    }
    AppConfig config;
    try {
      config = AppConfig.load(env, Map.of());
      // the settings' own checks (a URI that does not parse is refused here, quoted without its password)
      java.util.List<String> problems = dev.boxoffice.platform.Settings.problems(config.json());
      if (!problems.isEmpty()) {
        throw new IllegalStateException(String.join("; ", problems));
      }
    } catch (RuntimeException e) {
      return refuse(Cli.USAGE, "invalid configuration: " + e.getMessage());
    }
    String problem = AccountRules.username(username);
    if (problem == null && action.equals("create")) {
      problem = AccountRules.role(role) == null ? null : "--role " + AccountRules.role(role);
    }
    if (problem != null) {
      return refuse(Cli.USAGE, (problem.startsWith("--role") ? "" : "USER ") + problem);
    }
    String password = null;
    if (!action.equals("disable")) {
      password = readPassword(username);
      String invalid = password == null ? "no password on standard input (one line)"
        : AccountRules.password(password, config.isProd()) == null ? null
        : "the password " + AccountRules.password(password, config.isProd());
      if (invalid != null) {
        return refuse(Cli.USAGE, invalid);
      }
    }
    if (config.string("pg_uri") == null && config.isProd()) {
      return refuse(Cli.USAGE, "the prod profile needs BOXOFFICE_PG_URI");
    }
    return apply(config, action, username, role, password);
  }

  private int apply(AppConfig config, String action, String username, String role, String password) {
    // the one-line answer is the output (logs go to standard output too); BOXOFFICE_LOG_LEVEL shows what happens
    TurboFilter quiet = new TurboFilter() {
      @Override
      public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                                Throwable t) {
        return FilterReply.DENY;
      }
    };
    LoggerContext logs = LoggerFactory.getILoggerFactory() instanceof LoggerContext c ? c : null;
    if (logs != null && env.get("BOXOFFICE_LOG_LEVEL") == null) {
      logs.addTurboFilter(quiet);
    }
    try (EmbeddedServices embedded = new EmbeddedServices()) {
      String uri = config.string("pg_uri");
      if (uri == null) {
        uri = embedded.startPostgres(Path.of(config.string("data_dir")), config.integer("embedded_pg_port"));
      }
      Database.migrate(uri, embedded.postgresDataDir());
      String done = withAccounts(uri, (vertx, accounts) -> switch (action) {
        case "create" -> Passwords.hash(vertx, password).compose(hash -> accounts.create(username, hash, role))
          .map(a -> "created account " + username + " (role " + role + ")");
        case "reset-password" -> Passwords.hash(vertx, password)
          .compose(hash -> accounts.update(username, new Accounts.Change(hash, null, null)))
          .map(a -> "password of " + username + " reset; its earlier tokens no longer work");
        default -> accounts.update(username, new Accounts.Change(null, null, true))
          .map(a -> "disabled account " + username + "; it cannot log in, and running nodes refuse its tokens "
            + "within seconds");
      });
      out.println(done);
      return Cli.OK;
    } catch (Failure f) {
      return refuse(Cli.FAILED, f.error());
    } catch (Exception e) {
      return refuse(Cli.FAILED, "accounts " + action + " failed: " + e.getMessage());
    } finally {
      if (logs != null) {
        logs.getTurboFilterList().remove(quiet);
      }
    }
  }

  /** Runs {@code work} on a Vert.x instance of its own (no cluster) with a small pool, and waits for it. */
  private static String withAccounts(String uri, BiFunction<Vertx, Accounts, Future<String>> work)
    throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = Database.pool(vertx, uri, 2);
      return await(work.apply(vertx, new Accounts(pool)));
    } finally {
      await(vertx.close());
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** One line from standard input; without echo when it is a terminal. Null when there is none. */
  private String readPassword(String username) {
    Console console = System.console();
    if (in == System.in && console != null) {
      char[] typed = console.readPassword("New password for %s: ", username);
      return typed == null ? null : new String(typed);
    }
    try {
      String line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
      return line == null ? null : line.replace("\r", "");
    } catch (IOException e) {
      return null;
    }
  }

  private int refuse(int status, String message) {
    err.println("boxoffice: " + message);
    return status;
  }
}
