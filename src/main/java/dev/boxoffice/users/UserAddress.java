package dev.boxoffice.users;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/** A postal address as the provider gives it ({@code address.coordinates.lat/lng}) and the API shows it. */
public record UserAddress(String address, String city, String state, String stateCode, String postalCode,
                          String country, Double lat, Double lng) {

  /** Null when there is no address object or nothing in it. */
  static UserAddress from(JsonObject json) {
    if (json == null) {
      return null;
    }
    JsonObject coordinates = ProviderJson.object(json, "coordinates");
    UserAddress a = new UserAddress(ProviderJson.text(json, "address"), ProviderJson.text(json, "city"),
      ProviderJson.text(json, "state"), ProviderJson.text(json, "stateCode"), ProviderJson.text(json, "postalCode"),
      ProviderJson.text(json, "country"), ProviderJson.number(coordinates, "lat"),
      ProviderJson.number(coordinates, "lng"));
    boolean empty = a.address == null && a.city == null && a.state == null && a.stateCode == null
      && a.postalCode == null && a.country == null && a.lat == null && a.lng == null;
    return empty ? null : a;
  }

  /** From a row of the users/addresses join; null when the user has no address row. */
  static UserAddress fromRow(Row row) {
    if (row.getLong("address_user_id") == null) {
      return null;
    }
    return new UserAddress(row.getString("address"), row.getString("city"), row.getString("state"),
      row.getString("state_code"), row.getString("postal_code"), row.getString("country"), row.getDouble("lat"),
      row.getDouble("lng"));
  }

  JsonObject toJson() {
    return new JsonObject().put("address", address).put("city", city).put("state", state)
      .put("state_code", stateCode).put("postal_code", postalCode).put("country", country)
      .put("lat", lat).put("lng", lng);
  }
}
