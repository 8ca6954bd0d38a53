package dev.boxoffice.tickets;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.DecodeHintType;
import com.google.zxing.RGBLuminanceSource;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.ChecksumException;
import com.google.zxing.FormatException;
import com.google.zxing.NotFoundException;
import com.google.zxing.multi.qrcode.QRCodeMultiReader;
import com.google.zxing.qrcode.QRCodeReader;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.rendering.PDFRenderer;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The ticket document itself: a one-page PDF with the booking reference as text and its signed code as a QR code. */
class TicketPdfTest {

  @Test
  void theTicketShowsTheBookingAndItsQrCodeDecodesToTheReference() throws Exception {
    byte[] pdf = TicketPdf.render(new TicketPdf.Data(42, "Ada Lovelace", "ada@example.com", "Event", "Jazz night", 2,
      "2030-01-01T20:00:00Z", "BO1.42.signed"));

    assertThat(new String(pdf, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
    try (PDDocument doc = Loader.loadPDF(pdf)) {
      assertThat(doc.getNumberOfPages()).isEqualTo(1);
      assertThat(new PDFTextStripper().getText(doc)).contains("boxoffice ticket", "BO-42", "Name: Ada Lovelace",
        "E-mail: ada@example.com", "Event: Jazz night", "Starts at: 2030-01-01T20:00:00Z", "Quantity: 2");
      assertThat(decodeQr(doc)).as("the QR code carries the signed code, not the guessable reference")
        .isEqualTo("BO1.42.signed");
    }
  }

  @Test
  void charactersTheStandardFontCannotShowBecomeQuestionMarksInsteadOfFailingTheTicket() throws Exception {
    byte[] pdf = TicketPdf.render(new TicketPdf.Data(7, "Zoë Łukasz \uD83D\uDE00\nO'Brien", "z@example.com", null, null,
      1, null, "BO1.7.signed"));

    try (PDDocument doc = Loader.loadPDF(pdf)) {
      String text = new PDFTextStripper().getText(doc);
      assertThat(text).contains("BO-7", "Name: Zoë ?ukasz ? O'Brien", "Quantity: 1").doesNotContain("Event:");
    }
  }

  /** The QR code of a ticket PDF, read as {@link #decodeQr(PDDocument)} does. */
  static String decodeQr(byte[] pdf) throws Exception {
    try (PDDocument doc = Loader.loadPDF(pdf)) {
      return decodeQr(doc);
    }
  }

  /** Renders the page as a printer or a phone screen would show it and scans it like a gate scanner. */
  private static String decodeQr(PDDocument doc) throws Exception {
    BufferedImage img = new PDFRenderer(doc).renderImageWithDPI(0, 150);
    int[] pixels = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    BinaryBitmap bitmap = new BinaryBitmap(new HybridBinarizer(
      new RGBLuminanceSource(img.getWidth(), img.getHeight(), pixels)));
    Map<DecodeHintType, Object> hints = Map.of(DecodeHintType.TRY_HARDER, true);
    try {
      return new QRCodeReader().decode(bitmap, hints).getText();
    } catch (NotFoundException | FormatException | ChecksumException e) {
      // zxing's single-code finder misses about one clean symbol in a hundred (a data area that looks like a finder
      // pattern); its multi-code finder searches differently, as a phone's scanner retries frame after frame
      return new QRCodeMultiReader().decodeMultiple(bitmap, hints)[0].getText();
    }
  }
}
