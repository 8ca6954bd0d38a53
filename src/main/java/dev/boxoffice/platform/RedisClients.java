package dev.boxoffice.platform;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;

/** One pooled Redis client per Vert.x instance; it reconnects by itself after Redis restarts. */
public final class RedisClients {
  private RedisClients() {
  }

  public static RedisAPI create(Vertx vertx, String uri) {
    RedisOptions options = new RedisOptions()
      .setConnectionString(uri)
      .setMaxPoolSize(16)
      .setMaxPoolWaiting(2048)
      .setPoolRecycleTimeout(15_000);
    return RedisAPI.api(Redis.createClient(vertx, options));
  }
}
