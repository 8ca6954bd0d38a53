package dev.boxoffice.users;

import dev.boxoffice.jobs.Job;
import dev.boxoffice.jobs.JobFailure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code users.enrich_addresses} and {@code users.enrich_cards} jobs: take up to {@code batch_size} users (by
 * id) not yet looked up, ask the provider for each, and store the address or the masked card (1:1 with the user).
 *
 * <p>Idempotent without locks held across the HTTP calls: the enrichment tables are keyed by user id and written
 * with {@code ON CONFLICT (user_id) DO UPDATE}, so two runs (two nodes, or a retry after a lost lease) that pick the
 * same users store the same row once. Each user is written by one statement (the row and the "checked" mark
 * together), so a run that fails part-way leaves every user either enriched or untouched.
 *
 * <p>A user the provider has no address/card for, or no longer knows (404), is marked checked and counted as
 * skipped, so it does not block later batches.
 */
public final class UsersEnrichment {
  static final int MAX_BATCH = 1000;

  private static final String PENDING_ADDRESSES =
    "SELECT id, external_id FROM users WHERE address_checked_at IS NULL ORDER BY id LIMIT $1";
  private static final String PENDING_CARDS =
    "SELECT id, external_id FROM users WHERE card_checked_at IS NULL ORDER BY id LIMIT $1";

  private static final String SAVE_ADDRESS = """
    WITH saved AS (
      INSERT INTO addresses (user_id, address, city, state, state_code, postal_code, country, lat, lng)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (user_id) DO UPDATE
        SET address = excluded.address, city = excluded.city, state = excluded.state,
            state_code = excluded.state_code, postal_code = excluded.postal_code, country = excluded.country,
            lat = excluded.lat, lng = excluded.lng, updated_at = now()
      RETURNING user_id)
    UPDATE users SET address_checked_at = now() WHERE id = (SELECT user_id FROM saved)""";

  private static final String SAVE_CARD = """
    WITH saved AS (
      INSERT INTO cards (user_id, last4, card_type, expire_month, expire_year)
      VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (user_id) DO UPDATE
        SET last4 = excluded.last4, card_type = excluded.card_type, expire_month = excluded.expire_month,
            expire_year = excluded.expire_year, updated_at = now()
      RETURNING user_id)
    UPDATE users SET card_checked_at = now() WHERE id = (SELECT user_id FROM saved)""";

  private static final String NO_ADDRESS = "UPDATE users SET address_checked_at = now() WHERE id = $1";
  private static final String NO_CARD = "UPDATE users SET card_checked_at = now() WHERE id = $1";

  /** Which enrichment a job runs. */
  public enum Kind {
    ADDRESSES, CARDS
  }

  private record Pending(long id, long externalId) {
  }

  private static final class Counts {
    int picked;
    int enriched;
    int skipped;

    JsonObject toJson() {
      return new JsonObject().put("enriched", enriched).put("skipped", skipped).put("picked", picked);
    }
  }

  private final Pool pool;
  private final UsersProvider provider;
  private final Kind kind;
  private final int defaultBatch;

  public UsersEnrichment(Pool pool, UsersProvider provider, Kind kind, int defaultBatch) {
    this.pool = pool;
    this.provider = provider;
    this.kind = kind;
    this.defaultBatch = defaultBatch;
  }

  public Future<JsonObject> handle(Job job) {
    int batch = batchSize(job.payload(), defaultBatch);
    String pending = kind == Kind.ADDRESSES ? PENDING_ADDRESSES : PENDING_CARDS;
    return pool.preparedQuery(pending).execute(Tuple.of(batch)).compose(rows -> {
      List<Pending> users = new ArrayList<>();
      for (Row row : rows) {
        users.add(new Pending(row.getLong("id"), row.getLong("external_id")));
      }
      Counts counts = new Counts();
      counts.picked = users.size();
      return enrich(users, 0, counts).map(v -> counts.toJson());
    });
  }

  /** One user at a time: a batch is small, and a provider in trouble sees one request of ours at a time. */
  private Future<Void> enrich(List<Pending> users, int index, Counts counts) {
    if (index >= users.size()) {
      return Future.succeededFuture();
    }
    Pending user = users.get(index);
    return provider.user(user.externalId())
      .compose(found -> store(user, found))
      .compose(enriched -> {
        if (enriched) {
          counts.enriched++;
        } else {
          counts.skipped++;
        }
        return enrich(users, index + 1, counts);
      });
  }

  /** True when a row was stored; false when the provider had nothing usable (the user is marked checked). */
  private Future<Boolean> store(Pending user, Optional<ProviderUser> found) {
    Tuple save = null;
    if (kind == Kind.ADDRESSES) {
      UserAddress a = found.map(ProviderUser::address).orElse(null);
      if (a != null) {
        save = Tuple.of(user.id(), a.address(), a.city(), a.state(), a.stateCode(), a.postalCode(), a.country(),
          a.lat()).addValue(a.lng());
      }
    } else {
      MaskedCard c = found.map(ProviderUser::card).orElse(null);
      if (c != null) {
        save = Tuple.of(user.id(), c.last4(), c.type(), toShort(c.expireMonth()), toShort(c.expireYear()));
      }
    }
    if (save == null) {
      String none = kind == Kind.ADDRESSES ? NO_ADDRESS : NO_CARD;
      return pool.preparedQuery(none).execute(Tuple.of(user.id())).map(false);
    }
    return pool.preparedQuery(kind == Kind.ADDRESSES ? SAVE_ADDRESS : SAVE_CARD).execute(save).map(true);
  }

  private static Short toShort(Integer v) {
    return v == null ? null : v.shortValue();
  }

  /** {@code batch_size} from the payload (1..1000), else the configured default; anything else is refused. */
  static int batchSize(JsonObject payload, int defaultBatch) {
    Object v = payload == null ? null : payload.getValue("batch_size");
    if (v == null) {
      return Math.max(1, Math.min(MAX_BATCH, defaultBatch));
    }
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
      && n.longValue() >= 1 && n.longValue() <= MAX_BATCH) {
      return n.intValue();
    }
    throw JobFailure.permanent("batch_size must be a whole number from 1 to " + MAX_BATCH);
  }
}
