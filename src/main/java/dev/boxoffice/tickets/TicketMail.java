package dev.boxoffice.tickets;

/** The text of a ticket's e-mail (the PDF goes with it as an attachment). */
final class TicketMail {
  private TicketMail() {
  }

  static String subject(TicketPdf.Data d) {
    return d.item() == null ? "Your boxoffice ticket " + d.reference()
      : "Your ticket for " + d.item() + " (" + d.reference() + ")";
  }

  static String body(TicketPdf.Data d) {
    StringBuilder text = new StringBuilder()
      .append("Hello ").append(d.name()).append(",\n\n")
      .append("your booking ").append(d.reference()).append(" is confirmed. Your ticket is attached (")
      .append(TicketPdf.fileName(d.bookingId())).append(").\n\n");
    if (d.item() != null) {
      text.append(d.itemKind()).append(": ").append(d.item()).append('\n');
    }
    if (d.startsAt() != null) {
      text.append("Starts at: ").append(d.startsAt()).append('\n');
    }
    text.append("Quantity: ").append(d.quantity()).append("\n\n")
      .append("Show the QR code on the ticket at the entrance.\n\n-- \nboxoffice\n");
    return text.toString();
  }
}
