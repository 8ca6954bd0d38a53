package dev.boxoffice.platform;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of log lines: the password inside a URI (parsable or not), {@code password=} parameters, and
 * the configured secret values themselves wherever they appear in a text such as an exception's message.
 */
public final class Secrets {
  public static final String MASK = "***";
  private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)(password=)[^&\\s]*");
  /** {@code scheme://user:password@}: the password runs to the last {@code @} before white space. */
  private static final Pattern USERINFO = Pattern.compile("(://[^\\s:/@]*:)[^\\s]*@");

  private Secrets() {
  }

  /**
   * {@code text} with the password of a URI replaced, even a URI that does not parse: everything between the first
   * {@code :} after {@code scheme://} and the last {@code @} is taken for the password.
   */
  public static String maskUri(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    int at = out.lastIndexOf('@');
    int start = out.indexOf("://");
    start = start < 0 ? 0 : start + 3;
    int colon = out.indexOf(':', start);
    if (at > 0 && colon >= 0 && colon < at) {
      out = out.substring(0, colon + 1) + MASK + out.substring(at);
    }
    return PASSWORD_PARAM.matcher(out).replaceAll("$1" + MASK);
  }

  /**
   * {@code text} (a message) without any of the secrets {@code config} holds: its secret settings, the passwords of
   * its URIs, and passwords inside any URI it quotes.
   */
  public static String scrub(String text, JsonObject config) {
    if (text == null) {
      return null;
    }
    List<String> known = new ArrayList<>();
    if (config != null) {
      for (String key : Settings.SECRETS) {
        known.add(config.getValue(key) == null ? null : String.valueOf(config.getValue(key)));
      }
      for (String key : config.fieldNames()) {
        if (key.endsWith("_uri") && config.getValue(key) instanceof String uri) {
          known.add(password(uri));
        }
      }
    }
    String out = text;
    for (String secret : known.stream().filter(s -> s != null && s.length() >= 4)
      .sorted(Comparator.comparingInt(String::length).reversed()).toList()) {
      out = out.replace(secret, MASK);
    }
    Matcher m = USERINFO.matcher(out);
    out = m.replaceAll(r -> Matcher.quoteReplacement(r.group(1) + MASK + "@"));
    return PASSWORD_PARAM.matcher(out).replaceAll("$1" + MASK);
  }

  /** The password part of {@code scheme://user:password@host...}, or null. */
  private static String password(String uri) {
    int start = uri.indexOf("://");
    int at = uri.lastIndexOf('@');
    if (start < 0 || at < 0) {
      return null;
    }
    int colon = uri.indexOf(':', start + 3);
    return colon >= 0 && colon < at ? uri.substring(colon + 1, at) : null;
  }
}
