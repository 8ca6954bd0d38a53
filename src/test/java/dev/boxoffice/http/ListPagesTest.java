package dev.boxoffice.http;

import dev.boxoffice.tasks.TaskTypes;
import dev.boxoffice.testing.ApiClient;
import dev.boxoffice.testing.BookingFixtures;
import dev.boxoffice.testing.ListWalk;
import dev.boxoffice.testing.TestNode;
import dev.boxoffice.testing.TestNodes;
import dev.boxoffice.testing.TestTokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static dev.boxoffice.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every list route pages with cursors: following the Link headers two items at a time returns the same items, in
 * the same order, as one page of all of them (ties of the sort key broken by the id); a list's cursor means nothing to
 * another list (400); and the indexes the task lists rely on hold exactly the public task types.
 */
class ListPagesTest {
  @RegisterExtension
  static final TestNode node = TestNode.create().with(TestNodes.noUserCrons()).with("payment_mode", "manual");

  private static BookingFixtures db;
  private static ApiClient admin;
  private static ApiClient tasker;

  @BeforeAll
  static void seed() {
    db = new BookingFixtures(node.pool());
    admin = node.admin();
    tasker = node.api().withToken(TestTokens.user("tasker"));
    db.sql("INSERT INTO events (title, capacity) SELECT 'Show ' || g, 10 FROM generate_series(1, 5) g");
    db.sql("""
      INSERT INTO products (name, quantity, unique_id) SELECT 'Widget ' || g, 3, 'paged-' || g
      FROM generate_series(1, 5) g""");
    db.sql("""
      INSERT INTO accounts (username, password_hash, role) SELECT 'pager' || g, '$not-a-login', 'user'
      FROM generate_series(1, 4) g""");
    db.sql("""
      WITH b AS (
        INSERT INTO bookings (name, email, phone, owner, status, expires_at)
        SELECT 'Mailed ' || g, 'mailed@example.com', '+44 20 7946 0958', 'mailed', 'finalized', now()
        FROM generate_series(1, 5) g RETURNING id)
      INSERT INTO outbox (booking_id, "to", subject, body, status) SELECT id, 'mailed@example.com', 'Ticket', '.',
        'recorded' FROM b""");
    db.sql("""
      INSERT INTO users (external_id, first_name, last_name, email, username)
      SELECT 1000 + g, 'Ada', 'Pager ' || g, 'ada' || g || '@example.com', 'ada' || g FROM generate_series(1, 5) g""");
    // tasks written in one statement share created_at and finished_at: only the id orders them
    db.sql("""
      INSERT INTO jobs (id, type, status, max_attempts, owner, finished_at)
      SELECT gen_random_uuid(), 'text.process', 'succeeded', 3, 'tasker', now() FROM generate_series(1, 7)""");
    db.sql("""
      INSERT INTO jobs (id, type, status, max_attempts, finished_at)
      SELECT gen_random_uuid(), 'test.internal', 'succeeded', 3, now() FROM generate_series(1, 4)""");
  }

  @Test
  void walkingEveryListTwoAtATimeReturnsWhatOneBigPageReturnsInTheSameOrder() {
    Map<String, ApiClient> lists = Map.of("/events", tasker, "/products", tasker, "/accounts", admin,
      "/outbox", admin, "/users", tasker, "/tasks", tasker, "/history", tasker, "/bookings", admin);
    lists.forEach((path, client) -> {
      HttpResponse<Buffer> whole = await(client.get(path + "?limit=100"));
      assertThat(whole.statusCode()).as(path).isEqualTo(200);
      assertThat(whole.getHeader("Link")).as(path).isNull();
      List<String> all = whole.bodyAsJsonArray().stream().map(o -> ((JsonObject) o).encode()).toList();
      assertThat(all).as(path).hasSizeGreaterThanOrEqualTo(4);
      assertThat(whole.getHeader("X-Total-Count")).as(path).isEqualTo(String.valueOf(all.size()));
      assertThat(whole.getHeader("X-Total-Count-Accuracy")).as(path).isEqualTo("exact");

      List<String> walked = ListWalk.all(client, path + "?limit=2").stream().map(JsonObject::encode).toList();
      assertThat(walked).as(path).containsExactlyElementsOf(all);
    });
  }

  @Test
  void tasksWithTheSameCreationTimePageByIdAndInternalJobsNeverShow() {
    List<JsonObject> tasks = ListWalk.all(tasker, "/tasks?limit=3");
    assertThat(tasks).hasSize(7).allSatisfy(t -> assertThat(t.getString("type")).isEqualTo("text.process"));
    assertThat(tasks.stream().map(t -> t.getString("id")).distinct()).hasSize(7);
    assertThat(ListWalk.all(tasker, "/history?limit=3")).hasSize(7);
    assertThat(ListWalk.all(admin, "/tasks?limit=3&status=succeeded"))
      .noneSatisfy(t -> assertThat(t.getString("type")).isEqualTo("test.internal"));
  }

  @Test
  void aCursorOfOneListIsRefusedByAnother() {
    String eventsNext = ListWalk.next(await(tasker.get("/events?limit=1")));
    String cursor = eventsNext.substring(eventsNext.indexOf("cursor="));
    for (String other : List.of("/products", "/users", "/tasks", "/history")) {
      HttpResponse<Buffer> r = await(tasker.get(other + "?" + cursor));
      assertThat(r.statusCode()).as(other).isEqualTo(400);
    }
    assertThat(await(admin.get("/outbox?" + cursor)).statusCode()).isEqualTo(400);
    assertThat(await(admin.get("/accounts?" + cursor)).statusCode()).isEqualTo(400);
  }

  @Test
  void theTaskIndexesHoldExactlyThePublicTaskTypes() {
    // the owner indexes too: their predicate implying the type is what gets a user's page an ordered scan
    for (String index : List.of("jobs_tasks", "jobs_history", "jobs_owner", "jobs_owner_history")) {
      String definition = db.sql("SELECT pg_get_indexdef($1::regclass) AS d", index).iterator().next().getString("d");
      for (String type : TaskTypes.PUBLIC) {
        assertThat(definition).as(index).contains("'" + type + "'::text");
      }
      String types = definition.substring(definition.indexOf("type = ANY"));
      types = types.substring(0, types.indexOf("])") + 1);
      assertThat(types.split("::text").length - 1).as(index + ": " + types).isEqualTo(TaskTypes.PUBLIC.size());
    }
  }
}
