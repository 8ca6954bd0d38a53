package dev.boxoffice.tickets;

import dev.boxoffice.tickets.OutboxSender.Mail;
import io.vertx.core.MultiMap;
import io.vertx.ext.mail.MailAttachment;
import io.vertx.ext.mail.MailMessage;

import java.util.List;

/**
 * The SMTP message of an outbox row, as {@link OutboxSender} hands it to the mail client: the text, the ticket PDF
 * attached, and a Message-ID fixed by the row.
 */
final class OutboxMessages {
  private final String from;
  private final String domain;

  /** {@code from}: the {@code mail_from} address. */
  OutboxMessages(String from) {
    this.from = from;
    this.domain = domainOf(from);
  }

  /** The Message-ID of a row's e-mail: the same for every copy, however often or by whichever node it is sent. */
  String messageId(Mail m) {
    return "<outbox-" + m.outboxId() + "." + m.bookingId() + "@" + domain + ">";
  }

  /** The domain of the {@code mail_from} address ({@code "Box Office <tickets@example.com>"} → example.com). */
  static String domainOf(String from) {
    String address = from == null ? "" : from.trim();
    if (address.endsWith(">")) {
      address = address.substring(address.lastIndexOf('<') + 1, address.length() - 1);
    }
    String domain = address.substring(address.lastIndexOf('@') + 1).trim();
    return address.contains("@") && domain.matches("[A-Za-z0-9.-]+") ? domain : "boxoffice.invalid";
  }

  MailMessage of(Mail m) {
    MailMessage message = new MailMessage()
      .setFrom(from)
      .setTo(m.to())
      .setSubject(m.subject())
      .setText(m.body())
      // fixed by the row, so that a copy sent again is the same message; replaces the client's random one
      .setHeaders(MultiMap.caseInsensitiveMultiMap().add("Message-ID", messageId(m)));
    if (m.pdf() != null) {
      message.setAttachment(List.of(MailAttachment.create()
        .setData(m.pdf())
        .setName(TicketPdf.fileName(m.bookingId()))
        .setContentType("application/pdf")
        .setDisposition("attachment")));
    }
    return message;
  }
}
