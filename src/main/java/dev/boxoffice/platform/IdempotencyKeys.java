package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code Idempotency-Key} (IETF httpapi draft, as payment APIs use it) for the operations that create something.
 * A key belongs to an account (the token's {@code sub}); its row in {@code idempotency_keys} is written in the
 * transaction of the work it guards:
 * <ol>
 *   <li>{@link #claimAll}: the first statement of the transaction inserts the keys. A key a committed request holds
 *   is answered from its row (the stored response again when operation and body match, else 422); a key another
 *   transaction is inserting right now makes the statement wait for it, then the same.</li>
 *   <li>the work, then {@link #completeAll}: one statement stores each 2xx response and deletes the claims of the
 *   rest (a refusal did no work, so its retry may run again). Rolled back, nothing of the key remains.</li>
 * </ol>
 * Around that, {@link #guard} sets a short Redis marker ({@code SET NX PX}) while the request is in flight, so a
 * duplicate arriving meanwhile is answered 409 with {@code Retry-After} at once instead of waiting in Postgres.
 * Redis only speeds this up: when it is down the marker is skipped and the primary key still decides.
 */
public final class IdempotencyKeys {
  private static final Logger log = LoggerFactory.getLogger(IdempotencyKeys.class);
  /** How long a key is kept (at least: the retention sweep removes it some time after). */
  public static final long RETENTION_SECONDS = 24 * 3600;
  /** Header of a replayed response. */
  public static final String REPLAYED_HEADER = "Idempotent-Replayed";
  public static final int MAX_LENGTH = 255;
  /** A request is in flight at most this long (the edge's bus timeout); a crashed holder's marker lasts as long. */
  static final long IN_FLIGHT_MS = 15_000;
  static final long RETRY_AFTER_SECONDS = 1;
  private static final long REDIS_TIMEOUT_MS = 200;
  private static final String RELEASE =
    "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";

  // keys sorted, so two transactions claiming overlapping sets wait for each other in one order (no deadlock); an
  // expired row the sweep has not deleted yet is taken over. Rows come back only for the keys claimed here.
  private static final String CLAIM = """
    INSERT INTO idempotency_keys (account, key, operation, fingerprint, expires_at)
    SELECT a, k, o, f, now() + make_interval(secs => $5)
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(a, k, o, f)
    ORDER BY a, k
    ON CONFLICT (account, key) DO UPDATE
      SET operation = excluded.operation, fingerprint = excluded.fingerprint, status = NULL, body = NULL,
          created_at = now(), expires_at = excluded.expires_at
      WHERE idempotency_keys.expires_at <= now()
    RETURNING account, key""";

  private static final String STORED = """
    SELECT i.account, i.key, i.fingerprint, i.status, i.body
    FROM idempotency_keys i JOIN unnest($1::text[], $2::text[]) AS x(a, k) ON i.account = x.a AND i.key = x.k
    WHERE i.expires_at > now()""";

  // one statement: the 2xx answers are stored, the other claims deleted
  private static final String COMPLETE = """
    WITH x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS x(a, k, s, b)),
    dropped AS (DELETE FROM idempotency_keys i USING x WHERE i.account = x.a AND i.key = x.k AND x.s IS NULL)
    UPDATE idempotency_keys i SET status = x.s, body = x.b
    FROM x WHERE i.account = x.a AND i.key = x.k AND x.s IS NOT NULL""";

  private final Vertx vertx;
  private final Pool pool;
  private final RedisAPI redis;
  private final String redisPrefix;
  private final RedisOutage redisOutage = new RedisOutage();

  public IdempotencyKeys(Vertx vertx, Pool pool, RedisAPI redis, String redisPrefix) {
    this.vertx = vertx;
    this.pool = pool;
    this.redis = redis;
    this.redisPrefix = redisPrefix;
  }

  public static IdempotencyKeys of(Platform p) {
    return new IdempotencyKeys(p.vertx(), p.pool(), p.redis(), p.config().string("redis_key_prefix"));
  }

  /** One request's key: whose it is, the key, and the fingerprint of what it asks (operation and body). */
  public record Key(String account, String key, String operation, String fingerprint) {
    /** The key of a request, or null when it carries none; a malformed key fails with 422. */
    public static Key of(Bus.ApiRequest req, String operation) {
      String raw = req.idempotencyKey();
      if (raw == null) {
        return null;
      }
      String key = unquoted(raw);
      if (key.isEmpty() || key.length() > MAX_LENGTH || !key.chars().allMatch(c -> c >= 0x20 && c <= 0x7E)) {
        throw Failure.invalid("Idempotency-Key", "must be 1.." + MAX_LENGTH + " printable ASCII characters");
      }
      return new Key(req.user(), key, operation, IdempotencyKeys.fingerprint(operation, req.json().getValue("body")));
    }
  }

  /**
   * The answer of a request already done: its stored response. Travels as a failure through code written for
   * fresh results; {@link #replayed} turns it back into the reply.
   */
  public static final class Replayed extends RuntimeException {
    private final JsonObject reply;

    Replayed(JsonObject reply) {
      super("replayed", null, false, false);
      this.reply = reply;
    }
  }

  /** For {@code recover}: the stored reply of a {@link Replayed}, any other failure unchanged. */
  public static Future<JsonObject> replayed(Throwable err) {
    return err instanceof Replayed r ? Future.succeededFuture(r.reply.copy()) : Future.failedFuture(err);
  }

  /**
   * Runs {@code work} of {@code operation} in a transaction guarded by the request's key, if it has one (without
   * a key, on the pool as before); answers a repeat from the stored response.
   */
  public Future<JsonObject> run(Bus.ApiRequest req, String operation, Function<SqlClient, Future<JsonObject>> work) {
    Key key;
    try {
      key = Key.of(req, operation);
    } catch (Failure e) {
      return Future.failedFuture(e);
    }
    if (key == null) {
      return work.apply(pool);
    }
    return guard(key, () -> pool.withTransaction(tx -> claimAll(tx, List.of(key)).compose(taken -> taken.isEmpty()
        ? work.apply(tx).compose(reply -> completeAll(tx, List.of(key), List.of(reply)).map(reply))
        : Future.<JsonObject>failedFuture(taken.get(key)))))
      .recover(IdempotencyKeys::replayed);
  }

  /**
   * Runs {@code work} while a Redis marker says the key is in flight. A key already marked is answered from
   * Postgres when its request has committed (a {@link Replayed} or a 422), else 409 with {@code Retry-After}. The
   * marker goes before the answer does, so a client that retries after its answer never meets it.
   */
  public <T> Future<T> guard(Key key, Supplier<Future<T>> work) {
    if (redisOutage.skipping()) {
      return work.get();
    }
    String marker = marker(redisPrefix, key.account(), key.key());
    String token = UUID.randomUUID().toString();
    return bounded(redis.set(List.of(marker, token, "NX", "PX", String.valueOf(IN_FLIGHT_MS))))
      .transform(ar -> {
        if (ar.failed()) {
          redisOutage.failed();
          log.debug("idempotency key marker: Redis unavailable ({}); Postgres alone decides", ar.cause().toString());
          return work.get();
        }
        if (ar.result() == null) {
          return answered(key);
        }
        return work.get().eventually(() -> bounded(redis.eval(List.of(RELEASE, "1", marker, token)))
          .otherwise(err -> null)); // left behind, it expires by itself
      });
  }

  /** The Redis key of the in-flight marker of an account's key. */
  static String marker(String redisPrefix, String account, String key) {
    return redisPrefix + "idem:" + sha256(account + "\n" + key);
  }

  /** A marked key: the committed answer if there is one, else still in flight. */
  private <T> Future<T> answered(Key key) {
    return stored(pool, List.of(key)).compose(found -> {
      Throwable answer = found.get(key);
      return Future.failedFuture(answer != null ? answer : inFlight());
    });
  }

  /**
   * Claims the keys (distinct) in the caller's transaction: the first statement of its work. Returns the keys that
   * were not claimed because a committed request holds them, each with its answer ({@link Replayed}, or 422 for a
   * different request); those requests must do no work. Empty input: no statement.
   */
  public static Future<Map<Key, Throwable>> claimAll(SqlClient tx, List<Key> keys) {
    if (keys.isEmpty()) {
      return Future.succeededFuture(new HashMap<>());
    }
    int n = keys.size();
    String[] accounts = new String[n];
    String[] names = new String[n];
    String[] operations = new String[n];
    String[] fingerprints = new String[n];
    for (int i = 0; i < n; i++) {
      Key k = keys.get(i);
      accounts[i] = k.account();
      names[i] = k.key();
      operations[i] = k.operation();
      fingerprints[i] = k.fingerprint();
    }
    return tx.preparedQuery(CLAIM)
      .execute(Tuple.from(new Object[]{accounts, names, operations, fingerprints, RETENTION_SECONDS}))
      .compose(rows -> {
        if (rows.size() == n) {
          return Future.succeededFuture(new HashMap<>());
        }
        Map<String, Key> byName = new HashMap<>();
        keys.forEach(k -> byName.put(k.account() + "\n" + k.key(), k));
        rows.forEach(r -> byName.remove(r.getString("account") + "\n" + r.getString("key")));
        return stored(tx, List.copyOf(byName.values()));
      });
  }

  /**
   * Stores each key's reply (a 2xx: status and body) or, for a null or non-2xx reply, deletes its claim; one
   * statement, in the transaction that claimed them. Empty input: no statement.
   */
  public static Future<Void> completeAll(SqlClient tx, List<Key> keys, List<JsonObject> replies) {
    if (keys.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = keys.size();
    String[] accounts = new String[n];
    String[] names = new String[n];
    Integer[] statuses = new Integer[n];
    String[] bodies = new String[n];
    for (int i = 0; i < n; i++) {
      accounts[i] = keys.get(i).account();
      names[i] = keys.get(i).key();
      JsonObject reply = replies.get(i);
      int status = reply == null ? 0 : reply.getInteger("status", 200);
      if (status >= 200 && status < 300) {
        statuses[i] = status;
        bodies[i] = Json.encode(reply.getValue("body"));
      }
    }
    return tx.preparedQuery(COMPLETE).execute(Tuple.from(new Object[]{accounts, names, statuses, bodies})).mapEmpty();
  }

  /** The answers of these keys' committed rows; a key without one is missing from the map. */
  private static Future<Map<Key, Throwable>> stored(SqlClient sql, List<Key> keys) {
    String[] accounts = keys.stream().map(Key::account).toArray(String[]::new);
    String[] names = keys.stream().map(Key::key).toArray(String[]::new);
    return sql.preparedQuery(STORED).execute(Tuple.from(new Object[]{accounts, names})).map(rows -> {
      Map<Key, Throwable> answers = new HashMap<>();
      for (Row r : rows) {
        for (Key k : keys) {
          if (k.account().equals(r.getString("account")) && k.key().equals(r.getString("key"))) {
            answers.put(k, answer(k, r));
          }
        }
      }
      return answers;
    });
  }

  private static Throwable answer(Key key, Row stored) {
    if (!key.fingerprint().equals(stored.getString("fingerprint"))) {
      return Failure.invalid("Idempotency-Key was already used for another request", Map.of("Idempotency-Key",
        "was used with a different body or operation; send a new key for a new request"));
    }
    Integer status = stored.getInteger("status");
    if (status == null) {
      return inFlight(); // not reachable from committed rows; stay safe
    }
    String body = stored.getString("body");
    return new Replayed(Bus.ApiReply.of(status, body == null ? null : Json.decodeValue(body))
      .put("headers", new JsonObject().put(REPLAYED_HEADER, "true")));
  }

  private static Failure inFlight() {
    return Failure.conflict("A request with this Idempotency-Key is still in flight; retry after it has been answered")
      .with("retry_after", RETRY_AFTER_SECONDS);
  }

  private <R> Future<R> bounded(Future<R> call) {
    Promise<R> result = Promise.promise();
    long timer = vertx.setTimer(REDIS_TIMEOUT_MS, id -> result.tryFail("Redis did not answer in time"));
    call.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  /** The draft's structured-field string form {@code "..."} (with {@code \"} and {@code \\}) gives its content. */
  static String unquoted(String raw) {
    if (raw.length() < 2 || raw.charAt(0) != '"' || raw.charAt(raw.length() - 1) != '"') {
      return raw;
    }
    StringBuilder out = new StringBuilder(raw.length());
    for (int i = 1; i < raw.length() - 1; i++) {
      char c = raw.charAt(i);
      if (c == '\\' && i + 1 < raw.length() - 1) {
        c = raw.charAt(++i);
      }
      out.append(c);
    }
    return out.toString();
  }

  /** SHA-256 of the operation and the body in a canonical form (object members sorted, recursively). */
  static String fingerprint(String operation, Object body) {
    StringBuilder text = new StringBuilder(operation).append('\n');
    canonical(body, text);
    return sha256(text.toString());
  }

  private static void canonical(Object value, StringBuilder out) {
    if (value instanceof Map<?, ?> map) {
      value = new JsonObject(new HashMap<>(castMap(map)));
    }
    if (value instanceof List<?> list) {
      value = new JsonArray(new ArrayList<>(list));
    }
    if (value instanceof JsonObject o) {
      out.append('{');
      String sep = "";
      for (Map.Entry<String, Object> e : new TreeMap<>(o.getMap()).entrySet()) {
        out.append(sep).append(Json.encode(e.getKey())).append(':');
        canonical(e.getValue(), out);
        sep = ",";
      }
      out.append('}');
    } else if (value instanceof JsonArray a) {
      out.append('[');
      for (int i = 0; i < a.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        canonical(a.getValue(i), out);
      }
      out.append(']');
    } else {
      out.append(Json.encode(value));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> map) {
    return (Map<String, Object>) map;
  }

  private static String sha256(String text) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
