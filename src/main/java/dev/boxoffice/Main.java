package dev.boxoffice;

import dev.boxoffice.cli.Cli;
import dev.boxoffice.http.ApiVerticle;
import dev.boxoffice.jobs.JobEngine;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Clock;
import dev.boxoffice.platform.EmbeddedServices;
import dev.boxoffice.platform.Secrets;
import dev.boxoffice.platform.Tracing;
import dev.boxoffice.ops.BuildInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code java -jar target/boxoffice.jar}: one clustered node with the roles from BOXOFFICE_ROLES. With arguments
 * ({@code --help}, {@code --version}, {@code accounts ...}) it runs that command instead and starts nothing.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);
  /**
   * Beyond this (after the drain delay) the process exits anyway; other nodes then take back its leased jobs when it
   * leaves the cluster.
   */
  private static final long SHUTDOWN_TIMEOUT_S = 25;

  private Main() {
  }

  public static void main(String[] args) {
    if (args.length > 0) {
      System.exit(Cli.run(args, System.in, System.out, System.err, System.getenv()));
      return;
    }
    AppConfig config;
    Tracing tracing;
    try {
      config = AppConfig.load();
      ConfigCheck.check(config);
      // OTEL_* (not BOXOFFICE_* settings): tracing stays off unless they name where to export spans
      tracing = Tracing.fromEnvironment(System.getenv());
    } catch (RuntimeException e) {
      // one line, exit 2; the messages mask what they quote (Settings, Secrets)
      log.error("invalid configuration, not starting: {}", Secrets.scrub(e.getMessage(), null));
      System.exit(2);
      return;
    }
    // the one outside service a node calls on its own, said where an operator looks first
    String provider = config.usersProviderUrl();
    String roles = String.join(",", new java.util.TreeSet<>(config.roles()));
    String shownProvider = provider == null ? "off (no BOXOFFICE_USERS_PROVIDER_URL)" : Secrets.maskUri(provider);
    log.info("boxoffice {} (commit {}) starting: profile={}, roles={}, users_provider={}, settings={}",
      BuildInfo.version(), BuildInfo.commit(), config.profile(), roles, shownProvider, config.masked().encode());
    AppConfig effective = config;
    EmbeddedServices embedded = new EmbeddedServices();
    AtomicReference<Boxoffice.Node> running = new AtomicReference<>();
    // one hook for everything: JVM shutdown hooks run concurrently, and the node must stop before its storage
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(running.get(), embedded), "boxoffice-shutdown"));
    Boxoffice.start(config, true, embedded, Clock.SYSTEM, tracing).onSuccess(running::set).onFailure(err -> {
      String message = String.valueOf(err.getMessage());
      String scrubbed = Secrets.scrub(message, effective.json());
      if (scrubbed.equals(message)) {
        log.error("boxoffice failed to start: {}", message, err);
      } else {
        // no stack trace: its messages quote the secret too
        log.error("boxoffice failed to start: {} ({})", scrubbed, err.getClass().getName());
      }
      System.exit(1);
    });
  }

  /** SIGTERM / Ctrl-C: the node's ordered close ({@link Boxoffice.Node#close}), bounded, then the dev storage. */
  private static void stop(Boxoffice.Node node, EmbeddedServices embedded) {
    if (node != null) {
      long drainMs = node.platform().config().hasRole("http") ? node.platform().config().shutdownDrainMs() : 0;
      log.info("shutting down: readiness 503 and {} ms of drain, then HTTP ({} ms for requests in flight), then job "
        + "engines ({} ms for running jobs) and API handlers, then the rest, the cluster and storage", drainMs,
        ApiVerticle.SHUTDOWN_GRACE_MS, JobEngine.DRAIN_MS);
      long limitMs = drainMs + TimeUnit.SECONDS.toMillis(SHUTDOWN_TIMEOUT_S);
      try {
        node.close().toCompletionStage().toCompletableFuture().get(limitMs, TimeUnit.MILLISECONDS);
        log.info("shut down");
      } catch (Exception e) {
        log.warn("shutdown did not finish in {} ms: {}", limitMs, e.toString());
      }
    }
    embedded.close();
  }
}
