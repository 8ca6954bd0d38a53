package dev.boxoffice.testing;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A real SMTP server for the ticket e-mail tests (GreenMail) on a free port of 127.0.0.1, and what it received for
 * an address. Stopped and started again it is an SMTP outage; its port stays the same.
 */
public final class TestSmtp {
  public static final String HOST = "127.0.0.1";

  private final int port;
  private final GreenMail server;

  private TestSmtp(int port) {
    this.port = port;
    this.server = new GreenMail(new ServerSetup(port, HOST, "smtp"));
  }

  /** A server listening on a free port. */
  public static TestSmtp started() {
    TestSmtp smtp = new TestSmtp(TestStorage.freePort());
    smtp.start();
    return smtp;
  }

  public int port() {
    return port;
  }

  public void start() {
    server.start();
  }

  public void stop() {
    server.stop();
  }

  /** The messages received for {@code email} (any recipient, case ignored). */
  public List<MimeMessage> mailsTo(String email) throws MessagingException {
    List<MimeMessage> out = new ArrayList<>();
    for (MimeMessage m : server.getReceivedMessages()) {
      Address[] to = m.getAllRecipients();
      if (to != null && Arrays.stream(to).anyMatch(a -> a.toString().equalsIgnoreCase(email))) {
        out.add(m);
      }
    }
    return out;
  }
}
