package dev.boxoffice.tickets;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a ticket's QR code holds: {@code BO1.<booking id>.<signature>}, the signature the first 128 bits of an
 * HMAC-SHA256 over the booking id with the server's ticket key ({@code ticket_key}; 128 bits as RFC 2104 recommends
 * for a truncated MAC), written as 26 base-32 digits {@code 0-9A-V}. Every character is then in the QR code's
 * alphanumeric set (5.5 bits each instead of 8), so a ticket's code is a 25 × 25 symbol (booking ids of up to seven
 * digits) rather than the 33 × 33 of a base64 signature: rendering cost grows with the modules drawn, and every
 * finalized booking renders one. The booking reference alone ({@code BO-42}) was guessable, so anyone could print a
 * ticket for a booking of theirs or someone else's; without the key no code verifies. No nonce: a booking has one
 * ticket, and "already used" is kept by the server, not the code.
 */
public final class TicketCodes {
  private static final String VERSION = "BO1";
  private static final Pattern FORM = Pattern.compile("BO1\\.([1-9][0-9]{0,18})\\.([0-9A-V]{26})");
  private static final int SIGNATURE_BYTES = 16;
  private static final int SIGNATURE_DIGITS = 26; // 128 bits in base 32, zero-padded
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
    return VERSION + "." + bookingId + "." + signature(bookingId);
  }

  /** The booking a scanned code was issued for, or empty when it is garbled or not signed with this key. */
  public OptionalLong verify(String code) {
    Matcher m = code == null ? null : FORM.matcher(code.trim().toUpperCase(Locale.ROOT));
    if (m == null || !m.matches()) {
      return OptionalLong.empty();
    }
    long bookingId;
    try {
      bookingId = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
    byte[] given = m.group(2).getBytes(StandardCharsets.US_ASCII);
    byte[] expected = signature(bookingId).getBytes(StandardCharsets.US_ASCII);
    // constant time: a byte-by-byte early exit would leak how much of a forged signature is right
    return MessageDigest.isEqual(given, expected) ? OptionalLong.of(bookingId) : OptionalLong.empty();
  }

  private String signature(long bookingId) {
    byte[] full = mac.get().doFinal((CONTEXT + bookingId).getBytes(StandardCharsets.US_ASCII));
    String digits = new BigInteger(1, Arrays.copyOf(full, SIGNATURE_BYTES)).toString(32).toUpperCase(Locale.ROOT);
    return "0".repeat(SIGNATURE_DIGITS - digits.length()) + digits;
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
