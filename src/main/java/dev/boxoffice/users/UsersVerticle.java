package dev.boxoffice.users;

import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user directory on a workers node: the sync and enrichment job handlers and the users API.
 *
 * <p>Provider settings: {@code users_provider_url} ({@link AppConfig#usersProviderUrl}: without one, a prod node
 * registers no sync or enrichment handler and serves only the directory it has); optional
 * {@code users_provider_timeout_ms} (per request, default 10000), {@code users_provider_tries} (calls per request
 * inside one job attempt, default 3) and {@code users_provider_backoff_ms} (first retry delay, default 250);
 * {@code enrich_batch_size} is the batch when a job's payload names none.
 */
public final class UsersVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(UsersVerticle.class);
  private final Platform platform;
  private UsersProvider provider;

  public UsersVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    AppConfig config = platform.config();
    String url = config.usersProviderUrl();
    if (url == null) {
      log.info("user provider off (prod profile without BOXOFFICE_USERS_PROVIDER_URL): no user sync or enrichment "
        + "runs on this node; GET /users serves what the database holds");
      return new UsersApi(platform.pool()).serve(vertx);
    }
    provider = new UsersProvider(vertx, url,
      setting(config, "users_provider_timeout_ms", 10_000), (int) setting(config, "users_provider_tries", 3),
      setting(config, "users_provider_backoff_ms", 250));
    int batch = config.integer("enrich_batch_size");
    UsersSync sync = new UsersSync(platform.pool(), provider);
    UsersEnrichment addresses = new UsersEnrichment(platform.pool(), provider, UsersEnrichment.Kind.ADDRESSES, batch);
    UsersEnrichment cards = new UsersEnrichment(platform.pool(), provider, UsersEnrichment.Kind.CARDS, batch);
    return Future.all(
      JobWorkers.handle(vertx, UsersJobs.SYNC, sync::handle),
      JobWorkers.handle(vertx, UsersJobs.ENRICH_ADDRESSES, addresses::handle),
      JobWorkers.handle(vertx, UsersJobs.ENRICH_CARDS, cards::handle),
      new UsersApi(platform.pool()).serve(vertx));
  }

  private static long setting(AppConfig config, String key, long fallback) {
    String value = config.string(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("setting " + key + " must be a whole number, got " + value);
    }
  }

  @Override
  public Future<?> stop() {
    if (provider != null) {
      provider.close();
    }
    return Future.succeededFuture();
  }
}
