package dev.boxoffice.faults;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.boxoffice.faults.FaultHarness.progress;

/**
 * Poison under load: the usual mixed load, and beside it clients sending bookings of the same items whose name,
 * e-mail or phone holds text the database cannot store (NUL, a control character, an unpaired surrogate). Every
 * poisoned booking must be refused with 422 naming its field, no valid request may get a 5xx (before the edge
 * refused them, one poisoned booking failed the whole group commit it joined), and nothing may be oversold.
 */
final class PoisonScenario {
  /** Poisoned bookings per second, spread over the nodes. */
  private static final int POISON_RATE = 20;
  private static final int SAMPLES = 5;
  /** Field, then the raw JSON body (a format with the item's member): raw, so the \\ud800 escape survives. */
  private static final String[][] POISONS = {
    {"name", "{\"name\":\"Poison\\u0000nul\",\"email\":\"poison@example.com\",\"phone\":\"12345\",%s}"},
    {"name", "{\"name\":\"Poison\\u0007bell\",\"email\":\"poison@example.com\",\"phone\":\"12345\",%s}"},
    {"name", "{\"name\":\"Poison \\ud800 lone\",\"email\":\"poison@example.com\",\"phone\":\"12345\",%s}"},
    {"email", "{\"name\":\"Poison email\",\"email\":\"poi\\u0000son@example.com\",\"phone\":\"12345\",%s}"},
    {"email", "{\"name\":\"Poison email\",\"email\":\"poison@exa\\udc00mple.com\",\"phone\":\"12345\",%s}"},
    {"phone", "{\"name\":\"Poison phone\",\"email\":\"poison@example.com\",\"phone\":\"123\\u000045\",%s}"},
    {"phone", "{\"name\":\"Poison phone\",\"email\":\"poison@example.com\",\"phone\":\"12345\\n\",%s}"}};

  private final Scenarios scenarios;
  private final FaultHarness.Settings s;
  private final Vertx vertx;
  private final Cluster cluster;
  private final Db db;
  private final AtomicInteger sent = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger answered = new AtomicInteger();
  private final List<String> wrong = Collections.synchronizedList(new ArrayList<>());

  PoisonScenario(Scenarios scenarios, FaultHarness.Settings s, Vertx vertx, Cluster cluster, Db db) {
    this.scenarios = scenarios;
    this.s = s;
    this.vertx = vertx;
    this.cluster = cluster;
    this.db = db;
  }

  Outcome run() {
    Outcome o = new Outcome("poison-under-load");
    long first = scenarios.nextBookingId();
    Load.Items items = scenarios.items("poison");
    Load load = scenarios.load(items);
    String token = scenarios.login(cluster.live.get(0));
    // the short form keeps this scenario short: the point is the mix, not the duration
    long loadMs = (s.mode().equals("short") ? Math.min(8, s.loadSeconds()) : s.loadSeconds()) * 1000L;
    List<String> targets = new ArrayList<>();
    items.hotEvents().forEach(id -> targets.add("\"event_id\":" + id));
    items.hotProducts().forEach(id -> targets.add("\"product_id\":" + id));
    items.roomyEvents().forEach(id -> targets.add("\"event_id\":" + id));
    load.start();
    long timer = vertx.setPeriodic(1000 / POISON_RATE, id -> sendPoison(token, targets));
    NodeProcess.sleep(loadMs);
    vertx.cancelTimer(timer);
    load.stop();
    long until = System.currentTimeMillis() + 25_000;
    while (answered.get() < sent.get() && System.currentTimeMillis() < until) {
      NodeProcess.sleep(50);
    }
    progress("poison: %d poisoned bookings sent, %d refused with 422 naming the field", sent.get(), refused.get());
    scenarios.settleAndCheck(o, load, first);
    long stored = db.scalar("SELECT count(*) FROM bookings WHERE id >= ? AND name LIKE 'Poison%'", first);
    o.put("poisoned", sent.get()).put("poisoned_422", refused.get()).put("poisoned_stored", stored)
      .put("valid_5xx", load.serverErrors.get());
    o.require(sent.get() > 0, "no poisoned booking was sent");
    o.require(refused.get() == sent.get(), "%d of %d poisoned bookings not refused with 422 naming the field: %s",
      sent.get() - refused.get(), sent.get(), wrong);
    o.require(stored == 0, "%d poisoned bookings were stored", stored);
    o.require(load.serverErrors.get() == 0, "%d valid requests answered 5xx", load.serverErrors.get());
    return o;
  }

  private void sendPoison(String token, List<String> targets) {
    int n = sent.getAndIncrement();
    String[] poison = POISONS[n % POISONS.length];
    NodeProcess node = cluster.live.get(n % cluster.live.size());
    String body = poison[1].formatted(targets.get(n % targets.size()));
    node.web.post("/bookings").timeout(20_000).putHeader("Authorization", "Bearer " + token)
      .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body)).onComplete(ar -> {
        if (ar.succeeded() && refusedNaming(ar.result(), poison[0])) {
          refused.incrementAndGet();
        } else if (wrong.size() < SAMPLES) {
          wrong.add(poison[0] + " → " + (ar.succeeded() ? ar.result().statusCode() + " " + ar.result().bodyAsString()
            : ar.cause().toString()));
        }
        answered.incrementAndGet();
      });
  }

  private static boolean refusedNaming(HttpResponse<Buffer> r, String field) {
    if (r.statusCode() != 422) {
      return false;
    }
    JsonObject body = r.bodyAsJsonObject();
    return body.getJsonArray("fields") != null && body.getJsonArray("fields").stream()
      .anyMatch(f -> field.equals(((JsonObject) f).getString("field")));
  }
}
