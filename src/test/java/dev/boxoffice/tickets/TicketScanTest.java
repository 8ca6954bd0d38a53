package dev.boxoffice.tickets;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** POST /tickets/scan: a real ticket's QR code admits once, then reports used; a forged or garbled one never. */
class TicketScanTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons()).with("payment_mode", "auto");

  @Test
  void aRealTicketsCodeValidatesOnceThenReportsUsedWithTheFirstTime() throws Exception {
    long id = finalizedBooking();
    String code = qrOfTicket(id);
    assertThat(code).startsWith("BO1." + id + ".");

    JsonObject first = scan(code);
    assertThat(first.getBoolean("valid")).isTrue();
    assertThat(first.getLong("booking_id")).isEqualTo(id);
    assertThat(first.getString("status")).isEqualTo("finalized");
    assertThat(first.getBoolean("already_used")).isFalse();
    assertThat(first.getString("scanned_at")).isNotNull();

    JsonObject second = scan(code);
    assertThat(second.getBoolean("valid")).isTrue();
    assertThat(second.getBoolean("already_used")).isTrue();
    assertThat(second.getString("scanned_at")).as("the first scan's time").isEqualTo(first.getString("scanned_at"));
  }

  @Test
  void concurrentScansOfOneTicketAdmitItOnce() throws Exception {
    long id = finalizedBooking();
    String code = qrOfTicket(id);
    List<Future<HttpResponse<Buffer>>> scans = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      scans.add(node.admin().post("/tickets/scan", new JsonObject().put("code", code)));
    }
    await(Future.all(scans));

    List<JsonObject> answers = scans.stream().map(f -> f.result().bodyAsJsonObject()).toList();
    assertThat(answers).allSatisfy(a -> assertThat(a.getBoolean("valid")).isTrue());
    assertThat(answers).filteredOn(a -> !a.getBoolean("already_used")).hasSize(1);
    assertThat(answers).extracting(a -> a.getString("scanned_at")).doesNotContainNull().containsOnly(
      answers.get(0).getString("scanned_at"));
  }

  @Test
  void forgedAndGarbledCodesAreNotValid() throws Exception {
    long id = finalizedBooking();
    String real = qrOfTicket(id);
    String signature = real.substring(real.lastIndexOf('.') + 1);
    String flipped = (signature.charAt(0) == 'A' ? "B" : "A") + signature.substring(1);

    for (String forged : List.of("BO-" + id, "BO1." + id + "." + flipped, "BO1." + (id + 1) + "." + signature,
      "BO1.99999999999999999999." + signature, "not a ticket at all", real + "x")) {
      JsonObject answer = scan(forged);
      assertThat(answer.getBoolean("valid")).as(forged).isFalse();
      assertThat(answer.getString("reason")).isNotBlank();
      assertThat(answer.containsKey("booking_id")).as("a forged code names no booking").isFalse();
    }
    assertThat(scan(real).getBoolean("already_used")).as("the forgeries did not use the real ticket").isFalse();
  }

  @Test
  void scanningIsForAdminsAndNeedsACode() {
    HttpResponse<Buffer> asUser = await(node.user().post("/tickets/scan", new JsonObject().put("code", "BO1.1.x")));
    assertThat(asUser.statusCode()).isEqualTo(403);
    HttpResponse<Buffer> noCode = await(node.admin().post("/tickets/scan", new JsonObject()));
    assertThat(noCode.statusCode()).isEqualTo(422);
    assertThat(noCode.bodyAsString()).contains("code");
  }

  private static JsonObject scan(String code) {
    HttpResponse<Buffer> r = await(node.admin().post("/tickets/scan", new JsonObject().put("code", code)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static long finalizedBooking() {
    ApiClient user = node.user();
    HttpResponse<Buffer> created = await(user.post("/bookings", body("Gate Test", "gate@example.com")));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    long id = created.bodyAsJsonObject().getLong("id");
    eventually(Duration.ofSeconds(15), () -> user.get("/bookings/" + id).map(HttpResponse::bodyAsJsonObject),
      b -> "finalized".equals(b.getString("status")));
    return id;
  }

  /** The code as a gate scanner reads it off the PDF the owner downloads. */
  private static String qrOfTicket(long id) throws Exception {
    HttpResponse<Buffer> pdf = await(node.user().get("/bookings/" + id + "/ticket"));
    assertThat(pdf.statusCode()).isEqualTo(200);
    return TicketPdfTest.decodeQr(pdf.body().getBytes());
  }
}
