package dev.boxoffice.booking;

import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.ListWalk;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.boxoffice.testing.Await.await;
import static dev.boxoffice.testing.BookingFixtures.body;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * GET /bookings in keyset pages: a walk along the Link headers returns every booking once, newest first, however
 * many are inserted meanwhile; filters carry over; a cursor is only a position (a user's walk never shows another's
 * bookings, whatever cursor it is given); a broken cursor is a 400; the total is exact up to 10,000 and says so.
 */
class BookingPagesTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons()).with(TestNodes.manualPayment());

  private static BookingFixtures db;
  private static ApiClient admin;

  @BeforeAll
  static void setUp() {
    db = new BookingFixtures(node.pool());
    admin = node.admin();
  }

  private static ApiClient as(String user) {
    return node.api().withToken(TestTokens.user(user));
  }

  /** {@code n} bookings of {@code owner} in {@code status}, written directly (no saga); their ids, ascending. */
  private static List<Long> insert(String owner, String status, int n) {
    List<Long> ids = new ArrayList<>();
    db.sql("""
      INSERT INTO bookings (name, email, phone, owner, status, expires_at)
      SELECT 'Bulk ' || g, 'bulk' || g || '@example.com', '+44 20 7946 0958', $1, $2, now() + interval '1 hour'
      FROM generate_series(1, $3) g RETURNING id""", owner, status, n).forEach(r -> ids.add(r.getLong("id")));
    ids.sort(null);
    return ids;
  }

  private static List<Long> ids(List<JsonObject> items) {
    return items.stream().map(b -> b.getLong("id")).toList();
  }

  private static List<Long> desc(List<Long> ids) {
    List<Long> out = new ArrayList<>(ids);
    out.sort(Comparator.reverseOrder());
    return out;
  }

  private static String cursor(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aCursorWalkReturnsEveryBookingOnceNewestFirstWhileBookingsAreInsertedConcurrently() {
    List<Long> before = insert("walker", "finalized", 150);
    ApiClient walker = as("walker");
    List<Long> inserted = new CopyOnWriteArrayList<>();
    List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();

    // after every page: two bookings through the API, not awaited (they commit while the walk goes on), and a few
    // written directly
    List<JsonObject> walked = ListWalk.all(walker, "/bookings?limit=7", page -> {
      for (int i = 0; i < 2; i++) {
        posts.add(walker.post("/bookings", body("Late " + i, "late@example.com")).onSuccess(r -> {
          if (r.statusCode() == 201) {
            inserted.add(r.bodyAsJsonObject().getLong("id"));
          }
        }));
      }
      inserted.addAll(insert("walker", "finalized", 3));
    });
    posts.forEach(p -> assertThat(await(p).statusCode()).isEqualTo(201));

    List<Long> listed = ids(walked);
    assertThat(new HashSet<>(listed)).as("no booking twice").hasSameSizeAs(listed);
    assertThat(listed).as("every booking there when the walk began").containsAll(before);
    Set<Long> known = new HashSet<>(before);
    known.addAll(inserted);
    assertThat(known).as("nothing but the walker's bookings").containsAll(listed);
    assertThat(listed).as("newest first").isSortedAccordingTo((a, b) -> Long.compare(b, a));
    assertThat(walked).allSatisfy(b -> assertThat(b.getString("owner")).isEqualTo("walker"));
  }

  @Test
  void theLinkHeaderKeepsTheFiltersDropsTheOffsetAndIsAbsentOnTheLastPage() {
    List<Long> cancelled = insert("linker", "cancelled", 5);
    insert("linker", "expired", 3);
    ApiClient linker = as("linker");

    HttpResponse<Buffer> first = await(linker.get("/bookings?status=cancelled&limit=2&offset=1"));
    assertThat(ids(first.bodyAsJsonArray().stream().map(o -> (JsonObject) o).toList()))
      .containsExactly(cancelled.get(3), cancelled.get(2));
    String next = ListWalk.next(first);
    assertThat(next).startsWith("/bookings?").contains("status=cancelled", "limit=2", "cursor=")
      .doesNotContain("offset");
    assertThat(first.getHeader("Link")).isEqualTo("<" + next + ">; rel=\"next\"");

    HttpResponse<Buffer> last = await(linker.get(next));
    assertThat(ids(last.bodyAsJsonArray().stream().map(o -> (JsonObject) o).toList()))
      .containsExactly(cancelled.get(1), cancelled.get(0));
    assertThat(last.getHeader("Link")).as("nothing follows").isNull();

    HttpResponse<Buffer> exact = await(linker.get("/bookings?status=cancelled&limit=5"));
    assertThat(exact.bodyAsJsonArray()).hasSize(5);
    assertThat(exact.getHeader("Link")).as("a full last page has no next page either").isNull();

    // a cursor and an offset: the offset counts from the cursor
    HttpResponse<Buffer> skipped = await(linker.get(next + "&offset=1"));
    assertThat(ids(skipped.bodyAsJsonArray().stream().map(o -> (JsonObject) o).toList()))
      .containsExactly(cancelled.get(0));
    assertThat(ListWalk.all(linker, "/bookings?limit=3")).hasSize(8);
  }

  @Test
  void aCursorIsAPositionOnlyAUsersWalkNeverShowsAnotherUsersBookings() {
    List<Long> ann = insert("ann", "finalized", 4);
    List<Long> bob = insert("bob", "finalized", 3);
    List<Long> annLater = insert("ann", "finalized", 2);

    HttpResponse<Buffer> annFirst = await(as("ann").get("/bookings?limit=1"));
    String annNext = ListWalk.next(annFirst);
    assertThat(annNext).isNotNull();

    // Bob follows Ann's link: his own bookings below her position, nothing of hers
    List<Long> bobFromAnnsCursor = ids(ListWalk.all(as("bob"), annNext));
    assertThat(bobFromAnnsCursor).containsExactlyElementsOf(desc(bob));
    assertThat(ids(ListWalk.all(as("bob"), "/bookings?limit=2"))).containsExactlyElementsOf(desc(bob));

    List<Long> annAll = new ArrayList<>(ann);
    annAll.addAll(annLater);
    assertThat(ids(ListWalk.all(as("ann"), "/bookings?limit=2"))).containsExactlyElementsOf(desc(annAll));
    // the admin, from the same cursor, sees everyone's below it
    HttpResponse<Buffer> adminBelow = await(admin.get(annNext.replace("limit=1", "limit=100")));
    assertThat(ids(adminBelow.bodyAsJsonArray().stream().map(o -> (JsonObject) o).toList()))
      .contains(annLater.get(0)).containsAll(ann).containsAll(bob).doesNotContain(annLater.get(1));
  }

  @Test
  void aCursorThatDoesNotDecodeOrComesFromAnotherListIsA400() {
    for (String bad : List.of("not-base64!", cursor("not json"), cursor("{\"bookings\": 1}"), cursor("[\"events\",1]"),
      cursor("[\"bookings\",\"x\"]"), cursor("[\"bookings\",1,2]"), cursor("[\"bookings\",1.5]"), cursor("[]"),
      cursor("null"), "x".repeat(600))) {
      HttpResponse<Buffer> r = await(admin.get("/bookings?cursor=" + bad));
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.bodyAsJsonObject().getString("error")).as(bad).contains("cursor");
    }
    HttpResponse<Buffer> events = await(admin.get("/events?limit=1&cursor=" + cursor("[\"bookings\",5]")));
    assertThat(events.statusCode()).isEqualTo(400);
    assertThat(await(admin.get("/bookings?cursor=")).statusCode()).as("empty: the contract's minLength").isEqualTo(422);
    assertThat(await(admin.get("/bookings?offset=-1")).statusCode()).as("a negative offset").isEqualTo(422);
    assertThat(await(admin.get("/bookings?offset=1000000")).statusCode()).as("deep, but allowed").isEqualTo(200);
  }

  @Test
  void theTotalIsExactUpToTenThousandThenALowerBoundOrForALargeTableTheEstimate() {
    insert("small", "finalized", 3);
    HttpResponse<Buffer> small = await(as("small").get("/bookings"));
    assertThat(small.getHeader("X-Total-Count")).isEqualTo("3");
    assertThat(small.getHeader("X-Total-Count-Accuracy")).isEqualTo("exact");

    insert("many", "expired", 10_050);
    HttpResponse<Buffer> many = await(as("many").get("/bookings?limit=5"));
    assertThat(many.getHeader("X-Total-Count")).isEqualTo("10001");
    assertThat(many.getHeader("X-Total-Count-Accuracy")).isEqualTo("at-least");
    HttpResponse<Buffer> expired = await(admin.get("/bookings?status=expired&limit=5"));
    assertThat(expired.getHeader("X-Total-Count")).isEqualTo("10001");
    assertThat(expired.getHeader("X-Total-Count-Accuracy")).isEqualTo("at-least");
    JsonArray mine = await(as("many").get("/bookings?status=expired&limit=100")).bodyAsJsonArray();
    assertThat(mine).hasSize(100);

    // a table the planner knows to be large: its estimate, not a count
    insert("more", "expired", 12_000);
    db.sql("ANALYZE bookings");
    long rows = db.sql("SELECT count(*) AS n FROM bookings").iterator().next().getLong("n");
    HttpResponse<Buffer> all = await(admin.get("/bookings?limit=5"));
    assertThat(all.getHeader("X-Total-Count-Accuracy")).isEqualTo("estimate");
    assertThat(Long.parseLong(all.getHeader("X-Total-Count"))).isBetween(rows * 9 / 10, rows * 11 / 10);
    // filtered lists are still counted, up to the cap
    assertThat(await(as("small").get("/bookings")).getHeader("X-Total-Count-Accuracy")).isEqualTo("exact");
  }
}
