package dev.boxoffice.users;

import dev.boxoffice.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;

/**
 * A DummyJSON-shaped user directory served by a small Vert.x server inside the test, with faults to switch on:
 * error statuses for the next N calls, answers slower than the client's timeout, malformed bodies, users without
 * an id, 404s for chosen users.
 *
 * <p>Users 1..n: every 10th has no address, every 8th no bank card; odd ids give the card expiry as {@code MM/YY},
 * even ids as {@code MM/YYYY}; every 3rd card number is written with spaces. It ignores {@code select} and sends
 * whole users in pages too, as a less polite provider would.
 */
final class FakeProvider {
  private final Vertx vertx;
  private final Map<Long, JsonObject> users = new ConcurrentHashMap<>();
  private final int count;
  private HttpServer server;

  /** The next N calls (either endpoint) answer {@link #failStatus}. */
  final AtomicInteger failNext = new AtomicInteger();
  volatile int failStatus = 500;
  /** The next N calls answer only after {@link #slowMillis} (after the client gave up). */
  final AtomicInteger slowNext = new AtomicInteger();
  volatile long slowMillis = 3_000;
  /** Every list call answers this status (e.g. 403) while set. */
  volatile Integer listStatus;
  /** The page starting at this skip is not JSON. */
  volatile Integer malformedAtSkip;
  /** The page starting at this skip holds a user without an id. */
  volatile Integer missingIdAtSkip;
  /** These users' detail answers 404 / a malformed body. */
  final Set<Long> notFound = ConcurrentHashMap.newKeySet();
  final Set<Long> malformedDetail = ConcurrentHashMap.newKeySet();
  /** Delay of each detail answer (lets concurrent enrichment runs overlap). */
  volatile long detailDelayMillis;

  final AtomicInteger listCalls = new AtomicInteger();
  final AtomicInteger detailCalls = new AtomicInteger();
  final AtomicInteger faultsServed = new AtomicInteger();

  private FakeProvider(Vertx vertx, int count) {
    this.vertx = vertx;
    this.count = count;
    for (long id = 1; id <= count; id++) {
      users.put(id, user(id));
    }
  }

  static FakeProvider start(Vertx vertx, int count) {
    FakeProvider fake = new FakeProvider(vertx, count);
    Router router = Router.router(vertx);
    router.get("/users").handler(fake::list);
    router.get("/users/:id").handler(fake::detail);
    fake.server = Await.await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    return fake;
  }

  String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  Future<Void> close() {
    return server.close();
  }

  void reset() {
    failNext.set(0);
    failStatus = 500;
    slowNext.set(0);
    listStatus = null;
    malformedAtSkip = null;
    missingIdAtSkip = null;
    notFound.clear();
    malformedDetail.clear();
    detailDelayMillis = 0;
    listCalls.set(0);
    detailCalls.set(0);
    faultsServed.set(0);
    for (long id = 1; id <= count; id++) {
      users.put(id, user(id));
    }
  }

  int count() {
    return count;
  }

  JsonObject get(long id) {
    return users.get(id).copy();
  }

  /** Changes the e-mail of the chosen users (a directory edit the next sync must pick up). */
  int renameEmails(LongPredicate which, String tag) {
    int changed = 0;
    for (long id = 1; id <= count; id++) {
      if (which.test(id)) {
        users.get(id).put("email", "user" + id + "." + tag + "@example.test");
        changed++;
      }
    }
    return changed;
  }

  // ------------------------------------------------------------------ the data

  static boolean hasAddress(long id) {
    return id % 10 != 0;
  }

  static boolean hasCard(long id) {
    return id % 8 != 0;
  }

  /** The full number as the provider sends it (16 digits; every 3rd in groups of four). */
  static String cardNumber(long id) {
    String digits = "4929" + String.format("%012d", 310_000_000_000L + id * 7_919L);
    return id % 3 == 0 ? digits.replaceAll("(.{4})(?!$)", "$1 ") : digits;
  }

  static String cardDigits(long id) {
    return cardNumber(id).replace(" ", "");
  }

  static int expireMonth(long id) {
    return (int) (id % 12) + 1;
  }

  static int expireYear(long id) {
    return 2026 + (int) (id % 5);
  }

  static String expireAsSent(long id) {
    return String.format("%02d/", expireMonth(id))
      + (id % 2 == 1 ? String.format("%02d", expireYear(id) - 2000) : String.valueOf(expireYear(id)));
  }

  private static JsonObject user(long id) {
    JsonObject u = new JsonObject()
      .put("id", id)
      .put("firstName", "First" + id)
      .put("lastName", "Last" + id)
      .put("maidenName", "")
      .put("age", 20 + id % 50)
      .put("email", "user" + id + "@example.test")
      .put("phone", "+1 555-010-" + String.format("%04d", id))
      .put("username", "user" + id)
      .put("password", "not-for-us-" + id);
    if (hasAddress(id)) {
      u.put("address", new JsonObject()
        .put("address", id + " Main Street")
        .put("city", "City " + (id % 7))
        .put("state", "State " + (id % 5))
        .put("stateCode", "S" + (id % 5))
        .put("postalCode", String.format("%05d", 10_000 + id))
        .put("coordinates", new JsonObject().put("lat", id / 10.0).put("lng", -id / 4.0))
        .put("country", "United States"));
    }
    if (hasCard(id)) {
      u.put("bank", new JsonObject()
        .put("cardExpire", expireAsSent(id))
        .put("cardNumber", cardNumber(id))
        .put("cardType", id % 2 == 0 ? "Visa" : "Mastercard")
        .put("currency", "USD")
        .put("iban", "DE" + String.format("%020d", id)));
    }
    return u;
  }

  // ------------------------------------------------------------------ the endpoints

  private void list(RoutingContext rc) {
    listCalls.incrementAndGet();
    if (fault(rc)) {
      return;
    }
    if (listStatus != null) {
      faultsServed.incrementAndGet();
      rc.response().setStatusCode(listStatus).putHeader("Content-Type", "application/json")
        .end("{\"message\":\"refused\"}");
      return;
    }
    int limit = intParam(rc, "limit", 30);
    int skip = intParam(rc, "skip", 0);
    if (limit <= 0 || limit > 100) {
      limit = 100;
    }
    if (malformedAtSkip != null && malformedAtSkip == skip) {
      faultsServed.incrementAndGet();
      // the body even starts like JSON and quotes a card number: none of it may reach an error text
      rc.response().putHeader("Content-Type", "application/json")
        .end("{\"users\": [{\"id\": 1, \"bank\": {\"cardNumber\": \"" + cardDigits(1) + "\" <html>oops");
      return;
    }
    List<JsonObject> page = new ArrayList<>();
    for (long id = skip + 1; id <= Math.min(count, (long) skip + limit); id++) {
      JsonObject u = users.get(id).copy();
      if (missingIdAtSkip != null && missingIdAtSkip == skip && page.size() == 3) {
        faultsServed.incrementAndGet();
        u.remove("id");
      }
      page.add(u);
    }
    JsonObject body = new JsonObject().put("users", new JsonArray(page)).put("total", count).put("skip", skip)
      .put("limit", page.size());
    rc.response().putHeader("Content-Type", "application/json").end(body.encode());
  }

  private void detail(RoutingContext rc) {
    detailCalls.incrementAndGet();
    if (fault(rc)) {
      return;
    }
    long id;
    try {
      id = Long.parseLong(rc.pathParam("id"));
    } catch (NumberFormatException e) {
      rc.response().setStatusCode(400).end("{\"message\":\"Invalid user id\"}");
      return;
    }
    JsonObject u = users.get(id);
    Runnable answer = () -> {
      if (u == null || notFound.contains(id)) {
        rc.response().setStatusCode(404).putHeader("Content-Type", "application/json")
          .end("{\"message\":\"User with id '" + id + "' not found\"}");
      } else if (malformedDetail.contains(id)) {
        faultsServed.incrementAndGet();
        String whole = u.encode();
        rc.response().putHeader("Content-Type", "application/json").end(whole.substring(0, whole.length() - 7));
      } else {
        rc.response().putHeader("Content-Type", "application/json").end(u.encode());
      }
    };
    if (detailDelayMillis > 0) {
      vertx.setTimer(detailDelayMillis, t -> answer.run());
    } else {
      answer.run();
    }
  }

  /** True when a switched-on fault answered (or will answer) this call. */
  private boolean fault(RoutingContext rc) {
    if (takeOne(failNext)) {
      faultsServed.incrementAndGet();
      rc.response().setStatusCode(failStatus).putHeader("Content-Type", "text/plain").end("provider trouble");
      return true;
    }
    if (takeOne(slowNext)) {
      faultsServed.incrementAndGet();
      vertx.setTimer(slowMillis, t -> {
        if (!rc.response().closed() && !rc.response().ended()) {
          rc.response().setStatusCode(503).end("too late");
        }
      });
      return true;
    }
    return false;
  }

  private static boolean takeOne(AtomicInteger n) {
    return n.getAndUpdate(x -> x > 0 ? x - 1 : 0) > 0;
  }

  private static int intParam(RoutingContext rc, String name, int fallback) {
    String v = rc.request().getParam(name);
    try {
      return v == null ? fallback : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
