package dev.boxoffice.http;

import io.vertx.core.MultiMap;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The {@code Link: <...>; rel="next"} header of a list page (RFC 8288): the request's own path and query, with the
 * next page's cursor in place of any {@code cursor} or {@code offset} it had, so the filters carry over. The target is
 * a relative reference (resolved against the request's URI), which stays right behind a proxy that rewrites the host.
 */
final class NextLink {
  private NextLink() {
  }

  static String header(String path, MultiMap query, String cursor) {
    StringBuilder url = new StringBuilder(path).append('?');
    for (Map.Entry<String, String> param : query) {
      String name = param.getKey();
      if (!name.equals("cursor") && !name.equals("offset")) {
        url.append(encode(name)).append('=').append(encode(param.getValue())).append('&');
      }
    }
    url.append("cursor=").append(encode(cursor));
    return "<" + url + ">; rel=\"next\"";
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
