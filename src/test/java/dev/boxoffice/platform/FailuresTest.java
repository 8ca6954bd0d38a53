package dev.boxoffice.platform;

import dev.boxoffice.http.ApiErrors;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The failure vocabulary: each kind's status and body, as written at the edge after a trip over the bus. */
class FailuresTest {

  @Test
  void eachKindHasItsStatusAndBody() {
    assertAnswer(Failure.invalid("quantity", "is out of range"), 422,
      "{\"error\":\"Invalid fields: quantity\",\"fields\":[{\"field\":\"quantity\",\"message\":\"is out of range\"}]}");
    Map<String, String> two = new LinkedHashMap<>();
    two.put("name", "is required");
    two.put("email", "must be a valid e-mail address");
    assertAnswer(Failure.invalid(two), 422, "{\"error\":\"Invalid fields: name, email\",\"fields\":["
      + "{\"field\":\"name\",\"message\":\"is required\"},"
      + "{\"field\":\"email\",\"message\":\"must be a valid e-mail address\"}]}");
    assertAnswer(Failure.invalid("Unknown task type", Map.of("type", "must be one of a, b")), 422,
      "{\"error\":\"Unknown task type\",\"fields\":[{\"field\":\"type\",\"message\":\"must be one of a, b\"}]}");
    assertAnswer(Failure.unauthorized("Invalid username or password"), 401,
      "{\"error\":\"Invalid username or password\"}");
    assertAnswer(Failure.forbidden("Tasks of type x need the admin role"), 403,
      "{\"error\":\"Tasks of type x need the admin role\"}");
    assertAnswer(Failure.notFound("Booking not found"), 404, "{\"error\":\"Booking not found\"}");
    assertAnswer(Failure.conflict("Booking cannot be confirmed in status expired").with("status", "expired"), 409,
      "{\"error\":\"Booking cannot be confirmed in status expired\",\"status\":\"expired\"}");
    assertAnswer(Failure.tooManyRequests("Too many failed logins; try again later", 42), 429,
      "{\"error\":\"Too many failed logins; try again later\",\"retry_after\":42}");
    assertAnswer(Failure.unavailable("Service unavailable"), 503, "{\"error\":\"Service unavailable\"}");
    assertAnswer(Failure.internal(), 500, "{\"error\":\"Internal server error\"}");
  }

  @Test
  void aFailureWithoutDetailsTravelsAsPlainText() {
    ReplyException reply = Failure.notFound("Event not found").toReply();
    assertThat(reply.failureCode()).isEqualTo(404);
    assertThat(reply.getMessage()).isEqualTo("Event not found");
  }

  @Test
  void aBusFailureWithoutTextGetsTheEdgesDefault() {
    Failure f = ApiErrors.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, null), 500);
    assertThat(f.body().encode()).isEqualTo("{\"error\":\"Conflict with the current state\"}");
    Failure braces = ApiErrors.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 400, "{not json"), 500);
    assertThat(braces.body().encode()).isEqualTo("{\"error\":\"{not json\"}");
    Failure job = ApiErrors.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 2, "boom"), 500);
    assertThat(job.status()).isEqualTo(500);
  }

  @Test
  void sqlStatesMapToTheirViolations() {
    assertThat(Failures.Violation.UNIQUE.of(pg("23505", "products_unique_id_key"))).isTrue();
    assertThat(Failures.Violation.FOREIGN_KEY.of(pg("23503", "bookings_product_id_fkey"))).isTrue();
    assertThat(Failures.Violation.CHECK.of(pg("23514", "products_quantity_check"))).isTrue();
    assertThat(Failures.Violation.NUMERIC_RANGE.of(pg("22003", null))).isTrue();
    assertThat(Failures.Violation.UNIQUE.of(pg("23503", null))).isFalse();
    assertThat(Failures.Violation.UNIQUE.of(new IllegalStateException("23505"))).isFalse();

    Throwable check = Failures.invalidInput(pg("23514", "products_quantity_check"), "products");
    assertThat(((Failure) check).body().encode()).isEqualTo(
      "{\"error\":\"Invalid fields: quantity\",\"fields\":[{\"field\":\"quantity\",\"message\":\"is out of range\"}]}");
    Throwable otherTable = Failures.invalidInput(pg("23514", "events_capacity_check"), "products");
    assertThat(((Failure) otherTable).body().getJsonArray("fields").getJsonObject(0).getString("field"))
      .isEqualTo("body");
    Throwable range = Failures.invalidInput(pg("22003", null), "events");
    assertThat(((Failure) range).body().encode()).isEqualTo(
      "{\"error\":\"Invalid fields: body\",\"fields\":[{\"field\":\"body\",\"message\":\"a number is out of range\"}]}");
    PgException unique = pg("23505", "products_unique_id_key");
    assertThat(Failures.invalidInput(unique, "products")).isSameAs(unique);
  }

  @Test
  void aNestedConnectionFailureIsStorageUnavailable() {
    RuntimeException nested = new RuntimeException("query failed",
      new IllegalStateException("pool", new ConnectException("Connection refused")));
    assertThat(Failures.storageUnavailable(nested)).isTrue();
    assertThat(Failures.storageUnavailable(ClosedConnectionException.INSTANCE)).isTrue();
    assertThat(Failures.storageUnavailable(pg("57P01", null))).as("admin shutdown").isTrue();
    assertThat(Failures.storageUnavailable(pg("23505", null))).isFalse();
    assertThat(Failures.storageUnavailable(new IllegalStateException("bug"))).isFalse();

    Failure answer = ApiHandlers.refusal("getEvent", nested);
    assertAnswer(answer, 503, "{\"error\":\"Storage is unavailable; retry shortly\",\"retry_after\":2}");
    assertAnswer(ApiHandlers.refusal("getEvent", new IllegalStateException("a bug")), 500,
      "{\"error\":\"Internal server error\"}");
  }

  @Test
  void aThrowableWithoutMessageIsNamedByItsClass() {
    assertThat(Failures.text(new IllegalStateException())).isEqualTo("IllegalStateException");
    assertThat(Failures.text(new IllegalStateException("stock exhausted"))).isEqualTo("stock exhausted");
  }

  @Test
  void theReplyWrapperAnswersResultsFailuresAndSynchronousThrows() {
    Vertx vertx = Vertx.vertx();
    try {
      await(vertx.eventBus().<String>consumer("echo", Replies.answering((String body) -> switch (body) {
        case "throw" -> throw new IllegalStateException();
        case "fail" -> Future.failedFuture(Failure.conflict("taken"));
        default -> Future.succeededFuture(body.length());
      }, n -> n * 10, err -> err instanceof Failure f ? f.toReply()
        : new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 7, Failures.text(err)))).completion());

      assertThat(await(vertx.eventBus().<Integer>request("echo", "abc")).body()).isEqualTo(30);
      assertThatThrownBy(() -> await(vertx.eventBus().request("echo", "fail")))
        .isInstanceOfSatisfying(ReplyException.class, e -> {
          assertThat(e.failureCode()).isEqualTo(409);
          assertThat(e.getMessage()).isEqualTo("taken");
        });
      assertThatThrownBy(() -> await(vertx.eventBus().request("echo", "throw")))
        .isInstanceOfSatisfying(ReplyException.class, e -> {
          assertThat(e.failureCode()).isEqualTo(7);
          assertThat(e.getMessage()).isEqualTo("IllegalStateException");
        });
    } finally {
      await(vertx.close());
    }
  }

  /** The status and exact body the HTTP edge writes once {@code failure} has crossed the bus. */
  private static void assertAnswer(Failure failure, int status, String body) {
    assertThat(failure.status()).isEqualTo(status);
    assertThat(failure.body().encode()).isEqualTo(body);
    Failure atEdge = ApiErrors.from(failure.toReply(), 500);
    assertThat(atEdge.status()).isEqualTo(status);
    assertThat(atEdge.body().encode()).isEqualTo(body);
    assertThat(new JsonObject(body).getString("error")).isEqualTo(failure.error());
  }

  private static PgException pg(String sqlState, String constraint) {
    return new PgException("error " + sqlState, "ERROR", sqlState, null, null, null, null, null, null, null, null,
      null, null, null, null, null, constraint);
  }
}
