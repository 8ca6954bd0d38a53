package dev.boxoffice.platform;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.UUID;
import java.util.function.Function;

/**
 * Pages of every list route, at a cost that does not grow with the table: keyset pages (a {@code cursor} naming the
 * last item seen, so a page is one index range scan from there) and a total that is counted only as far as it is
 * cheap. {@code offset} still works, from the start or from the cursor, unbounded as the contract has always had it,
 * but walking an offset reads every row it skips: clients that page deep are pointed at the cursor.
 *
 * <p>A cursor is opaque to clients: base64url (no padding) of the JSON array {@code [list, key...]}, where the key is
 * the sort key of the last item of the page (with its id as the tie-breaker). The list's name inside refuses a cursor
 * of one list given to another. A cursor that does not decode, or names another list, is a 400.
 */
public final class Paging {
  /** Totals up to this are exact; above it, the count stops (see {@link Total}). */
  public static final int EXACT_UP_TO = 10_000;
  /**
   * An unfiltered list of a table the planner believes larger than this is given the planner's row estimate,
   * uncounted; below it the table is counted (a small or never-analyzed table: reltuples is -1 before the first
   * ANALYZE).
   */
  public static final long ESTIMATE_ABOVE = 2L * EXACT_UP_TO;
  private static final int MAX_CURSOR_CHARS = 512;

  private Paging() {
  }

  /** How far {@code X-Total-Count} is to be believed (header {@code X-Total-Count-Accuracy}). */
  public enum Accuracy {
    /** the number of matching items */
    EXACT("exact"),
    /** more than {@link #EXACT_UP_TO} match; the count stopped at {@link #EXACT_UP_TO} + 1 */
    AT_LEAST("at-least"),
    /** an unfiltered list of a large table: the planner's estimate of its rows (pg_class.reltuples) */
    ESTIMATE("estimate");

    private final String header;

    Accuracy(String header) {
      this.header = header;
    }

    public String header() {
      return header;
    }
  }

  /** The total a list reports. */
  public record Total(long count, Accuracy accuracy) {
    /** From a row of {@link #countUpTo} (column {@code n}): at most {@link #EXACT_UP_TO} is exact. */
    public static Total counted(RowSet<Row> rows) {
      long n = rows.iterator().next().getLong("n");
      return n > EXACT_UP_TO ? new Total(n, Accuracy.AT_LEAST) : new Total(n, Accuracy.EXACT);
    }

    /** From a row of {@link #tableTotal} (columns {@code n}, {@code estimated}). */
    public static Total ofTable(RowSet<Row> rows) {
      Row row = rows.iterator().next();
      return Boolean.TRUE.equals(row.getBoolean("estimated"))
        ? new Total(row.getLong("n"), Accuracy.ESTIMATE) : counted(rows);
    }
  }

  /**
   * The count of what {@code fromWhere} ({@code "FROM ... WHERE ..."}, no ORDER BY) selects, stopped after
   * {@link #EXACT_UP_TO} + 1 rows: the cost is bounded however many match. Column {@code n}.
   */
  public static String countUpTo(String fromWhere) {
    return "SELECT count(*) AS n FROM (SELECT 1 " + fromWhere + " LIMIT " + (EXACT_UP_TO + 1) + ") upto";
  }

  /**
   * The total of a whole table: the planner's estimate when it is large (no scan at all), else counted up to the cap.
   * The scalar subquery is an init plan, run only when the CASE reaches it. Columns {@code n}, {@code estimated}.
   */
  public static String tableTotal(String table) {
    return """
      SELECT CASE WHEN e.rows > %d THEN e.rows
                  ELSE (SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %d) upto) END AS n,
             e.rows > %d AS estimated
      FROM (SELECT reltuples::bigint AS rows FROM pg_class WHERE oid = '%s'::regclass) e"""
      .formatted(ESTIMATE_ABOVE, table, EXACT_UP_TO + 1, ESTIMATE_ABOVE, table);
  }

  /** The types a cursor's key is made of. */
  public enum Key {
    /** a bigint id */
    LONG,
    /** a timestamptz, kept to the microsecond */
    TIME,
    /** a uuid */
    UUID
  }

  /**
   * One page asked for: its size, how many to skip, and the key after which it starts ({@code null}: from the
   * start), typed as the list's {@link Key}s say ({@code Long}, {@code OffsetDateTime}, {@code UUID}).
   */
  public record Request(String list, int limit, int offset, Object[] after) {
    /** The page {@code req} asks of {@code list}; a cursor that does not decode to its keys fails with a 400. */
    public static Request of(Bus.ApiRequest req, String list, Key... keys) {
      String cursor = req.params().getString("cursor");
      return new Request(list, req.limit(), req.offset(), cursor == null ? null : decode(list, cursor, keys));
    }

    public boolean fromStart() {
      return after == null;
    }

    /** Key {@code i} of the cursor, or {@code start} when the page starts at the beginning. */
    public Object after(int i, Object start) {
      return after == null ? start : after[i];
    }

    /** Rows to fetch: one more than the page, to learn whether a next page exists without counting. */
    public int fetch() {
      return limit + 1;
    }

    /**
     * The page of {@code rows} (fetched with {@link #fetch()}): at most {@code limit} items in {@code view}, and the
     * cursor of the next page ({@code key} of the last item) when more rows follow.
     */
    public Slice slice(RowSet<Row> rows, Function<Row, JsonObject> view, Function<Row, Object[]> key) {
      JsonArray items = new JsonArray();
      Row last = null;
      int n = 0;
      boolean more = false;
      for (Row row : rows) {
        if (n == limit) {
          more = true;
          break;
        }
        items.add(view.apply(row));
        last = row;
        n++;
      }
      return new Slice(items, more && last != null ? encode(list, key.apply(last)) : null);
    }
  }

  /** A page's items and the next page's cursor ({@code null} on the last page). */
  public record Slice(JsonArray items, String next) {
  }

  /**
   * A whole table listed by its id: one page of {@code pageSql} ({@code $1} the id after which the page starts,
   * {@code $2} how many rows to fetch, {@code $3} the offset) beside the table's total ({@code totalSql}, from
   * {@link #tableTotal}), as the list reply.
   */
  public static Future<JsonObject> byId(Pool pool, Bus.ApiRequest req, String list, String pageSql, String totalSql,
                                        Function<Row, JsonObject> view) {
    Request paging = Request.of(req, list, Key.LONG);
    Future<Slice> page = pool.preparedQuery(pageSql)
      .execute(Tuple.of(paging.after(0, 0L), paging.fetch(), paging.offset()))
      .map(rows -> paging.slice(rows, view, r -> new Object[]{r.getLong("id")}));
    Future<Total> total = pool.query(totalSql).execute().map(Total::ofTable);
    return Future.all(page, total).map(v -> reply(page.result(), total.result()));
  }

  /** The API reply of a page: the items, the total's two headers, and the next cursor for the edge's Link header. */
  public static JsonObject reply(Slice slice, Total total) {
    JsonObject reply = Bus.ApiReply.list(slice.items(), total.count());
    reply.getJsonObject("headers").put("X-Total-Count-Accuracy", total.accuracy().header());
    if (slice.next() != null) {
      reply.put(Bus.ApiReply.NEXT_CURSOR, slice.next());
    }
    return reply;
  }

  /** The opaque cursor for {@code key} of {@code list}. */
  public static String encode(String list, Object... key) {
    JsonArray json = new JsonArray().add(list);
    for (Object k : key) {
      json.add(k instanceof OffsetDateTime || k instanceof UUID ? k.toString() : k);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  static Object[] decode(String list, String cursor, Key... keys) {
    try {
      if (cursor.isEmpty() || cursor.length() > MAX_CURSOR_CHARS) {
        throw invalid();
      }
      JsonArray json = new JsonArray(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
      if (json.size() != keys.length + 1 || !list.equals(json.getValue(0))) {
        throw invalid();
      }
      Object[] values = new Object[keys.length];
      for (int i = 0; i < keys.length; i++) {
        values[i] = value(json.getValue(i + 1), keys[i]);
      }
      return values;
    } catch (Failure f) {
      throw f;
    } catch (RuntimeException e) { // not base64, not JSON, not an array: whatever it was, not one of our cursors
      throw invalid();
    }
  }

  private static Object value(Object raw, Key key) {
    return switch (key) {
      case LONG -> {
        if (!(raw instanceof Integer || raw instanceof Long)) {
          throw invalid();
        }
        yield ((Number) raw).longValue();
      }
      case TIME -> OffsetDateTime.parse((String) raw);
      case UUID -> java.util.UUID.fromString((String) raw);
    };
  }

  private static Failure invalid() {
    return Failure.of(400, "Invalid cursor: pass the cursor of this list's Link header unchanged");
  }
}
