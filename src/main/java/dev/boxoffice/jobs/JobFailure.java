package dev.boxoffice.jobs;

/** Thrown (or failed with) by a handler; a permanent failure skips the remaining attempts. */
public final class JobFailure extends RuntimeException {
  /** Event-bus failure code carrying "do not retry". */
  public static final int PERMANENT = 1;
  public static final int RETRYABLE = 2;

  private final boolean permanent;

  private JobFailure(String message, boolean permanent, Throwable cause) {
    super(message, cause, false, false);
    this.permanent = permanent;
  }

  public static JobFailure permanent(String message) {
    return new JobFailure(message, true, null);
  }

  public static JobFailure retryable(String message) {
    return new JobFailure(message, false, null);
  }

  public boolean isPermanent() {
    return permanent;
  }
}
