package dev.boxoffice.users;

import dev.boxoffice.jobs.JobFailure;
import io.vertx.core.json.JsonObject;

/** A directory entry as {@code users.sync} stores it; the provider's fields are camelCase (DummyJSON). */
public record DirectoryUser(long externalId, String firstName, String lastName, String email, String phone,
                            String username) {

  /** Validates one entry of a page; anything unusable is a permanent failure naming the entry and the field. */
  static DirectoryUser from(Object value, String where) {
    if (!(value instanceof JsonObject json)) {
      throw JobFailure.permanent("users provider: " + where + " is not a JSON object");
    }
    long id = ProviderJson.id(json, where);
    String at = where + ", id " + id;
    return new DirectoryUser(id,
      ProviderJson.requiredText(json, "firstName", at),
      ProviderJson.requiredText(json, "lastName", at),
      ProviderJson.requiredText(json, "email", at),
      ProviderJson.text(json, "phone"),
      ProviderJson.requiredText(json, "username", at));
  }
}
