package dev.boxoffice.platform;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;

/** What every feature gets from the platform: settings, storage clients and this node's cluster identity. */
public record Platform(AppConfig config, Vertx vertx, Pool pool, RedisAPI redis, ClusterMembership membership,
                       String pgUri) {

  public PgConnectOptions pgConnectOptions() {
    return Database.connectOptions(pgUri, Database.Timeouts.from(config));
  }
}
