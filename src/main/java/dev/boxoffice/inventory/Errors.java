package dev.boxoffice.inventory;

import dev.boxoffice.platform.Bus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;

/**
 * Turns Postgres constraint violations into the API's 4xx answers. The contract rejects most bad input at the edge;
 * these are the rules only the database can judge (uniqueness, references) and a safety net for the CHECKs.
 */
final class Errors {
  static final String FOREIGN_KEY_VIOLATION = "23503";
  static final String UNIQUE_VIOLATION = "23505";
  static final String CHECK_VIOLATION = "23514";
  static final String NUMERIC_OUT_OF_RANGE = "22003";

  private Errors() {
  }

  static boolean is(Throwable failure, String sqlState) {
    return failure instanceof PgException pg && sqlState.equals(pg.getSqlState());
  }

  /** A CHECK or range violation as 422 naming the column ({@code products_quantity_check} → quantity). */
  static Throwable invalidInput(Throwable failure, String table) {
    if (!(failure instanceof PgException pg)) {
      return failure;
    }
    if (CHECK_VIOLATION.equals(pg.getSqlState())) {
      String constraint = pg.getConstraint() == null ? "" : pg.getConstraint();
      String field = constraint.startsWith(table + "_") && constraint.endsWith("_check")
        ? constraint.substring(table.length() + 1, constraint.length() - "_check".length())
        : "body";
      return invalid(field, "is out of range");
    }
    if (NUMERIC_OUT_OF_RANGE.equals(pg.getSqlState())) {
      return invalid("body", "a number is out of range");
    }
    return failure;
  }

  static Throwable invalid(String field, String message) {
    return Bus.fail(422, "Invalid fields: " + field, new JsonObject().put("fields",
      new JsonArray().add(new JsonObject().put("field", field).put("message", message))));
  }
}
