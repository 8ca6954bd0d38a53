package dev.boxoffice.platform;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Idempotency-Key with Redis unreachable: no in-flight marker, so duplicates sent at once all reach the booking
 * batches (the same batch, or batches running side by side) and Postgres alone decides: one booking per key, and
 * every duplicate answers its response.
 */
class IdempotencyWithoutRedisTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.manualPayment())
    .with("redis_uri", "redis://127.0.0.1:" + TestStorage.freePort()).with(TestNodes.noUserCrons());

  @Test
  void duplicatesSentAtOnceBookOnceAndAllAnswerTheSame() {
    BookingFixtures db = new BookingFixtures(node.pool());
    ApiClient user = node.user();
    long event = db.event(1_000);
    int keys = 40;
    int copies = 4;
    List<Future<HttpResponse<Buffer>>> sends = new ArrayList<>();
    for (int k = 0; k < keys; k++) {
      String key = UUID.randomUUID().toString();
      JsonObject booking = body("Twin Guest " + k, "twin@example.com").put("event_id", event);
      for (int c = 0; c < copies; c++) {
        sends.add(user.request(HttpMethod.POST, "/bookings").putHeader("Idempotency-Key", key)
          .sendJsonObject(booking));
      }
    }
    List<HttpResponse<Buffer>> answers = await(Future.all(sends)).list();

    for (int k = 0; k < keys; k++) {
      List<HttpResponse<Buffer>> same = answers.subList(k * copies, (k + 1) * copies);
      assertThat(same).allSatisfy(r -> assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201));
      assertThat(same.stream().map(HttpResponse::bodyAsString).distinct()).hasSize(1);
      assertThat(same.stream().filter(r -> "true".equals(r.getHeader(IdempotencyKeys.REPLAYED_HEADER))))
        .hasSize(copies - 1);
    }
    assertThat(db.sql("SELECT count(*) FROM bookings WHERE event_id = $1", event).iterator().next().getLong(0))
      .isEqualTo(keys);
    assertThat(db.eventBooked(event)).isEqualTo(keys);
  }
}
