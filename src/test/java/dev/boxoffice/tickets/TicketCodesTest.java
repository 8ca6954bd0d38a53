package dev.boxoffice.tickets;

import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;
import com.google.zxing.qrcode.decoder.Mode;
import com.google.zxing.qrcode.encoder.Encoder;
import com.google.zxing.qrcode.encoder.QRCode;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The signed code a ticket's QR code carries. */
class TicketCodesTest {
  private final TicketCodes codes = new TicketCodes("a ticket key of at least thirty-two characters");

  @Test
  void aCodeVerifiesForItsBookingOnlyAndNotUnderAnotherKey() {
    String code = codes.code(1234567);
    assertThat(code).matches("BO1\\.1234567\\.[0-9A-V]{26}");
    assertThat(codes.verify(code)).isEqualTo(OptionalLong.of(1234567));
    assertThat(codes.verify(code.toLowerCase())).as("scanners may report lower case").isEqualTo(OptionalLong.of(1234567));
    assertThat(codes.verify(code.replace("BO1.1234567.", "BO1.1234568."))).isEmpty();
    assertThat(new TicketCodes("another ticket key of at least thirty-two chars").verify(code)).isEmpty();
  }

  @Test
  void aCodeFitsTheQrAlphanumericModeInA25By25Symbol() throws Exception {
    // what the rendering of every finalized booking pays for: modules drawn (TicketPdf encodes at level M)
    QRCode qr = Encoder.encode(codes.code(9_999_999), ErrorCorrectionLevel.M);
    assertThat(qr.getMode()).isEqualTo(Mode.ALPHANUMERIC);
    assertThat(qr.getMatrix().getWidth()).isEqualTo(25);
  }
}
