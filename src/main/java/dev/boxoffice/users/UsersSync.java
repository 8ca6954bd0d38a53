package dev.boxoffice.users;

import dev.boxoffice.jobs.Job;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code users.sync} job: pages through the provider's whole directory and upserts each entry by its external
 * id. A page is written by one statement, so it lands whole or not at all; a failed page leaves the earlier pages
 * (complete users) in place and the next attempt simply upserts them again. Address and card are left to the
 * enrichment jobs.
 */
public final class UsersSync {
  static final int PAGE_SIZE = 100;

  /* Rows that did not change are not touched (updated_at keeps meaning "last changed"). */
  private static final String UPSERT_PAGE = """
    INSERT INTO users AS u (external_id, first_name, last_name, email, phone, username)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
    ON CONFLICT (external_id) DO UPDATE
      SET first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email,
          phone = excluded.phone, username = excluded.username, updated_at = now()
      WHERE (u.first_name, u.last_name, u.email, u.phone, u.username)
            IS DISTINCT FROM (excluded.first_name, excluded.last_name, excluded.email, excluded.phone,
                              excluded.username)
    RETURNING (xmax = 0) AS created""";

  private final Pool pool;
  private final UsersProvider provider;

  public UsersSync(Pool pool, UsersProvider provider) {
    this.pool = pool;
    this.provider = provider;
  }

  private static final class Counts {
    long synced;
    long created;
    long updated;
    int pages;
    long total;

    JsonObject toJson() {
      return new JsonObject().put("synced", synced).put("created", created).put("updated", updated)
        .put("unchanged", synced - created - updated).put("pages", pages).put("total", total);
    }
  }

  public Future<JsonObject> handle(Job job) {
    return fromPage(0, new Counts());
  }

  private Future<JsonObject> fromPage(int skip, Counts counts) {
    return provider.page(skip, PAGE_SIZE).compose(page -> {
      counts.total = page.total();
      if (page.users().isEmpty()) {
        return Future.succeededFuture(counts.toJson());
      }
      return store(page.users(), counts).compose(v -> {
        // advance by what came back: a provider may cap the page size below what we asked for
        int next = skip + page.users().size();
        return next >= page.total() ? Future.succeededFuture(counts.toJson()) : fromPage(next, counts);
      });
    });
  }

  private Future<Void> store(List<DirectoryUser> users, Counts counts) {
    // one row per external id (ON CONFLICT cannot touch a row twice), in id order so concurrent syncs lock alike
    Map<Long, DirectoryUser> byId = new LinkedHashMap<>();
    users.forEach(u -> byId.put(u.externalId(), u));
    List<DirectoryUser> rows = new ArrayList<>(byId.values());
    rows.sort(Comparator.comparingLong(DirectoryUser::externalId));
    int n = rows.size();
    Long[] ids = new Long[n];
    String[] first = new String[n];
    String[] last = new String[n];
    String[] email = new String[n];
    String[] phone = new String[n];
    String[] username = new String[n];
    for (int i = 0; i < n; i++) {
      DirectoryUser u = rows.get(i);
      ids[i] = u.externalId();
      first[i] = u.firstName();
      last[i] = u.lastName();
      email[i] = u.email();
      phone[i] = u.phone();
      username[i] = u.username();
    }
    return pool.preparedQuery(UPSERT_PAGE).execute(Tuple.of(ids, first, last, email, phone, username))
      .map(result -> {
        counts.pages++;
        counts.synced += n;
        for (Row row : result) {
          if (row.getBoolean("created")) {
            counts.created++;
          } else {
            counts.updated++;
          }
        }
        return null;
      });
  }
}
