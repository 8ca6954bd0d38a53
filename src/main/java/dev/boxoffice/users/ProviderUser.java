package dev.boxoffice.users;

import dev.boxoffice.jobs.JobFailure;
import io.vertx.core.json.JsonObject;

/**
 * What enrichment keeps of {@code GET /users/{id}}: the address, and the card reduced at once to its last four
 * digits, type and expiry (the full number goes no further than this parse).
 *
 * @param address null when the provider has none
 * @param card    null when the provider has no usable card
 */
public record ProviderUser(long externalId, UserAddress address, MaskedCard card) {

  static ProviderUser from(JsonObject json, long requestedId, String where) {
    long id = ProviderJson.id(json, where);
    if (id != requestedId) {
      throw JobFailure.permanent("users provider: " + where + " answered with user " + id);
    }
    return new ProviderUser(id, UserAddress.from(ProviderJson.object(json, "address")),
      MaskedCard.from(ProviderJson.object(json, "bank")));
  }
}
