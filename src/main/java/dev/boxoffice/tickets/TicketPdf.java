package dev.boxoffice.tickets;

import com.google.zxing.EncodeHintType;
import com.google.zxing.WriterException;
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;
import com.google.zxing.qrcode.encoder.ByteMatrix;
import com.google.zxing.qrcode.encoder.Encoder;
import org.apache.pdfbox.pdfwriter.compress.CompressParameters;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.graphics.color.PDDeviceGray;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Renders a booking's ticket: a one-page PDF with the booking reference as text and, in a QR code, the signed code
 * the gate scans ({@link TicketCodes}: the reference alone could be forged by anyone). The QR code is a one-bit
 * image with one sample per module, scaled up without interpolation: sharp at any zoom, ~120 bytes, and no
 * rasterising (a bitmap at print size cost 2.7 ms a ticket) and nothing to deflate (vector squares, one per run of
 * dark modules, were 2 KB of operators whose deflating was a third of the render). The page's content stream is
 * then ~0.6 KB and stored as it is: a ticket is ~1.8 KB and renders in ~0.08 ms here (0.11 ms as vectors with the
 * stream deflated at level 1).
 * Blocking (PDFBox): call it from {@code executeBlocking}, never on an event loop.
 */
public final class TicketPdf {
  public static final String TITLE = "boxoffice ticket";
  private static final int QR_MARGIN_MODULES = 2;
  // a fixed mask: every mask gives a valid code, and scoring all eight to pick one was 80% of the QR's cost
  private static final int QR_MASK = 0;

  /**
   * What the ticket shows; {@code item} is the event title or product name, or null for a plain booking;
   * {@code code} what its QR code holds ({@link TicketCodes#code}).
   */
  public record Data(long bookingId, String name, String email, String itemKind, String item, int quantity,
                     String startsAt, String code) {
    public String reference() {
      return TicketPdf.reference(bookingId);
    }
  }

  private TicketPdf() {
  }

  /** The booking reference printed on the ticket and in the e-mail. */
  public static String reference(long bookingId) {
    return "BO-" + bookingId;
  }

  public static String fileName(long bookingId) {
    return "ticket-" + reference(bookingId) + ".pdf";
  }

  public static byte[] render(Data data) {
    try (PDDocument doc = new PDDocument()) {
      doc.getDocumentInformation().setTitle(TITLE + " " + data.reference());
      doc.getDocumentInformation().setCreator("boxoffice");
      PDRectangle size = new PDRectangle(PDRectangle.A5.getHeight(), PDRectangle.A5.getWidth()); // landscape
      PDPage page = new PDPage(size);
      doc.addPage(page);
      PDType1Font bold = new PDType1Font(Standard14Fonts.FontName.HELVETICA_BOLD);
      PDType1Font regular = new PDType1Font(Standard14Fonts.FontName.HELVETICA);

      float margin = 40;
      float top = size.getHeight() - margin;
      // not deflated: with the code as an image the page's operators are ~0.6 KB, and deflating them was a third of
      // the render
      try (PDPageContentStream out = new PDPageContentStream(doc, page, PDPageContentStream.AppendMode.OVERWRITE,
        false)) {
        out.beginText();
        out.setFont(bold, 24);
        out.newLineAtOffset(margin, top - 24);
        out.showText(TITLE);
        out.setFont(bold, 18);
        out.newLineAtOffset(0, -40);
        out.showText(data.reference());
        out.setFont(regular, 12);
        out.setLeading(20);
        out.newLineAtOffset(0, -36);
        line(out, regular, "Name: " + data.name());
        line(out, regular, "E-mail: " + data.email());
        if (data.item() != null) {
          line(out, regular, data.itemKind() + ": " + data.item());
        }
        if (data.startsAt() != null) {
          line(out, regular, "Starts at: " + data.startsAt());
        }
        line(out, regular, "Quantity: " + data.quantity());
        out.endText();

        float qrSize = 160;
        drawQr(doc, out, qrMatrix(data.code()), size.getWidth() - margin - qrSize, top - qrSize - 40, qrSize);
        out.beginText();
        out.setFont(regular, 9);
        out.newLineAtOffset(size.getWidth() - margin - qrSize, top - qrSize - 56);
        out.showText("Show this code at the entrance.");
        out.endText();
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(4 * 1024); // a ticket is ~1.8 KB
      doc.save(bytes, CompressParameters.NO_COMPRESSION); // object streams cost more CPU than the bytes they save
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render ticket " + data.reference(), e);
    }
  }

  private static void line(PDPageContentStream out, PDType1Font font, String text) throws IOException {
    out.showText(printable(font, text));
    out.newLine();
  }

  /**
   * The standard fonts cover WinAnsi only and PDFBox throws on anything else (a name in Cyrillic, an emoji, a
   * newline): such characters become '?' rather than failing the ticket.
   */
  static String printable(PDType1Font font, String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(text.length());
    text.codePoints().forEach(cp -> {
      String ch = new String(Character.toChars(cp));
      if (Character.isISOControl(cp)) {
        out.append(' ');
        return;
      }
      try {
        font.encode(ch);
        out.append(ch);
      } catch (IllegalArgumentException | IOException e) {
        out.append('?');
      }
    });
    return out.toString();
  }

  /** The code's modules, without the quiet zone (zxing's writer would copy them into a scaled matrix first). */
  private static ByteMatrix qrMatrix(String content) {
    try {
      return Encoder.encode(content, ErrorCorrectionLevel.M, Map.of(EncodeHintType.QR_MASK_PATTERN, QR_MASK))
        .getMatrix();
    } catch (WriterException e) {
      throw new IllegalStateException("cannot encode QR code for " + content, e);
    }
  }

  /**
   * The code as a one-bit grey image, one sample per module (quiet zone included), scaled up by the image's
   * transform: about 120 bytes, stored as they are, for a 25 × 25 code, where a vector rectangle per run of dark
   * modules took about 2 KB of operators that then had to be deflated. Not interpolated (the PDF default): every
   * module stays a sharp square at any zoom, as the vector drawing did. Samples are 0 (black) for dark modules, rows
   * padded to whole bytes.
   */
  private static void drawQr(PDDocument doc, PDPageContentStream out, ByteMatrix m, float x, float y, float size)
    throws IOException {
    int width = m.getWidth() + 2 * QR_MARGIN_MODULES;
    int height = m.getHeight() + 2 * QR_MARGIN_MODULES;
    int rowBytes = (width + 7) / 8;
    byte[] samples = new byte[rowBytes * height];
    java.util.Arrays.fill(samples, (byte) 0xFF);
    for (int row = 0; row < m.getHeight(); row++) {
      int sampleRow = (row + QR_MARGIN_MODULES) * rowBytes;
      for (int col = 0; col < m.getWidth(); col++) {
        if (m.get(col, row) == 1) {
          int sampleCol = col + QR_MARGIN_MODULES;
          samples[sampleRow + sampleCol / 8] &= (byte) ~(0x80 >>> (sampleCol % 8));
        }
      }
    }
    // an image object, not an inline image: its stream has a length, where raw samples inline could hold "EI" and a
    // blank, which a reader may take for the image's end
    out.drawImage(new PDImageXObject(doc, new ByteArrayInputStream(samples), null, width, height, 1,
      PDDeviceGray.INSTANCE), x, y, size, size);
  }
}
