package dev.boxoffice.booking;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.RGBLuminanceSource;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.qrcode.QRCodeReader;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The ticket document itself: a one-page PDF whose text and QR code carry the booking reference. */
class TicketPdfTest {

  @Test
  void theTicketShowsTheBookingAndItsQrCodeDecodesToTheReference() throws Exception {
    byte[] pdf = TicketPdf.render(new TicketPdf.Data(42, "Ada Lovelace", "ada@example.com", "Event", "Jazz night", 2,
      "2030-01-01T20:00:00Z"));

    assertThat(new String(pdf, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
    try (PDDocument doc = Loader.loadPDF(pdf)) {
      assertThat(doc.getNumberOfPages()).isEqualTo(1);
      assertThat(new PDFTextStripper().getText(doc)).contains("boxoffice ticket", "BO-42", "Name: Ada Lovelace",
        "E-mail: ada@example.com", "Event: Jazz night", "Starts at: 2030-01-01T20:00:00Z", "Quantity: 2");
      assertThat(decodeQr(doc.getPage(0))).isEqualTo("BO-42");
    }
  }

  @Test
  void charactersTheStandardFontCannotShowBecomeQuestionMarksInsteadOfFailingTheTicket() throws Exception {
    byte[] pdf = TicketPdf.render(new TicketPdf.Data(7, "Zoë Łukasz \uD83D\uDE00\nO'Brien", "z@example.com", null, null,
      1, null));

    try (PDDocument doc = Loader.loadPDF(pdf)) {
      String text = new PDFTextStripper().getText(doc);
      assertThat(text).contains("BO-7", "Name: Zoë ?ukasz ? O'Brien", "Quantity: 1").doesNotContain("Event:");
    }
  }

  private static String decodeQr(PDPage page) throws Exception {
    for (COSName name : page.getResources().getXObjectNames()) {
      if (page.getResources().getXObject(name) instanceof PDImageXObject image) {
        BufferedImage img = image.getImage();
        int[] pixels = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
        RGBLuminanceSource source = new RGBLuminanceSource(img.getWidth(), img.getHeight(), pixels);
        return new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(source))).getText();
      }
    }
    throw new AssertionError("the ticket has no image");
  }
}
