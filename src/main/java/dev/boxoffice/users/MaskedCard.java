package dev.boxoffice.users;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/**
 * A payment card as far as masking needs it: the last four digits, the type and the expiry. Built straight from the
 * provider's {@code bank} object so the full number is never held beyond the parse.
 *
 * @param expireMonth 1..12, or null when the provider's expiry is missing or unreadable
 * @param expireYear  four digits, or null likewise
 */
public record MaskedCard(String last4, String type, Integer expireMonth, Integer expireYear) {

  /** Null when there is no card number with at least four digits (spaces and dashes are allowed). */
  static MaskedCard from(JsonObject bank) {
    String number = ProviderJson.text(bank, "cardNumber");
    if (number == null) {
      return null;
    }
    StringBuilder digits = new StringBuilder(4);
    for (int i = number.length() - 1; i >= 0; i--) {
      char c = number.charAt(i);
      if (c >= '0' && c <= '9') {
        if (digits.length() < 4) {
          digits.insert(0, c);
        }
      } else if (c != ' ' && c != '-') {
        return null;
      }
    }
    if (digits.length() < 4) {
      return null;
    }
    int[] expiry = parseExpiry(ProviderJson.text(bank, "cardExpire"));
    return new MaskedCard(digits.toString(), ProviderJson.text(bank, "cardType"),
      expiry == null ? null : expiry[0], expiry == null ? null : expiry[1]);
  }

  /**
   * {@code MM/YY} or {@code MM/YYYY} (also with {@code -}) → {month, year}; a two-digit year is 2000 + yy.
   * Null when it is not a valid month and year.
   */
  static int[] parseExpiry(String text) {
    if (text == null) {
      return null;
    }
    String[] parts = text.trim().split("\\s*[/-]\\s*");
    if (parts.length != 2 || !parts[0].matches("[0-9]{1,2}") || !parts[1].matches("[0-9]{2}|[0-9]{4}")) {
      return null;
    }
    int month = Integer.parseInt(parts[0]);
    int year = Integer.parseInt(parts[1]);
    if (parts[1].length() == 2) {
      year += 2000;
    }
    if (month < 1 || month > 12 || year < 2000 || year > 2199) {
      return null;
    }
    return new int[]{month, year};
  }

  static MaskedCard fromRow(Row row) {
    String last4 = row.getString("last4");
    if (last4 == null) {
      return null;
    }
    Short month = row.getShort("expire_month");
    Short year = row.getShort("expire_year");
    return new MaskedCard(last4, row.getString("card_type"), month == null ? null : month.intValue(),
      year == null ? null : year.intValue());
  }

  String masked() {
    return "**** **** **** " + last4;
  }

  /** {@code MM/YYYY}, or null when unknown. */
  String expire() {
    return expireMonth == null || expireYear == null ? null : String.format("%02d/%04d", expireMonth, expireYear);
  }

  JsonObject toJson() {
    return new JsonObject().put("number", masked()).put("type", type).put("expire", expire());
  }
}
