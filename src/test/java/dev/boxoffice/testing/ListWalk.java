package dev.boxoffice.testing;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Walks a list route the way a client does: the first page, then each {@code Link: <...>; rel="next"} to the end. */
public final class ListWalk {
  private static final Pattern NEXT = Pattern.compile("^<([^>]+)>; rel=\"next\"$");
  /** A walk longer than this is a loop. */
  private static final int MAX_PAGES = 10_000;

  private ListWalk() {
  }

  /** The next page's target (a path with its query), or null on the last page. */
  public static String next(HttpResponse<Buffer> page) {
    String link = page.getHeader("Link");
    if (link == null) {
      return null;
    }
    Matcher m = NEXT.matcher(link);
    assertThat(m.matches()).as("Link header %s", link).isTrue();
    return m.group(1);
  }

  /** Every item of the walk from {@code first}, in order; {@code between} runs after each page (it may insert rows). */
  public static List<JsonObject> all(ApiClient client, String first, Consumer<HttpResponse<Buffer>> between) {
    List<JsonObject> items = new ArrayList<>();
    String target = first;
    for (int pages = 0; target != null; pages++) {
      assertThat(pages).as("pages of %s", first).isLessThan(MAX_PAGES);
      HttpResponse<Buffer> page = await(client.get(target));
      assertThat(page.statusCode()).as("%s: %s", target, page.bodyAsString()).isEqualTo(200);
      page.bodyAsJsonArray().forEach(o -> items.add((JsonObject) o));
      between.accept(page);
      target = next(page);
    }
    return items;
  }

  public static List<JsonObject> all(ApiClient client, String first) {
    return all(client, first, page -> { });
  }
}
