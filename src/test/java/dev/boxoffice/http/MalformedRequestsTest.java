package dev.boxoffice.http;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests broken below or beside the contract get the status their fault deserves, as JSON: an undecodable query
 * (400), a bearer header without a token (401), text the database cannot store in any operation's fields (422
 * naming the field), both item ids in a booking (422 naming both).
 */
class MalformedRequestsTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons());

  @Test
  void aBadPercentEscapeInTheQueryIs400Json() {
    for (String path : List.of("/bookings?status=%zz", "/events?limit=%zz", "/products?offset=1%", "/tasks?type=%g1",
      "/users?limit=%%20", "/history?x=%zz")) {
      HttpResponse<Buffer> r = await(node.admin().get(path));
      assertThat(r.statusCode()).as(path + " → " + r.bodyAsString()).isEqualTo(400);
      assertThat(r.getHeader("Content-Type")).isEqualTo("application/json");
      assertThat(r.bodyAsJsonObject().getString("error")).contains("percent-escape");
    }
    assertThat(await(node.admin().get("/bookings?status=%70ending")).statusCode()).as("a good escape").isEqualTo(200);
  }

  @Test
  void aBearerHeaderWithoutAUsableTokenIs401WithTheChallenge() {
    for (String header : List.of("Bearer ", "Bearer", "bearer  ", "Bearer not-a-jwt", "Bearer a.b.c")) {
      HttpResponse<Buffer> r = await(node.api().request(HttpMethod.GET, "/bookings")
        .putHeader("Authorization", header).send());
      assertThat(r.statusCode()).as("'" + header + "' → " + r.bodyAsString()).isEqualTo(401);
      assertThat(r.getHeader("WWW-Authenticate")).isEqualTo("Bearer");
      assertThat(r.bodyAsJsonObject().getString("error")).isNotBlank();
    }
  }

  @Test
  void aBookingNamingBothIdsIs422NamingBoth() {
    HttpResponse<Buffer> r = await(node.user().post("/bookings", new JsonObject().put("name", "Ada")
      .put("email", "ada@example.com").put("phone", "12345").put("event_id", 1).put("product_id", 2)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(422);
    assertThat(fields(r)).as(r.bodyAsString()).contains("event_id", "product_id").doesNotContain("body");
  }

  @Test
  void unstorableTextInAnyOperationIs422NamingTheField() {
    ApiClient admin = node.admin();
    assertUnstorable(await(admin.get("/tasks?type=text%00process")), "type");
    assertUnstorable(await(admin.get("/tasks?type=text%01process")), "type");
    assertUnstorable(await(admin.get("/tasks?type=line%0Abreak")), "type");
    assertUnstorable(await(admin.get("/tasks?type=%ED%A0%80")), null); // not UTF-8: decoded as U+FFFD, storable
    assertUnstorable(await(admin.postRaw("/events", "{\"title\":\"Jazz\\u0001\",\"capacity\":5}")), "title");
    assertUnstorable(await(admin.postRaw("/products", "{\"name\":\"Shirt\",\"quantity\":5,\"unique_id\":\"a\\ud800\"}")),
      "unique_id");
    assertUnstorable(await(admin.postRaw("/token", "{\"username\":\"ad\\u0000min\",\"password\":\"x\"}")), "username");
    // free text keeps its line breaks, but not what jsonb cannot hold, at any depth
    assertThat(await(admin.post("/submit", new JsonObject().put("data", "two\nlines\r\n\ttabbed"))).statusCode())
      .isEqualTo(202);
    assertUnstorable(await(admin.postRaw("/submit", "{\"data\":\"nul \\u0000 here\"}")), "data");
    assertUnstorable(await(admin.postRaw("/tasks",
      "{\"type\":\"users.sync\",\"payload\":{\"a\":{\"b\":[\"ok\",\"lone \\udfff\"]}}}")), "payload.a.b.1");
    assertUnstorable(await(admin.postRaw("/tasks", "{\"type\":\"users.sync\",\"payload\":{\"k\\u0000\":1}}")),
      "payload");
    assertUnstorable(await(admin.postRaw("/tasks", "{\"type\":\"users.sync\",\"unique_key\":\"k\\n\"}")),
      "unique_key");
    assertThat(node.pool()).isNotNull();
  }

  private static void assertUnstorable(HttpResponse<Buffer> r, String field) {
    if (field == null) {
      assertThat(r.statusCode()).as(r.bodyAsString()).isLessThan(500).isNotEqualTo(422);
      return;
    }
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(422);
    assertThat(fields(r)).as(r.bodyAsString()).containsExactly(field);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("Invalid fields: " + field);
  }

  private static List<String> fields(HttpResponse<Buffer> r) {
    return r.bodyAsJsonObject().getJsonArray("fields").stream().map(f -> ((JsonObject) f).getString("field")).toList();
  }
}
