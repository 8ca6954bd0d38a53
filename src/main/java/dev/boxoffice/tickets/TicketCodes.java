package dev.boxoffice.tickets;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a ticket's QR code holds: {@code BO1.<booking id>.<signature>}, the signature an HMAC-SHA256 over the
 * booking id with the server's ticket key ({@code ticket_key}). The booking reference alone ({@code BO-42}) was
 * guessable, so anyone could print a ticket for a booking of theirs or someone else's; without the key no code
 * verifies. No nonce: a booking has one ticket, and "already used" is kept by the server, not the code.
 */
public final class TicketCodes {
  private static final String VERSION = "BO1";
  private static final Pattern FORM = Pattern.compile("BO1\\.([1-9][0-9]{0,18})\\.([A-Za-z0-9_-]{43})");
  /** Domain separation: the key signs nothing else, but a MAC over a bare number invites reuse. */
  private static final String CONTEXT = "boxoffice ticket v1:";

  private final SecretKeySpec key;
  // Mac instances are not thread-safe; codes are made on rendering workers and checked on event loops
  private final ThreadLocal<Mac> mac;

  public TicketCodes(String secret) {
    if (secret == null || secret.length() < 32) {
      throw new IllegalArgumentException("ticket_key must be at least 32 characters");
    }
    this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    this.mac = ThreadLocal.withInitial(this::newMac);
  }

  /** The code the ticket of {@code bookingId} carries in its QR code. */
  public String code(long bookingId) {
    return VERSION + "." + bookingId + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sign(bookingId));
  }

  /** The booking a scanned code was issued for, or empty when it is garbled or not signed with this key. */
  public OptionalLong verify(String code) {
    Matcher m = code == null ? null : FORM.matcher(code.trim());
    if (m == null || !m.matches()) {
      return OptionalLong.empty();
    }
    long bookingId;
    try {
      bookingId = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
    byte[] given = Base64.getUrlDecoder().decode(m.group(2));
    // constant time: a byte-by-byte early exit would leak how much of a forged signature is right
    return MessageDigest.isEqual(given, sign(bookingId)) ? OptionalLong.of(bookingId) : OptionalLong.empty();
  }

  private byte[] sign(long bookingId) {
    return mac.get().doFinal((CONTEXT + bookingId).getBytes(StandardCharsets.US_ASCII));
  }

  private Mac newMac() {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
