package dev.boxoffice.booking;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.boxoffice.Boxoffice;
import dev.boxoffice.jobs.JobQueue;
import dev.boxoffice.jobs.JobRow;
import dev.boxoffice.platform.Database;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestStorage;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static dev.boxoffice.booking.FinalizationTest.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Upgrading a database that still has {@code outbox.send} jobs (before V17 each e-mail had its own job): a live one
 * becomes a finalization job that owns its outbox row, and the new version delivers the message once.
 */
class OutboxUpgradeTest {

  @Test
  void aLiveSendJobFromBeforeV17DeliversItsMessageOnceAfterTheUpgrade() throws Exception {
    String db = TestStorage.get().newDatabase("OutboxUpgradeTest");
    migrateTo(db, "16");
    UUID sendJob = UUID.randomUUID();
    long bookingId;
    Vertx vertx = Vertx.vertx();
    Pool old = Database.pool(vertx, db, 2);
    try {
      bookingId = await(old.withTransaction(tx -> tx.query("""
          INSERT INTO bookings (name, email, phone, status, quantity, owner, expires_at, confirmed_at, finalized_at)
          VALUES ('Ada Lovelace', 'ada.upgrade@example.com', '+44 20 7946 0000', 'finalized', 1, 'testuser',
                  now() + interval '1 minute', now(), now())
          RETURNING id""").execute()
        .map(rows -> rows.iterator().next().getLong("id"))
        .compose(id -> tx.preparedQuery("INSERT INTO tickets (booking_id, pdf) VALUES ($1, $2)")
          .execute(Tuple.of(id, Buffer.buffer("%PDF-1.4 upgrade"))).map(id))
        .compose(id -> tx.preparedQuery("""
            INSERT INTO outbox (booking_id, "to", subject, body) VALUES ($1, 'ada.upgrade@example.com',
              'Your boxoffice ticket', 'Hello') RETURNING id""").execute(Tuple.of(id))
          .compose(rows -> tx.preparedQuery("""
              INSERT INTO jobs (id, type, payload, status, max_attempts, unique_key, queue)
              VALUES ($1, 'outbox.send', jsonb_build_object('outbox_id', $2::bigint, 'booking_id', $3::bigint),
                      'queued', 10, 'outbox:' || $2, 'mail')""")
            .execute(Tuple.of(sendJob, rows.iterator().next().getLong("id"), id)))
          .map(id))));
    } finally {
      await(old.close());
      await(vertx.close());
    }

    GreenMail smtp = new GreenMail(new ServerSetup(TestStorage.freePort(), "127.0.0.1", "smtp"));
    smtp.start();
    Boxoffice.Node node = null;
    try {
      node = TestNodes.start(TestNodes.settings(db, TestStorage.redisPrefix("OutboxUpgradeTest"))
        .put("smtp_host", "127.0.0.1").put("smtp_port", smtp.getSmtp().getPort()), false);
      Pool pool = node.platform().pool();

      JobRow job = null;
      long deadline = System.currentTimeMillis() + 15_000;
      while (System.currentTimeMillis() < deadline) {
        job = await(JobQueue.get(pool, sendJob)).orElseThrow();
        if ("succeeded".equals(job.status()) || "dead".equals(job.status())) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(job.type()).isEqualTo(BookingJobs.FINALIZE);
      assertThat(job.status()).isEqualTo("succeeded");
      assertThat(job.result().getJsonObject("email").getString("status")).isEqualTo("sent");
      Row mail = await(pool.preparedQuery("SELECT status, attempts, job_id FROM outbox WHERE booking_id = $1")
        .execute(Tuple.of(bookingId))).iterator().next();
      assertThat(mail.getString("status")).isEqualTo("sent");
      assertThat(mail.getInteger("attempts")).isEqualTo(1);
      assertThat(mail.getUUID("job_id")).isEqualTo(sendJob);
      assertThat(smtp.getReceivedMessages()).hasSize(1);
    } finally {
      if (node != null) {
        TestNodes.stop(node);
      }
      smtp.stop();
    }
  }

  private static void migrateTo(String uri, String version) {
    PgConnectOptions o = PgConnectOptions.fromUri(uri);
    Flyway.configure()
      .dataSource("jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase(), o.getUser(),
        o.getPassword())
      .locations("classpath:db/migration")
      .target(version)
      .load()
      .migrate();
  }
}
