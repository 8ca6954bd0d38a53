package dev.boxoffice.tasks;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code text.process} computes: a pure function of the text, so a job that runs twice stores the same result.
 * Lengths count Unicode code points; words are runs of letters and digits, compared lower-cased.
 */
public final class TextAnalysis {
  private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");
  private static final int TOP = 5;

  private TextAnalysis() {
  }

  public static JsonObject analyze(String text) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    int words = 0;
    Matcher m = WORD.matcher(text);
    while (m.find()) {
      words++;
      counts.merge(m.group().toLowerCase(Locale.ROOT), 1, Integer::sum);
    }
    List<Map.Entry<String, Integer>> ranked = new ArrayList<>(counts.entrySet());
    // most frequent first; ties alphabetically, so the result never depends on map order
    ranked.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    JsonArray top = new JsonArray();
    ranked.stream().limit(TOP).forEach(e -> top.add(new JsonArray().add(e.getKey()).add(e.getValue())));
    return new JsonObject()
      .put("length", text.codePointCount(0, text.length()))
      .put("words", words)
      .put("lines", lines(text))
      .put("unique_words", counts.size())
      .put("top_words", top)
      .put("sha256", sha256(text))
      .put("reversed", new StringBuilder(text).reverse().toString())
      .put("uppercase", text.toUpperCase(Locale.ROOT));
  }

  /** Line count as an editor shows it: a trailing line break does not start another line. */
  static int lines(String text) {
    if (text.isEmpty()) {
      return 0;
    }
    int breaks = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n' || (c == '\r' && (i + 1 == text.length() || text.charAt(i + 1) != '\n'))) {
        breaks++;
      }
    }
    char last = text.charAt(text.length() - 1);
    return last == '\n' || last == '\r' ? breaks : breaks + 1;
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
