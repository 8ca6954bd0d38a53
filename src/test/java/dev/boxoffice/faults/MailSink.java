package dev.boxoffice.faults;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.user.GreenMailUser;
import jakarta.mail.MessagingException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SMTP server every node sends to (GreenMail, in this process). A ticket e-mail names its booking as
 * {@code BO-<id>} in the subject; counting messages per reference finds duplicates and missing ones, and their
 * Message-IDs tell a copy sent again (the same message) from a second message.
 */
final class MailSink implements AutoCloseable {
  private static final Pattern REFERENCE = Pattern.compile("BO-(\\d+)");
  private final GreenMail smtp;
  final int port;

  MailSink(int port) {
    this("127.0.0.1", port);
  }

  /** Listens on {@code host} (bench/net: the bridge's address, which the nodes' namespaces reach). */
  MailSink(String host, int port) {
    this.port = port;
    // a killed node leaves SMTP sessions half done; GreenMail's handler thread then dies with a stack trace
    Thread.setDefaultUncaughtExceptionHandler((thread, err) -> {
      Throwable root = err;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      String what = String.valueOf(root.getMessage()).lines().findFirst().orElse("");
      System.err.println("  [smtp sink] " + thread.getName() + ": " + root.getClass().getSimpleName() + ": " + what);
    });
    this.smtp = new GreenMail(new ServerSetup(port, host, "smtp"));
    smtp.start();
  }

  /** When each message arrived, per booking id (a message without a reference counts under -1). */
  Map<Long, List<Long>> perBooking() {
    Map<Long, List<Long>> received = new HashMap<>();
    messages().forEach((id, copies) -> copies.forEach(c -> received.computeIfAbsent(id, k -> new ArrayList<>())
      .add(c.at())));
    return received;
  }

  /** One message as the sink received it: when, and its Message-ID header (null when it had none). */
  record Received(long at, String messageId) {
  }

  /** Every message received, per booking id (a message without a reference counts under -1). */
  Map<Long, List<Received>> messages() {
    Map<Long, List<Received>> received = new HashMap<>();
    try {
      for (GreenMailUser user : smtp.getUserManager().listUser()) {
        for (StoredMessage m : smtp.getManagers().getImapHostManager().getInbox(user).getMessages()) {
          long id = -1;
          try {
            Matcher r = REFERENCE.matcher(String.valueOf(m.getMimeMessage().getSubject()));
            if (r.find()) {
              id = Long.parseLong(r.group(1));
            }
          } catch (MessagingException e) {
            // unreadable subject: counted under -1
          }
          String messageId = null;
          try {
            messageId = m.getMimeMessage().getMessageID();
          } catch (MessagingException e) {
            // unreadable header: no Message-ID
          }
          received.computeIfAbsent(id, k -> new ArrayList<>()).add(new Received(m.getReceivedDate().getTime(),
            messageId));
        }
      }
    } catch (FolderException e) {
      throw new IllegalStateException("cannot read the SMTP sink's mailboxes", e);
    }
    return received;
  }

  @Override
  public void close() {
    smtp.stop();
  }
}
