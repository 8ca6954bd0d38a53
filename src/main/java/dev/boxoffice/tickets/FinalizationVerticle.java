package dev.boxoffice.tickets;

import dev.boxoffice.booking.BookingJobs;
import dev.boxoffice.jobs.JobType;
import dev.boxoffice.jobs.JobWorkers;
import dev.boxoffice.platform.ApiHandlers;
import dev.boxoffice.platform.AppConfig;
import dev.boxoffice.platform.Platform;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.StartTLSOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Ticket finalization on a workers node: the {@code booking.finalize} job handler (ticket and e-mail), and the
 * ticket download, ticket scan and outbox listing operations.
 */
public final class FinalizationVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(FinalizationVerticle.class);

  /**
   * Rendering, one transaction, then the e-mails. An SMTP server may be away for a while: ten tries over about ten
   * minutes (a booking stays finalized meanwhile; only its e-mail waits). The timeout stays well above the mail
   * client's own connect/idle timeouts, so an attempt is never counted failed while a message may still go out. Its
   * own queue bounds how much CPU PDF rendering takes from the booking path under load.
   */
  public static final JobType FINALIZE_JOB = JobType.of(BookingJobs.FINALIZE).maxAttempts(10)
    .backoff(Duration.ofSeconds(1), 2.0, Duration.ofMinutes(5)).timeout(Duration.ofSeconds(90)).queue("tickets");

  public static final JobType[] JOB_TYPES = {FINALIZE_JOB};

  private final Platform platform;
  private MailClient mail;

  public FinalizationVerticle(Platform platform) {
    this.platform = platform;
  }

  @Override
  public Future<?> start() {
    AppConfig config = platform.config();
    mail = mailClient(config);
    TicketCodes codes;
    try {
      codes = new TicketCodes(config.string("ticket_key"));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    OutboxSender sender = new OutboxSender(vertx, platform.pool(), mail, config.string("mail_from"));
    Finalization finalization = new Finalization(vertx, platform.pool(), sender, codes);
    TicketApi tickets = new TicketApi(platform.pool());
    OutboxApi outbox = new OutboxApi(platform.pool());
    return Future.all(
      JobWorkers.handleBatch(vertx, BookingJobs.FINALIZE, finalization::handleAll),
      ApiHandlers.serve(vertx, "getBookingTicket", tickets::get),
      ApiHandlers.serve(vertx, "scanTicket", new TicketScanApi(platform.pool(), codes)::scan),
      ApiHandlers.serve(vertx, "listOutbox", outbox::list));
  }

  /** Null when no SMTP host is configured: mail is then recorded in the outbox only. */
  private MailClient mailClient(AppConfig config) {
    String host = config.string("smtp_host");
    if (host == null || host.isBlank()) {
      log.info("no smtp_host configured: ticket e-mails are recorded in the outbox only");
      return null;
    }
    MailConfig mailConfig = new MailConfig()
      .setHostname(host)
      .setPort(config.integer("smtp_port"))
      .setStarttls(StartTLSOptions.DISABLED)
      .setLogin(LoginOption.DISABLED)
      .setConnectTimeout(10_000)
      .setIdleTimeout(30);
    return MailClient.create(vertx, mailConfig);
  }

  @Override
  public Future<?> stop() {
    return mail == null ? Future.succeededFuture() : mail.close();
  }
}
