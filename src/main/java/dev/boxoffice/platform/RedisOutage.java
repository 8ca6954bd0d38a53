package dev.boxoffice.platform;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers for a moment that Redis failed, so that the helpers that only speed things up with it (locks, in-flight
 * markers) skip it instead of each request waiting on a dead connection first. Postgres decides either way.
 */
public final class RedisOutage {
  private static final long SKIP_MS = 1_000;
  private final AtomicLong skipUntil = new AtomicLong();

  /** Whether Redis failed less than a second ago: skip it. */
  public boolean skipping() {
    return System.currentTimeMillis() < skipUntil.get();
  }

  /** Redis just failed (not merely slow): skip it for a second. */
  public void failed() {
    skipUntil.set(System.currentTimeMillis() + SKIP_MS);
  }
}
