package dev.boxoffice.platform;

import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;

/**
 * What a throwable means: its text for a log or a job's last error, which database rule it broke, whether storage
 * is away. The one place that knows SQLSTATEs.
 */
public final class Failures {
  private Failures() {
  }

  /** The database rules the API answers for with a 4xx; any other database error is a bug or an outage. */
  public enum Violation {
    UNIQUE("23505"),
    FOREIGN_KEY("23503"),
    CHECK("23514"),
    NUMERIC_RANGE("22003");

    private final String sqlState;

    Violation(String sqlState) {
      this.sqlState = sqlState;
    }

    public boolean of(Throwable failure) {
      return failure instanceof PgException pg && sqlState.equals(pg.getSqlState());
    }
  }

  /** A throwable's message, or its class's simple name when it has none. */
  public static String text(Throwable failure) {
    String message = failure.getMessage();
    return message == null ? failure.getClass().getSimpleName() : message;
  }

  /**
   * A CHECK or numeric range violation on {@code table} as a 422 naming the column
   * ({@code products_quantity_check} → quantity); any other failure unchanged.
   */
  public static Throwable invalidInput(Throwable failure, String table) {
    if (Violation.CHECK.of(failure)) {
      String constraint = ((PgException) failure).getConstraint();
      String name = constraint == null ? "" : constraint;
      String field = name.startsWith(table + "_") && name.endsWith("_check")
        ? name.substring(table.length() + 1, name.length() - "_check".length())
        : "body";
      return Failure.invalid(field, "is out of range");
    }
    if (Violation.NUMERIC_RANGE.of(failure)) {
      return Failure.invalid("body", "a number is out of range");
    }
    return failure;
  }

  /**
   * A statement cancelled by {@code statement_timeout} (57014) or a session ended by
   * {@code idle_in_transaction_session_timeout} (25P03), anywhere in the cause chain: the transaction rolled back.
   */
  public static boolean timedOut(Throwable failure) {
    for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof PgException pg && ("57014".equals(pg.getSqlState()) || "25P03".equals(pg.getSqlState()))) {
        return true;
      }
    }
    return false;
  }

  /** Connection-level failures anywhere in the cause chain: the database or Redis is down or restarting. */
  public static boolean storageUnavailable(Throwable failure) {
    for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ConnectException || c instanceof ClosedConnectionException
        || c instanceof ClosedChannelException
        || (c instanceof PgException pg && pg.getSqlState() != null
          && pg.getSqlState().startsWith("57P")) // shutting down / starting up / crash recovery
        || (c.getMessage() != null && c.getMessage().contains("Connection refused"))) {
        return true;
      }
    }
    return false;
  }
}
