package dev.boxoffice.auth;

import dev.boxoffice.platform.Failure;
import dev.boxoffice.platform.Paging;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/**
 * The accounts table: lookups for login, the idempotent inserts start-up needs, and the administration the
 * accounts API and the {@code accounts} command share (one set of statements and rules for both).
 */
public final class Accounts {
  /** One stored account; {@code tokenVersion} goes into the tokens issued for it (claim {@code ver}). */
  public record Account(String username, String passwordHash, String role, boolean disabled, int tokenVersion) {
  }

  /** What an administrator changes; null leaves a field as it is. */
  public record Change(String passwordHash, String role, Boolean disabled) {
    /** Whether this change could leave the accounts without an enabled admin. */
    boolean mayRemoveAdmin() {
      return "user".equals(role) || Boolean.TRUE.equals(disabled);
    }
  }

  /** What a token check needs; null from {@link #tokenState} when there is no such account. */
  public record TokenState(boolean disabled, int tokenVersion) {
  }

  private static final String COLUMNS = "username, password_hash, role, disabled, token_version";
  private static final String VIEW = "username, role, disabled, created_at";

  // disabled accounts are not found: they cannot log in
  private static final String FIND = "SELECT " + COLUMNS + " FROM accounts WHERE username = $1 AND NOT disabled";

  private static final String FIND_MANY = "SELECT " + COLUMNS + " FROM accounts WHERE username = ANY($1)";

  // by id from the cursor's: a range scan of the primary key ($1 the id to start after)
  private static final String PAGE =
    "SELECT id, " + VIEW + " FROM accounts WHERE id > $1 ORDER BY id LIMIT $2 OFFSET $3";
  private static final String TOTAL = Paging.tableTotal("accounts");

  private static final String CREATE = """
    INSERT INTO accounts (username, password_hash, role) VALUES ($1, $2, $3)
    ON CONFLICT (username) DO NOTHING
    RETURNING %s""".formatted(VIEW);

  // Taken, in id order (so two of these never deadlock), before a change that could disable or demote an admin:
  // two such changes of different admins then run one after the other, and the second sees the first's result.
  private static final String LOCK_ENABLED_ADMINS = """
    SELECT username FROM accounts WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE
    """;

  // Any actual change raises token_version, which refuses every token issued before it (TokenGate).
  private static final String UPDATE = """
    UPDATE accounts
    SET password_hash = coalesce($2, password_hash), role = coalesce($3, role), disabled = coalesce($4, disabled),
        token_version = token_version + CASE WHEN $2::text IS NOT NULL OR role <> coalesce($3, role)
                                               OR disabled <> coalesce($4, disabled) THEN 1 ELSE 0 END
    WHERE username = $1
    RETURNING %s""".formatted(VIEW);

  private static final String TOKEN_STATE = "SELECT disabled, token_version FROM accounts WHERE username = $1";

  // Nodes starting together may both try: the unique username makes the second insert a no-op.
  private static final String INSERT_IF_ABSENT = """
    INSERT INTO accounts (username, password_hash, role) VALUES ($1, $2, $3)
    ON CONFLICT (username) DO NOTHING
    """;

  private static final String INSERT_ADMIN_IF_NONE = """
    INSERT INTO accounts (username, password_hash, role)
    SELECT $1, $2, 'admin'
    WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin')
    ON CONFLICT (username) DO NOTHING
    """;

  private static final String ADMIN_EXISTS = """
    SELECT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin') AS present
    """;

  private final Pool pool;

  public Accounts(Pool pool) {
    this.pool = pool;
  }

  /** The account that may log in under this name: null when there is none, or it is disabled. */
  public Future<Account> find(String username) {
    return pool.preparedQuery(FIND).execute(Tuple.of(username))
      .map(rows -> rows.size() == 0 ? null : account(rows.iterator().next()));
  }

  public Future<List<Account>> findAll(List<String> usernames) {
    return pool.preparedQuery(FIND_MANY).execute(Tuple.of(usernames.toArray(new String[0])))
      .map(rows -> {
        List<Account> found = new ArrayList<>();
        rows.forEach(r -> found.add(account(r)));
        return found;
      });
  }

  /** True when this call created the account. */
  public Future<Boolean> insertIfAbsent(String username, String passwordHash, String role) {
    return pool.preparedQuery(INSERT_IF_ABSENT).execute(Tuple.of(username, passwordHash, role))
      .map(rows -> rows.rowCount() == 1);
  }

  /** Creates an admin account only while no admin exists at all; true when this call created it. */
  public Future<Boolean> insertAdminIfNone(String username, String passwordHash) {
    return pool.preparedQuery(INSERT_ADMIN_IF_NONE).execute(Tuple.of(username, passwordHash))
      .map(rows -> rows.rowCount() == 1);
  }

  public Future<Boolean> adminExists() {
    return pool.query(ADMIN_EXISTS).execute().map(rows -> rows.iterator().next().getBoolean("present"));
  }

  /** A page of accounts by id, as the API answers it (items, total, next cursor). */
  public Future<JsonObject> list(Paging.Request req) {
    Future<Paging.Slice> page = pool.preparedQuery(PAGE).execute(Tuple.of(req.after(0, 0L), req.fetch(), req.offset()))
      .map(rows -> req.slice(rows, Accounts::view, r -> new Object[]{r.getLong("id")}));
    Future<Paging.Total> total = pool.query(TOTAL).execute().map(Paging.Total::ofTable);
    return Future.all(page, total).map(v -> Paging.reply(page.result(), total.result()));
  }

  /** The new account as the API shows it; fails with a 409 {@link Failure} when the name is taken. */
  public Future<JsonObject> create(String username, String passwordHash, String role) {
    return pool.preparedQuery(CREATE).execute(Tuple.of(username, passwordHash, role))
      .compose(rows -> rows.size() == 0
        ? Future.failedFuture(Failure.conflict("An account named " + username + " already exists"))
        : Future.succeededFuture(view(rows.iterator().next())));
  }

  /**
   * Applies {@code change}; the account as the API shows it afterwards. Fails with a 404 {@link Failure} for an
   * unknown name and a 409 when it would disable or demote the last enabled admin.
   */
  public Future<JsonObject> update(String username, Change change) {
    return pool.withTransaction(conn -> lastAdminCheck(conn, username, change)
      .compose(v -> conn.preparedQuery(UPDATE).execute(Tuple.tuple().addValue(username)
        .addValue(change.passwordHash()).addValue(change.role()).addValue(change.disabled())))
      .compose(rows -> rows.size() == 0
        ? Future.failedFuture(Failure.notFound("No account named " + username))
        : Future.succeededFuture(view(rows.iterator().next()))));
  }

  private static Future<Void> lastAdminCheck(SqlConnection conn, String username, Change change) {
    if (!change.mayRemoveAdmin()) {
      return Future.succeededFuture();
    }
    return conn.query(LOCK_ENABLED_ADMINS).execute().compose(rows -> {
      List<String> admins = new ArrayList<>();
      rows.forEach(r -> admins.add(r.getString("username")));
      return admins.size() == 1 && admins.contains(username)
        ? Future.failedFuture(Failure.conflict("The last enabled admin cannot be disabled or demoted; "
          + "make another account admin first"))
        : Future.succeededFuture();
    });
  }

  public Future<TokenState> tokenState(String username) {
    return pool.preparedQuery(TOKEN_STATE).execute(Tuple.of(username)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      return new TokenState(r.getBoolean("disabled"), r.getInteger("token_version"));
    });
  }

  private static Account account(Row r) {
    return new Account(r.getString("username"), r.getString("password_hash"), r.getString("role"),
      r.getBoolean("disabled"), r.getInteger("token_version"));
  }

  private static JsonObject view(Row r) {
    return new JsonObject().put("username", r.getString("username")).put("role", r.getString("role"))
      .put("disabled", r.getBoolean("disabled"))
      .put("created_at", r.getOffsetDateTime("created_at").toInstant().toString());
  }
}
