package dev.boxoffice.ops;

import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code warmup_seconds}, a node sends itself bookings through its whole API before it reports ready; none of
 * them leaves a trace in the database, and the node then books as usual.
 */
class WarmUpTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("warmup_seconds", 1).with(TestNodes.noUserCrons());

  @Test
  void aWarmedUpNodeIsReadyHavingWrittenNothing() {
    // the node is started (and ready) only once its warm-up is over
    assertThat(await(node.api().get("/health/ready")).statusCode()).isEqualTo(200);

    Row written = await(node.pool().query("""
      SELECT (SELECT count(*) FROM bookings) AS bookings, (SELECT count(*) FROM jobs WHERE type LIKE 'booking.%') AS jobs,
             (SELECT count(*) FROM idempotency_keys) AS keys, (SELECT count(*) FROM outbox) AS mails,
             (SELECT count(*) FROM tickets) AS tickets""").execute()).iterator().next();

    assertThat(written.toJson().getMap()).allSatisfy((table, rows) -> assertThat(rows).as(table).isEqualTo(0L));
  }
}
