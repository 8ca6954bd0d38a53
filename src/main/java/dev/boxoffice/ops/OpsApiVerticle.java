package dev.boxoffice.ops;

import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** GET /ops/nodes and GET /ops/jobs (admin only: the contract's x-roles, checked at the HTTP edge). */
public final class OpsApiVerticle extends VerticleBase {
  private final Platform platform;

  public OpsApiVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    return Future.all(
      ApiHandlers.serve(vertx, "getClusterNodes", req -> NodeRegistry.list(platform.pool(), platform)
        .map(Bus.ApiReply::ok)),
      ApiHandlers.serve(vertx, "getJobStats", req -> JobStats.read(platform.pool(),
        req.params().getInteger("minutes", 15)).map(Bus.ApiReply::ok)));
  }
}
