package dev.boxoffice.ops;

import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.List;

/**
 * The operators' API (admin only: the contract's x-roles, checked at the HTTP edge): GET /ops/nodes, GET /ops/jobs,
 * the queue controls ({@link QueuesApi}) and one job's detail, retry and cancel ({@link JobsApi}).
 */
public final class OpsApiVerticle extends VerticleBase {
  private final Platform platform;

  public OpsApiVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    QueuesApi queues = new QueuesApi(platform);
    JobsApi jobs = new JobsApi(platform.pool());
    return Future.all(List.of(
      ApiHandlers.serve(vertx, "getClusterNodes", req -> NodeRegistry.list(platform.pool(), platform)
        .map(Bus.ApiReply::ok)),
      ApiHandlers.serve(vertx, "getJobStats", req -> JobStats.read(platform.pool(),
        req.params().getInteger("minutes", 15)).map(Bus.ApiReply::ok)),
      ApiHandlers.serve(vertx, "listQueues", queues::list),
      ApiHandlers.serve(vertx, "pauseQueue", req -> queues.set(req, true)),
      ApiHandlers.serve(vertx, "resumeQueue", req -> queues.set(req, false)),
      ApiHandlers.serve(vertx, "getJob", jobs::get),
      ApiHandlers.serve(vertx, "retryJob", jobs::retry),
      ApiHandlers.serve(vertx, "cancelJob", jobs::cancel)));
  }
}
