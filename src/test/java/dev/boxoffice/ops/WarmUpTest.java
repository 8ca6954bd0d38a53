package dev.boxoffice.ops;

import dev.boxoffice.Boxoffice;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Clock;
import dev.boxoffice.platform.EmbeddedServices;
import dev.boxoffice.platform.Tracing;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.function.Function;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code warmup_seconds}, a node books through a private rehearsal node, on a scratch schema of its database,
 * before it reports ready: every booking there takes its whole life, and none leaves a trace in the node's tables.
 */
class WarmUpTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with("warmup_seconds", 2).with(TestNodes.noUserCrons());

  private static final Function<AppConfig, Future<Boxoffice.Node>> START =
    config -> Boxoffice.start(config, false, new EmbeddedServices(), Clock.SYSTEM, Tracing.OFF);

  @Test
  void aWarmedUpNodeIsReadyHavingWrittenNothing() {
    // the node is started (and ready) only once its warm-up is over
    assertThat(await(node.api().get("/health/ready")).statusCode()).isEqualTo(200);

    assertThat(rowsOf("public").toJson().getMap())
      .allSatisfy((table, rows) -> assertThat(rows).as(table).isEqualTo(0L));
    assertThat(scratchSchemas()).isEmpty();
  }

  @Test
  void aRehearsalTakesBookingsThroughTheirWholeLifeInASchemaItDropsAfter() {
    Rehearsal rehearsal = await(Rehearsal.start(node.platform().config(), node.pool(), START));
    Rehearsal.Outcome outcome = await(rehearsal.book(node.platform().config().string("jwt_secret"), "warm-up-test",
      System.nanoTime() + 2_000_000_000L));
    assertThat(outcome.bookings()).isPositive();
    assertThat(outcome.unexpected()).isZero();

    // the last bookings' payments and tickets may still be on their way
    Row scratch = eventually(() -> Future.succeededFuture(rowsOf(rehearsal.schema())),
      rows -> rows.getLong("tickets") > 0 && rows.getLong("mails") > 0);
    assertThat(scratch.getLong("bookings")).isPositive();
    assertThat(scratch.getLong("jobs")).isPositive();
    assertThat(scratch.getLong("keys")).isPositive(); // one booking in four carries an Idempotency-Key
    assertThat(scratch.getLong("tickets")).isPositive();
    assertThat(scratch.getLong("mails")).isPositive();

    await(rehearsal.stop());
    assertThat(scratchSchemas()).isEmpty();
    assertThat(rowsOf("public").toJson().getMap())
      .allSatisfy((table, rows) -> assertThat(rows).as(table).isEqualTo(0L));
  }

  @Test
  void theScratchSchemaOfANodeThatDiedRehearsingIsDroppedByTheNextOneOnly() {
    long now = System.currentTimeMillis() / 1000;
    String dead = Rehearsal.SCHEMA_PREFIX + (now - 3_600) + "_dead";
    String starting = Rehearsal.SCHEMA_PREFIX + now + "_starting";
    await(node.pool().query("CREATE SCHEMA " + dead).execute());
    await(node.pool().query("CREATE SCHEMA " + starting).execute());
    try {
      Rehearsal rehearsal = await(Rehearsal.start(node.platform().config(), node.pool(), START));
      assertThat(scratchSchemas()).containsExactlyInAnyOrder(starting, rehearsal.schema());
      await(rehearsal.stop());
      assertThat(scratchSchemas()).containsExactly(starting);
    } finally {
      await(node.pool().query("DROP SCHEMA IF EXISTS " + starting).execute());
    }
  }

  @Test
  void theRehearsalsDatabaseUriNamesItsSchema() {
    assertThat(Rehearsal.withSearchPath("postgresql://u@h:5432/db", "s"))
      .isEqualTo("postgresql://u@h:5432/db?search_path=s");
    assertThat(Rehearsal.withSearchPath("postgresql://u@h/db?sslmode=require", "s"))
      .isEqualTo("postgresql://u@h/db?sslmode=require&search_path=s");
    assertThat(Rehearsal.withSearchPath("postgresql://u@h/db?search_path=x&sslmode=require", "s"))
      .isEqualTo("postgresql://u@h/db?sslmode=require&search_path=s");
    assertThat(Rehearsal.withSearchPath("postgresql://u@h/db?sslmode=require&search_path=x", "s"))
      .isEqualTo("postgresql://u@h/db?sslmode=require&search_path=s");
  }

  private static Row rowsOf(String schema) {
    return await(node.pool().query("""
      SELECT (SELECT count(*) FROM %1$s.bookings) AS bookings,
             (SELECT count(*) FROM %1$s.jobs WHERE type LIKE 'booking.%%') AS jobs,
             (SELECT count(*) FROM %1$s.idempotency_keys) AS keys, (SELECT count(*) FROM %1$s.outbox) AS mails,
             (SELECT count(*) FROM %1$s.tickets) AS tickets""".formatted(schema)).execute()).iterator().next();
  }

  private static List<String> scratchSchemas() {
    return await(node.pool().query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, '"
      + Rehearsal.SCHEMA_PREFIX + "') ORDER BY 1").execute()).stream().map(r -> r.getString(0)).toList();
  }
}
