package dev.boxoffice.users;

import dev.boxoffice.jobs.JobFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading the provider's card and expiry formats, and what a card keeps of them. */
class MaskedCardTest {

  @Test
  void twoDigitYearsAreThisCenturyAndFourDigitYearsAreTakenAsTheyAre() {
    assertThat(MaskedCard.parseExpiry("11/28")).containsExactly(11, 2028);
    assertThat(MaskedCard.parseExpiry("11/2028")).containsExactly(11, 2028);
    assertThat(MaskedCard.parseExpiry("3/27")).containsExactly(3, 2027);
    assertThat(MaskedCard.parseExpiry(" 03 / 2031 ")).containsExactly(3, 2031);
    assertThat(MaskedCard.parseExpiry("09-26")).containsExactly(9, 2026);
    assertThat(MaskedCard.parseExpiry("12/00")).containsExactly(12, 2000);
  }

  @Test
  void unreadableExpiriesAreUnknownNotErrors() {
    for (String bad : new String[]{null, "", "13/28", "00/28", "11/028", "11/20288", "1128", "ab/cd", "11/28/30"}) {
      assertThat(MaskedCard.parseExpiry(bad)).as("%s", bad).isNull();
    }
  }

  @Test
  void onlyTheLastFourDigitsTypeAndExpiryAreKept() {
    MaskedCard card = MaskedCard.from(new JsonObject().put("cardNumber", "4929 3100 0012 3456")
      .put("cardType", "Visa").put("cardExpire", "07/28").put("iban", "DE00"));
    assertThat(card).isEqualTo(new MaskedCard("3456", "Visa", 7, 2028));
    assertThat(card.toJson()).isEqualTo(new JsonObject().put("number", "**** **** **** 3456").put("type", "Visa")
      .put("expire", "07/2028"));
    assertThat(card.toString()).doesNotContain("4929", "3100", "0012");
  }

  @Test
  void aCardWithoutAUsableNumberIsNoCard() {
    assertThat(MaskedCard.from(null)).isNull();
    assertThat(MaskedCard.from(new JsonObject())).isNull();
    assertThat(MaskedCard.from(new JsonObject().put("cardNumber", "123"))).isNull();
    assertThat(MaskedCard.from(new JsonObject().put("cardNumber", "4929-31x0-0012-3456"))).isNull();
    MaskedCard noExpiry = MaskedCard.from(new JsonObject().put("cardNumber", "5500-0000-0000-0004"));
    assertThat(noExpiry.last4()).isEqualTo("0004");
    assertThat(noExpiry.toJson().getValue("expire")).isNull();
  }

  @Test
  void aPageMustHaveUsersWithIdsAndATotal() {
    JsonObject ok = new JsonObject().put("total", 1).put("users", new io.vertx.core.json.JsonArray()
      .add(new JsonObject().put("id", 7).put("firstName", "A").put("lastName", "B").put("email", "a@b.c")
        .put("username", "ab")));
    assertThat(UsersProvider.parsePage(ok, "GET /users").users()).containsExactly(
      new DirectoryUser(7, "A", "B", "a@b.c", null, "ab"));
    assertThatThrownBy(() -> UsersProvider.parsePage(new JsonObject().put("total", 1), "GET /users"))
      .isInstanceOf(JobFailure.class).hasMessage("users provider: GET /users answered without a \"users\" array")
      .matches(e -> ((JobFailure) e).isPermanent());
    JsonObject noEmail = ok.copy();
    noEmail.getJsonArray("users").getJsonObject(0).remove("email");
    assertThatThrownBy(() -> UsersProvider.parsePage(noEmail, "GET /users"))
      .hasMessage("users provider: GET /users (user #1 of the page), id 7 has no \"email\"");
    JsonObject textId = ok.copy();
    textId.getJsonArray("users").getJsonObject(0).put("id", "7");
    assertThatThrownBy(() -> UsersProvider.parsePage(textId, "GET /users"))
      .hasMessage("users provider: GET /users (user #1 of the page) has no valid \"id\"");
  }
}
