package dev.boxoffice.platform;

import java.util.concurrent.TimeUnit;

/**
 * When a request's client stops waiting, on this node's monotonic clock. The edge sends a relative budget (node
 * clocks differ) and the handler's node turns it into a deadline on receipt; see {@link Bus.ApiRequest#deadline()}.
 * {@link #NONE} for work that no client waits on.
 */
public record Deadline(long atNanos) {
  public static final Deadline NONE = new Deadline(Long.MAX_VALUE);

  /** {@code ms} from now. */
  public static Deadline in(long ms) {
    return new Deadline(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, ms)));
  }

  public boolean none() {
    return atNanos == Long.MAX_VALUE;
  }

  /** Milliseconds left (negative once passed); {@link Long#MAX_VALUE} for {@link #NONE}. */
  public long remainingMs() {
    return none() ? Long.MAX_VALUE : TimeUnit.NANOSECONDS.toMillis(atNanos - System.nanoTime());
  }

  /** Less than {@code ms} left. */
  public boolean within(long ms) {
    return !none() && remainingMs() < ms;
  }

  public boolean passed() {
    return within(0);
  }

  /** The earlier of the two. */
  public Deadline min(Deadline other) {
    return other.atNanos < atNanos ? other : this;
  }

  /** The 503 for work whose client's time ran out before it could be done: nothing was done, retry. */
  public static Failure exhausted() {
    return Failure.unavailable("The request's time ran out before it could be served; nothing was done, retry")
      .with("retry_after", 1);
  }
}
