package dev.boxoffice.booking;

import dev.boxoffice.platform.Failure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static dev.boxoffice.testing.BookingFixtures.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The handler's own checks, which keep it safe without the edge: same 422 shape, fields named. */
class BookingValidationTest {
  @Test
  void unstorableTextIsRefusedByTheHandlerNamingEachField() {
    JsonObject poisoned = body("Nul\u0000", "a\uD800@example.com").put("phone", "12345\n");
    Failure f = catchThrowableOfType(Failure.class, () -> BookingApi.validated(poisoned, "u"));
    assertThat(f.status()).isEqualTo(422);
    assertThat(f.body().getJsonArray("fields").stream().map(o -> ((JsonObject) o).getString("field")))
      .containsExactly("name", "email", "phone");
  }

  @Test
  void bothIdsAreRefusedNamingBoth() {
    Failure f = catchThrowableOfType(Failure.class,
      () -> BookingApi.validated(body("Ada", "a@example.com").put("event_id", 1).put("product_id", 2), "u"));
    assertThat(f.body().getJsonArray("fields").stream().map(o -> ((JsonObject) o).getString("field")))
      .containsExactly("event_id", "product_id");
  }

  @Test
  void aTabAndAnEmojiAreFine() {
    assertThat(BookingApi.validated(body("Ada\tLovelace \uD83C\uDFAB", "a@example.com"), "u").name())
      .isEqualTo("Ada\tLovelace \uD83C\uDFAB");
  }
}
