package dev.boxoffice.inventory;

import dev.boxoffice.platform.IdempotencyKeys;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** Answers the events, reports and products operations from the bus (nodes with the workers role). */
public final class InventoryVerticle extends VerticleBase {
  private final Platform platform;

  public InventoryVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    IdempotencyKeys keys = IdempotencyKeys.of(platform);
    return Future.all(new EventsApi(platform.pool(), keys).serve(vertx),
      new ProductsApi(platform.pool(), keys).serve(vertx));
  }
}
