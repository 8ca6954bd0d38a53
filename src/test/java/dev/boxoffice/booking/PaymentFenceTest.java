package dev.boxoffice.booking;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.platform.Bus;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The payment step is fenced (SPEC, "Fenced side effects"): an attempt whose lease was taken over calls no payment
 * provider; the attempt that holds the lease charges once. The saga's handlers run on this node (no worker role, so
 * no engine claims the test's jobs rows) with a provider that counts its calls.
 */
class PaymentFenceTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("roles", "http").with(TestNodes.noUserCrons());

  private static final List<Long> charged = new CopyOnWriteArrayList<>();
  private static Pool pool;

  @BeforeAll
  static void start() {
    pool = node.pool();
    PaymentProvider counting = charge -> {
      charged.add(charge.bookingId());
      return Future.succeededFuture(PaymentProvider.Outcome.approve("test:" + charge.idempotencyKey()));
    };
    BookingSaga saga = new BookingSaga(node.vertx(), pool, counting, true);
    Promise<Void> registered = Promise.promise();
    node.vertx().getOrCreateContext().runOnContext(v -> saga.handle(node.vertx()).onComplete(registered));
    await(registered.future());
  }

  @Test
  void anAttemptWhoseLeaseWasTakenOverDoesNotCharge() {
    long booking = await(pool.query("""
        INSERT INTO bookings (name, email, phone, owner, expires_at)
        VALUES ('Grace Hopper', 'grace@example.com', '+44 20 7946 0958', 'testuser', now() + interval '1 minute')
        RETURNING id""").execute()).iterator().next().getLong("id");
    JsonObject payload = new JsonObject().put("booking_id", booking);
    UUID id = await(pool.preparedQuery("""
        INSERT INTO jobs (id, type, payload, status, attempts, max_attempts, locked_by, lease_until, started_at)
        VALUES (gen_random_uuid(), $1, $2, 'running', 1, 5, 'node-a', now() + interval '1 minute', now())
        RETURNING id""").execute(Tuple.of(BookingJobs.PAYMENT, payload))).iterator().next().getUUID("id");
    Job paused = new Job(id, BookingJobs.PAYMENT, payload, 1, 5, null, "node-a");
    // node-a froze; its lease was rescued and node-b claimed the job again (attempt 2)
    await(pool.preparedQuery("UPDATE jobs SET attempts = 2, locked_by = 'node-b' WHERE id = $1").execute(Tuple.of(id)));

    JsonObject stale = handle(paused);

    assertThat(stale.getJsonObject("failures").getJsonObject(id.toString()).getString("error"))
      .contains("lease lost", "no payment");
    assertThat(charged).doesNotContain(booking);
    assertThat(status(booking)).isEqualTo("pending");

    Job current = new Job(id, BookingJobs.PAYMENT, payload, 2, 5, null, "node-b");
    JsonObject done = handle(current);
    assertThat(done.getJsonObject("results").getJsonObject(id.toString()).getString("status")).isEqualTo("confirmed");
    assertThat(charged.stream().filter(b -> b == booking)).hasSize(1);
    assertThat(status(booking)).isEqualTo("confirmed");
  }

  private static JsonObject handle(Job job) {
    return await(node.vertx().eventBus().<JsonObject>request(Bus.jobBatch(BookingJobs.PAYMENT),
      new JsonObject().put("jobs", new JsonArray().add(job.toJson())))).body();
  }

  private static String status(long booking) {
    return await(pool.preparedQuery("SELECT status FROM bookings WHERE id = $1").execute(Tuple.of(booking)))
      .iterator().next().getString("status");
  }
}
