package dev.boxoffice.platform;

import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Every connection of a node starts with the configured statement_timeout, idle_in_transaction_session_timeout and
 * keepalive, and the server enforces them; work that needs longer lifts the bound for its own transaction.
 */
class DatabaseTimeoutsTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons())
    .with("pg_statement_timeout_ms", 1_500).with("pg_idle_in_transaction_timeout_ms", 1_000)
    .with("pg_tcp_keepalive_seconds", 20);

  @Test
  void everyPooledConnectionStartsWithTheBounds() {
    // several times: the pool hands out whichever of its connections is free
    for (int i = 0; i < 3; i++) {
      assertThat(show("statement_timeout")).isEqualTo("1500ms");
      assertThat(show("idle_in_transaction_session_timeout")).isEqualTo("1s");
      assertThat(show("tcp_keepalives_idle")).isEqualTo("20");
      assertThat(show("tcp_keepalives_count")).isEqualTo("3");
    }
    // the job engine's LISTEN connections and the node registry's goodbye use the same options
    assertThat(node.platform().pgConnectOptions().getProperties())
      .containsEntry("statement_timeout", "1500").containsEntry("idle_in_transaction_session_timeout", "1000");
  }

  @Test
  void aStatementPastTheTimeoutIsCancelled() {
    Throwable failure = catchThrowable(() -> await(node.pool().query("SELECT pg_sleep(3)").execute()));
    assertThat(failure).isInstanceOf(PgException.class);
    assertThat(((PgException) failure).getSqlState()).isEqualTo("57014");
    assertThat(Failures.timedOut(failure)).isTrue();
    assertThat(ApiHandlers.refusal("test", failure).status()).isEqualTo(503);
    assertThat(ApiHandlers.refusal("test", failure).body().getValue("retry_after")).isNotNull();
  }

  @Test
  void aTransactionLiftsTheBoundForItselfOnly() {
    await(node.pool().withTransaction(tx -> tx.query("SET LOCAL statement_timeout = '10s'").execute()
      .compose(v -> tx.query("SELECT pg_sleep(2)").execute())));
    assertThat(show("statement_timeout")).isEqualTo("1500ms");
  }

  @Test
  void aTransactionLeftIdleIsEndedByTheServer() throws Exception {
    SqlConnection conn = await(node.pool().getConnection());
    try {
      Transaction tx = await(conn.begin());
      await(conn.query("SELECT 1").execute());
      Thread.sleep(2_500); // the node stops talking mid-transaction (frozen, cut off)
      Throwable failure = catchThrowable(() -> await(conn.query("SELECT 1").execute()));
      assertThat(failure).isNotNull();
      assertThat(tx).isNotNull();
    } finally {
      await(conn.close());
    }
  }

  private static String show(String setting) {
    return await(node.pool().query("SHOW " + setting).execute()).iterator().next().getString(0);
  }
}
